// Package bench measures syncd against the Salesforce test server with a
// realistic per-request latency, on a real PostgreSQL, the way it runs for
// real: several tenants (a Task org on the look-up path, a custom-object org
// with an external ID), one or several replicas (clients on one database),
// batched pushes against one request per call, measured in the same run so
// that the ratios compare like with like.
//
// For each mode it measures
//
//   - throughput: a backlog of calls committed before the daemon starts,
//     spread over the tenants, in calls per second;
//   - Salesforce API requests per synced call (token requests, which are
//     logins rather than API calls, are reported apart);
//   - the most requests one org saw in flight at once;
//   - latency from outbox commit to stored record ID for a trickle of calls
//     (p50, p99, and both beyond the simulated latency of the request on the
//     path);
//   - the peak heap in use while it ran.
//
// The batched mode runs twice: once as it is by default, once with call
// matching on (link_who and assign_owner, SPEC §5.6), the calls carrying
// phone numbers and agents' emails that the orgs' Contacts and Users hold,
// so that the requests the matches cost show in a column of their own.
//
// A fairness case then drains a big backlog of one tenant while another
// tenant trickles, and measures the trickle's latency.
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
	"strings"
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
	// Pool is the database; the run drops and creates Schema in it, and
	// refuses (with an error wrapping migrate.ErrNotScratch) when Schema
	// exists and is not one an earlier run made (see migrate.ResetScratch).
	// Required.
	Pool *pgxpool.Pool

	// Schema is the benchmark's schema, dropped and created anew for each
	// mode and marked as bench's scratch schema. Defaults to "syncd_bench".
	Schema string

	// Tenants is how many tenants share the daemon: even ones push Tasks
	// (the look-up path), odd ones a custom object with an external ID (the
	// upsert path). Defaults to 2.
	Tenants int

	// Replicas is how many clients work the database at once, as that many
	// `syncd run` would. Above 1, the batched mode is measured with one
	// client and with Replicas. Defaults to 1.
	Replicas int

	// Calls is the backlog of the batched mode. Defaults to 10,000.
	Calls int

	// BaselineCalls is the backlog of the one-request-per-call mode, whose
	// rate is steady long before it ends. Defaults to 2,000.
	BaselineCalls int

	// FairBacklog is the backlog of one tenant in the fairness case, while
	// another tenant trickles. Defaults to 30,000.
	FairBacklog int

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
	Mode         string
	Matching     bool // call matching on: link_who and assign_owner
	BatchSize    int
	Tenants      int
	Replicas     int
	BacklogCalls int
	// BacklogDuration is the time from when every client ran to when the
	// backlog was synced; SyncedAtStart the calls already synced then (the
	// first client starts before the others).
	BacklogDuration time.Duration
	SyncedAtStart   int
	// APIRequests counts the Salesforce API requests of the backlog, by
	// operation; TokenRequests the logins.
	APIRequests   map[string]int
	TokenRequests int
	// PeakInFlight is the most requests one org saw at once.
	PeakInFlight int
	TrickleCalls int
	TrickleRate  int
	// Latencies are the trickle's commit-to-record-ID times, sorted.
	Latencies []time.Duration
	// LatencyFloor is the simulated latency on a call's path (one request).
	LatencyFloor time.Duration
	PeakHeap     uint64
	// BacklogLeft is, in the fairness case, how many of the big tenant's
	// calls still waited when the trickle ended.
	BacklogLeft int
}

