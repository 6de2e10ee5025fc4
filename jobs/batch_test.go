package jobs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/outbox"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

func TestBacklogIsPushedInBatches(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	org.SetLatency(50 * time.Millisecond)
	const calls = 1000
	b.enqueueMany(t, "t1", "c-", calls, noIntent)
	b.newClient(t, nil)

	b.waitSynced(t, 60*time.Second, calls)
	counts := org.RequestCounts()
	requests := counts["collection_create"] + counts["create"] + counts["query"] + counts["update"] + counts["collection_update"]
	if requests > calls/100+5 {
		t.Errorf("%d API requests for %d calls (%v), want batches of about 200", requests, calls, counts)
	}
	if peak := org.PeakInFlight(); peak > 5 {
		t.Errorf("the org saw %d requests at once, want at most 5 (TenantConcurrency)", peak)
	}
	// Each call has its own record and its own stored ID.
	ids := map[string]bool{}
	for _, r := range org.Records("Task") {
		ids[r["Id"].(string)] = true
	}
	if len(ids) != calls || b.count(t, "SELECT count(DISTINCT record_id) FROM sync_records") != calls {
		t.Errorf("%d Tasks, %d distinct stored IDs; want %d each", len(ids), b.count(t, "SELECT count(DISTINCT record_id) FROM sync_records"), calls)
	}
	// The push jobs' outputs list every call once, with its record ID, and
	// each call names the job that pushed it.
	if n := b.count(t, `SELECT count(*) FROM river_job j
		CROSS JOIN LATERAL jsonb_array_elements(j.metadata->'output'->'calls') c
		JOIN sync_records r ON r.call_id = c->>'call_id' AND r.record_id = c->>'record_id' AND r.push_job_id = j.id
		WHERE j.kind = 'salesforce_push' AND j.state = 'completed' AND c->>'outcome' = 'synced'`); n != calls {
		t.Errorf("the push jobs' outputs show %d synced calls, want %d", n, calls)
	}
}

func TestLoneCallIsPushedAtOnce(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	b.newClient(t, nil)

	b.enqueue(t, "t1", "lone", outbox.CallAnalysed)
	b.waitState(t, "t1", "lone", "salesforce", "synced")
	if n := org.Requests("collection_create"); n != 1 || org.Requests("query") != 0 {
		t.Errorf("requests %v; want one create and no look-up on a first attempt", org.RequestCounts())
	}
}

// A request that fails as a whole for one bad record is narrowed down until
// the bad records fail alone.
func TestBadRecordFailsAloneInABatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, tenant{id: "t1", pack: true, analytics: true})
	org := b.addNoCallCenterOrg(t, "t1")
	// Every fifth call has a primary intent, which this org cannot take.
	b.enqueueMany(t, "t1", "c-", 40, func(i int) string {
		if i%5 == 0 {
			return "quote"
		}
		return ""
	})
	b.newClient(t, nil)

	pgtest.WaitFor(t, 30*time.Second, "every call to end", func() bool {
		return b.count(t, "SELECT count(*) FROM sync_records WHERE state IN ('synced', 'failed')") == 40
	})
	if n := b.count(t, "SELECT count(*) FROM sync_records WHERE state = 'failed' AND last_error LIKE '%INVALID_FIELD%CallDisposition%'"); n != 8 {
		t.Errorf("%d failed with INVALID_FIELD, want the 8 with an intent", n)
	}
	checkTasks(t, org, 32) // the good calls
	if n := b.count(t, "SELECT count(*) FROM sync_records WHERE state = 'failed' AND attempts <> 1"); n != 0 {
		t.Errorf("%d failed calls were tried more than once", n)
	}
}

func TestLostBatchResponseMakesNoDuplicates(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	org.InjectFault(salesforcetest.Fault{Op: "collection_create", Kind: salesforcetest.FaultDropAfterCommit})
	b.enqueueMany(t, "t1", "c-", 50, noIntent)
	b.newClient(t, nil)
	b.waitSynced(t, 30*time.Second, 50)
	checkTasks(t, org, 50)
	if n := b.count(t, `SELECT count(*) FROM sync_records s WHERE record_id IS NULL`); n != 0 {
		t.Errorf("%d calls without a stored ID", n)
	}
}

