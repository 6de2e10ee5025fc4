package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/mapping"
	"github.com/koeiq/syncd/outbox"
)

// fuzzEvent is what FuzzEnqueue varies.
type fuzzEvent struct {
	tenant, call, payloadCall, event string
	// started is StartedAt in RFC 3339, which byte mutations turn into
	// odd years and offsets; when Go cannot parse it, StartedAt is unix
	// and nanos in a zone offset seconds east of UTC (modulo 30 hours).
	started                    string
	unix, nanos                int64
	offset                     int
	duration                   int
	direction, intent, summary string
	pad                        int // bytes of "x" after the summary, up to 64 MiB
	score                      float64
	hasScore                   bool
	url, email, phone          string
}

func (in fuzzEvent) add(f *testing.F) {
	f.Add(in.tenant, in.call, in.payloadCall, in.event, in.started, in.unix, in.nanos, in.offset, in.duration,
		in.direction, in.intent, in.summary, in.pad, in.score, in.hasScore, in.url, in.email, in.phone)
}

func (in fuzzEvent) Event() outbox.Event {
	started, err := time.Parse(time.RFC3339Nano, in.started)
	if err != nil {
		started = time.Unix(in.unix, in.nanos).In(time.FixedZone("", in.offset%(30*3600)))
	}
	ev := outbox.Event{
		TenantID: in.tenant,
		CallID:   in.call,
		Type:     outbox.EventType(in.event),
		Payload: outbox.Payload{
			CallID:          in.payloadCall,
			StartedAt:       started,
			DurationSeconds: in.duration,
			Direction:       in.direction,
			PrimaryIntent:   in.intent,
			Summary:         in.summary,
			TranscriptURL:   in.url,
			AgentEmail:      in.email,
			CustomerPhone:   in.phone,
		},
	}
	if in.pad > 0 && in.pad <= 64<<20 {
		ev.Payload.Summary += strings.Repeat("x", in.pad)
	}
	if in.hasScore {
		ev.Payload.QualityScore = &in.score
	}
	return ev
}

