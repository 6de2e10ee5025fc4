package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/outbox"
)

// body is a valid payload for call c with the given extra keys, as JSON.
func body(t *testing.T, c string, extra map[string]any) string {
	t.Helper()
	p := map[string]any{"call_id": c, "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 30}
	for k, v := range extra {
		p[k] = v
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sqlEnqueue calls syncd.enqueue as a pipeline in another language would,
// with the payload as jsonb text.
func sqlEnqueue(pool *pgxpool.Pool, tenant, call, payload string) (int64, error) {
	var id int64
	err := pool.QueryRow(context.Background(), "SELECT syncd.enqueue($1, $2, 'call.analysed', $3::jsonb)",
		tenant, call, payload).Scan(&id)
	return id, err
}

// refusedBySQL fails the test unless err is syncd.enqueue's refusal naming
// field, and returns its message.
func refusedBySQL(t *testing.T, err error, field string) string {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		t.Fatalf("err = %v, want an SQL error naming %s", err, field)
	}
	if pgErr.Code != "22023" || pgErr.ColumnName != field || !strings.HasPrefix(pgErr.Message, "syncd.enqueue: "+field+" ") {
		t.Fatalf("error %s %q (column %q), want 22023 naming %s", pgErr.Code, pgErr.Message, pgErr.ColumnName, field)
	}
	return pgErr.Message
}

// refusedByGo fails the test unless err wraps a ValidationError for field,
// from syncd.enqueue when sent is true, from Enqueue itself otherwise.
func refusedByGo(t *testing.T, err error, field string, sent bool) *outbox.ValidationError {
	t.Helper()
	var ve *outbox.ValidationError
	if !errors.As(err, &ve) || ve.Field != field {
		t.Fatalf("err = %v, want a ValidationError for %s", err, field)
	}
	if !strings.Contains(ve.Message, field+" ") || !strings.Contains(err.Error(), ve.Message) {
		t.Errorf("message %q (error %q) does not name %s", ve.Message, err, field)
	}
	var pgErr *pgconn.PgError
	if got := errors.As(err, &pgErr); got != sent || (ve.Err != nil) != sent {
		t.Errorf("refused by syncd.enqueue: %v (Err %v), want %v", got, ve.Err, sent)
	}
	return ve
}

// refusedBeforeSending enqueues validEvent with change made to it, failing
// the test unless the Go API refuses it for field without sending it.
func (b *testBundle) refusedBeforeSending(t *testing.T, field string, change func(*outbox.Event)) *outbox.ValidationError {
	t.Helper()
	ev := validEvent()
	change(&ev)
	_, err := outbox.Enqueue(context.Background(), b.pool, ev)
	return refusedByGo(t, err, field, false)
}

func TestEnqueueIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	bad := []struct {
		name, id, problem string
	}{
		{"tab", "a\tb", "contains a control character or line separator (U+0009)"},
		{"newline", "a\nb", "contains a control character or line separator (U+000A)"},
		{"carriage return", "ab\r", "contains a control character or line separator (U+000D)"},
		{"SOH", "\x01ab", "contains a control character or line separator (U+0001)"},
		{"unit separator", "a\x1fb", "contains a control character or line separator (U+001F)"},
		{"DEL", "a\x7fb", "contains a control character or line separator (U+007F)"},
		{"next line", "a\u0085b", "contains a control character or line separator (U+0085)"},
		{"C1 control", "a\u009fb", "contains a control character or line separator (U+009F)"},
		{"line separator", "a\u2028b", "contains a control character or line separator (U+2028)"},
		{"paragraph separator", "a\u2029b", "contains a control character or line separator (U+2029)"},
		{"leading space", " ab", "starts or ends with whitespace"},
		{"trailing space", "ab ", "starts or ends with whitespace"},
		{"trailing no-break space", "ab\u00a0", "starts or ends with whitespace"},
		{"leading ideographic space", "\u3000ab", "starts or ends with whitespace"},
		{"trailing em space", "ab\u2003", "starts or ends with whitespace"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			// Refused alike by syncd.enqueue and by the Go API, which does
			// not send it.
			_, err := sqlEnqueue(b.pool, tt.id, "c1", body(t, "c1", nil))
			if msg := refusedBySQL(t, err, "tenant_id"); msg != "syncd.enqueue: tenant_id "+tt.problem {
				t.Errorf("message %q, want %q", msg, tt.problem)
			}
			_, err = sqlEnqueue(b.pool, "t1", tt.id, body(t, tt.id, nil))
			if msg := refusedBySQL(t, err, "call_id"); msg != "syncd.enqueue: call_id "+tt.problem {
				t.Errorf("message %q, want %q", msg, tt.problem)
			}

			ve := b.refusedBeforeSending(t, "tenant_id", func(ev *outbox.Event) { ev.TenantID = tt.id })
			if ve.Message != "tenant_id "+tt.problem {
				t.Errorf("message %q, want %q", ve.Message, tt.problem)
			}
			ve = b.refusedBeforeSending(t, "call_id", func(ev *outbox.Event) { ev.CallID = tt.id })
			if ve.Message != "call_id "+tt.problem {
				t.Errorf("message %q, want %q", ve.Message, tt.problem)
			}
		})
	}

	// What PostgreSQL cannot read as text, only the Go API can name.
	for _, id := range []string{"a\x00b", "a\xffb"} {
		b.refusedBeforeSending(t, "tenant_id", func(ev *outbox.Event) { ev.TenantID = id })
		b.refusedBeforeSending(t, "call_id", func(ev *outbox.Event) { ev.CallID = id })
	}
	b.wantRows(t, 0)

	// Spaces, separators and controls inside an ID are not whitespace at
	// its ends; other scripts are welcome.
	good := []string{"a b", "通話-1", "t1", "a\u200bb", "a\u3000b", strings.Repeat("é", 200)}
	for _, id := range good {
		if _, err := sqlEnqueue(b.pool, id, id, body(t, id, nil)); err != nil {
			t.Errorf("syncd.enqueue refused %q: %v", id, err)
		}
		ev := validEvent()
		ev.TenantID, ev.CallID = id, id
		if _, err := outbox.Enqueue(ctx, b.pool, ev); err != nil {
			t.Errorf("Enqueue refused %q: %v", id, err)
		}
	}
	b.wantRows(t, 2*len(good))
}

