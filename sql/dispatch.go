package sql

import (
	"context"
	_ "embed"
	"time"
)

// Dispatch: outbox rows become pushes owed, and the orgs that owe them get
// the push jobs they need.

//go:embed queries/dispatch.sql
var dispatchSQL string

// DispatchRow is one outbox row a dispatch claimed, and the push it owes.
type DispatchRow struct {
	// ID is the outbox row's ID.
	ID       int64
	TenantID string
	CallID   string
	// Outcome is what became of the row: "queued", "ignored" or
	// "skipped: <reason>".
	Outcome string
	// Target ("salesforce" or "kintone") and QueuedOutboxID are nil when
	// the row owes no push (not queued, or a newer row of the call owes it).
	Target         *string
	QueuedOutboxID *int64
}

// Dispatch claims undispatched outbox rows, up to perTenant of each tenant
// with rows waiting, decides what becomes of each (SPEC §4.2), records the
// outcome and marks the sync records that now owe a push. It returns every
// claimed row in ID order. The caller inserts the push jobs the rows' orgs
// need in the same transaction.
func Dispatch(ctx context.Context, db DBTX, perTenant int) ([]DispatchRow, error) {
	return queryRows(ctx, db, func(r *DispatchRow) []any {
		return []any{&r.ID, &r.TenantID, &r.CallID, &r.Outcome, &r.Target, &r.QueuedOutboxID}
	}, dispatchSQL, perTenant)
}

// Org is one tenant's CRM target ("salesforce" or "kintone").
type Org struct {
	TenantID string
	Target   string
}

//go:embed queries/pending_orgs.sql
var pendingOrgsSQL string

// PendingOrgs lists the orgs that have pending calls, for the periodic
// sweep that makes sure each has the push jobs it needs.
func PendingOrgs(ctx context.Context, db DBTX) ([]Org, error) {
	return queryRows(ctx, db, func(o *Org) []any { return []any{&o.TenantID, &o.Target} }, pendingOrgsSQL)
}

//go:embed queries/push_jobs_lock.sql
var pushJobsLockSQL string

// LockPushJobs takes, until db's transaction ends, the locks of the orgs
// whose push jobs the transaction is about to count and insert
// (PushJobsOwed). tenants[i] and targets[i] name one org. db must be a
// transaction.
func LockPushJobs(ctx context.Context, db DBTX, tenants, targets []string) error {
	_, err := db.Exec(ctx, pushJobsLockSQL, tenants, targets)
	return err
}

//go:embed queries/push_jobs_owed.sql
var pushJobsOwedSQL string

// PushJobsOwedParams says which orgs PushJobsOwed looks at, and how it
// judges them.
type PushJobsOwedParams struct {
	// Tenants[i] and Targets[i] name one org.
	Tenants []string
	Targets []string
	// ClaimableCap is the most claimable calls counted per org.
	ClaimableCap int
	// BudgetHoldShare is the share of the daily API budget above which,
	// when reported within BudgetHoldFor, the tenant's pushes are held.
	BudgetHoldShare float64
	BudgetHoldFor   time.Duration
	// BudgetSlowShare is the share of the daily API budget above which the
	// org gets one request at a time.
	BudgetSlowShare float64
	// Lease is the lease time: a push job of the org that started less
	// than Lease ago and holds no slot yet counts as holding one.
	Lease time.Duration
	// SelfJobID is the calling push job, not counted among those; 0 for
	// none.
	SelfJobID int64
}

// PushJobsOwedRow is how one org's pending calls, request slots and push
// jobs stand.
type PushJobsOwedRow struct {
	TenantID string
	Target   string
	// Claimable is how many pending calls a job could claim now (at most
	// ClaimableCap).
	Claimable int
	// NextDue, when no call is claimable, is when the first pending call
	// becomes claimable (its lease, doubt or retry wait ends); nil when
	// there is none or some are claimable.
	NextDue *time.Time
	// HeldSlots counts the request slots held now, and the org's push jobs
	// that started within Lease and hold none yet (SelfJobID excluded).
	HeldSlots int
	// Starting counts those jobs that started and hold no slot yet: each
	// is about to claim up to a batch of the claimable calls.
	Starting int
	// JobsDue counts the org's push jobs waiting to run now; JobsWaiting
	// all its waiting push jobs, snoozed ones included.
	JobsDue     int
	JobsWaiting int
	// Held says the tenant's pushes are held: credentials refused
	// (attention), a REQUEST_LIMIT_EXCEEDED pause, or more than
	// BudgetHoldShare of the daily API budget used within BudgetHoldFor.
	Held bool
	// Slow says more than BudgetSlowShare of the daily API budget is used:
	// one request at a time.
	Slow bool
}

// PushJobsOwed says how each org's pending calls, request slots and push
// jobs stand, so that the caller inserts the push jobs it lacks. The caller
// holds the orgs' locks (LockPushJobs) in the same transaction. Rows come in
// tenant and target order, one per distinct org.
func PushJobsOwed(ctx context.Context, db DBTX, p PushJobsOwedParams) ([]PushJobsOwedRow, error) {
	return queryRows(ctx, db, func(r *PushJobsOwedRow) []any {
		return []any{&r.TenantID, &r.Target, &r.Claimable, &r.NextDue, &r.HeldSlots, &r.Starting,
			&r.JobsDue, &r.JobsWaiting, &r.Held, &r.Slow}
	}, pushJobsOwedSQL, p.Tenants, p.Targets, p.ClaimableCap,
		p.BudgetHoldShare, p.BudgetHoldFor.Seconds(), p.BudgetSlowShare, p.Lease.Seconds(), p.SelfJobID)
}
