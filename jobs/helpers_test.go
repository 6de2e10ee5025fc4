package jobs_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/jobs"
	"github.com/koeiq/syncd/kintone/kintonetest"
	"github.com/koeiq/syncd/outbox"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/settings"
)

type testBundle struct {
	pool    *pgxpool.Pool
	store   *settings.Store
	sf      *salesforcetest.Server
	kintone *kintonetest.Server
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool := pgtest.Pool(t)
	b := &testBundle{pool: pool, store: testsupport.NewResumingStore(t, pool, settings.Config{AllowInsecureURLs: true})}
	b.sf, b.kintone = testsupport.FakeCRMs(t)
	return b
}

// setupSalesforce is setup with one tenant, t1, that has the pack, analytics
// and an enabled Salesforce org, which it returns.
func setupSalesforce(t *testing.T) (*testBundle, *salesforcetest.Org) {
	t.Helper()
	b := setup(t)
	return b, b.addTenant(t, tenant{id: "t1", pack: true, analytics: true, salesforce: ptr(true)})
}

// fastRetry retries failed jobs after 50 ms, so tests need not wait for
// River's backoff.
type fastRetry struct{}

func (fastRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(50 * time.Millisecond) }

// config returns a client config for tests: quick retries, short leases
// and a sweep every second.
func (b *testBundle) config() *jobs.Config {
	return &jobs.Config{
		Settings:         b.store,
		RetryPolicy:      fastRetry{},
		RetryBackoff:     50 * time.Millisecond,
		LeaseTime:        3 * time.Second,
		InDoubtWait:      2 * time.Second,
		DispatchInterval: time.Second,
	}
}

// newUnstarted returns a client on the bundle's database that is not
// started, for calling Dispatch by hand. A nil cfg means b.config().
func (b *testBundle) newUnstarted(t *testing.T, cfg *jobs.Config) *jobs.Client {
	t.Helper()
	if cfg == nil {
		cfg = b.config()
	}
	c, err := jobs.NewClient(b.pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newClient returns a started client on the bundle's database, stopped when
// the test ends. A nil cfg means b.config().
func (b *testBundle) newClient(t *testing.T, cfg *jobs.Config) *jobs.Client {
	t.Helper()
	c := b.newUnstarted(t, cfg)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	testsupport.StopAtCleanup(t, c.Stop)
	return c
}

// exec runs SQL that must succeed.
func (b *testBundle) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	pgtest.Exec(t, b.pool, sql, args...)
}

func (b *testBundle) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	return pgtest.Count(t, b.pool, sql, args...)
}

type tenant struct {
	id              string
	pack, analytics bool
	salesforce      *bool // nil: no settings row
	kintone         *bool
	timezone        string
	objectType      string // Salesforce object type; Task by default
	extIDField      string
}

// addTenant creates the tenant with its own Salesforce org and Kintone app
// (when configured) and returns the org.
func (b *testBundle) addTenant(t *testing.T, tn tenant) *salesforcetest.Org {
	t.Helper()
	ctx := context.Background()
	change := settings.TenantChange{AuditExportPack: ptr(true), AnalyticsEnabled: &tn.analytics}
	if tn.timezone != "" {
		change.Timezone = &tn.timezone
	}
	if _, err := b.store.SetTenant(ctx, tn.id, change); err != nil {
		t.Fatal(err)
	}
	org := b.sf.AddOrg(tn.id, salesforcetest.OrgConfig{
		ClientSecret: "secret-" + tn.id,
		Objects:      []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")},
	})
	if tn.salesforce != nil {
		_, err := b.store.SaveSalesforce(ctx, tn.id, settings.SalesforceInput{
			Enabled: *tn.salesforce, InstanceURL: org.URL(), ClientID: tn.id + "-client-id",
			ClientSecret: ptr("secret-" + tn.id), ObjectType: tn.objectType, ExternalIDField: tn.extIDField,
		}, "test")
		if err != nil {
			t.Fatal(err)
		}
	}
	if tn.kintone != nil {
		app := b.kintone.AddApp(tn.id, kintonetest.AppConfig{APIToken: "token-" + tn.id})
		_, err := b.store.SaveKintone(ctx, tn.id, settings.KintoneInput{
			Enabled: *tn.kintone, BaseURL: app.URL(), AppID: app.ID(), APIToken: ptr("token-" + tn.id),
		}, "test")
		if err != nil {
			t.Fatal(err)
		}
	}
	if !tn.pack {
		if _, err := b.store.SetTenant(ctx, tn.id, settings.TenantChange{AuditExportPack: ptr(false)}); err != nil {
			t.Fatal(err)
		}
	}
	return org
}

