package ops_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/jobs"
	"github.com/koeiq/syncd/metrics"
	"github.com/koeiq/syncd/ops"
)

type testBundle struct {
	srv    *httptest.Server
	client *river.Client[pgx.Tx]
	jobID  int64      // a scheduled salesforce_push job
	cfg    ops.Config // what the handler was made with
	ready  error
}

// setup serves the ops handler of a River client on a fresh database with
// one job waiting. cfg, when given, supplies the user, password, address and
// allowed hosts.
func setup(t *testing.T, cfg *ops.Config) *testBundle {
	t.Helper()
	cfg = cmp.Or(cfg, &ops.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool := pgtest.Pool(t)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: "syncd"})
	if err != nil {
		t.Fatal(err)
	}
	// A push job waiting, as the UI shows it to an operator.
	job, err := client.Insert(ctx, jobs.SalesforcePushArgs{TenantID: "acme"},
		&river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `SELECT enqueue('acme', 'c-9', 'call.analysed',
		'{"call_id": "c-9", "started_at": "2026-05-01T09:00:00Z", "duration_seconds": 5, "summary": "secret plans"}')`); err != nil {
		t.Fatal(err)
	}
	m := metrics.New(pool, nil)
	m.Request("salesforce", "collection_create", 200, 120*time.Millisecond)
	m.CallSynced("acme", "salesforce", time.Now().Add(-time.Second))
	m.APIUsage("acme", 120, 15000)

	b := &testBundle{client: client, jobID: job.Job.ID}
	b.cfg = ops.Config{
		River: client, Metrics: m, User: cfg.User, Password: cfg.Password,
		Addr: cfg.Addr, AllowedHosts: cfg.AllowedHosts,
		Ready: func(context.Context) error { return b.ready },
	}
	h, err := ops.NewHandler(ctx, &b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.srv = httptest.NewServer(h)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *testBundle) get(t *testing.T, path, user, password string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", b.srv.URL+path, nil)
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestRiverUI(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)

	status, page := b.get(t, "/riverui/", "", "")
	if status != 200 || !strings.Contains(page, "<html") || !strings.Contains(page, "/riverui/") {
		t.Fatalf("UI page: %d %.300s", status, page)
	}
	status, list := b.get(t, "/riverui/api/jobs?state=scheduled&limit=20", "", "")
	var jobList struct {
		Data []struct {
			Kind  string `json:"kind"`
			Queue string `json:"queue"`
			Args  string `json:"args"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(list), &jobList); status != 200 || err != nil || len(jobList.Data) != 1 {
		t.Fatalf("job list: %d %s (%v)", status, list, err)
	}
	job := jobList.Data[0]
	var args jobs.SalesforcePushArgs
	if err := json.Unmarshal([]byte(job.Args), &args); err != nil || job.Kind != "salesforce_push" || job.Queue != "salesforce" ||
		args != (jobs.SalesforcePushArgs{TenantID: "acme"}) {
		t.Fatalf("listed job = %+v, args %+v (%v)", job, args, err)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)

	status, text := b.get(t, "/metrics", "", "")
	if status != 200 {
		t.Fatalf("metrics: %d", status)
	}
	for _, want := range []string{
		"syncd_outbox_waiting 1",
		"syncd_outbox_oldest_waiting_seconds",
		`syncd_calls_synced_total{target="salesforce",tenant="acme"} 1`,
		`syncd_crm_requests_total{operation="collection_create",status="200",target="salesforce"} 1`,
		`syncd_salesforce_api_usage{tenant="acme"} 120`,
		`syncd_salesforce_api_limit{tenant="acme"} 15000`,
		`syncd_push_latency_seconds_count{target="salesforce"} 1`,
		`syncd_river_jobs{queue="salesforce",state="scheduled"} 1`,
		"syncd_metrics_database_up 1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(text, "c-123") || strings.Contains(text, "c-9") || strings.Contains(text, "secret plans") {
		t.Error("metrics carry call IDs or call content")
	}

	if status, text := b.get(t, "/healthz", "", ""); status != 200 || text != "ok\n" {
		t.Errorf("healthz: %d %q", status, text)
	}
	if status, _ := b.get(t, "/readyz", "", ""); status != 200 {
		t.Errorf("readyz when ready: %d", status)
	}
	b.ready = errors.New("River is not running")
	if status, text := b.get(t, "/readyz", "", ""); status != 503 || !strings.Contains(text, "River is not running") {
		t.Errorf("readyz when not ready: %d %q", status, text)
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	b := setup(t, &ops.Config{User: "ops", Password: "hunter2-long-password"})
	for _, path := range []string{"/riverui/", "/riverui/api/jobs?state=scheduled", "/metrics"} {
		if status, _ := b.get(t, path, "", ""); status != 401 {
			t.Errorf("%s without credentials: %d", path, status)
		}
		if status, _ := b.get(t, path, "ops", "wrong"); status != 401 {
			t.Errorf("%s with a wrong password: %d", path, status)
		}
		if status, _ := b.get(t, path, "ops", "hunter2-long-password"); status != 200 {
			t.Errorf("%s with credentials: %d", path, status)
		}
	}
	// Probes need no credentials.
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, _ := b.get(t, path, "", ""); status != 200 {
			t.Errorf("%s: %d", path, status)
		}
	}
	if _, err := ops.NewHandler(context.Background(), &ops.Config{User: "only-user"}); err == nil {
		t.Error("a user without a password was accepted")
	}
}
