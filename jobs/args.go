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
	// QueueMaintenance holds dispatch (the periodic safety net) and
	// retention.
	QueueMaintenance = "maintenance"
)

// waitingStates are the states in which a job still has work ahead of it. A
// push job is unique per (tenant, call) among them: whichever waiting job
// runs next pushes the call's newest outbox row, so a second one would only
// repeat the push.
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
type SalesforcePushArgs struct {
	TenantID string `json:"tenant_id" river:"unique"`
	CallID   string `json:"call_id"   river:"unique"`
	// OutboxID is the outbox row that caused the push. The push sends the
	// call's newest queued row, which may be newer.
	OutboxID int64 `json:"outbox_id"`
}

// Kind is "salesforce_push".
func (SalesforcePushArgs) Kind() string { return "salesforce_push" }

// InsertOpts makes the job unique per (tenant, call) while one is waiting.
func (SalesforcePushArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:      QueueSalesforce,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingStates},
	}
}

// KintonePushArgs asks for one call to be pushed to its tenant's Kintone
// app, like SalesforcePushArgs.
type KintonePushArgs struct {
	TenantID string `json:"tenant_id" river:"unique"`
	CallID   string `json:"call_id"   river:"unique"`
	OutboxID int64  `json:"outbox_id"`
}

// Kind is "kintone_push".
func (KintonePushArgs) Kind() string { return "kintone_push" }

// InsertOpts makes the job unique per (tenant, call) while one is waiting.
func (KintonePushArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:      QueueKintone,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: waitingStates},
	}
}