// CallsPerSecond is the backlog's throughput once every client ran.
func (r *Result) CallsPerSecond() float64 {
	return float64(r.BacklogCalls-r.SyncedAtStart) / r.BacklogDuration.Seconds()
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

// Results are a run's measurements.
type Results struct {
	// Batched is the batched mode with one client; Matched the same with
	// call matching on; Replicated the batched mode with Config.Replicas
	// clients (nil when 1); Single one request per call.
	Batched, Matched, Replicated, Single *Result
	// Fair is the fairness case: Latencies are the other tenant's trickle
	// while the big backlog drained.
	Fair *Result
}

// Run measures the modes and the fairness case.
func Run(ctx context.Context, cfg *Config) (*Results, error) {
	c := *cfg
	c.Schema = cmp.Or(c.Schema, "syncd_bench")
	c.Tenants = cmp.Or(c.Tenants, 2)
	c.Replicas = cmp.Or(c.Replicas, 1)
	c.Calls = cmp.Or(c.Calls, 10000)
	c.BaselineCalls = cmp.Or(c.BaselineCalls, 2000)
	c.FairBacklog = cmp.Or(c.FairBacklog, 30000)
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
		return nil, errors.New("bench: Config.Pool is required")
	}
	if c.Tenants < 1 || c.Replicas < 1 {
		return nil, errors.New("bench: Tenants and Replicas must be positive")
	}
	// Refuse a schema that is not bench's before anything is said or measured.
	if err := migrate.ResetScratch(ctx, c.Pool, c.Schema, "bench"); err != nil {
		return nil, err
	}
	var res Results
	var err error
	if res.Batched, err = c.mode(ctx, "batched", salesforce.MaxCollectionSize, c.Calls, 1, false); err != nil {
		return nil, err
	}
	if res.Matched, err = c.mode(ctx, "batched, matching on", salesforce.MaxCollectionSize, c.Calls, 1, true); err != nil {
		return nil, err
	}
	if c.Replicas > 1 {
		if res.Replicated, err = c.mode(ctx, fmt.Sprintf("batched, %d replicas", c.Replicas), salesforce.MaxCollectionSize, c.Calls, c.Replicas, false); err != nil {
			return nil, err
		}
	}
	if res.Single, err = c.mode(ctx, "one request per call", 1, c.BaselineCalls, 1, false); err != nil {
		return nil, err
	}
	if res.Fair, err = c.fair(ctx); err != nil {
		return nil, err
	}
	return &res, nil
}

// tenantRun is one benchmark tenant with its org.
type tenantRun struct {
	id, object string
	org        *salesforcetest.Org
}

// setup makes a fresh schema, a simulator with one org per tenant, and the
// tenants; tenant i pushes Tasks when i is even, a custom object with an
// external ID when odd. Every ID starts with "bench-", so that
// migrate.ResetScratch knows the tenants for bench's own.
func (c *Config) setup(ctx context.Context, matching bool, ids ...string) (*pgxpool.Pool, *settings.Store, *salesforcetest.Server, []tenantRun, error) {
	pool, err := c.freshSchema(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	fail := func(err error) (*pgxpool.Pool, *settings.Store, *salesforcetest.Server, []tenantRun, error) {
		pool.Close()
		return nil, nil, nil, nil, err
	}
	key, err := secrets.ParseKey(secrets.GenerateKey())
	if err != nil {
		return fail(err)
	}
	store, err := settings.NewStore(pool, &settings.Config{Key: key, AllowInsecureURLs: true})
	if err != nil {
		return fail(err)
	}
	sim := salesforcetest.NewServer()
	tenants := make([]tenantRun, len(ids))
	for i, id := range ids {
		object := "Task"
		if i%2 == 1 {
			object = "Call_Recording__c"
		}
		custom := salesforcetest.CustomCallObject("Call_Recording__c")
		custom.Fields = append(custom.Fields,
			salesforcetest.FieldDef{Name: "Caller__c", Type: "reference", ReferenceTo: []string{"Contact", "Lead"}},
			salesforcetest.FieldDef{Name: "Agent__c", Type: "reference", ReferenceTo: []string{"User"}})
		org := sim.AddOrg(id, salesforcetest.OrgConfig{
			ClientID: id + "-key", ClientSecret: id + "-secret", Latency: c.Latency, DailyAPILimit: 10_000_000,
			Objects: []salesforcetest.ObjectDef{custom},
		})
		if _, err := store.SetTenant(ctx, id, settings.TenantChange{AuditExportPack: ptr(true), DefaultRegion: ptr("JP")}); err != nil {
			sim.Close()
			return fail(err)
		}
		in := settings.SalesforceInput{
			Enabled: true, InstanceURL: org.URL(), ClientID: id + "-key", ClientSecret: ptr(id + "-secret"), ObjectType: object,
		}
		if matching {
			in.LinkWho, in.AssignOwner, in.WhoField, in.OwnerField = ptr(true), ptr(true), ptr("Caller__c"), ptr("Agent__c")
			seedPeople(org)
		}
		if _, err := store.SaveSalesforce(ctx, id, in, "bench"); err != nil {
			sim.Close()
			return fail(err)
		}
		tenants[i] = tenantRun{id: id, object: object, org: org}
	}
	return pool, store, sim, tenants, nil
}

// startClients starts n clients, each on a pool of its own, as n `syncd
// run` would be; stop stops them.
func (c *Config) startClients(ctx context.Context, store *settings.Store, batchSize, n int) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for _, s := range stops {
			s()
		}
	}
	for range n {
		pool, err := c.schemaPool(ctx)
		if err != nil {
			stop()
			return nil, err
		}
		client, err := jobs.NewClient(pool, &jobs.Config{Schema: c.Schema, Settings: store, Logger: c.Logger, BatchSize: batchSize})
		if err == nil {
			err = client.Start(ctx)
		}
		if err != nil {
			pool.Close()
			stop()
			return nil, err
		}
		stops = append(stops, func() {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_ = client.Stop(stopCtx)
			pool.Close()
		})
	}
	return stop, nil
}

