// Package outbox is the pipeline-facing side of syncd: it writes an outbox
// event inside the caller's own database transaction, so that marking a call
// analysed and promising to push it to the CRM commit or roll back together.
//
// Enqueue calls the SQL function syncd.enqueue, which is the contract for
// pipelines in any language (see the README); both validate the event the
// same way and write one outbox row, nothing else. When the transaction
// commits, syncd is woken through LISTEN/NOTIFY and pushes the call; when it
// rolls back, no trace is left.
//
//	tx, err := pool.Begin(ctx)
//	...
//	_, err = tx.Exec(ctx, `UPDATE calls SET state = 'analysed' WHERE id = $1`, callID)
//	...
//	id, err := outbox.Enqueue(ctx, tx, outbox.Event{
//		TenantID: "t1",
//		CallID:   callID,
//		Type:     outbox.CallAnalysed,
//		Payload: outbox.Payload{
//			StartedAt:       started,
//			DurationSeconds: 312,
//			Summary:         "Customer asked for a quote.",
//		},
//	})
//	...
//	err = tx.Commit(ctx)
//
// A rejected event is an SQL error, which aborts the caller's transaction
// like any other; a pipeline that must commit its own change regardless can
// enqueue inside a savepoint (a nested pgx transaction).
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// EventType says what happened to a call.
type EventType string

// The events a pipeline reports (SPEC §4.1). Which of them creates the CRM
// record depends on the tenant's analytics setting.
const (
	CallTranscribed EventType = "call.transcribed"
	CallAnalysed    EventType = "call.analysed"
)

// Event is one outbox row.
type Event struct {
	TenantID string
	CallID   string
	Type     EventType
	Payload  Payload
}

// Payload is what syncd knows of a call (SPEC §4.1). Zero optional values
// are left out of the JSON.
type Payload struct {
	// CallID must equal Event.CallID; Enqueue fills it in when empty.
	CallID string `json:"call_id"`
	// StartedAt is when the call began (required).
	StartedAt time.Time `json:"started_at"`
	// DurationSeconds is the call's length (required, 0 or more).
	DurationSeconds int `json:"duration_seconds"`
	// Direction is "inbound", "outbound" or "internal".
	Direction string `json:"direction,omitempty"`
	// PrimaryIntent is the AI's primary intent.
	PrimaryIntent string `json:"primary_intent,omitempty"`
	// Summary is the AI summary.
	Summary string `json:"summary,omitempty"`
	// QualityScore is the AI quality score, 0 to 100.
	QualityScore *float64 `json:"quality_score,omitempty"`
	// TranscriptURL links to the transcript in KoeIQ.
	TranscriptURL string `json:"transcript_url,omitempty"`
	// AgentEmail and CustomerPhone help matching an owner or contact.
	AgentEmail    string `json:"agent_email,omitempty"`
	CustomerPhone string `json:"customer_phone,omitempty"`
}

// Querier is what Enqueue needs: a pgx.Tx above all, but a *pgx.Conn,
// *pgxpool.Pool or *pgxpool.Conn work too (outside a transaction the event
// commits on its own).
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ValidationError is returned (wrapped) when an event is refused: by
// syncd.enqueue, or by Enqueue before sending it when PostgreSQL could not
// read it (a NUL character, invalid UTF-8), JSON cannot carry it (a
// quality score that is not a number, a year before 0 or after 9999) or it
// is plainly too large.
type ValidationError struct {
	// Field names the bad field: "tenant_id", "call_id", "event",
	// "payload", "payload.duration_seconds", ...
	Field string
	// Message says what is wrong, naming the field.
	Message string
	// Err is PostgreSQL's error when syncd.enqueue refused the event; nil
	// when Enqueue refused it without sending it.
	Err *pgconn.PgError
}

func (e *ValidationError) Error() string { return e.Message }

