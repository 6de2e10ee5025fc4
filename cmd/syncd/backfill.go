package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/settings"
	syncdsql "github.com/koeiq/syncd/sql"
)

// cmdBackfill runs `syncd backfill --tenant T --since DATE`: it makes the
// tenant's skipped outbox rows written since DATE undispatched again, so
// that the daemon dispatches them anew, for a tenant that just enabled the
// integration or got the Audit & Export Pack. With --wait it follows the
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
	if err := backfillPrecheck(ctx, pool, *tenant); err != nil {
		return err
	}

	var total int
	var skipped int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE tenant_id = $1 AND created_at >= $2 AND outcome LIKE 'skipped%'`,
		*tenant, from).Scan(&skipped); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backfill %s since %s: %d skipped rows\n", *tenant, from.Format(time.RFC3339), skipped)
	channel := cfg.schema + ".outbox"
	var last int64
	for {
		var ids []int64
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, syncdsql.Backfill, *tenant, from, *batch, last)
			if err != nil {
				return err
			}
			ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return err
			}
			// Wake the daemon when the batch commits.
			_, err = tx.Exec(ctx, "SELECT pg_notify($1, '')", channel)
			return err
		})
		if err != nil {
			return fmt.Errorf("backfill after row %d: %w", last, err)
		}
		if len(ids) == 0 {
			break
		}
		total += len(ids)
		last = ids[len(ids)-1]
		fmt.Fprintf(e.stdout, "  re-dispatched %d/%d\n", total, skipped)
	}
	fmt.Fprintf(e.stdout, "%d rows handed back to dispatch; `syncd run` pushes them\n", total)
	if *wait <= 0 || total == 0 {
		return nil
	}
	return followBackfill(ctx, e, pool, *tenant, from, *wait)
}

// backfillPrecheck refuses a backfill that would skip every row again.
func backfillPrecheck(ctx context.Context, pool *pgxpool.Pool, tenant string) error {
	var pack, integration bool
	err := pool.QueryRow(ctx, `SELECT t.audit_export_pack,
			coalesce((SELECT enabled FROM salesforce_settings WHERE tenant_id = t.id), false)
			OR coalesce((SELECT enabled FROM kintone_settings WHERE tenant_id = t.id), false)
		FROM tenants t WHERE t.id = $1`, tenant).Scan(&pack, &integration)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return settings.ErrNotFound
	case err != nil:
		return err
	case !pack:
		return fmt.Errorf("tenant %q has no Audit & Export Pack: the rows would be skipped again", tenant)
	case !integration:
		return fmt.Errorf("tenant %q has no integration enabled: the rows would be skipped again", tenant)
	}
	return nil
}

// followBackfill shows progress until the re-dispatched rows are dispatched
// and their pushes done, or wait passes.
func followBackfill(ctx context.Context, e *env, pool *pgxpool.Pool, tenant string, from time.Time, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := ""
	for {
		var undispatched, pending int
		err := pool.QueryRow(ctx, `SELECT
				(SELECT count(*) FROM outbox WHERE tenant_id = $1 AND created_at >= $2 AND dispatched_at IS NULL),
				(SELECT count(*) FROM sync_records WHERE tenant_id = $1 AND state = 'pending')`, tenant, from).
			Scan(&undispatched, &pending)
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
