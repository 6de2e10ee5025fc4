package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/jobs"
	"github.com/koeiq/syncd/outbox"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/settings"
)

func analysed(started time.Time, intent string) outbox.Payload {
	score := 91.0
	return outbox.Payload{
		StartedAt:       started,
		DurationSeconds: 312,
		PrimaryIntent:   intent,
		Summary:         "Asked for a quote.",
		QualityScore:    &score,
		TranscriptURL:   "https://app.koeiq.example/t/1",
	}
}

// pushJob returns the state and output of the push job that last pushed
// the call (sync_records.push_job_id), and "" before one did.
func (b *testBundle) pushJob(t *testing.T, tenantID, callID string) (state, output string) {
	t.Helper()
	err := b.pool.QueryRow(context.Background(), `SELECT j.state, coalesce(j.metadata->>'output', '')
		FROM sync_records r JOIN river_job j ON j.id = r.push_job_id
		WHERE r.tenant_id = $1 AND r.call_id = $2`, tenantID, callID).Scan(&state, &output)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return state, output
}

func TestPushTask(t *testing.T) {
	t.Parallel()
	b := setup(t)
	org := b.addTenant(t, tenant{id: "t1", pack: true, analytics: true, salesforce: ptr(true), timezone: "Asia/Tokyo"})
	b.newClient(t, nil)

	outboxID := b.enqueuePayload(t, "t1", "c-1", outbox.CallAnalysed, analysed(time.Date(2026, 5, 1, 23, 30, 0, 0, time.UTC), "quote request"))
	rec := b.waitState(t, "t1", "c-1", "salesforce", "synced")

	records := org.Records("Task")
	if len(records) != 1 {
		t.Fatalf("%d Tasks, want 1", len(records))
	}
	task := records[0]
	want := map[string]any{
		"Id":                    rec.recordID,
		"Subject":               "KoeIQ Call — c-1",
		"Status":                "Completed",
		"ActivityDate":          "2026-05-02",
		"CallDurationInSeconds": float64(312),
		"CallDisposition":       "quote request",
		"Description":           "Asked for a quote.\n\nQuality score: 91 / 100\nTranscript: https://app.koeiq.example/t/1",
	}
	for k, v := range want {
		if task[k] != v {
			t.Errorf("Task %s = %#v, want %#v", k, task[k], v)
		}
	}
	if len(rec.recordID) != 18 || !strings.HasPrefix(rec.recordID, "00T") || rec.objectType != "Task" || rec.outboxID == nil || *rec.outboxID != outboxID {
		t.Errorf("sync record = %+v", rec)
	}
	pgtest.WaitFor(t, 5*time.Second, "the job to complete", func() bool {
		state, output := b.pushJob(t, "t1", "c-1")
		return state == "completed" && strings.Contains(output, `"record_id": "`+rec.recordID+`"`)
	})
	if n := org.Requests("token"); n != 2 {
		t.Errorf("%d token requests, want 2: the settings check, then one for all pushes", n)
	}
}

func TestPushAfterLostResponse(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ object, op string }{
		{"Task", "collection_create"},
		{"Call_Recording__c", "collection_upsert"},
	} {
		t.Run(tt.object, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			org := b.addTenant(t, tenant{id: "t1", pack: true, analytics: true, salesforce: ptr(true), objectType: tt.object})
			// Salesforce creates the record, then the answer is lost.
			org.InjectFault(salesforcetest.Fault{Op: tt.op, Kind: salesforcetest.FaultDropAfterCommit})
			b.newClient(t, nil)

			b.enqueuePayload(t, "t1", "c-1", outbox.CallAnalysed, analysed(time.Now(), "quote"))
			rec := b.waitState(t, "t1", "c-1", "salesforce", "synced")
			records := org.Records(tt.object)
			if len(records) != 1 || records[0]["Id"] != rec.recordID {
				t.Fatalf("%d records (%v), want exactly one with the stored ID %s", len(records), records, rec.recordID)
			}
			if rec.attempts != 2 {
				t.Errorf("attempts = %d, want 2", rec.attempts)
			}
		})
	}
}

