package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/outbox"
)

func TestTriggerRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	b.addTenant(t, tenant{id: "analytics", pack: true, analytics: true, salesforce: ptr(true)})
	b.addTenant(t, tenant{id: "transcripts", pack: true, analytics: false, salesforce: ptr(true)})
	b.addTenant(t, tenant{id: "nopack", pack: false, analytics: true, salesforce: ptr(true)})
	b.addTenant(t, tenant{id: "nosettings", pack: true, analytics: true})
	b.addTenant(t, tenant{id: "disabled", pack: true, analytics: true, salesforce: ptr(false), kintone: ptr(false)})
	b.addTenant(t, tenant{id: "both", pack: true, analytics: true, salesforce: ptr(true), kintone: ptr(true)})
	b.addTenant(t, tenant{id: "kintone", pack: true, analytics: true, salesforce: ptr(false), kintone: ptr(true)})

	tests := []struct {
		tenant, call string
		event        outbox.EventType
		outcome      string
		job          string // push job kind, "" for none
	}{
		{"analytics", "a1", outbox.CallAnalysed, "queued", "salesforce_push"},
		{"analytics", "a2", outbox.CallTranscribed, "ignored", ""},
		{"transcripts", "t1", outbox.CallTranscribed, "queued", "salesforce_push"},
		{"transcripts", "t2", outbox.CallAnalysed, "ignored", ""},
		{"nopack", "n1", outbox.CallAnalysed, "skipped: tenant has no Audit & Export Pack", ""},
		{"nosettings", "s1", outbox.CallAnalysed, "skipped: no integration enabled", ""},
		{"disabled", "d1", outbox.CallAnalysed, "skipped: no integration enabled", ""},
		{"both", "b1", outbox.CallAnalysed, "queued", "salesforce_push"},
		{"kintone", "k1", outbox.CallAnalysed, "queued", "kintone_push"},
		{"unknown", "u1", outbox.CallAnalysed, "skipped: unknown tenant", ""},
	}
	ids := make([]int64, len(tests))
	for i, tt := range tests {
		ids[i] = b.enqueue(t, tt.tenant, tt.call, tt.event)
	}

	c := b.newUnstarted(t, nil)
	if res := dispatch(t, c); res.Claimed != len(tests) || res.Pushes != 4 {
		t.Errorf("Dispatch = %+v, want %d claimed and 4 pushes", res, len(tests))
	}

	for i, tt := range tests {
		var outcome string
		var dispatched bool
		err := b.pool.QueryRow(ctx, "SELECT outcome, dispatched_at IS NOT NULL FROM outbox WHERE id = $1", ids[i]).Scan(&outcome, &dispatched)
		if err != nil {
			t.Fatal(err)
		}
		if outcome != tt.outcome || !dispatched {
			t.Errorf("%s %s %s: outcome %q (dispatched %v), want %q", tt.tenant, tt.call, tt.event, outcome, dispatched, tt.outcome)
		}
		// One push job per tenant that owes pushes (each tenant here owes
		// at most one).
		if tt.job != "" {
			tenantJobs := b.count(t, "SELECT count(*) FROM river_job WHERE args->>'tenant_id' = $1", tt.tenant)
			kindJobs := b.count(t, "SELECT count(*) FROM river_job WHERE args->>'tenant_id' = $1 AND kind = $2", tt.tenant, tt.job)
			if tenantJobs != 1 || kindJobs != 1 {
				t.Errorf("%s %s: %d jobs (%d of kind %q), want 1", tt.tenant, tt.call, tenantJobs, kindJobs, tt.job)
			}
		} else if tt.tenant != "analytics" && tt.tenant != "transcripts" {
			if n := b.count(t, "SELECT count(*) FROM river_job WHERE args->>'tenant_id' = $1", tt.tenant); n != 0 {
				t.Errorf("%s: %d push jobs, want none", tt.tenant, n)
			}
		}
		records := b.count(t, "SELECT count(*) FROM sync_records WHERE call_id = $1 AND state = 'pending'", tt.call)
		if want := min(len(tt.job), 1); records != want {
			t.Errorf("%s %s: %d pending sync records, want %d", tt.tenant, tt.call, records, want)
		}
	}

	// Nothing is dispatched twice.
	if res := dispatch(t, c); res.Claimed != 0 {
		t.Fatalf("second Dispatch = %+v; want nothing claimed", res)
	}
}

