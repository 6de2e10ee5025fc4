package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/koeiq/syncd/bench"
)

// cmdBench measures batched pushes against one request per call, with
// several tenants and replicas, on the Salesforce test server and the local
// PostgreSQL, and prints the table the README shows.
func cmdBench(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench")
	calls := fs.Int("calls", 10000, "backlog of the batched mode, spread over the tenants")
	tenants := fs.Int("tenants", 2, "tenants sharing the daemon (even: Task orgs, odd: custom-object orgs with an external ID)")
	replicas := fs.Int("replicas", 1, "clients on one database, as that many syncd run; above 1 the batched mode is also measured with one")
	fairBacklog := fs.Int("fair-backlog", 30000, "backlog of one tenant that drains while another trickles")
	baseline := fs.Int("baseline-calls", 2000, "backlog of the one-request-per-call mode (its rate is steady long before)")
	latency := fs.Duration("latency", 100*time.Millisecond, "simulated latency of each Salesforce request")
	rate := fs.Int("trickle-rate", 20, "calls per second of the latency trickle")
	duration := fs.Duration("trickle-duration", 15*time.Second, "how long the trickle lasts")
	schema := fs.String("schema", "syncd_bench", "schema for the benchmark (created anew; only one an earlier bench made is dropped)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, pool, err := connectScratch(ctx, e, *schema, slog.LevelError)
	if err != nil {
		return err
	}
	defer pool.Close()

	bcfg := &bench.Config{
		Pool: pool, Schema: *schema, Tenants: *tenants, Replicas: *replicas, Calls: *calls, BaselineCalls: *baseline,
		FairBacklog: *fairBacklog, Latency: *latency, TrickleRate: *rate, TrickleDuration: *duration,
		Progress: e.stderr, Logger: cfg.logger(e.stderr),
	}
	res, err := bench.Run(ctx, bcfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout)
	bench.Report(e.stdout, res)
	return nil
}