// Neither a big backlog nor a slow org holds up another tenant's calls: each
// of the small tenant's calls is synced while both backlogs still wait.
func TestBacklogAndSlowOrgDoNotDelayOthers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	big := b.addTenant(t, tenant{id: "big", pack: true, analytics: true, salesforce: ptr(true)})
	slow := b.addTenant(t, tenant{id: "slow", pack: true, analytics: true, salesforce: ptr(true)})
	b.addTenant(t, tenant{id: "small", pack: true, analytics: true, salesforce: ptr(true)})
	big.SetLatency(300 * time.Millisecond)
	slow.SetLatency(5 * time.Second)
	b.enqueueMany(t, "big", "b-", 5000, noIntent)
	b.enqueueMany(t, "slow", "s-", 1500, noIntent)
	cfg := b.config()
	cfg.BatchSize = 50
	cfg.LeaseTime = 20 * time.Second
	b.newClient(t, cfg)
	pgtest.WaitFor(t, 20*time.Second, "the backlogs to be under way", func() bool {
		return b.count(t, "SELECT count(*) FROM sync_records WHERE tenant_id = 'big' AND state = 'synced'") > 0 &&
			b.count(t, "SELECT count(*) FROM sync_records WHERE tenant_id = 'slow' AND lease_until > now()") > 0
	})

	pending := func() (int, int) {
		return b.count(t, "SELECT count(*) FROM sync_records WHERE tenant_id = 'big' AND state = 'pending'"),
			b.count(t, "SELECT count(*) FROM sync_records WHERE tenant_id = 'slow' AND state = 'pending'")
	}
	for i := range 5 {
		callID := fmt.Sprint("small-", i)
		b.enqueue(t, "small", callID, outbox.CallAnalysed)
		b.waitState(t, "small", callID, "salesforce", "synced")
		if bigLeft, slowLeft := pending(); bigLeft == 0 || slowLeft == 0 {
			t.Fatalf("%s synced only after a backlog was done (big %d, slow %d pending)", callID, bigLeft, slowLeft)
		}
	}
}

func TestAPIBudget(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	b.addTenant(t, tenant{id: "t2", pack: true, analytics: true, salesforce: ptr(true)})
	org.SetDailyAPILimit(1000)
	org.SetAPIUsage(900) // 90%: slowed, not held
	org.SetLatency(100 * time.Millisecond)
	cfg := b.config()
	cfg.BatchSize = 5
	cfg.BudgetHoldSnooze = time.Hour
	b.newClient(t, cfg)

	// Learn the figure, then slowed: the calls still go, one request at a
	// time.
	b.enqueue(t, "t1", "probe-1", outbox.CallAnalysed)
	b.waitState(t, "t1", "probe-1", "salesforce", "synced")
	org.ResetPeakInFlight()
	b.enqueueMany(t, "t1", "slowed-", 40, noIntent)
	pgtest.WaitFor(t, 30*time.Second, "slowed calls", func() bool {
		return b.count(t, "SELECT count(*) FROM sync_records WHERE call_id LIKE 'slowed-%' AND state = 'synced'") == 40
	})
	if peak := org.PeakInFlight(); peak != 1 {
		t.Errorf("a slowed org saw %d requests at once, want 1", peak)
	}

	// Above 95% the tenant is held: its calls wait, snoozed, without a
	// request, while other tenants go on.
	org.SetAPIUsage(960)
	b.enqueue(t, "t1", "probe-2", outbox.CallAnalysed) // learns the new figure
	b.waitState(t, "t1", "probe-2", "salesforce", "synced")
	before := org.Requests("collection_create")
	b.enqueue(t, "t1", "held", outbox.CallAnalysed)
	b.enqueue(t, "t2", "other", outbox.CallAnalysed)
	b.waitState(t, "t2", "other", "salesforce", "synced")
	pgtest.WaitFor(t, 20*time.Second, "the held tenant's push to be snoozed", func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE args->>'tenant_id' = 't1'
			AND state = 'scheduled' AND scheduled_at > now() + interval '30 minutes'`) >= 1
	})
	if after := org.Requests("collection_create"); after != before {
		t.Errorf("a held tenant made %d requests", after-before)
	}
	if rec := b.record(t, "t1", "held", "salesforce"); rec.state != "pending" {
		t.Errorf("held call = %+v", rec)
	}
	if n := b.count(t, `SELECT count(*) FROM river_job WHERE args->>'tenant_id' = 't1' AND state = 'scheduled'
		AND metadata::text LIKE '%snoozes%'`); n == 0 {
		t.Error("the held job's metadata does not show the snooze")
	}
	// A second replica sees the hold too: the budget lives in PostgreSQL.
	b.newClient(t, cfg)
	b.enqueue(t, "t1", "held-2", outbox.CallAnalysed)
	b.enqueue(t, "t2", "other-2", outbox.CallAnalysed)
	b.waitState(t, "t2", "other-2", "salesforce", "synced")
	if after := org.Requests("collection_create"); after != before {
		t.Errorf("a held tenant made %d requests with two replicas", after-before)
	}
}
