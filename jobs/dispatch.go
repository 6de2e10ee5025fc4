package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	syncdsql "github.com/koeiq/syncd/sql"
)

// DispatchResult counts what one Dispatch did.
type DispatchResult struct {
	// Claimed is how many outbox rows were dispatched.
	Claimed int
	// Pushes is how many pushes they owed (one per call and target, however
	// many rows of the call were claimed).
	Pushes int
}

// Dispatch dispatches undispatched outbox rows, a round per transaction,
// until none is left. Each round serves every tenant with rows waiting, up
// to DispatchBatchSize rows of each.
func (c *Client) Dispatch(ctx context.Context) (DispatchResult, error) {
	var total DispatchResult
	for {
		res, err := c.dispatchBatch(ctx)
		total.Claimed += res.Claimed
		total.Pushes += res.Pushes
		if err != nil || res.Claimed == 0 {
			return total, err
		}
	}
}

// dispatchBatch claims one round of outbox rows, records their outcomes and
// inserts the push jobs their tenants need, in one transaction.
func (c *Client) dispatchBatch(ctx context.Context) (DispatchResult, error) {
	var res DispatchResult
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		rows, err := syncdsql.Dispatch(ctx, tx, c.cfg.DispatchBatchSize)
		if err != nil {
			return err
		}
		var orgs []org
		seen := map[org]bool{}
		for _, row := range rows {
			res.Claimed++
			if row.Target == nil {
				continue
			}
			res.Pushes++
			if o := (org{row.TenantID, *row.Target}); !seen[o] {
				seen[o] = true
				orgs = append(orgs, o)
			}
		}
		return c.ensurePushJobs(ctx, tx, orgs, 0)
	})
	if err != nil {
		return DispatchResult{}, fmt.Errorf("jobs: dispatch: %w", err)
	}
	if res.Claimed > 0 {
		c.logger.DebugContext(ctx, "outbox dispatched", "rows", res.Claimed, "pushes", res.Pushes)
	}
	return res, nil
}

// org is one tenant's CRM target: the unit of push jobs, request slots,
// pauses and API budgets.
type org struct{ tenantID, target string }

// pushArgs returns the args of a push job of o.
func (o org) pushArgs() (river.JobArgs, error) {
	switch o.target {
	case "salesforce":
		return SalesforcePushArgs{TenantID: o.tenantID}, nil
	case "kintone":
		return KintonePushArgs{TenantID: o.tenantID}, nil
	}
	return nil, fmt.Errorf("tenant %s: unknown target %q", o.tenantID, o.target)
}

// ensurePushJobs inserts, in tx, the push jobs the orgs lack: enough to
// push their claimable calls with the request slots that are free (one job
// per BatchSize calls), or one job for when their first waiting call becomes
// claimable. The jobs that hold slots need none: each one, when it finishes,
// runs this again for its org. A tenant whose pushes are held gets one job
// that waits with it (snoozed until the hold ends, or until its settings are
// saved again). self is the push job that calls it as it finishes, 0 for
// none.
func (c *Client) ensurePushJobs(ctx context.Context, tx pgx.Tx, orgs []org, self int64) error {
	if len(orgs) == 0 {
		return nil
	}
	if err := lockOrgs(ctx, tx, orgs); err != nil {
		return err
	}
	tenants, targets := orgArrays(orgs)
	rows, err := syncdsql.PushJobsOwed(ctx, tx, syncdsql.PushJobsOwedParams{
		Tenants:         tenants,
		Targets:         targets,
		ClaimableCap:    c.cfg.TenantConcurrency * c.cfg.BatchSize,
		BudgetHoldShare: c.cfg.BudgetHoldShare,
		BudgetHoldFor:   c.cfg.BudgetHoldSnooze,
		BudgetSlowShare: c.cfg.BudgetSlowShare,
		Lease:           c.cfg.LeaseTime,
		SelfJobID:       self,
	})
	if err != nil {
		return err
	}
	var params []river.InsertManyParams
	for _, row := range rows {
		args, err := org{row.TenantID, row.Target}.pushArgs()
		if err != nil {
			return err
		}
		if row.Held {
			// One job waits with the tenant (it snoozes until the hold
			// ends, visible in the River UI); more would only snooze too.
			if row.JobsWaiting == 0 && (row.Claimable > 0 || row.NextDue != nil) {
				params = append(params, river.InsertManyParams{Args: args})
			}
			continue
		}
		limit := c.cfg.TenantConcurrency
		if row.Slow {
			limit = 1
		}
		switch {
		case row.Claimable > 0:
			// Jobs that started and have not claimed yet will each take
			// a batch of the claimable calls, as the due ones will.
			batches := (row.Claimable + c.cfg.BatchSize - 1) / c.cfg.BatchSize
			want := min(limit-row.HeldSlots, batches-row.Starting) - row.JobsDue
			for range max(want, 0) {
				params = append(params, river.InsertManyParams{Args: args})
			}
		case row.NextDue != nil && row.JobsWaiting == 0 && row.HeldSlots == 0:
			params = append(params, river.InsertManyParams{Args: args, InsertOpts: &river.InsertOpts{ScheduledAt: *row.NextDue}})
		}
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := c.river.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("insert push jobs: %w", err)
	}
	return nil
}