// jsonbTextSize is the size of payload as jsonb text, which syncd.enqueue
// bounds.
func jsonbTextSize(t *testing.T, pool *pgxpool.Pool, payload string) int {
	t.Helper()
	return pgtest.Count(t, pool, "SELECT octet_length($1::jsonb::text)", payload)
}

func TestEnqueuePayloadSize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	t.Run("SQL", func(t *testing.T) {
		room := outbox.MaxPayloadSize - jsonbTextSize(t, b.pool, body(t, "c1", map[string]any{"summary": ""}))
		fits := body(t, "c1", map[string]any{"summary": strings.Repeat("x", room)})
		if n := jsonbTextSize(t, b.pool, fits); n != outbox.MaxPayloadSize {
			t.Fatalf("payload is %d bytes, want %d", n, outbox.MaxPayloadSize)
		}
		if _, err := sqlEnqueue(b.pool, "t1", "c1", fits); err != nil {
			t.Fatalf("payload of exactly 256 KiB refused: %v", err)
		}
		_, err := sqlEnqueue(b.pool, "t1", "c1", body(t, "c1", map[string]any{"summary": strings.Repeat("x", room+1)}))
		if msg := refusedBySQL(t, err, "payload"); msg != "syncd.enqueue: payload is larger than 256 KiB (262145 bytes)" {
			t.Errorf("message %q", msg)
		}
		// Any value counts, unknown keys too.
		_, err = sqlEnqueue(b.pool, "t1", "c1", body(t, "c1", map[string]any{"transcript": []string{strings.Repeat("y", room)}}))
		refusedBySQL(t, err, "payload")

		// 50 MB, built in the server rather than sent.
		_, err = b.pool.Exec(ctx, `SELECT syncd.enqueue('t1', 'c1', 'call.analysed', jsonb_build_object(
			'call_id', 'c1', 'started_at', '2026-05-01T09:30:00Z', 'duration_seconds', 30,
			'summary', repeat('x', 50 * 1024 * 1024)))`)
		refusedBySQL(t, err, "payload")
	})

	t.Run("Go", func(t *testing.T) {
		ev := validEvent()
		ev.CallID = "c2"
		ev.Payload.CallID = "c2"
		ev.Payload.Summary = "x"
		encoded, err := json.Marshal(ev.Payload)
		if err != nil {
			t.Fatal(err)
		}
		room := outbox.MaxPayloadSize - jsonbTextSize(t, b.pool, string(encoded)) + 1

		ev.Payload.Summary = strings.Repeat("x", room)
		id, err := outbox.Enqueue(ctx, b.pool, ev)
		if err != nil {
			t.Fatalf("payload of exactly 256 KiB refused: %v", err)
		}
		if stored := pgtest.Count(t, b.pool, "SELECT octet_length(payload::text) FROM outbox WHERE id = $1", id); stored != outbox.MaxPayloadSize {
			t.Fatalf("stored payload is %d bytes, want %d", stored, outbox.MaxPayloadSize)
		}
		ev.Payload.Summary = strings.Repeat("x", room+1)
		_, err = outbox.Enqueue(ctx, b.pool, ev)
		refusedByGo(t, err, "payload", true)

		// Size is the jsonb text's, not the JSON Go sends: encoding/json
		// writes each < as \u003c, six bytes where jsonb has one.
		ev.Payload.Summary = strings.Repeat("<", 200_000)
		if _, err := outbox.Enqueue(ctx, b.pool, ev); err != nil {
			t.Fatalf("200,000 < refused: %v", err)
		}

		// 50 MB is refused before it is sent.
		ev.Payload.Summary = strings.Repeat("x", 50<<20)
		_, err = outbox.Enqueue(ctx, b.pool, ev)
		if ve := refusedByGo(t, err, "payload", false); !strings.Contains(ve.Message, "larger than 256 KiB") {
			t.Errorf("message %q", ve.Message)
		}
	})

	if n := pgtest.Count(t, b.pool, "SELECT count(*) FROM outbox WHERE octet_length(payload::text) > $1", outbox.MaxPayloadSize); n != 0 {
		t.Errorf("%d stored payloads over 256 KiB", n)
	}
}