// addNoCallCenterOrg adds a Salesforce org whose Task has no Call Center
// fields (no CallDisposition) and saves it, enabled, as the tenant's.
func (b *testBundle) addNoCallCenterOrg(t *testing.T, tenantID string) *salesforcetest.Org {
	t.Helper()
	task := salesforcetest.TaskObject()
	task.Fields = slices.DeleteFunc(task.Fields, func(f salesforcetest.FieldDef) bool { return f.Name == "CallDisposition" })
	id := tenantID + "-no-call-center"
	org := b.sf.AddOrg(id, salesforcetest.OrgConfig{ClientSecret: "secret-" + id, Objects: []salesforcetest.ObjectDef{task}})
	if _, err := b.store.SaveSalesforce(context.Background(), tenantID, settings.SalesforceInput{
		Enabled: true, InstanceURL: org.URL(), ClientID: id + "-client-id", ClientSecret: ptr("secret-" + id),
	}, "test"); err != nil {
		t.Fatal(err)
	}
	return org
}

// enqueue commits one event for the call.
func (b *testBundle) enqueue(t *testing.T, tenantID, callID string, typ outbox.EventType) int64 {
	t.Helper()
	return b.enqueuePayload(t, tenantID, callID, typ, outbox.Payload{StartedAt: time.Now(), DurationSeconds: 60})
}

func (b *testBundle) enqueuePayload(t *testing.T, tenantID, callID string, typ outbox.EventType, p outbox.Payload) int64 {
	t.Helper()
	id, err := outbox.Enqueue(context.Background(), b.pool, outbox.Event{TenantID: tenantID, CallID: callID, Type: typ, Payload: p})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// enqueueMany commits n analysed calls in one transaction.
func (b *testBundle) enqueueMany(t *testing.T, tenantID, prefix string, n int, intent func(i int) string) {
	t.Helper()
	tx, err := b.pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		p := outbox.Payload{StartedAt: time.Now(), DurationSeconds: i, PrimaryIntent: intent(i)}
		if _, err := outbox.Enqueue(context.Background(), tx, outbox.Event{TenantID: tenantID,
			CallID: fmt.Sprintf("%s%d", prefix, i), Type: outbox.CallAnalysed, Payload: p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func noIntent(int) string { return "" }

// syncRecord is a row of sync_records.
type syncRecord struct {
	state, recordID, objectType, lastError string
	attempts                               int
	outboxID                               *int64
}

func (b *testBundle) record(t *testing.T, tenantID, callID, target string) syncRecord {
	t.Helper()
	var r syncRecord
	var recordID, objectType, lastError *string
	err := b.pool.QueryRow(context.Background(), `
		SELECT state, record_id, object_type, last_error, attempts, outbox_id
		FROM sync_records WHERE tenant_id = $1 AND call_id = $2 AND target = $3`, tenantID, callID, target).
		Scan(&r.state, &recordID, &objectType, &lastError, &r.attempts, &r.outboxID)
	if err != nil {
		t.Fatalf("sync record %s/%s/%s: %v", tenantID, callID, target, err)
	}
	r.recordID, r.objectType, r.lastError = deref(recordID), deref(objectType), deref(lastError)
	return r
}

// waitState waits for the call's sync record to reach state.
func (b *testBundle) waitState(t *testing.T, tenantID, callID, target, state string) syncRecord {
	t.Helper()
	pgtest.WaitFor(t, 20*time.Second, callID+" "+state, func() bool {
		return b.count(t, "SELECT count(*) FROM sync_records WHERE tenant_id = $1 AND call_id = $2 AND target = $3 AND state = $4",
			tenantID, callID, target, state) == 1
	})
	return b.record(t, tenantID, callID, target)
}

// waitSynced waits for n sync records to be synced.
func (b *testBundle) waitSynced(t *testing.T, timeout time.Duration, n int) {
	t.Helper()
	pgtest.WaitFor(t, timeout, fmt.Sprint(n, " calls to sync"), func() bool {
		return b.count(t, "SELECT count(*) FROM sync_records WHERE state = 'synced'") == n
	})
}

// checkTasks checks that the org holds want Tasks.
func checkTasks(t *testing.T, org *salesforcetest.Org, want int) {
	t.Helper()
	if n := len(org.Records("Task")); n != want {
		t.Errorf("%d Tasks, want %d", n, want)
	}
}

// tasks returns the org's records of object whose lookup field holds the
// call.
func tasks(org *salesforcetest.Org, object, field, value string) []salesforce.Fields {
	var out []salesforce.Fields
	for _, r := range org.Records(object) {
		if r[field] == value {
			out = append(out, r)
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// dispatch runs Dispatch, which must succeed.
func dispatch(t *testing.T, c *jobs.Client) jobs.DispatchResult {
	t.Helper()
	res, err := c.Dispatch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}