func (e *ValidationError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// MaxPayloadSize is the most bytes a payload may take as jsonb text
// (octet_length(payload::text)): 256 KiB.
const MaxPayloadSize = 256 << 10

// DefaultSchema is the schema syncd lives in unless SYNCD_SCHEMA says
// otherwise. It is defined here, the package every other one may import,
// and only here (migrate.DefaultSchema is this one).
const DefaultSchema = "syncd"

// Writer enqueues into syncd's schema. The zero Writer uses "syncd"; set
// Schema when syncd runs with another SYNCD_SCHEMA.
type Writer struct {
	// Schema is syncd's schema. Defaults to "syncd".
	Schema string
}

// Enqueue writes ev into the outbox of the "syncd" schema within q (the
// caller's transaction) and returns the new row's ID. See Writer.Enqueue.
func Enqueue(ctx context.Context, q Querier, ev Event) (int64, error) {
	return Writer{}.Enqueue(ctx, q, ev)
}

// Enqueue writes ev into the outbox within q and returns the new row's ID.
// An event that syncd.enqueue rejects, or that Enqueue refuses before
// sending it, returns an error wrapping a *ValidationError.
//
// A string of the payload that is not valid UTF-8 is stored with U+FFFD in
// place of its bad bytes, as encoding/json writes it. A StartedAt whose
// zone JSON or PostgreSQL cannot carry (an offset with seconds, or of 16
// hours or more) is sent in UTC.
func (w Writer) Enqueue(ctx context.Context, q Querier, ev Event) (int64, error) {
	if ev.Payload.CallID == "" {
		ev.Payload.CallID = ev.CallID
	}
	if _, offset := ev.Payload.StartedAt.Zone(); offset%60 != 0 || offset <= -16*3600 || offset >= 16*3600 {
		ev.Payload.StartedAt = ev.Payload.StartedAt.UTC()
	}
	if err := check(ev); err != nil {
		return 0, fmt.Errorf("outbox: enqueue call %s: %w", quoteCallID(ev.CallID), err)
	}
	payload, err := json.Marshal(ev.Payload)
	if err != nil {
		return 0, fmt.Errorf("outbox: encode payload of call %s: %w", quoteCallID(ev.CallID), err)
	}
	schema := w.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	fn := pgx.Identifier{schema, "enqueue"}.Sanitize()

	// Inline, not in sql/queries, on purpose: the statement names syncd's
	// schema, for the pipeline's connections, whose search_path is not
	// syncd's (every file in sql/ is written without a schema name).
	var id int64
	err = q.QueryRow(ctx, "SELECT "+fn+"(tenant_id => $1, call_id => $2, event => $3, payload => $4)",
		ev.TenantID, ev.CallID, string(ev.Type), string(payload)).Scan(&id)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "22023" && pgErr.ColumnName != "" {
			err = &ValidationError{Field: pgErr.ColumnName, Message: pgErr.Message, Err: pgErr}
		}
		return 0, fmt.Errorf("outbox: enqueue call %s: %w", quoteCallID(ev.CallID), err)
	}
	return id, nil
}

// check refuses, before it is sent, what syncd.enqueue could not read or
// would refuse anyway: it checks the IDs and the event as syncd.enqueue
// does, in the same order, then what PostgreSQL or JSON cannot carry, and
// a payload whose strings alone exceed MaxPayloadSize. The rest is
// syncd.enqueue's to judge.
func check(ev Event) *ValidationError {
	if err := checkID("tenant_id", ev.TenantID); err != nil {
		return err
	}
	if err := checkID("call_id", ev.CallID); err != nil {
		return err
	}
	if ev.Type != CallTranscribed && ev.Type != CallAnalysed {
		return invalid("event", "must be call.transcribed or call.analysed, not %q", ev.Type)
	}

	p := ev.Payload
	strs := []struct{ key, value string }{
		{"call_id", p.CallID},
		{"direction", p.Direction},
		{"primary_intent", p.PrimaryIntent},
		{"summary", p.Summary},
		{"transcript_url", p.TranscriptURL},
		{"agent_email", p.AgentEmail},
		{"customer_phone", p.CustomerPhone},
	}
	size := 0
	for _, s := range strs {
		if strings.IndexByte(s.value, 0) >= 0 {
			return invalid("payload."+s.key, "contains a NUL character")
		}
		size += len(s.value)
	}
	// As jsonb text a string takes at least its own bytes, so this payload
	// is too large whatever its other values.
	if size > MaxPayloadSize {
		return invalid("payload", "is larger than 256 KiB (%d bytes of text alone)", size)
	}
	if y := p.StartedAt.Year(); y < 0 || y > 9999 {
		return invalid("payload.started_at", "must be from 1700-01-02 to 4000-12-30 UTC (dates Salesforce accepts), not year %d", y)
	}
	if s := p.QualityScore; s != nil && (math.IsNaN(*s) || math.IsInf(*s, 0)) {
		return invalid("payload.quality_score", "must be a number from 0 to 100")
	}
	return nil
}

// checkID checks tenant_id or call_id as syncd.enqueue does, and that it is
// valid UTF-8, which PostgreSQL would not read.
func checkID(field, id string) *ValidationError {
	switch {
	case strings.Trim(id, " ") == "":
		return invalid(field, "is required")
	case !utf8.ValidString(id):
		return invalid(field, "is not valid UTF-8")
	case utf8.RuneCountInString(id) > 200:
		return invalid(field, "is longer than 200 characters")
	}
	for _, r := range id {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return invalid(field, "contains a control character or line separator (U+%04X)", r)
		}
	}
	first, _ := utf8.DecodeRuneInString(id)
	last, _ := utf8.DecodeLastRuneInString(id)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return invalid(field, "starts or ends with whitespace")
	}
	return nil
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: field + " " + fmt.Sprintf(format, args...)}
}

// quoteCallID quotes a call ID for an error message, cut to 100 bytes.
func quoteCallID(id string) string {
	if len(id) > 100 {
		return strconv.Quote(id[:100]) + "..."
	}
	return strconv.Quote(id)
}
