package jobs

import (
	"context"
	"fmt"
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

// Dispatch dispatches undispatched outbox rows, a batch per transaction,
// until none is left.
func (c *Client) Dispatch(ctx context.Context) (DispatchResult, error) {
	var total DispatchResult
	for {
		res, err := c.dispatchBatch(ctx)
		total.Claimed += res.Claimed
		total.Pushes += res.Pushes
		if err != nil || res.Claimed < c.cfg.DispatchBatchSize {
			return total, err
		}
	}
}

// dispatchBatch claims one batch of outbox rows, records their outcomes and
// inserts their push jobs, in one transaction.
func (c *Client) dispatchBatch(ctx context.Context) (DispatchResult, error) {
	var res DispatchResult
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, syncdsql.Dispatch, c.cfg.DispatchBatchSize)
		if err != nil {
			return err
		}
		var tenants, calls, targets []string
		for rows.Next() {
			var (
				id               int64
				tenantID, callID string
				outcome          string
				target           *string
				queuedOutboxID   *int64
			)
			if err := rows.Scan(&id, &tenantID, &callID, &outcome, &target, &queuedOutboxID); err != nil {
				return err
			}
			res.Claimed++
			if target != nil {
				tenants, calls, targets = append(tenants, tenantID), append(calls, callID), append(targets, *target)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		res.Pushes = len(calls)
		if len(calls) == 0 {
			return nil
		}
		return c.insertPushJobs(ctx, tx, tenants, calls, targets)
	})
	if err != nil {
		return DispatchResult{}, fmt.Errorf("jobs: dispatch: %w", err)
	}
	if res.Claimed > 0 {
		c.logger.DebugContext(ctx, "outbox dispatched", "rows", res.Claimed, "pushes", res.Pushes)
	}
	return res, nil
}

// insertPushJobs inserts a push job for each of the given sync records that
// has none waiting, and records it on the record.
func (c *Client) insertPushJobs(ctx context.Context, tx pgx.Tx, tenants, calls, targets []string) error {
	rows, err := tx.Query(ctx, syncdsql.PushJobsOwed, tenants, calls, targets, c.cfg.BacklogThreshold)
	if err != nil {
		return err
	}
	var params []river.InsertManyParams
	tenants, calls, targets = tenants[:0], calls[:0], targets[:0]
	for rows.Next() {
		var tenantID, callID, target string
		var outboxID int64
		var backlog bool
		if err := rows.Scan(&tenantID, &callID, &target, &outboxID, &backlog); err != nil {
			return err
		}
		var args river.JobArgs
		switch target {
		case "salesforce":
			args = SalesforcePushArgs{TenantID: tenantID, CallID: callID, OutboxID: outboxID}
		case "kintone":
			args = KintonePushArgs{TenantID: tenantID, CallID: callID, OutboxID: outboxID}
		default:
			return fmt.Errorf("call %s: unknown target %q", callID, target)
		}
		var opts *river.InsertOpts
		if backlog {
			opts = &river.InsertOpts{Queue: QueueBacklog}
		}
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: opts})
		tenants, calls, targets = append(tenants, tenantID), append(calls, callID), append(targets, target)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(params) == 0 {
		return nil
	}
	inserted, err := c.river.InsertManyTx(ctx, tx, params)
	if err != nil {
		return fmt.Errorf("insert push jobs: %w", err)
	}
	ids := make([]int64, len(inserted))
	for i, r := range inserted {
		ids[i] = r.Job.ID
	}
	_, err = tx.Exec(ctx, syncdsql.PushJobsRegister, tenants, calls, targets, ids)
	return err
}

// wake asks the dispatch loop to dispatch; wakes that arrive while it works
// fold into one more pass.
func (c *Client) wake() {
	select {
	case c.wakeCh <- struct{}{}:
	default:
	}
}

// dispatchLoop dispatches whenever woken, until ctx ends. A failed pass is
// tried again after a pause.
func (c *Client) dispatchLoop(ctx context.Context) {
	var failures int
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wakeCh:
		}
		if _, err := c.Dispatch(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			c.logger.ErrorContext(ctx, "dispatch failed; retrying", "error", err, "failures", failures)
			if !sleep(ctx, backoff(failures)) {
				return
			}
			c.wake()
			continue
		}
		failures = 0
	}
}

// listen keeps a connection listening on the outbox channel and wakes the
// dispatch loop on every notification, reconnecting with backoff when the
// connection fails.
func (c *Client) listen(ctx context.Context) {
	channel := pgx.Identifier{c.cfg.Schema + ".outbox"}.Sanitize()
	var failures int
	for {
		err := c.listenOnce(ctx, channel, func() { failures = 0 })
		if ctx.Err() != nil {
			return
		}
		failures++
		c.logger.WarnContext(ctx, "outbox listener lost its connection; reconnecting", "error", err, "failures", failures)
		if !sleep(ctx, backoff(failures)) {
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
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
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

// Work dispatches until the outbox holds no undispatched row.
func (w *DispatchWorker) Work(ctx context.Context, job *river.Job[DispatchArgs]) error {
	_, err := w.client.Dispatch(ctx)
	return err
}