// A worker that dies after Salesforce created the record but before the ID
// was stored leaves a record the next attempt must find.
func TestPushAfterCrashBeforeCommit(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	// A sequence, because the crash rolls back everything transactional.
	b.exec(t, "CREATE SEQUENCE crashes")
	b.exec(t, `CREATE FUNCTION crash_once() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('crashes') = 1 THEN
				RAISE EXCEPTION 'simulated crash between the Salesforce call and the commit';
			END IF;
			RETURN NEW;
		END $$`)
	b.exec(t, `CREATE TRIGGER crash_once BEFORE UPDATE OF record_id ON sync_records
		FOR EACH ROW WHEN (NEW.record_id IS NOT NULL) EXECUTE FUNCTION crash_once()`)
	b.newClient(t, nil)

	b.enqueuePayload(t, "t1", "c-1", outbox.CallAnalysed, analysed(time.Now(), "quote"))
	pgtest.WaitFor(t, 20*time.Second, "the crash and the retry", func() bool {
		return b.count(t, "SELECT last_value FROM crashes") == 2 &&
			b.count(t, "SELECT count(*) FROM sync_records WHERE state = 'synced'") == 1
	})
	rec := b.record(t, "t1", "c-1", "salesforce")
	if records := org.Records("Task"); len(records) != 1 || records[0]["Id"] != rec.recordID {
		t.Fatalf("%d Tasks, want exactly one with the stored ID %s", len(records), rec.recordID)
	}
}

func TestPushSameCallTwiceAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, org := setupSalesforce(t)
	org.SetLatency(500 * time.Millisecond) // both jobs run together
	c := b.newClient(t, nil)
	b.enqueuePayload(t, "t1", "c-1", outbox.CallAnalysed, analysed(time.Now(), "quote"))
	pgtest.WaitFor(t, 10*time.Second, "the push to run", func() bool {
		return b.count(t, "SELECT count(*) FROM sync_records WHERE lease_until > now()") == 1
	})

	// A second job for the same tenant, as a rescued "stuck" job or an
	// operator's manual insert would make.
	if _, err := c.River().Insert(ctx, jobs.SalesforcePushArgs{TenantID: "t1"}, nil); err != nil {
		t.Fatal(err)
	}
	rec := b.waitState(t, "t1", "c-1", "salesforce", "synced")
	pgtest.WaitFor(t, 20*time.Second, "both jobs to finish", func() bool {
		return b.count(t, "SELECT count(*) FROM river_job WHERE kind = 'salesforce_push' AND state <> 'completed'") == 0
	})
	if records := org.Records("Task"); len(records) != 1 || records[0]["Id"] != rec.recordID {
		t.Fatalf("%d Tasks, want exactly one with the stored ID %s", len(records), rec.recordID)
	}
	if rec.attempts != 1 {
		t.Errorf("attempts = %d, want 1: the second job must not push the leased call", rec.attempts)
	}
}

func TestReanalysisUpdatesTheSameRecord(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	b.newClient(t, nil)

	b.enqueuePayload(t, "t1", "c-1", outbox.CallAnalysed, analysed(time.Now(), "first intent"))
	first := b.waitState(t, "t1", "c-1", "salesforce", "synced")

	second := b.enqueuePayload(t, "t1", "c-1", outbox.CallAnalysed, analysed(time.Now(), "second intent"))
	pgtest.WaitFor(t, 20*time.Second, "the re-analysis to sync", func() bool {
		r := b.record(t, "t1", "c-1", "salesforce")
		return r.state == "synced" && r.outboxID != nil && *r.outboxID == second
	})
	records := org.Records("Task")
	if len(records) != 1 || records[0]["Id"] != first.recordID || records[0]["CallDisposition"] != "second intent" {
		t.Fatalf("Tasks = %v, want the one record %s updated", records, first.recordID)
	}
	if rec := b.record(t, "t1", "c-1", "salesforce"); rec.recordID != first.recordID {
		t.Errorf("record ID changed from %s to %s", first.recordID, rec.recordID)
	}

	// Deleted in Salesforce: the next analysis creates it again.
	org.DeleteRecord("Task", first.recordID)
	third := b.enqueuePayload(t, "t1", "c-1", outbox.CallAnalysed, analysed(time.Now(), "third intent"))
	pgtest.WaitFor(t, 20*time.Second, "the third analysis to sync", func() bool {
		r := b.record(t, "t1", "c-1", "salesforce")
		return r.state == "synced" && r.outboxID != nil && *r.outboxID == third
	})
	rec := b.record(t, "t1", "c-1", "salesforce")
	records = org.Records("Task")
	if len(records) != 1 || records[0]["Id"] != rec.recordID || rec.recordID == first.recordID {
		t.Fatalf("after deletion: Tasks %v, stored %s", records, rec.recordID)
	}
}

