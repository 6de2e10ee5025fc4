package main

import (
	"context"
	"fmt"
	"time"

	"github.com/koeiq/syncd/jobs"
)

// cmdBackfill runs `syncd backfill --tenant T --since DATE`: it hands the
// tenant's skipped outbox rows written since DATE back to dispatch
// (jobs.Backfill), for a tenant that just enabled the integration or got the
// Audit & Export Pack, and prints the progress. With --wait it follows the
// pushes until they are done.
func cmdBackfill(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "backfill")
	tenant := fs.String("tenant", "", "tenant ID (required)")
	since := fs.String("since", "", "re-dispatch rows written since this date, YYYY-MM-DD (UTC) or RFC 3339 (required)")
	batch := fs.Int("batch", 1000, "rows per transaction")
	wait := fs.Duration("wait", 0, "follow the pushes for up to this long (0: do not wait)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" || *since == "" {
		return fmt.Errorf("%w: --tenant and --since are required", errUsage)
	}
	from, err := time.Parse(time.DateOnly, *since)
	if err != nil {
		if from, err = time.Parse(time.RFC3339, *since); err != nil {
			return fmt.Errorf("%w: --since %q: use YYYY-MM-DD or an RFC 3339 time", errUsage, *since)
		}
	}
	if *batch < 1 || *batch > 100000 {
		return fmt.Errorf("%w: --batch must be from 1 to 100000", errUsage)
	}

	cfg, _, pool, err := connect(ctx, e)
	if err != nil {
		return err
	}
	defer pool.Close()
	b, err := jobs.NewBackfill(pool, &jobs.BackfillConfig{Schema: cfg.schema, TenantID: *tenant, Since: from, BatchSize: *batch})
	if err != nil {
		return err
	}
	skipped, err := b.Check(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backfill %s since %s: %d skipped rows\n", *tenant, from.Format(time.RFC3339), skipped)
	total, err := b.Run(ctx, func(done int) { fmt.Fprintf(e.stdout, "  re-dispatched %d/%d\n", done, skipped) })
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d rows handed back to dispatch; `syncd run` pushes them\n", total)
	if *wait <= 0 || total == 0 {
		return nil
	}
	return followBackfill(ctx, e, b, *wait)
}

// followBackfill shows progress until the re-dispatched rows are dispatched
// and their pushes done, or wait passes.
func followBackfill(ctx context.Context, e *env, b *jobs.Backfill, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := ""
	for {
		undispatched, pending, err := b.Status(ctx)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("  waiting for dispatch: %d, pushes pending: %d", undispatched, pending)
		if line != last {
			fmt.Fprintln(e.stdout, line)
			last = line
		}
		if undispatched == 0 && pending == 0 {
			fmt.Fprintln(e.stdout, "backfill done")
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("backfill not done after %s: is `syncd run` running?", wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
