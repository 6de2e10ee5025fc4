// The shared PostgreSQL test harness of syncd's end-to-end tests.
//
// Every test gets a fresh database with syncd's schema migrated, from the
// server named by TEST_DATABASE_URL, else a testcontainers PostgreSQL when a
// Docker daemon is reachable, else the local default server; package
// internal/pgtest does the provisioning so that every package's tests share
// it (Go cannot import a _test.go file). The end-to-end tests here run the
// daemon's code against that database, with the Salesforce and Kintone test
// servers standing in for the CRMs, the way a pipeline and an operator would.
package syncd_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koeiq/syncd/internal/testsupport"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/koeiq/syncd/admin"
	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/jobs"
	"github.com/koeiq/syncd/kintone/kintonetest"
	"github.com/koeiq/syncd/metrics"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/settings"
)

// stack is a running syncd on its own database, with its own CRMs.
type stack struct {
	pool     *pgxpool.Pool
	store    *settings.Store
	jobs     *jobs.Client
	api      *httptest.Server // the admin API
	sf       *salesforcetest.Server
	kintone  *kintonetest.Server
	logs     *testsupport.SyncBuffer // everything syncd logged, as JSON
	logger   *slog.Logger
	wire     *wiretap // what syncd sent the CRMs
	metrics  *metrics.Metrics
	stopOnce sync.Once
}

// jwtSecret signs the stack's admin API tokens.
var jwtSecret = []byte("end-to-end-admin-jwt-secret-of-32-bytes+")

// newStack starts syncd's jobs client on a fresh database; it stops when the
// test ends.
func newStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{pool: pgtest.Pool(t), logs: &testsupport.SyncBuffer{}}
	s.logger = slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.wire = &wiretap{base: http.DefaultTransport.(*http.Transport).Clone()}
	s.store = testsupport.NewResumingStore(t, s.pool, settings.Config{AllowInsecureURLs: true, Transport: s.wire})
	s.api = testsupport.AdminAPI(t, &admin.Config{Pool: s.pool, Settings: s.store, JWTSecret: jwtSecret, Logger: s.logger})
	s.sf, s.kintone = testsupport.FakeCRMs(t)

	// The pipeline's own table, beside syncd's schema.
	pgtest.Exec(t, s.pool, "CREATE TABLE public.calls (tenant_id text, id text, state text NOT NULL, PRIMARY KEY (tenant_id, id))")

	s.metrics = metrics.New(s.pool, s.logger)
	var err error
	s.jobs, err = jobs.NewClient(s.pool, &jobs.Config{Settings: s.store, Logger: s.logger, Metrics: s.metrics})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.jobs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *stack) stop(t *testing.T) {
	s.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.jobs.Stop(ctx); err != nil {
			t.Errorf("stop jobs: %v", err)
		}
	})
}

// wiretap records the credentials syncd sends to the CRMs: bearer access
// tokens and Kintone API tokens.
type wiretap struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen map[string]bool
}

func (w *wiretap) RoundTrip(r *http.Request) (*http.Response, error) {
	w.mu.Lock()
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		w.seen[tok] = true
	}
	if tok := r.Header.Get("X-Cybozu-API-Token"); tok != "" {
		w.seen[tok] = true
	}
	w.mu.Unlock()
	return w.base.RoundTrip(r)
}

// credentials returns every credential seen on the wire.
func (w *wiretap) credentials() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for tok := range w.seen {
		out = append(out, tok)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestHarnessIsolatesTests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := pgtest.Pool(t), pgtest.Pool(t)
	pgtest.Exec(t, a, "INSERT INTO tenants (id) VALUES ('only-in-a')")
	if n := pgtest.Count(t, b, "SELECT count(*) FROM tenants"); n != 0 {
		t.Fatalf("database b sees %d tenants of database a", n)
	}
	var dbA, dbB string
	_ = a.QueryRow(ctx, "SELECT current_database()").Scan(&dbA)
	_ = b.QueryRow(ctx, "SELECT current_database()").Scan(&dbB)
	if dbA == dbB {
		t.Fatalf("both tests got database %s", dbA)
	}
}

// scrape returns what /metrics would serve.
func (s *stack) scrape(t *testing.T) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(s.metrics.Registry(), promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("metrics: %d", rec.Code)
	}
	return rec.Body.String()
}