func TestTransientErrorsAreRetried(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	org.InjectFault(salesforcetest.Fault{Op: "query", Kind: salesforcetest.Fault503})
	org.InjectFault(salesforcetest.Fault{Op: "collection_create", Kind: salesforcetest.FaultLockRow})
	org.InjectFault(salesforcetest.Fault{Op: "query", Kind: salesforcetest.FaultInvalidSession})
	b.newClient(t, nil)

	b.enqueuePayload(t, "t1", "c-1", outbox.CallAnalysed, analysed(time.Now(), "quote"))
	rec := b.waitState(t, "t1", "c-1", "salesforce", "synced")
	if rec.attempts != 3 || len(org.Records("Task")) != 1 {
		t.Errorf("attempts %d, %d Tasks; want 3 attempts (503, lock, then success) and 1 Task", rec.attempts, len(org.Records("Task")))
	}
	// INVALID_SESSION_ID is answered by a new token within the attempt.
	if n := org.Requests("token"); n != 3 {
		t.Errorf("%d token requests, want 3: the settings check, the first and the fresh one", n)
	}
}

func TestRequestLimitPausesOnlyThatTenant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	spent := b.addTenant(t, tenant{id: "spent", pack: true, analytics: true, salesforce: ptr(true)})
	b.addTenant(t, tenant{id: "fine", pack: true, analytics: true, salesforce: ptr(true)})
	spent.SetDailyAPILimit(0)
	cfg := b.config()
	cfg.RateLimitSnooze = time.Hour
	b.newClient(t, cfg)

	b.enqueue(t, "spent", "s-1", outbox.CallAnalysed)
	pgtest.WaitFor(t, 20*time.Second, "the spent tenant's push to be snoozed", func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE args->>'tenant_id' = 'spent'
			AND state = 'scheduled' AND scheduled_at > now() + interval '50 minutes'`) == 1
	})
	rec := b.record(t, "spent", "s-1", "salesforce")
	if rec.state != "pending" || !strings.Contains(rec.lastError, "REQUEST_LIMIT_EXCEEDED") {
		t.Errorf("spent tenant's record = %+v", rec)
	}

	// The next call of the spent tenant does not even ask Salesforce.
	before := spent.Requests("query") + spent.Requests("collection_create")
	b.enqueue(t, "spent", "s-2", outbox.CallAnalysed)
	b.enqueue(t, "fine", "f-1", outbox.CallAnalysed)
	b.waitState(t, "fine", "f-1", "salesforce", "synced")
	b.waitState(t, "spent", "s-2", "salesforce", "pending")
	// The pause is the org's, in PostgreSQL: a second replica keeps it too.
	b.newClient(t, cfg)
	b.enqueue(t, "spent", "s-3", outbox.CallAnalysed)
	b.enqueue(t, "fine", "f-2", outbox.CallAnalysed)
	b.waitState(t, "fine", "f-2", "salesforce", "synced")
	b.waitState(t, "spent", "s-3", "salesforce", "pending")
	if after := spent.Requests("query") + spent.Requests("collection_create"); after != before {
		t.Errorf("the paused tenant made %d more requests", after-before)
	}
	if n := b.count(t, `SELECT count(*) FROM river_job WHERE args->>'tenant_id' = 'spent' AND state = 'scheduled'`); n != 1 {
		t.Errorf("%d snoozed push jobs of the paused tenant, want the one that met the limit", n)
	}
}

func TestRefusedCredentialsParkTheTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, org := setupSalesforce(t)
	b.addTenant(t, tenant{id: "t2", pack: true, analytics: true, salesforce: ptr(true)})
	org.SetClientSecret("rotated-by-the-admin")
	b.newClient(t, nil)

	calls := []string{"c-0", "c-1", "c-2", "c-3", "c-4", "c-5", "c-6", "c-7", "c-8", "c-9"}
	for _, call := range calls {
		b.enqueue(t, "t1", call, outbox.CallAnalysed)
	}
	b.enqueue(t, "t2", "other", outbox.CallAnalysed)
	b.waitState(t, "t2", "other", "salesforce", "synced")

	pgtest.WaitFor(t, 20*time.Second, "the pushes to wait", func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE args->>'tenant_id' = 't1'
			AND state = 'scheduled' AND scheduled_at > now() + interval '10 minutes'`) >= 1 &&
			b.count(t, `SELECT count(*) FROM river_job WHERE args->>'tenant_id' = 't1'
				AND state IN ('available', 'running', 'retryable')`) == 0 &&
			b.count(t, "SELECT count(*) FROM outbox WHERE tenant_id = 't1' AND dispatched_at IS NULL") == 0
	})
	st, err := b.store.Salesforce(ctx, "t1")
	if err != nil || !strings.Contains(st.Attention, "invalid_client") {
		t.Fatalf("settings = %+v, %v; want attention naming invalid_client", st, err)
	}
	// The settings check, then the refusal: pushes in flight together share
	// one token request, and later ones do not ask.
	if n := org.Requests("token"); n > 3 {
		t.Errorf("%d token requests for %d pushes: parked pushes must not each try", n, len(calls))
	}
	if n := b.count(t, "SELECT count(*) FROM sync_records WHERE tenant_id = 't1' AND state = 'failed'"); n != 0 {
		t.Errorf("%d records failed; parked ones must wait", n)
	}

	// The admin saves the new secret: the pushes resume.
	_, err = b.store.SaveSalesforce(ctx, "t1", settings.SalesforceInput{Enabled: true, InstanceURL: org.URL(),
		ClientID: "t1-client-id", ClientSecret: ptr("rotated-by-the-admin")}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range calls {
		b.waitState(t, "t1", call, "salesforce", "synced")
	}
	checkTasks(t, org, len(calls))
}

func TestDataErrorFailsAloneWithoutRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, tenant{id: "t1", pack: true, analytics: true})
	org := b.addNoCallCenterOrg(t, "t1")
	b.newClient(t, nil)

	b.enqueuePayload(t, "t1", "bad", outbox.CallAnalysed, analysed(time.Now(), "has an intent"))
	b.enqueuePayload(t, "t1", "good", outbox.CallAnalysed, analysed(time.Now(), ""))

	b.waitState(t, "t1", "good", "salesforce", "synced")
	rec := b.waitState(t, "t1", "bad", "salesforce", "failed")
	if !strings.Contains(rec.lastError, "INVALID_FIELD") || !strings.Contains(rec.lastError, "CallDisposition") || rec.attempts != 1 {
		t.Errorf("failed record = %+v; want Salesforce's message and one attempt", rec)
	}
	var output string
	pgtest.WaitFor(t, 5*time.Second, "the job to complete", func() bool {
		var state string
		state, output = b.pushJob(t, "t1", "bad")
		return state == "completed"
	})
	if !strings.Contains(output, `"outcome": "failed"`) || !strings.Contains(output, "INVALID_FIELD") || strings.Contains(output, "No such column") {
		t.Errorf("River shows %s; want the failure with its code, not Salesforce's message", output)
	}
	checkTasks(t, org, 1) // only the good one
}

