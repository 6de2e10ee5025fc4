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
	"time"

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

// ValidationError is returned (wrapped) when syncd.enqueue rejects an event.
// It wraps the *pgconn.PgError that PostgreSQL returned.
type ValidationError struct {
	// Field names the bad field: "call_id", "event",
	// "payload.duration_seconds", ...
	Field string
	// Err is PostgreSQL's error; its message says what is wrong.
	Err *pgconn.PgError
}

func (e *ValidationError) Error() string { return e.Err.Message }
func (e *ValidationError) Unwrap() error { return e.Err }

// DefaultSchema is the schema syncd lives in unless SYNCD_SCHEMA says
// otherwise.
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
// An event that syncd.enqueue rejects returns an error wrapping a
// *ValidationError.
func (w Writer) Enqueue(ctx context.Context, q Querier, ev Event) (int64, error) {
	if ev.Payload.CallID == "" {
		ev.Payload.CallID = ev.CallID
	}
	payload, err := json.Marshal(ev.Payload)
	if err != nil {
		return 0, fmt.Errorf("outbox: encode payload of call %q: %w", ev.CallID, err)
	}
	schema := w.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	fn := pgx.Identifier{schema, "enqueue"}.Sanitize()

	var id int64
	err = q.QueryRow(ctx, "SELECT "+fn+"(tenant_id => $1, call_id => $2, event => $3, payload => $4)",
		ev.TenantID, ev.CallID, string(ev.Type), string(payload)).Scan(&id)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "22023" && pgErr.ColumnName != "" {
			err = &ValidationError{Field: pgErr.ColumnName, Err: pgErr}
		}
		return 0, fmt.Errorf("outbox: enqueue call %q: %w", ev.CallID, err)
	}
	return id, nil
}