// FuzzEnqueue checks that whatever a pipeline passes to outbox.Enqueue, it
// gets either a *outbox.ValidationError naming a field (never a raw
// PostgreSQL error, never a panic) or a stored row that a push reads and
// maps to Salesforce fields Salesforce accepts. What Enqueue refuses before
// sending, syncd.enqueue refuses for the same field.
//
// Every call runs in a transaction that is rolled back, so the one database
// serves any number of them.
func FuzzEnqueue(f *testing.F) {
	good := fuzzEvent{
		tenant: "t1", call: "c-123", event: string(outbox.CallAnalysed), started: "2026-05-01T23:30:00+09:00",
		unix: time.Date(2026, 5, 1, 23, 30, 0, 0, time.UTC).Unix(), offset: 9 * 3600, duration: 312,
		direction: "inbound", intent: "quote request", summary: "Customer asked for a quote.",
		score: 87.5, hasScore: true, url: "https://app.koeiq.example/calls/c-123",
		email: "agent@example.com", phone: "+81 3 1234 5678",
	}
	// The seeds: good, a bare event, then good with one field (or two)
	// changed to each of the values listed for it.
	seed := func(change func(*fuzzEvent)) {
		in := good
		change(&in)
		in.add(f)
	}
	seed(func(*fuzzEvent) {})
	seed(func(in *fuzzEvent) { *in = fuzzEvent{tenant: "t", call: "c", event: "call.transcribed", unix: 1} })
	seed(func(in *fuzzEvent) { in.event = "call.created" })
	for _, tenant := range []string{"", " t1", "t1\u3000", "t\x001", "t\xff1"} {
		seed(func(in *fuzzEvent) { in.tenant = tenant })
	}
	for _, call := range []string{"c\n1", "c\u2028", "c\u0085", "c\x7f", strings.Repeat("c", 201), strings.Repeat("通", 200)} {
		seed(func(in *fuzzEvent) { in.call = call })
	}
	seed(func(in *fuzzEvent) { in.payloadCall = "other" })
	seed(func(in *fuzzEvent) { in.phone = "\x00" })
	for _, direction := range []string{"sideways", "in\x00bound"} {
		seed(func(in *fuzzEvent) { in.direction = direction })
	}
	for _, summary := range []string{"a\x00b", "bad \xff\xfe UTF-8 <&> \u2028"} {
		seed(func(in *fuzzEvent) { in.summary = summary })
	}
	for _, pad := range []int{256 << 10, 256<<10 + 1, 50 << 20} { // the last: the 50 MB summary
		seed(func(in *fuzzEvent) { in.summary, in.pad = "", pad })
	}
	for _, duration := range []int{-1, math.MaxInt32, math.MaxInt32 + 1} {
		seed(func(in *fuzzEvent) { in.duration = duration })
	}
	for _, score := range []float64{-0.5, 100.0000001, 5e-324, math.NaN(), math.Inf(1)} {
		seed(func(in *fuzzEvent) { in.score = score })
	}
	for _, url := range []string{"javascript:alert(1)", "https://x.example/" + strings.Repeat("a", 300)} {
		seed(func(in *fuzzEvent) { in.url = url })
	}
	for _, started := range []string{
		"0001-01-01T00:00:00Z", // time.Time{}
		"1700-01-02T00:00:00Z",
		"1700-01-01T23:59:59.999999999Z",
		"4000-12-30T23:59:59.999999Z",
		"4000-12-31T00:00:00Z",
		"9999-12-31T23:59:59.999999999-23:59",
		"2026-05-01T23:30:00+16:00",
		"2026-05-01T23:30:00-15:59",
	} {
		seed(func(in *fuzzEvent) { in.started = started })
	}
	// StartedAt that is not RFC 3339: unix, nanos and offset.
	for _, unix := range []int64{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), math.MaxInt64, math.MinInt64} {
		seed(func(in *fuzzEvent) { in.started, in.unix = "", unix })
	}
	for _, offset := range []int{30, 20 * 3600, -25 * 3600} {
		seed(func(in *fuzzEvent) { in.started, in.offset = "", offset })
	}
	seed(func(in *fuzzEvent) { in.started, in.nanos = "", 999_999_999 })

	pool := pgtest.Pool(f)
	f.Fuzz(func(t *testing.T, tenant, call, payloadCall, event, started string, unix, nanos int64, offset, duration int,
		direction, intent, summary string, pad int, score float64, hasScore bool, url, email, phone string) {
		in := fuzzEvent{tenant, call, payloadCall, event, started, unix, nanos, offset, duration,
			direction, intent, summary, pad, score, hasScore, url, email, phone}
		ev := in.Event()
		ctx := context.Background()

		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck

		id, err := outbox.Enqueue(ctx, tx, ev)
		if err == nil {
			p := checkPushable(t, tx, id)
			checkRoundTrip(t, ev, p)
			return
		}
		var ve *outbox.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("err = %v (%T), want a ValidationError", err, errors.Unwrap(err))
		}
		checkField(t, ve)
		if ve.Err != nil {
			return
		}

		// Refused without sending: syncd.enqueue refuses it too, for the
		// same field, when PostgreSQL can read it at all.
		payload, ok := sendable(ev)
		if !ok {
			return
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		var sqlID int64
		err = pool.QueryRow(ctx, "SELECT syncd.enqueue($1, $2, $3, $4::jsonb)", ev.TenantID, ev.CallID, string(ev.Type), payload).Scan(&sqlID)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "22023" || pgErr.ColumnName != ve.Field {
			if err == nil {
				_, _ = pool.Exec(ctx, "DELETE FROM outbox WHERE id = $1", sqlID)
			}
			t.Fatalf("Enqueue refused %s (%s) but syncd.enqueue answers %v", ve.Field, ve.Message, err)
		}
	})
}