func TestDisabledAfterDispatchFailsThePush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, org := setupSalesforce(t)
	b.enqueue(t, "t1", "c-1", outbox.CallAnalysed)
	dispatch(t, b.newUnstarted(t, nil))
	if _, err := b.store.SaveSalesforce(ctx, "t1", settings.SalesforceInput{Enabled: false, InstanceURL: org.URL(), ClientID: "x"}, "admin"); err != nil {
		t.Fatal(err)
	}
	b.newClient(t, nil)
	rec := b.waitState(t, "t1", "c-1", "salesforce", "failed")
	if !strings.Contains(rec.lastError, "disabled") {
		t.Errorf("record = %+v", rec)
	}
	checkTasks(t, org, 0) // nothing pushed to a disabled integration
}

func TestPushKintone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, tenant{id: "t1", pack: true, analytics: false, salesforce: ptr(false), kintone: ptr(true), timezone: "Asia/Tokyo"})
	b.newClient(t, nil)

	b.enqueuePayload(t, "t1", "c-1", outbox.CallTranscribed, analysed(time.Date(2026, 5, 1, 23, 30, 0, 0, time.UTC), "quote"))
	first := b.waitState(t, "t1", "c-1", "kintone", "synced")
	second := b.enqueuePayload(t, "t1", "c-1", outbox.CallTranscribed, analysed(time.Date(2026, 5, 1, 23, 30, 0, 0, time.UTC), "renewal"))
	pgtest.WaitFor(t, 20*time.Second, "the second push", func() bool {
		r := b.record(t, "t1", "c-1", "kintone")
		return r.state == "synced" && *r.outboxID == second
	})
	rec := b.record(t, "t1", "c-1", "kintone")
	if rec.recordID != first.recordID || !strings.HasPrefix(rec.objectType, "app:") {
		t.Errorf("record = %+v, first %+v", rec, first)
	}
}

func TestResyncAndRetryFailedWithSQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, org := setupSalesforce(t)
	b.addTenant(t, tenant{id: "t2", pack: true, analytics: true, salesforce: ptr(true)})
	c := b.newClient(t, nil)

	b.enqueue(t, "t1", "c-1", outbox.CallAnalysed)
	first := b.waitState(t, "t1", "c-1", "salesforce", "synced")

	queued := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := b.pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// resync pushes the call again, as an update of the same record.
	if n := queued("SELECT syncd.resync('t1', 'c-1')"); n != 1 {
		t.Fatalf("resync queued %d", n)
	}
	pgtest.WaitFor(t, 20*time.Second, "the resync", func() bool {
		r := b.record(t, "t1", "c-1", "salesforce")
		return r.state == "synced" && r.attempts == 2
	})
	if rec := b.record(t, "t1", "c-1", "salesforce"); rec.recordID != first.recordID || len(org.Records("Task")) != 1 {
		t.Errorf("resync made a new record: %+v, %d Tasks", rec, len(org.Records("Task")))
	}
	if n := queued("SELECT syncd.resync('t1', 'no-such-call')"); n != 0 {
		t.Errorf("resync of an unknown call queued %d", n)
	}

	// A call that failed while the integration was off is retried once it
	// is on again.
	in := settings.SalesforceInput{Enabled: false, InstanceURL: org.URL(), ClientID: "t1-client-id", ObjectType: "Task"}
	if _, err := b.store.SaveSalesforce(ctx, "t1", in, "admin"); err != nil {
		t.Fatal(err)
	}
	b.exec(t, `INSERT INTO sync_records (tenant_id, call_id, target, state, queued_outbox_id, last_error)
		VALUES ('t2', 'other-failed', 'salesforce', 'failed', 0, 'x')`)
	b.exec(t, `INSERT INTO sync_records (tenant_id, call_id, target, state, queued_outbox_id, last_error)
		VALUES ('t1', 'c-2', 'salesforce', 'pending', 0, NULL)`)
	outboxID := b.enqueue(t, "t1", "c-2", outbox.CallAnalysed)
	// Dispatched while enabled, pushed after the switch: the push fails.
	b.exec(t, "UPDATE outbox SET dispatched_at = now(), outcome = 'queued' WHERE id = $1", outboxID)
	b.exec(t, "UPDATE sync_records SET queued_outbox_id = $1 WHERE call_id = 'c-2'", outboxID)
	if _, err := c.River().Insert(ctx, jobs.SalesforcePushArgs{TenantID: "t1"}, nil); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, "t1", "c-2", "salesforce", "failed")

	in.Enabled, in.ClientSecret = true, ptr("secret-t1")
	if _, err := b.store.SaveSalesforce(ctx, "t1", in, "admin"); err != nil {
		t.Fatal(err)
	}
	if n := queued("SELECT syncd.retry_failed('t1')"); n != 1 {
		t.Fatalf("retry_failed('t1') queued %d, want 1", n)
	}
	b.waitState(t, "t1", "c-2", "salesforce", "synced")
	if n := queued("SELECT syncd.retry_failed(NULL)"); n != 0 {
		t.Errorf("retry_failed(NULL) queued %d; t2's failed call has no outbox event to push", n)
	}
}

