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
		var pushes []river.InsertManyParams
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
			if target == nil {
				continue
			}
			var args river.JobArgs
			switch *target {
			case "salesforce":
				args = SalesforcePushArgs{TenantID: tenantID, CallID: callID, OutboxID: *queuedOutboxID}
			case "kintone":
				args = KintonePushArgs{TenantID: tenantID, CallID: callID, OutboxID: *queuedOutboxID}
			default:
				return fmt.Errorf("outbox row %d: unknown target %q", id, *target)
			}
			pushes = append(pushes, river.InsertManyParams{Args: args})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		res.Pushes = len(pushes)
		if len(pushes) > 0 {
			if _, err := c.river.InsertManyTx(ctx, tx, pushes); err != nil {
				return fmt.Errorf("insert push jobs: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return DispatchResult{}, fmt.Errorf("jobs: dispatch: %w", err)
	}
	if res.Claimed > 0 {
		c.logger.DebugContext(ctx, "outbox dispatched", "rows", res.Claimed, "pushes", res.Pushes)
	}
	return res, nil
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
