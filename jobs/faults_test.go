package jobs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/outbox"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

// A push job that gives up (PushTimeout) while its create is in flight: the
// create still lands in Salesforce after the job gave up. The call is in
// doubt, so it is not looked up (nor pushed) before InDoubtWait; then the
// look-up finds the record, and no second one is made.
func TestGivenUpCreateMakesNoSecondRecord(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	org.InjectFault(salesforcetest.Fault{Op: "collection_create", Kind: salesforcetest.FaultLatency, Latency: 3 * time.Second})
	cfg := b.config()
	cfg.PushTimeout = time.Second
	cfg.InDoubtWait = 8 * time.Second
	b.newClient(t, cfg)

	b.enqueue(t, "t1", "c-1", outbox.CallAnalysed)
	pgtest.WaitFor(t, 10*time.Second, "the create to land after the job gave up", func() bool {
		return len(org.Records("Task")) == 1 && org.InFlight() == 0
	})
	if n := b.count(t, "SELECT count(*) FROM sync_records WHERE in_doubt_until > now() AND state = 'pending'"); n != 1 {
		t.Errorf("%d calls in doubt after the job gave up, want 1", n)
	}
	if n := org.Requests("query") + org.Requests("collection_create"); n != 1 {
		t.Errorf("%d requests while the create is in doubt, want only the create (%v)", n, org.RequestCounts())
	}
	rec := b.waitState(t, "t1", "c-1", "salesforce", "synced")
	tasks := org.Records("Task")
	if len(tasks) != 1 || tasks[0]["Id"] != rec.recordID {
		t.Fatalf("%d Tasks (%v), want exactly one with the stored ID %s", len(tasks), tasks, rec.recordID)
	}
	if org.Requests("query") != 1 || org.Requests("collection_create") != 1 {
		t.Errorf("requests %v; want the create, then one look-up that found it", org.RequestCounts())
	}
}

// Calls waiting behind a slow org, with pushes that give up: every call
// gets exactly one record, and calls are not pushed over and over.
func TestCallsBehindASlowBatchGetOneRecordEach(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	org.SetLatency(1500 * time.Millisecond)
	cfg := b.config()
	cfg.TenantConcurrency = 1
	cfg.PushTimeout = 2 * time.Second
	cfg.BatchSize = 5
	b.newClient(t, cfg)

	const calls = 20
	for i := range calls {
		b.enqueue(t, "t1", fmt.Sprint("c-", i), outbox.CallAnalysed)
	}
	b.waitSynced(t, 90*time.Second, calls)
	pgtest.WaitFor(t, 10*time.Second, "requests in flight to end", func() bool { return org.InFlight() == 0 })
	checkTasks(t, org, calls)
	if n := b.count(t, "SELECT count(DISTINCT record_id) FROM sync_records"); n != calls {
		t.Errorf("%d distinct stored IDs, want %d", n, calls)
	}
	if n := org.Requests("update") + org.Requests("collection_update"); n != 0 {
		t.Errorf("%d updates of calls that were analysed once (%v)", n, org.RequestCounts())
	}
	if peak := org.PeakInFlight(); peak != 1 {
		t.Errorf("the org saw %d requests at once, want 1 (TenantConcurrency)", peak)
	}
}

// A client whose request times out (RequestTimeout) while Salesforce goes
// on and creates the record: the record exists exactly once.
func TestInDoubtCreateLandsOnce(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	org.InjectFault(salesforcetest.Fault{Op: "collection_create", Kind: salesforcetest.FaultLatency, Latency: 2 * time.Second})
	cfg := b.config()
	cfg.RequestTimeout = 500 * time.Millisecond
	cfg.InDoubtWait = 4 * time.Second
	b.newClient(t, cfg)

	b.enqueueMany(t, "t1", "c-", 10, noIntent)
	b.waitSynced(t, 30*time.Second, 10)
	checkTasks(t, org, 10)
	if n := b.count(t, "SELECT count(*) FROM sync_records WHERE attempts <> 2 OR last_error IS NOT NULL"); n != 0 {
		t.Errorf("%d calls did not take two attempts (the one in doubt, the one that found the record)", n)
	}
}

// Two clients on one database, as two replicas of syncd: the org never sees
// more than TenantConcurrency requests at once, and every call is pushed
// once.
func TestReplicasShareTheOrgsLimit(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	org.SetLatency(100 * time.Millisecond)
	cfg := b.config()
	cfg.TenantConcurrency = 2
	cfg.BatchSize = 20
	b.newClient(t, cfg)
	b.newClient(t, cfg)

	const calls = 600
	b.enqueueMany(t, "t1", "c-", calls, noIntent)
	b.waitSynced(t, 60*time.Second, calls)
	if peak := org.PeakInFlight(); peak > 2 {
		t.Errorf("the org saw %d requests at once from two replicas, want at most 2", peak)
	}
	checkTasks(t, org, calls)
	if n := org.Requests("collection_create"); n > calls/20+2 {
		t.Errorf("%d create requests for %d calls in batches of 20", n, calls)
	}
}

// Retried calls are looked up with queries that fit Salesforce's 16,384
// bytes of URI once URL-encoded: 150 call IDs in Japanese (an em dash and
// each kana cost 9 bytes encoded) take several queries, not one refused.
func TestLookupsFitTheURILimit(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	// The first attempt fails as a whole: every call is looked up next.
	org.InjectFault(salesforcetest.Fault{Op: "collection_create", Kind: salesforcetest.Fault503})
	const calls = 150
	b.enqueueMany(t, "t1", "通話記録テストの番号です-", calls, noIntent)
	b.newClient(t, nil)

	b.waitSynced(t, 30*time.Second, calls)
	checkTasks(t, org, calls)
	if n := org.Requests("query"); n < 2 {
		t.Errorf("%d look-up queries for %d long call IDs, want several", n, calls)
	}
	if n := b.count(t, "SELECT count(*) FROM sync_records WHERE attempts <> 2"); n != 0 {
		t.Errorf("%d calls took other than two attempts", n)
	}
}

// A look-up that Salesforce refuses is no data error of the calls looked
// up: a refused query is split until the calls are found, and a call whose
// own look-up fails is tried again, not failed.
func TestFailedLookupIsRetriedNotFailed(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	org.InjectFault(salesforcetest.Fault{Op: "collection_create", Kind: salesforcetest.Fault503})
	org.InjectFault(salesforcetest.Fault{Op: "query", Kind: salesforcetest.FaultError, ErrorCode: "MALFORMED_QUERY", Count: 2})
	b.enqueueMany(t, "t1", "c-", 10, noIntent)
	b.newClient(t, nil)
	b.waitSynced(t, 30*time.Second, 10)
	if n := b.count(t, "SELECT count(*) FROM sync_records WHERE attempts <> 2"); n != 0 {
		t.Errorf("%d calls took other than two attempts: the refused look-up was not narrowed down", n)
	}

	org.InjectFault(salesforcetest.Fault{Op: "collection_create", Kind: salesforcetest.Fault503})
	org.InjectFault(salesforcetest.Fault{Op: "query", Kind: salesforcetest.FaultError, ErrorCode: "MALFORMED_QUERY"})
	b.enqueue(t, "t1", "solo", outbox.CallAnalysed)
	rec := b.waitState(t, "t1", "solo", "salesforce", "synced")
	if rec.attempts != 3 || len(org.Records("Task")) != 11 {
		t.Errorf("solo: %+v, %d Tasks; want synced on the third attempt, one Task", rec, len(org.Records("Task")))
	}
}
