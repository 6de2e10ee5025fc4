package jobs

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// The River queues syncd works.
const (
	// QueueSalesforce holds the Salesforce push jobs. Its name is the
	// target's, as push_jobs_owed.sql expects.
	QueueSalesforce = "salesforce"
	// QueueKintone holds the Kintone push jobs.
	QueueKintone = "kintone"
	// QueueMaintenance holds dispatch (the periodic safety net) and
	// retention.
	QueueMaintenance = "maintenance"
)

// maintenanceOpts puts a job on the maintenance queue and keeps at most one
// of its kind waiting: unique among the states in which a job still has
// work ahead of it.
func maintenanceOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueMaintenance,
		MaxAttempts: 3,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable,
			rivertype.JobStatePending,
			rivertype.JobStateRetryable,
			rivertype.JobStateRunning,
			rivertype.JobStateScheduled,
		}},
	}
}

// DispatchArgs asks for the outbox to be dispatched: undispatched rows are
// claimed, their outcome recorded, and push jobs inserted. The daemon
// dispatches as soon as a commit notifies it; this job, inserted
// periodically, is the safety net for notifications that were lost.
type DispatchArgs struct{}

// Kind is "dispatch".
func (DispatchArgs) Kind() string { return "dispatch" }

// InsertOpts keeps at most one dispatch job waiting.
func (DispatchArgs) InsertOpts() river.InsertOpts {
	return maintenanceOpts()
}

// SalesforcePushArgs asks for a batch of a tenant's pending calls to be
// pushed to its Salesforce org: the job claims up to Config.BatchSize of them
// (the oldest analyses first), pushes them with sObject Collections requests
// and stores their record IDs. Its output (River's RecordOutput) lists the
// calls it pushed, their outcomes and record IDs; sync_records.push_job_id
// names the job that last pushed a call.
//
// Args hold IDs only, never secrets or call content, since the River UI
// shows them. Dispatch and finishing push jobs insert as many as the tenant
// needs: about one per Config.BatchSize claimable calls, at most
// Config.TenantConcurrency at once.
type SalesforcePushArgs struct {
	TenantID string `json:"tenant_id"`
}

// Kind is "salesforce_push".
func (SalesforcePushArgs) Kind() string { return "salesforce_push" }

// InsertOpts puts the job on the salesforce queue.
func (SalesforcePushArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSalesforce}
}

// KintonePushArgs asks for a batch of a tenant's pending calls to be pushed
// to its Kintone app, like SalesforcePushArgs.
type KintonePushArgs struct {
	TenantID string `json:"tenant_id"`
}

// Kind is "kintone_push".
func (KintonePushArgs) Kind() string { return "kintone_push" }

// InsertOpts puts the job on the kintone queue.
func (KintonePushArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueKintone}
}

// RetentionArgs asks for old dispatched outbox rows to be deleted
// (Config.OutboxRetention, Config.SkippedRetention). It runs periodically;
// sync records are kept.
type RetentionArgs struct{}

// Kind is "outbox_retention".
func (RetentionArgs) Kind() string { return "outbox_retention" }

// InsertOpts keeps at most one retention job waiting.
func (RetentionArgs) InsertOpts() river.InsertOpts {
	return maintenanceOpts()
}