// lockOrgs takes the orgs' locks until tx ends (push_jobs_lock.sql).
func lockOrgs(ctx context.Context, tx pgx.Tx, orgs []org) error {
	tenants, targets := orgArrays(orgs)
	return syncdsql.LockPushJobs(ctx, tx, tenants, targets)
}

// orgArrays returns the orgs' tenants and targets as two arrays, for SQL.
func orgArrays(orgs []org) (tenants, targets []string) {
	tenants, targets = make([]string, len(orgs)), make([]string, len(orgs))
	for i, o := range orgs {
		tenants[i], targets[i] = o.tenantID, o.target
	}
	return tenants, targets
}

// Sweep makes sure every org with pending calls has the push jobs it needs:
// calls whose worker died (their lease ran out), whose retry or doubt wait
// ended, or whose tenant's hold ended are pushed without waiting for a new
// analysis. The daemon sweeps every DispatchInterval.
func (c *Client) Sweep(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		pending, err := syncdsql.PendingOrgs(ctx, tx)
		if err != nil {
			return err
		}
		orgs := make([]org, len(pending))
		for i, o := range pending {
			orgs[i] = org{o.TenantID, o.Target}
		}
		return c.ensurePushJobs(ctx, tx, orgs, 0)
	})
	if err != nil {
		return fmt.Errorf("jobs: sweep: %w", err)
	}
	return nil
}

// wake asks the dispatch loop to dispatch; wakes that arrive while it works
// fold into one more pass.
func (c *Client) wake() {
	select {
	case c.wakeCh <- struct{}{}:
	default:
	}
}

// dispatchLoop dispatches whenever woken, and dispatches and sweeps every
// DispatchInterval (on every replica, so that a replica's death is noticed
// without waiting for River's leader), until ctx ends. A failed pass is
// tried again after a pause.
func (c *Client) dispatchLoop(ctx context.Context) {
	tick := time.NewTicker(c.cfg.DispatchInterval)
	defer tick.Stop()
	var failures int
	for {
		sweep := false
		select {
		case <-ctx.Done():
			return
		case <-c.wakeCh:
		case <-tick.C:
			sweep = true
		}
		_, err := c.Dispatch(ctx)
		if err == nil && sweep {
			err = c.Sweep(ctx)
		}
		if err != nil {
			if !c.pauseAfter(ctx, &failures, slog.LevelError, "dispatch failed; retrying", err) {
				return
			}
			c.wake()
			continue
		}
		failures = 0
	}
}

// outboxChannel is the channel that wakes the daemons of schema: the
// outbox's insert trigger (notify_outbox, migration 1) notifies it, as does
// a backfill.
func outboxChannel(schema string) string { return schema + ".outbox" }

// listen keeps a connection listening on the outbox channel and wakes the
// dispatch loop on every notification, reconnecting with backoff when the
// connection fails.
func (c *Client) listen(ctx context.Context) {
	channel := outboxChannel(c.cfg.Schema)
	var failures int
	for {
		err := c.listenOnce(ctx, channel, func() { failures = 0 })
		if !c.pauseAfter(ctx, &failures, slog.LevelWarn, "outbox listener lost its connection; reconnecting", err) {
			return
		}
	}
}

func (c *Client) listenOnce(ctx context.Context, channel string, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, c.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := syncdsql.Listen(ctx, conn, channel); err != nil {
		return err
	}
	connected()
	// Rows committed while nobody listened were not announced.
	c.wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		c.wake()
	}
}

// pauseAfter counts a loop's failure in *failures (its failures in a row),
// logs err with msg at level and waits out the backoff. It reports false
// when ctx ended, and with it the loop.
func (c *Client) pauseAfter(ctx context.Context, failures *int, level slog.Level, msg string, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	*failures++
	c.logger.Log(ctx, level, msg, "error", err, "failures", *failures)
	return sleep(ctx, backoff(*failures))
}

// backoff returns the pause after the n-th failure in a row: exponential
// from 100 ms up to 30 s, with jitter.
func backoff(n int) time.Duration {
	d := 100 * time.Millisecond << min(n-1, 9)
	d = min(d, 30*time.Second)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx ends, reporting whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// DispatchWorker works DispatchArgs.
type DispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
	client *Client
}

// Work dispatches until the outbox holds no undispatched row, then sweeps.
func (w *DispatchWorker) Work(ctx context.Context, job *river.Job[DispatchArgs]) error {
	if _, err := w.client.Dispatch(ctx); err != nil {
		return err
	}
	return w.client.Sweep(ctx)
}
