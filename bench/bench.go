// Package bench measures syncd against the Salesforce test server with a
// realistic per-request latency, on a real PostgreSQL: batched pushes versus
// one request per call, measured in the same run so that the ratios compare
// like with like.
//
// For each mode it measures
//
//   - throughput: a backlog of calls committed before the daemon starts,
//     pushed to one tenant's org, in calls per second;
//   - Salesforce API requests per synced call (token requests, which are
//     logins rather than API calls, are reported apart);
//   - latency from outbox commit to stored record ID for a trickle of calls
//     (p50, p99, and both beyond the simulated latency of the requests on the
//     path);
//   - the peak heap in use while it ran.
package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/jobs"
	"github.com/koeiq/syncd/migrate"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/secrets"
	"github.com/koeiq/syncd/settings"
)

// Config configures a benchmark run.
type Config struct {
	// Pool is the database; the run drops and creates Schema in it.
	// Required.
	Pool *pgxpool.Pool

	// Schema is the benchmark's schema, dropped and created anew for each
	// mode. Defaults to "syncd_bench".
	Schema string

	// Calls is the backlog of the batched mode. Defaults to 20,000.
	Calls int

	// BaselineCalls is the backlog of the one-request-per-call mode, whose
	// rate is steady long before it ends. Defaults to 2,000.
	BaselineCalls int

	// Latency is the simulated latency of every Salesforce request.
	// Defaults to 100 milliseconds.
	Latency time.Duration

	// TrickleRate is the trickle's calls per second. Defaults to 20.
	TrickleRate int

	// TrickleDuration is how long the trickle lasts. Defaults to 15 seconds.
	TrickleDuration time.Duration

	// Progress receives a line now and then. Defaults to discarding.
	Progress io.Writer

	// Logger receives the daemon's logs. Defaults to discarding.
	Logger *slog.Logger
}

// Result is one mode's measurements.
type Result struct {
	Mode            string
	BatchSize       int
	BacklogCalls    int
	BacklogDuration time.Duration
	// APIRequests counts the Salesforce API requests of the backlog, by
	// operation; TokenRequests the logins.
	APIRequests   map[string]int
	TokenRequests int
	TrickleCalls  int
	TrickleRate   int
	// Latencies are the trickle's commit-to-record-ID times, sorted.
	Latencies []time.Duration
	// LatencyFloor is the simulated latency on a call's path (one request).
	LatencyFloor time.Duration
	PeakHeap     uint64
}

// CallsPerSecond is the backlog's throughput.
func (r *Result) CallsPerSecond() float64 {
	return float64(r.BacklogCalls) / r.BacklogDuration.Seconds()
}

// RequestsPerCall is the backlog's Salesforce API requests per synced call.
func (r *Result) RequestsPerCall() float64 {
	n := 0
	for _, v := range r.APIRequests {
		n += v
	}
	return float64(n) / float64(r.BacklogCalls)
}

// Percentile returns the p-th percentile of the trickle latencies.
func (r *Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(r.Latencies)-1))
	return r.Latencies[i]
}

// Run measures the batched mode and the one-request-per-call baseline.
func Run(ctx context.Context, cfg *Config) (batched, single *Result, err error) {
	c := *cfg
	c.Schema = cmp.Or(c.Schema, "syncd_bench")
	c.Calls = cmp.Or(c.Calls, 20000)
	c.BaselineCalls = cmp.Or(c.BaselineCalls, 2000)
	c.Latency = cmp.Or(c.Latency, 100*time.Millisecond)
	c.TrickleRate = cmp.Or(c.TrickleRate, 20)
	c.TrickleDuration = cmp.Or(c.TrickleDuration, 15*time.Second)
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Pool == nil {
		return nil, nil, errors.New("bench: Config.Pool is required")
	}
	if batched, err = c.mode(ctx, "batched", salesforce.MaxCollectionSize, c.Calls); err != nil {
		return nil, nil, err
	}
	if single, err = c.mode(ctx, "one request per call", 1, c.BaselineCalls); err != nil {
		return nil, nil, err
	}
	return batched, single, nil
}

