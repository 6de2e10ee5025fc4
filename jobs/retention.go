package jobs

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"

	syncdsql "github.com/koeiq/syncd/sql"
)

// retentionBatch bounds how many outbox rows one retention transaction
// deletes.
const retentionBatch = 1000

// RetentionWorker works RetentionArgs.
type RetentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	client *Client
}

// Work deletes dispatched outbox rows older than OutboxRetention (skipped
// ones older than SkippedRetention), a batch per transaction, until none is
// left.
func (w *RetentionWorker) Work(ctx context.Context, job *river.Job[RetentionArgs]) error {
	n, err := w.client.DeleteOldOutbox(ctx)
	if n > 0 {
		w.client.logger.InfoContext(ctx, "old outbox rows deleted", "rows", n, "older_than", w.client.cfg.OutboxRetention)
	}
	return err
}

// DeleteOldOutbox deletes dispatched outbox rows older than OutboxRetention,
// and skipped rows (which a backfill hands back) older than
// SkippedRetention, in batches, and returns how many it deleted.
func (c *Client) DeleteOldOutbox(ctx context.Context) (int64, error) {
	var total int64
	for {
		n, err := syncdsql.DeleteOldOutbox(ctx, c.pool, c.cfg.OutboxRetention, retentionBatch, c.cfg.SkippedRetention)
		if err != nil {
			return total, fmt.Errorf("jobs: outbox retention: %w", err)
		}
		total += n
		if n < retentionBatch {
			return total, nil
		}
	}
}