// FuzzSQLEnqueue checks syncd.enqueue as pipelines in other languages call
// it, with JSON the Go API would never write (30.0 seconds, keys in other
// cases, odd timestamps): it refuses with 22023 naming a field, or stores a
// row that a push reads and maps.
func FuzzSQLEnqueue(f *testing.F) {
	// tenant, call, event, then raw JSON values (empty: key absent), then one
	// more key and its raw JSON value.
	add := func(call, payloadCall, startedAt, duration, score, extraKey, extraValue string) {
		f.Add("t1", call, "call.analysed", payloadCall, startedAt, duration, score, extraKey, extraValue)
	}
	add("c1", `"c1"`, `"2026-05-01T09:30:00+09:00"`, `312`, `87.5`, "direction", `"inbound"`)
	add("c1", `"c1"`, `"2026-05-01T09:30:00Z"`, `30.0`, ``, "", ``)
	add("c1", `"c1"`, `"2026-05-01T09:30:00Z"`, `3.00e1`, `1e-400`, "", ``)
	add("c1", `"c1"`, `"2026-05-01T09:30:00Z"`, `30`, `100.0`, "Summary", `{"a": 1}`)
	add("c1", `"c1"`, `"2026-05-01T09:30:00Z"`, `30`, ``, "\u017fummary", `1`)
	add("c1", `"c1"`, `"2026-05-01T09:30:00Z"`, `30`, ``, "STARTED_AT", `"yesterday"`)
	add("c1", `"c1"`, `"2026-05-01T09:30:00Z"`, `30`, ``, "Duration_Seconds", `"30"`)
	add("c1", `"c1"`, `"0001-01-01T00:00:00Z"`, `30`, ``, "", ``)
	add("c1", `"c1"`, `"9999-12-31T23:59:59.999999999-23:59"`, `30`, ``, "", ``)
	add("c1", `"c1"`, `"2026-02-29T09:30:00Z"`, `30`, ``, "", ``)
	add("c1", `"c1"`, `"2026-05-01t09:30:00z"`, `30`, ``, "", ``)
	add("c1", `"c1"`, `"2026-05-01T09:30:00Z"`, `2147483648`, ``, "", ``)
	add("c1", `"c1"`, `"2026-05-01T09:30:00Z"`, `-0`, `-0`, "summary", `"\u0000"`)
	add("c1", `"c1"`, `"2026-05-01T09:30:00Z"`, `30`, ``, "transcript_url", `"http://a b"`)
	add("c 1", `"c 1"`, `"2026-05-01T09:30:00Z"`, `30`, ``, "", ``)
	add("c1 ", `"c1 "`, `"2026-05-01T09:30:00Z"`, `30`, ``, "", ``)
	add("c\u2029", `"c\u2029"`, `"2026-05-01T09:30:00Z"`, `30`, ``, "", ``)

	pool := pgtest.Pool(f)
	f.Fuzz(func(t *testing.T, tenant, call, event, payloadCall, startedAt, duration, score, extraKey, extraValue string) {
		ctx := context.Background()
		var b strings.Builder
		b.WriteString("{")
		member := func(key, raw string) {
			if raw == "" {
				return
			}
			if b.Len() > 1 {
				b.WriteString(", ")
			}
			k, _ := json.Marshal(key)
			b.Write(k)
			b.WriteString(": ")
			b.WriteString(raw)
		}
		member("call_id", payloadCall)
		member("started_at", startedAt)
		member("duration_seconds", duration)
		member("quality_score", score)
		member(extraKey, extraValue)
		b.WriteString("}")

		// What PostgreSQL cannot read is refused before syncd.enqueue runs.
		for _, s := range []string{tenant, call, event} {
			if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
				return
			}
		}
		if err := pool.QueryRow(ctx, "SELECT $1::jsonb", b.String()).Scan(new(string)); err != nil {
			return
		}

		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck

		var id int64
		err = tx.QueryRow(ctx, "SELECT syncd.enqueue($1, $2, $3, $4::jsonb)", tenant, call, event, b.String()).Scan(&id)
		if err == nil {
			checkPushable(t, tx, id)
			return
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "22023" || pgErr.ColumnName == "" {
			t.Fatalf("payload %s: err = %v, want 22023 naming a field", b.String(), err)
		}
		checkField(t, &outbox.ValidationError{Field: pgErr.ColumnName, Message: pgErr.Message, Err: pgErr})
	})
}

// checkField fails the test unless ve names a field that exists and says
// what is wrong with it.
func checkField(t *testing.T, ve *outbox.ValidationError) {
	t.Helper()
	switch {
	case ve.Field == "tenant_id", ve.Field == "call_id", ve.Field == "event", ve.Field == "payload",
		strings.HasPrefix(ve.Field, "payload."):
	default:
		t.Fatalf("ValidationError for field %q: %s", ve.Field, ve.Message)
	}
	if !strings.Contains(ve.Message, ve.Field+" ") {
		t.Fatalf("message %q does not name %s", ve.Message, ve.Field)
	}
	if ve.Err != nil && ve.Err.Code != "22023" {
		t.Fatalf("ValidationError wraps %s: %v", ve.Err.Code, ve.Err)
	}
}