// mode measures one batch size on a fresh schema.
func (c *Config) mode(ctx context.Context, name string, batchSize, calls int) (*Result, error) {
	res := &Result{Mode: name, BatchSize: batchSize, BacklogCalls: calls, LatencyFloor: c.Latency}
	fmt.Fprintf(c.Progress, "%s: preparing schema %s\n", name, c.Schema)
	pool, err := c.freshSchema(ctx)
	if err != nil {
		return nil, err
	}
	defer pool.Close()

	sim := salesforcetest.NewServer()
	defer sim.Close()
	org := sim.AddOrg("bench", salesforcetest.OrgConfig{
		ClientID: "bench-key", ClientSecret: "bench-secret", Latency: c.Latency, DailyAPILimit: 10_000_000,
	})
	key, err := secrets.ParseKey(secrets.GenerateKey())
	if err != nil {
		return nil, err
	}
	store, err := settings.NewStore(pool, &settings.Config{Key: key, AllowInsecureURLs: true})
	if err != nil {
		return nil, err
	}
	if _, err := store.SetTenant(ctx, "bench", settings.TenantChange{AuditExportPack: ptr(true)}); err != nil {
		return nil, err
	}
	if _, err := store.SaveSalesforce(ctx, "bench", settings.SalesforceInput{
		Enabled: true, InstanceURL: org.URL(), ClientID: "bench-key", ClientSecret: ptr("bench-secret"), ObjectType: "Task",
	}, "bench"); err != nil {
		return nil, err
	}
	tokensBefore := org.Requests("token")

	// The backlog, committed before the daemon starts.
	fmt.Fprintf(c.Progress, "%s: writing a backlog of %d calls\n", name, calls)
	if err := c.writeBacklog(ctx, pool, calls); err != nil {
		return nil, err
	}

	runtime.GC() // what the previous mode left is not this one's
	peak := startHeapSampler()
	defer peak.stop()
	client, err := jobs.NewClient(pool, &jobs.Config{
		Schema: c.Schema, Settings: store, Logger: c.Logger, BatchSize: batchSize,
	})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := client.Start(ctx); err != nil {
		return nil, err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = client.Stop(stopCtx)
	}()
	if err := c.waitSynced(ctx, pool, name, calls); err != nil {
		return nil, err
	}
	res.BacklogDuration = time.Since(start)
	res.APIRequests = org.RequestCounts()
	delete(res.APIRequests, "token")
	res.TokenRequests = org.Requests("token") - tokensBefore
	if n := len(org.Records("Task")); n != calls {
		return nil, fmt.Errorf("%s: %d Tasks in Salesforce for %d calls", name, n, calls)
	}
	fmt.Fprintf(c.Progress, "%s: %d calls in %s (%.0f calls/s)\n", name, calls, res.BacklogDuration.Round(time.Millisecond), res.CallsPerSecond())

	// The trickle.
	fmt.Fprintf(c.Progress, "%s: trickle of %d calls/s for %s\n", name, c.TrickleRate, c.TrickleDuration)
	if res.Latencies, err = c.trickle(ctx, pool, calls); err != nil {
		return nil, err
	}
	res.TrickleCalls, res.TrickleRate = len(res.Latencies), c.TrickleRate
	res.PeakHeap = peak.stop()
	return res, nil
}

func (c *Config) freshSchema(ctx context.Context) (*pgxpool.Pool, error) {
	if _, err := c.Pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{c.Schema}.Sanitize()+" CASCADE"); err != nil {
		return nil, err
	}
	pcfg := c.Pool.Config().Copy()
	pcfg.ConnConfig.RuntimeParams["search_path"] = c.Schema
	pcfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, err
	}
	if _, err := migrate.Up(ctx, pool, &migrate.Config{Schema: c.Schema}); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// writeBacklog commits calls analysed calls through syncd.enqueue, 500 a
// transaction.
func (c *Config) writeBacklog(ctx context.Context, pool *pgxpool.Pool, calls int) error {
	for from := 0; from < calls; from += 500 {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `
				SELECT enqueue('bench', 'c-' || n, 'call.analysed', jsonb_build_object(
					'call_id', 'c-' || n, 'started_at', '2026-11-24T09:00:00Z', 'duration_seconds', 60 + n % 600,
					'primary_intent', 'intent ' || n % 7, 'summary', 'A summary of call ' || n, 'quality_score', n % 100))
				FROM generate_series($1::int, $2::int) AS n`, from, min(from+500, calls)-1)
			return err
		})
		if err != nil {
			return fmt.Errorf("write backlog: %w", err)
		}
	}
	return nil
}