func TestReanalysisInOneBatchOwesOnePush(t *testing.T) {
	t.Parallel()
	b, _ := setupSalesforce(t)

	b.enqueue(t, "t1", "c1", outbox.CallAnalysed)
	newest := b.enqueue(t, "t1", "c1", outbox.CallAnalysed)

	c := b.newUnstarted(t, nil)
	if res := dispatch(t, c); res.Claimed != 2 || res.Pushes != 1 {
		t.Errorf("Dispatch = %+v, want 2 claimed, 1 push", res)
	}
	if n := b.count(t, "SELECT count(*) FROM outbox WHERE outcome = 'queued'"); n != 2 {
		t.Errorf("%d rows queued, want 2", n)
	}
	if n := b.count(t, "SELECT count(*) FROM sync_records WHERE call_id = 'c1' AND queued_outbox_id = $1", newest); n != 1 {
		t.Errorf("sync record does not point at the newest row %d", newest)
	}

	// A later re-analysis while the first push still waits adds no job.
	b.enqueue(t, "t1", "c1", outbox.CallAnalysed)
	dispatch(t, c)
	if n := b.count(t, "SELECT count(*) FROM river_job WHERE kind = 'salesforce_push'"); n != 1 {
		t.Errorf("%d push jobs, want 1", n)
	}
}

func TestCommittedEnqueueDispatchedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, _ := setupSalesforce(t)
	b.newClient(t, nil)

	committed := b.enqueue(t, "t1", "c1", outbox.CallAnalysed)

	tx, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := outbox.Enqueue(ctx, tx, outbox.Event{TenantID: "t1", CallID: "rolled-back", Type: outbox.CallAnalysed,
		Payload: outbox.Payload{StartedAt: time.Now(), DurationSeconds: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	pgtest.WaitFor(t, 10*time.Second, "the push job to complete", func() bool {
		return b.count(t, "SELECT count(*) FROM river_job WHERE kind = 'salesforce_push' AND state = 'completed'") == 1
	})
	if n := b.count(t, "SELECT count(*) FROM outbox WHERE id = $1 AND outcome = 'queued'", committed); n != 1 {
		t.Error("committed row not queued")
	}
	if n := b.count(t, "SELECT count(*) FROM river_job WHERE kind = 'salesforce_push'"); n != 1 {
		t.Errorf("%d push jobs for the committed call, want 1", n)
	}
	if n := b.count(t, "SELECT count(*) FROM outbox WHERE call_id = 'rolled-back'") +
		b.count(t, "SELECT count(*) FROM sync_records WHERE call_id = 'rolled-back'"); n != 0 {
		t.Errorf("rolled-back event left %d rows or jobs", n)
	}
}

func TestTwoClientsDispatchEachRowOnce(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	// A row dispatched a second time would fail this trigger, and with it
	// the dispatch transaction.
	b.exec(t, `CREATE FUNCTION forbid_second_dispatch() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'outbox row % dispatched twice', OLD.id; END $$`)
	b.exec(t, `CREATE TRIGGER forbid_second_dispatch BEFORE UPDATE OF dispatched_at ON outbox
		FOR EACH ROW WHEN (OLD.dispatched_at IS NOT NULL) EXECUTE FUNCTION forbid_second_dispatch()`)

	cfg := b.config()
	cfg.DispatchBatchSize = 50
	b.newClient(t, cfg)
	b.newClient(t, cfg)

	const rows = 1000
	for batch := range rows / 100 {
		b.enqueueMany(t, "t1", fmt.Sprintf("c-%d-", batch), 100, noIntent)
	}

	pgtest.WaitFor(t, 60*time.Second, "all rows dispatched and their calls synced", func() bool {
		return b.count(t, "SELECT count(*) FROM outbox WHERE dispatched_at IS NULL") == 0 &&
			b.count(t, "SELECT count(*) FROM sync_records WHERE state = 'synced'") == rows
	})
	if n := b.count(t, "SELECT count(*) FROM outbox WHERE outcome = 'queued'"); n != rows {
		t.Errorf("%d rows queued, want %d", n, rows)
	}
	checkTasks(t, org, rows)
}

func TestDispatchIsDrivenByNotify(t *testing.T) {
	t.Parallel()
	b, _ := setupSalesforce(t)

	// The periodic safety net runs once at start, then not for an hour.
	cfg := b.config()
	cfg.DispatchInterval = time.Hour
	c := b.newClient(t, cfg)
	events, cancel := c.River().Subscribe("job_completed")
	defer cancel()
	select {
	case <-events:
	case <-time.After(30 * time.Second):
		t.Fatal("the start-up dispatch job did not complete")
	}

	// Committed now, dispatched within seconds: only the notification can
	// have done it.
	dispatchedQuickly := func(callID string) {
		t.Helper()
		b.enqueue(t, "t1", callID, outbox.CallAnalysed)
		pgtest.WaitFor(t, 5*time.Second, callID+" dispatched", func() bool {
			return b.count(t, "SELECT count(*) FROM outbox WHERE call_id = $1 AND dispatched_at IS NOT NULL", callID) == 1
		})
	}
	dispatchedQuickly("c1")

	// The listener comes back when its connection is killed.
	b.exec(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`)
	pgtest.WaitFor(t, 10*time.Second, "the listener to reconnect", func() bool {
		return b.count(t, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`) == 1
	})
	dispatchedQuickly("c2")

	if n := b.count(t, "SELECT count(*) FROM river_job WHERE kind = 'dispatch'"); n != 1 {
		t.Errorf("%d dispatch jobs, want only the start-up one", n)
	}
}

func TestOutboxRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, _ := setupSalesforce(t)
	for _, call := range []string{"old-1", "old-2", "kept", "recent"} {
		b.enqueue(t, "t1", call, outbox.CallTranscribed) // ignored
		b.enqueue(t, "t1", call, outbox.CallAnalysed)
	}
	b.enqueue(t, "t1", "undispatched", outbox.CallAnalysed)
	b.addTenant(t, tenant{id: "nopack", pack: false, analytics: true, salesforce: ptr(true)})
	b.enqueue(t, "nopack", "skipped-old", outbox.CallAnalysed)
	b.enqueue(t, "nopack", "skipped-ancient", outbox.CallAnalysed)
	cfg := b.config()
	cfg.OutboxRetention = 30 * 24 * time.Hour
	c := b.newUnstarted(t, cfg)
	dispatch(t, c)
	b.enqueue(t, "t1", "never-dispatched", outbox.CallAnalysed)
	b.exec(t, "UPDATE outbox SET dispatched_at = now() - interval '40 days' WHERE call_id IN ('old-1', 'old-2', 'kept', 'skipped-old')")
	b.exec(t, "UPDATE outbox SET dispatched_at = now() - interval '400 days' WHERE call_id = 'skipped-ancient'")
	// Nothing needs old-1's and old-2's rows any more; kept's sync record
	// still points at its analysis.
	b.exec(t, "UPDATE sync_records SET queued_outbox_id = 0 WHERE call_id IN ('old-1', 'old-2')")

	n, err := c.DeleteOldOutbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 { // old-1 and old-2 both rows, kept's ignored transcription, skipped-ancient
		t.Errorf("deleted %d rows, want 6", n)
	}
	// A skipped row waits for a backfill beyond the retention of the others
	// (SkippedRetention, a year).
	if n := b.count(t, "SELECT count(*) FROM outbox WHERE call_id = 'skipped-old' AND outcome LIKE 'skipped%'"); n != 1 {
		t.Errorf("a skipped row 40 days old was deleted")
	}
	if n := b.count(t, "SELECT count(*) FROM outbox WHERE call_id = 'skipped-ancient'"); n != 0 {
		t.Errorf("a skipped row 400 days old was kept")
	}
	left := b.count(t, "SELECT count(*) FROM outbox WHERE call_id IN ('old-1', 'old-2')")
	kept := b.count(t, "SELECT count(*) FROM outbox WHERE call_id = 'kept' AND event = 'call.analysed'")
	recent := b.count(t, "SELECT count(*) FROM outbox WHERE call_id IN ('recent', 'never-dispatched', 'undispatched')")
	if left != 0 || kept != 1 || recent != 4 {
		t.Errorf("left %d old rows, kept %d, %d recent; want 0, 1, 4", left, kept, recent)
	}
	if n := b.count(t, "SELECT count(*) FROM sync_records"); n != 5 {
		t.Errorf("%d sync records, want all 5 kept", n)
	}
}