// checkPushable reads outbox row id as a push does and maps it as a push
// would, in the time zones furthest from UTC, failing the test unless
// Salesforce would take every field.
func checkPushable(t *testing.T, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, id int64) outbox.Payload {
	t.Helper()
	var raw []byte
	if err := q.QueryRow(context.Background(), "SELECT payload FROM outbox WHERE id = $1", id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) > outbox.MaxPayloadSize { // pgx reads jsonb as its text
		t.Fatalf("stored payload of %d bytes", len(raw))
	}
	var p outbox.Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("stored payload cannot be read by a push: %v\n%.500s", err, raw)
	}
	minDate, maxDate := "1700-01-01", "4000-12-31"
	for _, loc := range []*time.Location{time.UTC, time.FixedZone("-12", -12*3600), time.FixedZone("+14", 14*3600)} {
		for _, object := range []string{"Task", "Call_Recording__c"} {
			fields := mapping.Salesforce(p, object, "External_Call_ID__c", loc)
			if _, err := json.Marshal(fields); err != nil {
				t.Fatalf("%s fields cannot be sent: %v", object, err)
			}
			for _, name := range []string{"ActivityDate", "call_date__c"} {
				if d, ok := fields[name].(string); ok && (len(d) != len(minDate) || d < minDate || d > maxDate) {
					t.Fatalf("%s %s is %s (started_at %s in %s): Salesforce takes %s to %s",
						object, name, d, p.StartedAt.Format(time.RFC3339Nano), loc, minDate, maxDate)
				}
			}
			if fields["CallDurationInSeconds"] != nil && p.DurationSeconds < 0 {
				t.Fatalf("duration %d", p.DurationSeconds)
			}
		}
		if _, err := json.Marshal(mapping.Kintone(p, loc)); err != nil {
			t.Fatalf("Kintone fields cannot be sent: %v", err)
		}
	}
	return p
}

// checkRoundTrip fails the test unless the push reads what the pipeline
// wrote.
func checkRoundTrip(t *testing.T, ev outbox.Event, got outbox.Payload) {
	t.Helper()
	want := ev.Payload
	if want.CallID == "" {
		want.CallID = ev.CallID
	}
	same := func(name, got, want string) {
		if utf8.ValidString(want) && got != want {
			t.Errorf("%s: read %q, wrote %q", name, got, want)
		}
	}
	same("call_id", got.CallID, want.CallID)
	same("direction", got.Direction, want.Direction)
	same("primary_intent", got.PrimaryIntent, want.PrimaryIntent)
	same("summary", got.Summary, want.Summary)
	same("transcript_url", got.TranscriptURL, want.TranscriptURL)
	same("agent_email", got.AgentEmail, want.AgentEmail)
	same("customer_phone", got.CustomerPhone, want.CustomerPhone)
	if !got.StartedAt.Equal(want.StartedAt) {
		t.Errorf("started_at: read %v, wrote %v", got.StartedAt, want.StartedAt)
	}
	if got.DurationSeconds != want.DurationSeconds {
		t.Errorf("duration_seconds: read %d, wrote %d", got.DurationSeconds, want.DurationSeconds)
	}
	if (got.QualityScore == nil) != (want.QualityScore == nil) ||
		got.QualityScore != nil && *got.QualityScore != *want.QualityScore {
		t.Errorf("quality_score: read %v, wrote %v", got.QualityScore, want.QualityScore)
	}
}

// sendable returns ev's payload as Enqueue would send it, and whether
// PostgreSQL could read ev at all (valid UTF-8, no NUL, JSON encodable, not
// huge).
func sendable(ev outbox.Event) (string, bool) {
	p := ev.Payload
	if p.CallID == "" {
		p.CallID = ev.CallID
	}
	size := 0
	for _, s := range []string{ev.TenantID, ev.CallID, string(ev.Type), p.CallID, p.Direction, p.PrimaryIntent,
		p.Summary, p.TranscriptURL, p.AgentEmail, p.CustomerPhone} {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return "", false
		}
		size += len(s)
	}
	if size > 2<<20 {
		return "", false
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", false
	}
	return string(b), true
}