// mode measures one batch size with the given replicas on a fresh schema.
func (c *Config) mode(ctx context.Context, name string, batchSize, calls, replicas int, matching bool) (*Result, error) {
	res := &Result{Mode: name, Matching: matching, BatchSize: batchSize, Tenants: c.Tenants, Replicas: replicas, BacklogCalls: calls, LatencyFloor: c.Latency}
	fmt.Fprintf(c.Progress, "%s: preparing schema %s with %d tenants\n", name, c.Schema, c.Tenants)
	ids := make([]string, c.Tenants)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-%d", i)
	}
	pool, store, sim, tenants, err := c.setup(ctx, matching, ids...)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	defer sim.Close()
	tokensBefore := 0
	for _, tn := range tenants {
		tokensBefore += tn.org.Requests("token")
	}

	// The backlog, committed before the daemon starts.
	fmt.Fprintf(c.Progress, "%s: writing a backlog of %d calls\n", name, calls)
	if err := c.writeBacklog(ctx, pool, ids, "c-", calls); err != nil {
		return nil, err
	}

	runtime.GC() // what the previous mode left is not this one's
	peak := startHeapSampler()
	defer peak.stop()
	stop, err := c.startClients(ctx, store, batchSize, replicas)
	if err != nil {
		return nil, err
	}
	defer stop()
	start := time.Now()
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM sync_records WHERE state = 'synced'").Scan(&res.SyncedAtStart); err != nil {
		return nil, err
	}
	if err := c.waitSynced(ctx, pool, name, "", calls); err != nil {
		return nil, err
	}
	res.BacklogDuration = time.Since(start)
	if matching {
		var matched int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM sync_records WHERE match IN ('matched') AND owner_id IS NOT NULL").Scan(&matched); err != nil {
			return nil, err
		}
		if matched == 0 {
			return nil, fmt.Errorf("%s: no call was matched", name)
		}
		fmt.Fprintf(c.Progress, "%s: %d calls matched with an owner\n", name, matched)
	}
	res.APIRequests = map[string]int{}
	for _, tn := range tenants {
		for op, n := range tn.org.RequestCounts() {
			res.APIRequests[op] += n
		}
		res.TokenRequests += tn.org.Requests("token")
		res.PeakInFlight = max(res.PeakInFlight, tn.org.PeakInFlight())
		want := calls / len(tenants)
		if i := slices.IndexFunc(tenants, func(t tenantRun) bool { return t.id == tn.id }); i < calls%len(tenants) {
			want++
		}
		if n := len(tn.org.Records(tn.object)); n != want {
			return nil, fmt.Errorf("%s: %d %s records in %s's org for %d calls", name, n, tn.object, tn.id, want)
		}
	}
	res.TokenRequests -= tokensBefore
	delete(res.APIRequests, "token")
	fmt.Fprintf(c.Progress, "%s: %d calls in %s (%.0f calls/s)\n", name, calls, res.BacklogDuration.Round(time.Millisecond), res.CallsPerSecond())

	// The trickle, spread over the tenants.
	fmt.Fprintf(c.Progress, "%s: trickle of %d calls/s for %s\n", name, c.TrickleRate, c.TrickleDuration)
	if res.Latencies, err = c.trickle(ctx, pool, ids, calls); err != nil {
		return nil, err
	}
	res.TrickleCalls, res.TrickleRate = len(res.Latencies), c.TrickleRate
	res.PeakHeap = peak.stop()
	return res, nil
}

