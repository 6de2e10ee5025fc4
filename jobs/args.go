package jobs

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// The River queues syncd works.
const (
	// QueueSalesforce holds the per-call Salesforce pushes.
	QueueSalesforce = "salesforce"
	// QueueKintone holds the per-call Kintone pushes.
	QueueKintone = "kintone"
	// QueueBacklog holds the pushes of tenants with a backlog of pending
	// calls (Config.BacklogThreshold), so they never hold up the others.
	QueueBacklog = "backlog"
	// QueueMaintenance holds dispatch (the periodic safety net) and
	// retention.
	QueueMaintenance = "maintenance"
)

// waitingStates are the states in which a job still has work ahead of it.
var waitingStates = []rivertype.JobState{ //nolint:gochecknoglobals
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRetryable,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
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
	return river.InsertOpts{
		Queue:       QueueMaintenance,
		MaxAttempts: 3,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: waitingStates},
	}
}

// SalesforcePushArgs asks for one call to be pushed to its tenant's
// Salesforce org. Args hold IDs only, never secrets or call content, since
// the River UI shows them.
//
// Dispatch inserts one only when no push job of the call is waiting
// (sync_records.push_job_id), so a call has at most one waiting push job;
// unlike River's unique jobs, a job that is running no longer counts, so an
// analysis that arrives while the call is pushed is pushed too.
type SalesforcePushArgs struct {
	TenantID string `json:"tenant_id"`
	CallID   string `json:"call_id"`
	// OutboxID is the outbox row that caused the push. The push sends the
	// call's newest queued row, which may be newer.
	OutboxID int64 `json:"outbox_id"`
}

// Kind is "salesforce_push".
func (SalesforcePushArgs) Kind() string { return "salesforce_push" }

// InsertOpts puts the job on the salesforce queue.
func (SalesforcePushArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSalesforce}
}

// KintonePushArgs asks for one call to be pushed to its tenant's Kintone
// app, like SalesforcePushArgs.
type KintonePushArgs struct {
	TenantID string `json:"tenant_id"`
	CallID   string `json:"call_id"`
	OutboxID int64  `json:"outbox_id"`
}

// Kind is "kintone_push".
func (KintonePushArgs) Kind() string { return "kintone_push" }

// InsertOpts puts the job on the kintone queue.
func (KintonePushArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueKintone}
}

// RetentionArgs asks for old dispatched outbox rows to be deleted
// (Config.OutboxRetention). It runs periodically; sync records are kept.
type RetentionArgs struct{}

// Kind is "outbox_retention".
func (RetentionArgs) Kind() string { return "outbox_retention" }

// InsertOpts keeps at most one retention job waiting.
func (RetentionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueMaintenance,
		MaxAttempts: 3,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: waitingStates},
	}
}