func TestEnqueueNUL(t *testing.T) {
	t.Parallel()
	b := setup(t)

	// PostgreSQL refuses \u0000 in jsonb while reading the argument, before
	// syncd.enqueue runs, at any depth and in keys: nothing is written.
	for _, payload := range []string{
		body(t, "c1", map[string]any{"summary": "a\x00b"}),
		body(t, "c1", map[string]any{"extra": map[string]any{"deep": []string{"a\x00"}}}),
		body(t, "c1", map[string]any{"ke\x00y": "v"}),
	} {
		_, err := sqlEnqueue(b.pool, "t1", "c1", payload)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "22P05" {
			t.Errorf("payload %s: err = %v, want 22P05 from PostgreSQL", payload, err)
		}
	}

	// The Go API names the field and sends nothing.
	set := map[string]func(*outbox.Payload, string){
		"call_id":        func(p *outbox.Payload, s string) { p.CallID = s },
		"direction":      func(p *outbox.Payload, s string) { p.Direction = s },
		"primary_intent": func(p *outbox.Payload, s string) { p.PrimaryIntent = s },
		"summary":        func(p *outbox.Payload, s string) { p.Summary = s },
		"transcript_url": func(p *outbox.Payload, s string) { p.TranscriptURL = s },
		"agent_email":    func(p *outbox.Payload, s string) { p.AgentEmail = s },
		"customer_phone": func(p *outbox.Payload, s string) { p.CustomerPhone = s },
	}
	for key, setField := range set {
		ve := b.refusedBeforeSending(t, "payload."+key, func(ev *outbox.Event) { setField(&ev.Payload, "before\x00after") })
		if ve.Message != "payload."+key+" contains a NUL character" {
			t.Errorf("message %q", ve.Message)
		}
	}
	b.wantRows(t, 0)
}