// fair drains a backlog of FairBacklog calls of one tenant while another
// tenant trickles, and measures the trickle.
func (c *Config) fair(ctx context.Context) (*Result, error) {
	name := fmt.Sprintf("fairness, %d replicas", c.Replicas)
	res := &Result{Mode: name, BatchSize: salesforce.MaxCollectionSize, Tenants: 2, Replicas: c.Replicas,
		BacklogCalls: c.FairBacklog, LatencyFloor: c.Latency}
	fmt.Fprintf(c.Progress, "%s: preparing schema %s\n", name, c.Schema)
	pool, store, sim, tenants, err := c.setup(ctx, false, "bench-big", "bench-small")
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	defer sim.Close()
	fmt.Fprintf(c.Progress, "%s: writing a backlog of %d calls of one tenant\n", name, c.FairBacklog)
	if err := c.writeBacklog(ctx, pool, []string{"bench-big"}, "c-", c.FairBacklog); err != nil {
		return nil, err
	}
	runtime.GC()
	peak := startHeapSampler()
	defer peak.stop()
	start := time.Now()
	stop, err := c.startClients(ctx, store, salesforce.MaxCollectionSize, c.Replicas)
	if err != nil {
		return nil, err
	}
	defer stop()
	fmt.Fprintf(c.Progress, "%s: the other tenant trickles %d calls/s for %s\n", name, c.TrickleRate, c.TrickleDuration)
	if err := c.commitTrickle(ctx, pool, []string{"bench-small"}); err != nil {
		return nil, err
	}
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM outbox WHERE tenant_id = 'bench-big'").Scan(&res.BacklogLeft); err != nil {
		return nil, err
	}
	var synced int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM sync_records WHERE tenant_id = 'bench-big' AND state = 'synced'").Scan(&synced); err != nil {
		return nil, err
	}
	res.BacklogLeft -= synced
	total := c.TrickleRate * int(c.TrickleDuration.Seconds())
	if err := c.waitSynced(ctx, pool, name, "bench-small", total); err != nil {
		return nil, err
	}
	if res.Latencies, err = c.latencies(ctx, pool, "bench-small"); err != nil {
		return nil, err
	}
	if err := c.waitSynced(ctx, pool, name, "bench-big", c.FairBacklog); err != nil {
		return nil, err
	}
	res.BacklogDuration = time.Since(start)
	res.APIRequests = tenants[0].org.RequestCounts()
	delete(res.APIRequests, "token")
	res.PeakInFlight = max(tenants[0].org.PeakInFlight(), tenants[1].org.PeakInFlight())
	res.TrickleCalls, res.TrickleRate = len(res.Latencies), c.TrickleRate
	res.PeakHeap = peak.stop()
	fmt.Fprintf(c.Progress, "%s: backlog of %d calls in %s; %d were still waiting when the trickle ended\n",
		name, c.FairBacklog, res.BacklogDuration.Round(time.Millisecond), res.BacklogLeft)
	return res, nil
}

// freshSchema drops the benchmark's schema, migrates it anew and returns a
// pool on it.
func (c *Config) freshSchema(ctx context.Context) (*pgxpool.Pool, error) {
	if err := migrate.ResetScratch(ctx, c.Pool, c.Schema, "bench"); err != nil {
		return nil, err
	}
	pool, err := c.schemaPool(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := migrate.Up(ctx, pool, &migrate.Config{Schema: c.Schema}); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// schemaPool opens a pool of its own on the database of Config.Pool, with
// the benchmark's schema as search_path and room for a daemon's pushes.
func (c *Config) schemaPool(ctx context.Context) (*pgxpool.Pool, error) {
	pcfg := c.Pool.Config().Copy()
	pcfg.ConnConfig.RuntimeParams["search_path"] = c.Schema
	pcfg.MaxConns = 20
	return pgxpool.NewWithConfig(ctx, pcfg)
}

// writeBacklog commits calls analysed calls through syncd.enqueue, 500 a
// transaction, spread over the tenants. Their phone numbers go round 2,000
// numbers, their agents round 20 (see seedPeople).
func (c *Config) writeBacklog(ctx context.Context, pool *pgxpool.Pool, tenants []string, prefix string, calls int) error {
	for from := 0; from < calls; from += 500 {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `
				SELECT enqueue(($3::text[])[1 + n % cardinality($3::text[])], $4 || n, 'call.analysed', jsonb_build_object(
					'call_id', $4 || n, 'started_at', '2026-11-24T09:00:00Z', 'duration_seconds', 60 + n % 600,
					'primary_intent', 'intent ' || n % 7, 'summary', 'A summary of call ' || n, 'quality_score', n % 100,
					'customer_phone', '+81 3 1234 ' || lpad((n % 2000)::text, 4, '0'), 'agent_email', 'agent' || n % 20 || '@bench.example'))
				FROM generate_series($1::int, $2::int) AS n`, from, min(from+500, calls)-1, tenants, prefix)
			return err
		})
		if err != nil {
			return fmt.Errorf("write backlog: %w", err)
		}
	}
	return nil
}

