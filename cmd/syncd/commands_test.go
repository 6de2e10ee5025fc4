package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/jobs"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/secrets"
	"github.com/koeiq/syncd/settings"
)

// TestDemoServe runs syncd demo --serve: after the demo, the page's
// address and token work, the sync log holds the demo's calls with the
// failed one and its reason, and the end of the context stops it all.
func TestDemoServe(t *testing.T) {
	t.Parallel()
	environ := map[string]string{"DATABASE_URL": pgtest.EmptyConnString(t), "LOG_FORMAT": "json"}
	demo := start(t, environ, "demo", "--serve", "--listen", "127.0.0.1:0", "--calls", "8", "--latency", "1ms")
	link := regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/admin/#token=(\S+)`)
	var m []string
	pgtest.WaitFor(t, 90*time.Second, "the page's address", func() bool {
		select {
		case <-demo.done:
			t.Fatalf("demo --serve exited %d\nstdout:\n%s\nstderr:\n%s", demo.code, demo.stdout.String(), demo.stderr.String())
		default:
		}
		m = link.FindStringSubmatch(demo.stdout.String())
		return m != nil
	})
	get := func(path string) map[string]any {
		t.Helper()
		status, body := httpGet(t, m[1]+path, bearer(m[2]))
		var v map[string]any
		if err := json.Unmarshal([]byte(body), &v); err != nil || status != 200 {
			t.Fatalf("GET %s: %d %v", path, status, err)
		}
		return v
	}
	if sum := get("/api/v1/summary"); sum["failed"] != float64(1) || sum["integration"] != "salesforce" {
		t.Errorf("summary: %v", sum)
	}
	calls := get("/api/v1/calls?state=failed")["calls"].([]any)
	if len(calls) != 1 || calls[0].(map[string]any)["call_id"] != "c-008" ||
		!strings.Contains(calls[0].(map[string]any)["last_error"].(string), "FIELD_CUSTOM_VALIDATION_EXCEPTION") {
		t.Errorf("failed calls: %v", calls)
	}
	if status, _ := httpGet(t, m[1]+"/admin/", nil); status != 200 {
		t.Errorf("the page: %d", status)
	}

	demo.stop(t, 60*time.Second)
}

func TestDemo(t *testing.T) {
	t.Parallel()
	environ := map[string]string{"DATABASE_URL": pgtest.EmptyConnString(t), "LOG_FORMAT": "json"}
	r := syncd(t, context.Background(), environ, "", "demo", "--calls", "12", "--latency", "5ms")
	if r.code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"OK: every analysed call", "c-007", "synced", "River UI", "refused: syncd.enqueue: payload.started_at",
		"c-012: salesforce: save: FIELD_CUSTOM_VALIDATION_EXCEPTION: Comments must not contain card numbers"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	// Running it again starts over cleanly.
	if r := syncd(t, context.Background(), environ, "", "demo", "--calls", "8", "--latency", "0s"); r.code != 0 {
		t.Fatalf("second demo exited %d: %s", r.code, r.stdout+r.stderr)
	}
	// The demo's schema is marked as its own, and is not bench's to drop.
	pool := pgtest.NewPool(t, environ["DATABASE_URL"])
	var mark string
	if err := pool.QueryRow(context.Background(), "SELECT obj_description('syncd_demo'::regnamespace, 'pg_namespace')").Scan(&mark); err != nil || mark != "syncd scratch schema (demo)" {
		t.Errorf("syncd_demo's comment = %q (%v), want the demo's mark", mark, err)
	}
	if r := syncd(t, context.Background(), environ, "", append(scratchTools[1], "--schema", "syncd_demo")...); r.code != 2 || !strings.Contains(r.stderr, `schema "syncd_demo"`) {
		t.Errorf("bench on the demo's schema: %+v", r)
	}
}

func TestTenantAndSettingsCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const secret = "consumer-secret-from-stdin"
	org := newSimulator(t).AddOrg("acme", salesforcetest.OrgConfig{ClientID: "acme-key", ClientSecret: secret})
	environ := map[string]string{
		"DATABASE_URL":                 pgtest.ConnString(t),
		"SYNCD_SECRET_KEY":             secrets.GenerateKey(),
		"SYNCD_INSECURE_INSTANCE_URLS": "1",
		"LOG_FORMAT":                   "json",
	}

	r := syncd(t, ctx, environ, "", "tenant", "set", "--id", "acme", "--name", "Acme", "--pack=true", "--timezone", "Asia/Tokyo")
	if r.code != 0 {
		t.Fatalf("tenant set: %+v", r)
	}
	var tn map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &tn); err != nil || tn["timezone"] != "Asia/Tokyo" || tn["audit_export_pack"] != true || tn["analytics_enabled"] != true {
		t.Fatalf("tenant = %s (%v)", r.stdout, err)
	}
	// Only the given flags change.
	r = syncd(t, ctx, environ, "", "tenant", "set", "--id", "acme", "--analytics=false")
	if err := json.Unmarshal([]byte(r.stdout), &tn); err != nil || tn["timezone"] != "Asia/Tokyo" || tn["name"] != "Acme" || tn["analytics_enabled"] != false {
		t.Fatalf("tenant after change = %s", r.stdout)
	}
	if r := syncd(t, ctx, environ, "", "tenant", "set", "--id", "acme", "--timezone", "Nowhere/Else"); r.code != 1 || !strings.Contains(r.stderr, "--timezone") {
		t.Errorf("bad timezone: %+v", r)
	}

	args := []string{"settings", "salesforce", "--tenant", "acme", "--enabled=true", "--instance-url", org.URL(), "--client-id", "acme-key", "--object-type", "Task"}
	r = syncd(t, ctx, environ, "wrong-secret\n", args...)
	if r.code != 1 || !strings.Contains(r.stderr, "wrong_secret") || strings.Contains(r.stderr, "wrong-secret") {
		t.Errorf("wrong secret: %+v", r)
	}
	r = syncd(t, ctx, environ, secret+"\n", args...)
	if r.code != 0 {
		t.Fatalf("settings salesforce: %+v", r)
	}
	if strings.Contains(r.stdout+r.stderr, secret) || !strings.Contains(r.stdout, `"client_secret_set": true`) || !strings.Contains(r.stdout, `"updated_by": "cli"`) {
		t.Errorf("settings output = %s", r.stdout)
	}
	// Nothing on standard input keeps the stored secret.
	if r := syncd(t, ctx, environ, "", args...); r.code != 0 {
		t.Errorf("settings without a new secret: %+v", r)
	}
	r = syncd(t, ctx, environ, secret, "settings", "salesforce", "--tenant", "acme", "--enabled=true", "--instance-url", "https://login.salesforce.com", "--client-id", "acme-key")
	if r.code != 1 || !strings.Contains(r.stderr, "--instance-url") {
		t.Errorf("login.salesforce.com: %+v", r)
	}
	if r := syncd(t, ctx, environ, "", "settings", "salesforce", "--enabled=true"); r.code != 2 {
		t.Errorf("no tenant: %+v", r)
	}
	delete(environ, "SYNCD_SECRET_KEY")
	if r := syncd(t, ctx, environ, secret, args...); r.code != 1 || !strings.Contains(r.stderr, "SYNCD_SECRET_KEY") {
		t.Errorf("no key: %+v", r)
	}
}

func TestBackfill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	connString, pool, _, store := newDatabase(t)
	org := newSimulator(t).AddOrg("late", salesforcetest.OrgConfig{ClientID: "late-key", ClientSecret: "late-secret"})
	if _, err := store.SetTenant(ctx, "late", settings.TenantChange{}); err != nil {
		t.Fatal(err)
	}
	client, err := jobs.NewClient(pool, &jobs.Config{Settings: store})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		pgtest.Exec(t, pool, "SELECT enqueue('late', $1, 'call.analysed', $2::jsonb)", fmt.Sprint("c-", i),
			fmt.Sprintf(`{"call_id": "c-%d", "started_at": "2026-05-01T09:00:00Z", "duration_seconds": 5}`, i))
	}
	if _, err := client.Dispatch(ctx); err != nil {
		t.Fatal(err)
	}
	environ := map[string]string{"DATABASE_URL": connString, "LOG_FORMAT": "json"}

	// Without the pack the rows would be skipped again.
	if r := syncd(t, ctx, environ, "", "backfill", "--tenant", "late", "--since", "2026-01-01"); r.code != 1 || !strings.Contains(r.stderr, "Audit & Export Pack") {
		t.Fatalf("backfill without the pack: %+v", r)
	}
	// The tenant gets the pack and the integration, then the backfill.
	if _, err := store.SetTenant(ctx, "late", settings.TenantChange{AuditExportPack: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SaveSalesforce(ctx, "late", settings.SalesforceInput{Enabled: true, InstanceURL: org.URL(),
		ClientID: "late-key", ClientSecret: ptr("late-secret")}, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(context.Background()) })

	r := syncd(t, ctx, environ, "", "backfill", "--tenant", "late", "--since", "2026-01-01", "--batch", "2", "--wait", "30s")
	if r.code != 0 || !strings.Contains(r.stdout, "re-dispatched 5/5") || !strings.Contains(r.stdout, "backfill done") {
		t.Fatalf("backfill: %+v", r)
	}
	if n := len(org.Records("Task")); n != 5 {
		t.Errorf("%d Tasks after the backfill, want 5", n)
	}
	if r := syncd(t, ctx, environ, "", "backfill", "--tenant", "late", "--since", "yesterday"); r.code != 2 {
		t.Errorf("bad --since: %+v", r)
	}
}

// Stopping lets a push that is under way finish: its record ID is stored,
// and syncd exits 0.
func TestRunFinishesInFlightPushOnStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	connString, pool, secretKey, store := newDatabase(t)
	org := addSalesforceTenant(t, store, newSimulator(t), "t1", "Task")
	org.SetLatency(time.Second)

	d := startDaemon(t, daemonEnv(connString, secretKey))
	pgtest.Exec(t, pool, `SELECT enqueue('t1', 'c-1', 'call.analysed',
		'{"call_id": "c-1", "started_at": "2026-05-01T09:00:00Z", "duration_seconds": 5}')`)
	pgtest.WaitFor(t, 10*time.Second, "the push to be under way", func() bool {
		return pgtest.Count(t, pool, "SELECT count(*) FROM sync_records WHERE lease_until IS NOT NULL") == 1
	})
	d.stop(t, 30*time.Second)
	var state, recordID string
	if err := pool.QueryRow(ctx, "SELECT state, coalesce(record_id, '') FROM sync_records WHERE call_id = 'c-1'").Scan(&state, &recordID); err != nil {
		t.Fatal(err)
	}
	if state != "synced" || len(org.Records("Task")) != 1 || org.Records("Task")[0]["Id"] != recordID {
		t.Errorf("after stopping: state %s, record %s, Tasks %v; want the push finished", state, recordID, org.Records("Task"))
	}
}