// An analysis that arrives while the call is being pushed is pushed too.
func TestReanalysisWhilePushing(t *testing.T) {
	t.Parallel()
	b, org := setupSalesforce(t)
	org.SetLatency(300 * time.Millisecond)
	b.newClient(t, nil)

	b.enqueuePayload(t, "t1", "c-1", outbox.CallAnalysed, analysed(time.Now(), "first"))
	pgtest.WaitFor(t, 10*time.Second, "the push to run", func() bool {
		return b.count(t, "SELECT count(*) FROM sync_records WHERE lease_until IS NOT NULL") == 1
	})
	second := b.enqueuePayload(t, "t1", "c-1", outbox.CallAnalysed, analysed(time.Now(), "second"))
	pgtest.WaitFor(t, 20*time.Second, "the second analysis to sync", func() bool {
		r := b.record(t, "t1", "c-1", "salesforce")
		return r.state == "synced" && r.outboxID != nil && *r.outboxID == second
	})
	tasks := org.Records("Task")
	if len(tasks) != 1 || tasks[0]["CallDisposition"] != "second" {
		t.Fatalf("Tasks = %v, want one with the second analysis", tasks)
	}
	if rec := b.record(t, "t1", "c-1", "salesforce"); rec.attempts != 2 {
		t.Errorf("attempts = %d, want 2: the first analysis, then the second", rec.attempts)
	}
}

// A call whose payload is gone fails with the reason instead of being tried
// forever; a push job with nothing to push completes.
func TestUnpushableCallsFail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, _ := setupSalesforce(t)
	c := b.newClient(t, nil)

	if _, err := c.River().Insert(ctx, jobs.SalesforcePushArgs{TenantID: "t1"}, nil); err != nil {
		t.Fatal(err)
	}
	pgtest.WaitFor(t, 10*time.Second, "the idle job to complete", func() bool {
		return b.count(t, "SELECT count(*) FROM river_job WHERE kind = 'salesforce_push' AND state = 'completed'") == 1
	})
	b.exec(t, `INSERT INTO sync_records (tenant_id, call_id, target, queued_outbox_id) VALUES ('t1', 'gone', 'salesforce', 999999)`)
	if _, err := c.River().Insert(ctx, jobs.SalesforcePushArgs{TenantID: "t1"}, nil); err != nil {
		t.Fatal(err)
	}
	rec := b.waitState(t, "t1", "gone", "salesforce", "failed")
	if !strings.Contains(rec.lastError, "is gone") {
		t.Errorf("record = %+v", rec)
	}
	if _, output := b.pushJob(t, "t1", "gone"); !strings.Contains(output, "is gone") {
		t.Errorf("job output %s does not say why", output)
	}
}
