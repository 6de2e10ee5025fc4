package outbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/outbox"
)

type testBundle struct {
	pool   *pgxpool.Pool
	listen *pgx.Conn // listening on the outbox channel
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	connString := pgtest.ConnString(t)
	listen, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listen.Close(ctx) })
	if _, err := listen.Exec(ctx, `LISTEN "syncd.outbox"`); err != nil {
		t.Fatal(err)
	}
	return &testBundle{pool: pgtest.NewPool(t, connString), listen: listen}
}

// wantNotified fails the test unless a notification arrives within d when
// want is true, or unless none does when want is false; when says at what
// point, for the message.
func (b *testBundle) wantNotified(t *testing.T, want bool, d time.Duration, when string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, err := b.listen.WaitForNotification(ctx)
	if err != nil && ctx.Err() == nil {
		t.Fatalf("wait for notification: %v", err)
	}
	if got := err == nil; got != want {
		t.Fatalf("notified %s: %v, want %v", when, got, want)
	}
}

// wantRows fails the test unless the outbox holds want rows.
func (b *testBundle) wantRows(t *testing.T, want int) {
	t.Helper()
	if n := pgtest.Count(t, b.pool, "SELECT count(*) FROM outbox"); n != want {
		t.Errorf("%d outbox rows, want %d", n, want)
	}
}

// enqueueInTx begins a transaction and enqueues validEvent in it, returning
// the transaction, for the test to end, and the event's outbox ID.
func (b *testBundle) enqueueInTx(t *testing.T) (pgx.Tx, int64) {
	t.Helper()
	ctx := context.Background()
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id, err := outbox.Enqueue(ctx, tx, validEvent())
	if err != nil {
		t.Fatal(err)
	}
	return tx, id
}

func validEvent() outbox.Event {
	score := 87.5
	return outbox.Event{
		TenantID: "t1",
		CallID:   "c-123",
		Type:     outbox.CallAnalysed,
		Payload: outbox.Payload{
			StartedAt:       time.Date(2026, 5, 1, 23, 30, 0, 0, time.UTC),
			DurationSeconds: 312,
			Direction:       "inbound",
			PrimaryIntent:   "quote request",
			Summary:         "Customer asked for a quote.",
			QualityScore:    &score,
			TranscriptURL:   "https://app.koeiq.example/calls/c-123",
		},
	}
}

func TestEnqueueCommitWritesOneRowAndNotifies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	tx, id := b.enqueueInTx(t)
	if id <= 0 {
		t.Fatalf("Enqueue returned id %d", id)
	}
	b.wantNotified(t, false, 200*time.Millisecond, "before commit")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	b.wantNotified(t, true, 5*time.Second, "after commit")

	var (
		tenantID, callID, event string
		payload                 map[string]any
		dispatchedAt            *time.Time
	)
	err := b.pool.QueryRow(ctx, "SELECT tenant_id, call_id, event, payload, dispatched_at FROM outbox WHERE id = $1", id).
		Scan(&tenantID, &callID, &event, &payload, &dispatchedAt)
	if err != nil {
		t.Fatal(err)
	}
	if tenantID != "t1" || callID != "c-123" || event != "call.analysed" || dispatchedAt != nil {
		t.Errorf("row = %q %q %q dispatched %v", tenantID, callID, event, dispatchedAt)
	}
	if payload["call_id"] != "c-123" || payload["started_at"] != "2026-05-01T23:30:00Z" ||
		payload["duration_seconds"] != float64(312) || payload["quality_score"] != 87.5 {
		t.Errorf("payload = %v", payload)
	}
	if _, ok := payload["agent_email"]; ok {
		t.Errorf("empty agent_email was written: %v", payload)
	}
	b.wantRows(t, 1)
}

func TestEnqueueRollbackLeavesNoTrace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	tx, _ := b.enqueueInTx(t)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	b.wantNotified(t, false, 300*time.Millisecond, "after rollback")
	b.wantRows(t, 0)
}

func TestEnqueueWithSQL(t *testing.T) {
	t.Parallel()
	b := setup(t)

	// The contract for pipelines in any language, as the README shows it.
	id := pgtest.Count(t, b.pool, `SELECT syncd.enqueue(tenant_id => 't1', call_id => 'c-9',
		event => 'call.transcribed',
		payload => '{"call_id": "c-9", "started_at": "2026-05-01T09:30:00.123+09:00", "duration_seconds": 0}'::jsonb)`)
	if id <= 0 {
		t.Errorf("syncd.enqueue returned id %d", id)
	}
	b.wantNotified(t, true, 5*time.Second, "after syncd.enqueue")
	b.wantRows(t, 1)
}

func TestEnqueueValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	const good = `{"call_id": "c1", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 30}`
	long := strings.Repeat("x", 201)
	tests := []struct {
		name                      string
		tenant, call, event, body string
		field                     string
	}{
		{"unknown event", "t1", "c1", "call.created", good, "event"},
		{"empty event", "t1", "c1", "", good, "event"},
		{"empty tenant", "", "c1", "call.analysed", good, "tenant_id"},
		{"empty call_id", "t1", "", "call.analysed", good, "call_id"},
		{"blank call_id", "t1", "  ", "call.analysed", good, "call_id"},
		{"over-long call_id", "t1", long, "call.analysed", `{"call_id": "` + long + `", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 30}`, "call_id"},
		{"payload not an object", "t1", "c1", "call.analysed", `[1]`, "payload"},
		{"payload call_id missing", "t1", "c1", "call.analysed", `{"started_at": "2026-05-01T09:30:00Z", "duration_seconds": 30}`, "payload.call_id"},
		{"payload call_id differs", "t1", "c1", "call.analysed", `{"call_id": "c2", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 30}`, "payload.call_id"},
		{"payload call_id a number", "t1", "1", "call.analysed", `{"call_id": 1, "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 30}`, "payload.call_id"},
		{"started_at missing", "t1", "c1", "call.analysed", `{"call_id": "c1", "duration_seconds": 30}`, "payload.started_at"},
		{"started_at null", "t1", "c1", "call.analysed", `{"call_id": "c1", "started_at": null, "duration_seconds": 30}`, "payload.started_at"},
		{"started_at not RFC 3339", "t1", "c1", "call.analysed", `{"call_id": "c1", "started_at": "May 1 2026", "duration_seconds": 30}`, "payload.started_at"},
		{"started_at without zone", "t1", "c1", "call.analysed", `{"call_id": "c1", "started_at": "2026-05-01T09:30:00", "duration_seconds": 30}`, "payload.started_at"},
		{"started_at impossible date", "t1", "c1", "call.analysed", `{"call_id": "c1", "started_at": "2026-02-30T09:30:00Z", "duration_seconds": 30}`, "payload.started_at"},
		{"duration missing", "t1", "c1", "call.analysed", `{"call_id": "c1", "started_at": "2026-05-01T09:30:00Z"}`, "payload.duration_seconds"},
		{"duration negative", "t1", "c1", "call.analysed", `{"call_id": "c1", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": -1}`, "payload.duration_seconds"},
		{"duration fractional", "t1", "c1", "call.analysed", `{"call_id": "c1", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 1.5}`, "payload.duration_seconds"},
		{"duration a string", "t1", "c1", "call.analysed", `{"call_id": "c1", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": "30"}`, "payload.duration_seconds"},
		{"direction unknown", "t1", "c1", "call.analysed", `{"call_id": "c1", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 30, "direction": "sideways"}`, "payload.direction"},
		{"quality over 100", "t1", "c1", "call.analysed", `{"call_id": "c1", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 30, "quality_score": 101}`, "payload.quality_score"},
		{"quality a string", "t1", "c1", "call.analysed", `{"call_id": "c1", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 30, "quality_score": "high"}`, "payload.quality_score"},
		{"transcript_url not a URL", "t1", "c1", "call.analysed", `{"call_id": "c1", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 30, "transcript_url": "javascript:alert(1)"}`, "payload.transcript_url"},
		{"summary not a string", "t1", "c1", "call.analysed", `{"call_id": "c1", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 30, "summary": {"text": "hi"}}`, "payload.summary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.pool.Exec(ctx, "SELECT syncd.enqueue($1, $2, $3, $4::jsonb)", tt.tenant, tt.call, tt.event, tt.body)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) {
				t.Fatalf("err = %v, want an SQL error", err)
			}
			if pgErr.Code != "22023" || pgErr.ColumnName != tt.field || !strings.Contains(pgErr.Message, tt.field) {
				t.Errorf("error %s %q (column %q), want 22023 naming %s", pgErr.Code, pgErr.Message, pgErr.ColumnName, tt.field)
			}
		})
	}
	b.wantRows(t, 0)

	// Absent and null optional values are fine, unknown keys too.
	_, err := b.pool.Exec(ctx, "SELECT syncd.enqueue('t1', 'c1', 'call.analysed', $1::jsonb)",
		`{"call_id": "c1", "started_at": "2026-05-01T09:30:00Z", "duration_seconds": 30, "summary": null, "direction": null, "sentiment": "calm"}`)
	if err != nil {
		t.Fatalf("valid payload rejected: %v", err)
	}
}

func TestEnqueueValidationErrorInGo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	ev := validEvent()
	ev.Payload.DurationSeconds = -5
	_, err := outbox.Enqueue(ctx, b.pool, ev)
	var ve *outbox.ValidationError
	if !errors.As(err, &ve) || ve.Field != "payload.duration_seconds" {
		t.Fatalf("err = %v, want a ValidationError for payload.duration_seconds", err)
	}

	ev = validEvent()
	ev.Payload.CallID = "other"
	_, err = outbox.Enqueue(ctx, b.pool, ev)
	if !errors.As(err, &ve) || ve.Field != "payload.call_id" {
		t.Fatalf("err = %v, want a ValidationError for payload.call_id", err)
	}
}

func TestWriterOtherSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	_, err := outbox.Writer{Schema: "nowhere"}.Enqueue(ctx, b.pool, validEvent())
	if err == nil || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("err = %v, want an error naming the missing schema", err)
	}
}
