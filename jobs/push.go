package jobs

import (
	"context"

	"github.com/riverqueue/river"
)

// SalesforcePushWorker works SalesforcePushArgs.
type SalesforcePushWorker struct {
	river.WorkerDefaults[SalesforcePushArgs]
	client *Client
}

// Work pushes the call. For now the record stays pending; the Salesforce push
// comes next.
func (w *SalesforcePushWorker) Work(ctx context.Context, job *river.Job[SalesforcePushArgs]) error {
	return nil
}

// KintonePushWorker works KintonePushArgs.
type KintonePushWorker struct {
	river.WorkerDefaults[KintonePushArgs]
	client *Client
}

// Work pushes the call. For now the record stays pending.
func (w *KintonePushWorker) Work(ctx context.Context, job *river.Job[KintonePushArgs]) error {
	return nil
}