// waitSynced waits until n calls (of tenant, or of all when "") are synced.
func (c *Config) waitSynced(ctx context.Context, pool *pgxpool.Pool, name, tenant string, n int) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastReport := time.Now()
	for {
		var synced, failed int
		if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'synced'), count(*) FILTER (WHERE state = 'failed')
			FROM sync_records WHERE $1 = '' OR tenant_id = $1`, tenant).Scan(&synced, &failed); err != nil {
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

// commitTrickle commits calls at TrickleRate for TrickleDuration, taking
// the tenants in turn.
func (c *Config) commitTrickle(ctx context.Context, pool *pgxpool.Pool, tenants []string) error {
	total := c.TrickleRate * int(c.TrickleDuration.Seconds())
	tick := time.NewTicker(time.Second / time.Duration(c.TrickleRate))
	defer tick.Stop()
	for i := range total {
		if _, err := pool.Exec(ctx, `SELECT enqueue($1, $2, 'call.analysed', jsonb_build_object(
				'call_id', $2::text, 'started_at', '2026-11-24T09:00:00Z', 'duration_seconds', 60))`,
			tenants[i%len(tenants)], fmt.Sprintf("t-%d", i)); err != nil {
			return err
		}
		<-tick.C
	}
	return nil
}

// trickle commits a trickle spread over the tenants, waits until it is
// synced and returns its commit-to-record-ID latencies, sorted.
func (c *Config) trickle(ctx context.Context, pool *pgxpool.Pool, tenants []string, synced int) ([]time.Duration, error) {
	if err := c.commitTrickle(ctx, pool, tenants); err != nil {
		return nil, err
	}
	if err := c.waitSynced(ctx, pool, "trickle", "", synced+c.TrickleRate*int(c.TrickleDuration.Seconds())); err != nil {
		return nil, err
	}
	return c.latencies(ctx, pool, "")
}

// latencies returns the trickle's (of tenant, or all when "")
// commit-to-record-ID latencies, sorted.
func (c *Config) latencies(ctx context.Context, pool *pgxpool.Pool, tenant string) ([]time.Duration, error) {
	rows, err := pool.Query(ctx, `
		SELECT extract(epoch FROM s.synced_at - o.created_at)
		FROM sync_records s JOIN outbox o ON o.id = s.outbox_id
		WHERE s.call_id LIKE 't-%' AND ($1 = '' OR s.tenant_id = $1)`, tenant)
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

// seedPeople gives an org what call matching finds: Contacts with half the
// backlog's 2,000 numbers, written as people type them, Leads with another
// 200, and the 20 agents as Users, the last 5 inactive.
func seedPeople(org *salesforcetest.Org) {
	for i := range 1000 {
		org.PutRecord("Contact", salesforce.Fields{"LastName": fmt.Sprint("Contact ", i), "Phone": fmt.Sprintf("03-1234-%04d", i)})
	}
	for i := 1000; i < 1200; i++ {
		org.PutRecord("Lead", salesforce.Fields{"LastName": fmt.Sprint("Lead ", i), "Company": "Bench", "MobilePhone": fmt.Sprintf("0312341%03d", i%1000)})
	}
	for i := range 20 {
		email := fmt.Sprintf("agent%d@bench.example", i)
		org.PutRecord("User", salesforce.Fields{"LastName": fmt.Sprint("Agent ", i), "Username": email, "Email": email, "IsActive": i < 15})
	}
}

// heapSampler records the peak heap in use.
type heapSampler struct {
	peak    atomic.Uint64
	done    chan struct{} // closed by stop
	stopped chan struct{} // closed when the sampling goroutine returned
}

func startHeapSampler() *heapSampler {
	s := &heapSampler{done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(s.stopped)
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

// stop ends the sampling, waits for it and returns the peak.
func (s *heapSampler) stop() uint64 {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	<-s.stopped
	return s.peak.Load()
}

// Report writes the results as a Markdown table with the ratios against
// one request per call.
func Report(w io.Writer, res *Results) {
	ratio := func(a, b float64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f×", a/b)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
	beyond := func(r *Result, p float64) time.Duration { return r.Percentile(p) - r.LatencyFloor }
	modes := []*Result{res.Batched}
	if res.Matched != nil {
		modes = append(modes, res.Matched)
	}
	if res.Replicated != nil {
		modes = append(modes, res.Replicated)
	}
	modes = append(modes, res.Single)
	row := func(label string, cell func(r *Result) string, vs string) {
		fmt.Fprintf(w, "| %s |", label)
		for _, r := range modes {
			fmt.Fprintf(w, " %s |", cell(r))
		}
		fmt.Fprintf(w, " %s |\n", vs)
	}
	b, s := res.Batched, res.Single
	fmt.Fprintf(w, "Salesforce latency %s per request, %d tenants (Task and custom object), %d CPUs, GOMAXPROCS %d, %s\n\n",
		b.LatencyFloor, b.Tenants, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprint(w, "| |")
	for _, r := range modes {
		fmt.Fprintf(w, " %s |", r.Mode)
	}
	fmt.Fprintln(w, " batched vs. one per call |")
	fmt.Fprintln(w, "|---|"+strings.Repeat("---|", len(modes)+1))
	row("backlog (calls)", func(r *Result) string { return fmt.Sprint(r.BacklogCalls) }, "")
	row("throughput (calls/s)", func(r *Result) string { return fmt.Sprintf("%.0f", r.CallsPerSecond()) },
		ratio(b.CallsPerSecond(), s.CallsPerSecond()))
	fewer := "-"
	if b.RequestsPerCall() > 0 {
		fewer = fmt.Sprintf("%.0f× fewer", s.RequestsPerCall()/b.RequestsPerCall())
	}
	row("API requests per synced call", func(r *Result) string { return fmt.Sprintf("%.4f", r.RequestsPerCall()) }, fewer)
	row("token requests (logins)", func(r *Result) string { return fmt.Sprint(r.TokenRequests) }, "")
	row("peak requests in flight to one org", func(r *Result) string { return fmt.Sprint(r.PeakInFlight) }, "")
	row(fmt.Sprintf("trickle: calls at %d/s", b.TrickleRate), func(r *Result) string { return fmt.Sprint(r.TrickleCalls) }, "")
	row("trickle p50 commit → record ID", func(r *Result) string { return ms(r.Percentile(50)) }, "")
	row("trickle p99 commit → record ID", func(r *Result) string { return ms(r.Percentile(99)) }, "")
	row("p50 beyond the simulated latency", func(r *Result) string { return ms(beyond(r, 50)) }, "")
	row("p99 beyond the simulated latency", func(r *Result) string { return ms(beyond(r, 99)) }, "")
	row("peak heap in use", func(r *Result) string { return fmt.Sprintf("%.0f MiB", mib(r.PeakHeap)) },
		ratio(float64(b.PeakHeap), float64(s.PeakHeap)))
	for _, r := range modes {
		fmt.Fprintf(w, "\nAPI requests, %s: %v", r.Mode, r.APIRequests)
	}
	fmt.Fprintln(w)

	if f := res.Fair; f != nil {
		fmt.Fprintf(w, "\nFairness (%s): while one tenant's backlog of %d calls drained (%.0f calls/s, %d still waiting when the trickle ended),\n"+
			"another tenant's trickle of %d calls at %d/s: p50 %s, p99 %s commit → record ID (%s beyond the simulated latency); peak requests in flight to one org %d.\n",
			f.Mode, f.BacklogCalls, f.CallsPerSecond(), f.BacklogLeft, f.TrickleCalls, f.TrickleRate,
			ms(f.Percentile(50)), ms(f.Percentile(99)), ms(beyond(f, 99)), f.PeakInFlight)
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