// waitSynced waits until n calls are synced.
func (c *Config) waitSynced(ctx context.Context, pool *pgxpool.Pool, name string, n int) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastReport := time.Now()
	for {
		var synced, failed int
		if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'synced'), count(*) FILTER (WHERE state = 'failed')
			FROM sync_records`).Scan(&synced, &failed); err != nil {
			return err
		}
		if failed > 0 {
			return fmt.Errorf("%s: %d calls failed", name, failed)
		}
		if synced >= n {
			return nil
		}
		if time.Since(lastReport) > 5*time.Second {
			fmt.Fprintf(c.Progress, "  %s: %d/%d synced\n", name, synced, n)
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// trickle commits calls at TrickleRate for TrickleDuration, waits until
// they are synced and returns their commit-to-record-ID latencies, sorted.
func (c *Config) trickle(ctx context.Context, pool *pgxpool.Pool, synced int) ([]time.Duration, error) {
	total := c.TrickleRate * int(c.TrickleDuration.Seconds())
	interval := time.Second / time.Duration(c.TrickleRate)
	tick := time.NewTicker(interval)
	for i := range total {
		callID := fmt.Sprintf("t-%d", i)
		if _, err := pool.Exec(ctx, `SELECT enqueue('bench', $1, 'call.analysed', jsonb_build_object(
				'call_id', $1::text, 'started_at', '2026-11-24T09:00:00Z', 'duration_seconds', 60))`, callID); err != nil {
			tick.Stop()
			return nil, err
		}
		<-tick.C
	}
	tick.Stop()
	if err := c.waitSynced(ctx, pool, "trickle", synced+total); err != nil {
		return nil, err
	}
	rows, err := pool.Query(ctx, `
		SELECT extract(epoch FROM s.synced_at - o.created_at)
		FROM sync_records s JOIN outbox o ON o.id = s.outbox_id
		WHERE s.call_id LIKE 't-%'`)
	if err != nil {
		return nil, err
	}
	secs, err := pgx.CollectRows(rows, pgx.RowTo[float64])
	if err != nil {
		return nil, err
	}
	lat := make([]time.Duration, len(secs))
	for i, s := range secs {
		lat[i] = time.Duration(s * float64(time.Second))
	}
	slices.Sort(lat)
	return lat, nil
}

func ptr[T any](v T) *T { return &v }

// heapSampler records the peak heap in use.
type heapSampler struct {
	peak atomic.Uint64
	done chan struct{}
}

func startHeapSampler() *heapSampler {
	s := &heapSampler{done: make(chan struct{})}
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > s.peak.Load() {
				s.peak.Store(ms.HeapInuse)
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the peak.
func (s *heapSampler) stop() uint64 {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	return s.peak.Load()
}

// Report writes the results as a Markdown table with the ratios.
func Report(w io.Writer, batched, single *Result) {
	ratio := func(a, b float64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f×", a/b)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
	beyond := func(r *Result, p float64) time.Duration { return r.Percentile(p) - r.LatencyFloor }
	fmt.Fprintf(w, "Salesforce latency %s per request, %d CPUs, GOMAXPROCS %d, %s\n\n",
		batched.LatencyFloor, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprintln(w, "| | batched | one request per call | batched vs. one per call |")
	fmt.Fprintln(w, "|---|---|---|---|")
	fmt.Fprintf(w, "| backlog (calls) | %d | %d | |\n", batched.BacklogCalls, single.BacklogCalls)
	fmt.Fprintf(w, "| throughput (calls/s) | %.0f | %.0f | %s |\n", batched.CallsPerSecond(), single.CallsPerSecond(),
		ratio(batched.CallsPerSecond(), single.CallsPerSecond()))
	fewer := "-"
	if batched.RequestsPerCall() > 0 {
		fewer = fmt.Sprintf("%.0f× fewer", single.RequestsPerCall()/batched.RequestsPerCall())
	}
	fmt.Fprintf(w, "| API requests per synced call | %.4f | %.4f | %s |\n", batched.RequestsPerCall(), single.RequestsPerCall(), fewer)
	fmt.Fprintf(w, "| token requests (logins) | %d | %d | |\n", batched.TokenRequests, single.TokenRequests)
	fmt.Fprintf(w, "| trickle: calls at %d/s | %d | %d | |\n", batched.TrickleRate, batched.TrickleCalls, single.TrickleCalls)
	fmt.Fprintf(w, "| trickle p50 commit → record ID | %s | %s | |\n", ms(batched.Percentile(50)), ms(single.Percentile(50)))
	fmt.Fprintf(w, "| trickle p99 commit → record ID | %s | %s | |\n", ms(batched.Percentile(99)), ms(single.Percentile(99)))
	fmt.Fprintf(w, "| p50 beyond the simulated latency | %s | %s | |\n", ms(beyond(batched, 50)), ms(beyond(single, 50)))
	fmt.Fprintf(w, "| p99 beyond the simulated latency | %s | %s | |\n", ms(beyond(batched, 99)), ms(beyond(single, 99)))
	fmt.Fprintf(w, "| peak heap in use | %.0f MiB | %.0f MiB | %s |\n", mib(batched.PeakHeap), mib(single.PeakHeap),
		ratio(float64(batched.PeakHeap), float64(single.PeakHeap)))
	fmt.Fprintf(w, "\nAPI requests, batched: %v; one per call: %v\n", batched.APIRequests, single.APIRequests)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