// What JSON cannot carry is refused before sending, naming the field.
func TestEnqueueUnencodable(t *testing.T) {
	t.Parallel()
	b := setup(t)

	for _, score := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		b.refusedBeforeSending(t, "payload.quality_score", func(ev *outbox.Event) { ev.Payload.QualityScore = &score })
	}
	for _, year := range []int{-1, 10000} {
		b.refusedBeforeSending(t, "payload.started_at", func(ev *outbox.Event) {
			ev.Payload.StartedAt = time.Date(year, 5, 1, 9, 30, 0, 0, time.UTC)
		})
	}
	b.wantRows(t, 0)
}

func TestEnqueueStartedAt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	// Only dates Salesforce takes in every time zone.
	for _, tt := range []struct {
		at string
		ok bool
	}{
		{"1700-01-01T23:59:59Z", false},
		{"1700-01-02T00:00:00Z", true},
		{"1700-01-02T09:00:00+09:00", true},
		{"1700-01-02T08:59:59+09:00", false},
		{"4000-12-30T23:59:59.999999Z", true},
		{"4000-12-31T00:00:00Z", false},
		{"9999-12-31T23:59:59Z", false},
		{"0001-01-01T00:00:00Z", false},
		{"2026-05-01T09:30:00-23:59", false}, // an offset PostgreSQL cannot hold
	} {
		_, err := sqlEnqueue(b.pool, "t1", "c1", body(t, "c1", map[string]any{"started_at": tt.at}))
		if tt.ok && err != nil {
			t.Errorf("%s refused: %v", tt.at, err)
		}
		if !tt.ok {
			if msg := refusedBySQL(t, err, "payload.started_at"); !strings.HasSuffix(msg, "not "+tt.at) && !strings.HasSuffix(msg, "RFC 3339 timestamp such as 2026-05-01T09:30:00+09:00") {
				t.Errorf("%s: message %q does not quote it", tt.at, msg)
			}
		}
	}

	// A Go zero time, a forgotten StartedAt, is refused by syncd.enqueue.
	ev := validEvent()
	ev.Payload.StartedAt = time.Time{}
	_, err := outbox.Enqueue(ctx, b.pool, ev)
	refusedByGo(t, err, "payload.started_at", true)

	// A zone JSON or PostgreSQL cannot carry keeps the instant, in UTC.
	for _, offset := range []int{30, -(23*3600 + 59*60 + 59), 25 * 3600, 16 * 3600, -(15*3600 + 59*60)} {
		ev := validEvent()
		ev.Payload.StartedAt = time.Date(2026, 5, 1, 23, 59, 59, 5, time.FixedZone("odd", offset))
		id, err := outbox.Enqueue(ctx, b.pool, ev)
		if err != nil {
			t.Fatalf("offset %d: %v", offset, err)
		}
		if got := storedPayload(t, b.pool, id); !got.StartedAt.Equal(ev.Payload.StartedAt) {
			t.Errorf("offset %d: stored %v, want %v", offset, got.StartedAt, ev.Payload.StartedAt)
		}
	}
}

// storedPayload reads outbox row id as a push does.
func storedPayload(t *testing.T, pool *pgxpool.Pool, id int64) outbox.Payload {
	t.Helper()
	var raw []byte
	if err := pool.QueryRow(context.Background(), "SELECT payload FROM outbox WHERE id = $1", id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var p outbox.Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("payload %s cannot be read: %v", raw, err)
	}
	return p
}

