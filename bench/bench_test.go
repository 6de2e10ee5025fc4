package bench_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/koeiq/syncd/bench"
	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/migrate"
)

// A small run of the benchmark, so that `syncd bench` keeps working.
func TestRunSmall(t *testing.T) {
	t.Parallel()
	var progress bytes.Buffer
	res, err := bench.Run(context.Background(), &bench.Config{
		Pool: pgtest.Pool(t), Calls: 400, BaselineCalls: 40, FairBacklog: 400, Replicas: 2, Latency: 20 * time.Millisecond,
		TrickleRate: 10, TrickleDuration: time.Second, Progress: &progress,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	batched, single := res.Batched, res.Single
	if batched.BacklogCalls != 400 || single.BacklogCalls != 40 || batched.TrickleCalls != 10 || len(single.Latencies) != 10 ||
		res.Replicated == nil || res.Replicated.Replicas != 2 || res.Fair == nil || res.Fair.TrickleCalls != 10 {
		t.Fatalf("batched %+v, single %+v, replicated %+v, fair %+v", batched, single, res.Replicated, res.Fair)
	}
	for _, r := range []*bench.Result{batched, res.Replicated, res.Fair} {
		if r.PeakInFlight < 1 || r.PeakInFlight > 5 {
			t.Errorf("%s: peak of %d requests in flight to one org, want 1 to 5", r.Mode, r.PeakInFlight)
		}
	}
	if rpc := single.RequestsPerCall(); rpc != 1 {
		t.Errorf("one request per call made %.2f requests per call", rpc)
	}
	if batched.RequestsPerCall() >= 0.5 {
		t.Errorf("batched made %.2f requests per call", batched.RequestsPerCall())
	}
	if m := res.Matched; m == nil || !m.Matching || m.APIRequests["composite"] == 0 || m.APIRequests["query"] != 0 || m.RequestsPerCall() >= 0.5 {
		t.Errorf("with matching on: %+v", m)
	}
	if batched.Percentile(50) < batched.LatencyFloor || batched.Percentile(99) < batched.Percentile(50) {
		t.Errorf("latencies %v", batched.Latencies)
	}
	var report bytes.Buffer
	bench.Report(&report, res)
	for _, want := range []string{"throughput (calls/s)", "API requests per synced call", "p99 beyond the simulated latency", "peak heap in use",
		"batched, 2 replicas", "batched, matching on", "peak requests in flight to one org", "Fairness"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, report.String())
		}
	}
}

// The benchmark never drops a schema it did not make: here the daemon's own.
func TestRunRefusesOtherSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	if _, err := pool.Exec(ctx, "INSERT INTO tenants (id) VALUES ('acme')"); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	_, err := bench.Run(ctx, &bench.Config{Pool: pool, Schema: "syncd", Calls: 20, Progress: &progress})
	if !errors.Is(err, migrate.ErrNotScratch) || progress.Len() != 0 {
		t.Fatalf("Run on schema syncd = %v, progress %q; want ErrNotScratch before anything", err, progress.String())
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM syncd.tenants WHERE id = 'acme'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("tenant acme: %d (%v), want 1", n, err)
	}
}