// Go's encoding/json, which a push reads the payload with, matches keys
// regardless of case: a known key in another case would override or break
// the one syncd.enqueue checked.
func TestEnqueueKeyInAnotherCase(t *testing.T) {
	t.Parallel()
	b := setup(t)

	for key, want := range map[string]string{
		"Summary":          "summary",
		"STARTED_AT":       "started_at",
		"Duration_Seconds": "duration_seconds",
		"\u017fummary":     "summary", // long s, which Go folds to s
		"Primary_Intent":   "primary_intent",
	} {
		_, err := sqlEnqueue(b.pool, "t1", "c1", body(t, "c1", map[string]any{key: "oops"}))
		if msg := refusedBySQL(t, err, "payload."+key); msg != "syncd.enqueue: payload."+key+" must be spelled "+want {
			t.Errorf("message %q", msg)
		}
	}
	id, err := sqlEnqueue(b.pool, "t1", "c1", body(t, "c1", map[string]any{"summary_html": 1, "sentiment": "calm"}))
	if err != nil {
		t.Fatalf("other unknown keys refused: %v", err)
	}
	storedPayload(t, b.pool, id)
}

// 30.0 seconds is a whole number, stored as one so that Go reads it.
func TestEnqueueWholeDuration(t *testing.T) {
	t.Parallel()
	b := setup(t)

	for _, d := range []string{"30.0", "30.000", "3.00e1", "30"} {
		id, err := sqlEnqueue(b.pool, "t1", "c1", `{"call_id": "c1", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": `+d+`}`)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if p := storedPayload(t, b.pool, id); p.DurationSeconds != 30 {
			t.Errorf("%s: read %d", d, p.DurationSeconds)
		}
	}
	_, err := sqlEnqueue(b.pool, "t1", "c1", `{"call_id": "c1", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 30.5}`)
	refusedBySQL(t, err, "payload.duration_seconds")
}

// Events written before syncd.enqueue refused them do not stop
// retry_failed: the call stays failed with a warning, the others are
// queued.
func TestRetryFailedSkipsEventsNowRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	connString := pgtest.ConnString(t)
	pool := pgtest.NewPool(t, connString)

	// As version 3 would have let them in.
	pgtest.Exec(t, pool, `
		WITH rows AS (
			INSERT INTO outbox (tenant_id, call_id, event, payload, dispatched_at, outcome) VALUES
			    ('t1', 'c-old', 'call.analysed', '{"call_id": "c-old", "started_at": "0001-01-01T00:00:00Z", "duration_seconds": 1}', now(), 'queued'),
			    ('t1', 'c-case', 'call.analysed', '{"call_id": "c-case", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 1, "Summary": 1}', now(), 'queued'),
			    ('t1', 'c-ok', 'call.analysed', '{"call_id": "c-ok", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 1}', now(), 'queued')
			RETURNING id, tenant_id, call_id
		)
		INSERT INTO sync_records (tenant_id, call_id, target, state, queued_outbox_id, outbox_id)
		SELECT tenant_id, call_id, 'salesforce', 'failed', id, id FROM rows`)

	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = pgtest.Schema
	var (
		mu       sync.Mutex
		warnings []string
	)
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, n.Severity+": "+n.Message)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	var queued int
	if err := conn.QueryRow(ctx, "SELECT retry_failed(NULL)").Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != 1 {
		t.Errorf("retry_failed queued %d, want 1", queued)
	}
	rows, _ := conn.Query(ctx, "SELECT call_id FROM outbox WHERE dispatched_at IS NULL ORDER BY call_id")
	calls, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0] != "c-ok" {
		t.Errorf("queued %v, want [c-ok]", calls)
	}
	mu.Lock()
	got := strings.Join(warnings, "\n")
	mu.Unlock()
	for _, want := range []string{
		"WARNING: syncd.retry_failed: call 'c-case' of tenant 't1' stays failed: syncd.enqueue: payload.Summary must be spelled summary",
		"WARNING: syncd.retry_failed: call 'c-old' of tenant 't1' stays failed: syncd.enqueue: payload.started_at must be",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings %q lack %q", got, want)
		}
	}

	// Asked for that one call, resync says why.
	_, err = conn.Exec(ctx, "SELECT resync('t1', 'c-old')")
	refusedBySQL(t, err, "payload.started_at")
}
