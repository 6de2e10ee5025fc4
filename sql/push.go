package sql

import (
	"context"
	_ "embed"
	"time"
)

// Push jobs: a job takes one of its org's request slots, leases a batch of
// the tenant's pending calls, keeps both leased while it works, and stores
// what became of each call. target is "salesforce" or "kintone"; jobID is
// the River push job's ID.

//go:embed queries/push_slot_take.sql
var pushSlotTakeSQL string

// TakePushSlot takes, for job jobID and for lease from now, one of the
// first slots request slots of the tenant's org: a free one, or a slot row
// made now. pgx.ErrNoRows when all of them are held.
func TakePushSlot(ctx context.Context, db DBTX, tenantID, target string, jobID int64, slots int, lease time.Duration) (slot int, err error) {
	err = db.QueryRow(ctx, pushSlotTakeSQL, tenantID, target, jobID, slots, lease.Seconds()).Scan(&slot)
	return slot, err
}

//go:embed queries/push_slot_release.sql
var pushSlotReleaseSQL string

// ReleasePushSlot gives back request slot slot of the tenant's org, if job
// jobID still holds it.
func ReleasePushSlot(ctx context.Context, db DBTX, tenantID, target string, jobID int64, slot int) error {
	_, err := db.Exec(ctx, pushSlotReleaseSQL, tenantID, target, jobID, slot)
	return err
}

//go:embed queries/push_renew.sql
var pushRenewSQL string

// RenewPushLeases renews, for lease from now, job jobID's request slot slot
// of the tenant's org and the leases of the calls the job holds. It returns
// how many call leases it renewed.
func RenewPushLeases(ctx context.Context, db DBTX, tenantID, target string, jobID int64, slot int, lease time.Duration) (int64, error) {
	tag, err := db.Exec(ctx, pushRenewSQL, tenantID, target, jobID, slot, lease.Seconds())
	return tag.RowsAffected(), err
}

//go:embed queries/push_claim.sql
var pushClaimSQL string

// ClaimedCall is a call ClaimPushCalls leased, with what its push needs.
type ClaimedCall struct {
	CallID string
	// RecordID and ObjectType describe the record an earlier push stored;
	// nil when none did.
	RecordID   *string
	ObjectType *string
	// Fresh is true on the call's first lease: no record of it can exist
	// in the CRM yet, so it needs no look-up.
	Fresh bool
	// Attempts is how many attempts were spent on the call so far.
	Attempts int
	// QueuedOutboxID is the call's newest queued outbox row, whose Payload
	// and CreatedAt follow (nil when the row is gone).
	QueuedOutboxID int64
	Payload        []byte
	CreatedAt      *time.Time
	// WhoID is the WhoId syncd set on the call's record before, if any
	// (never sent again).
	WhoID *string
}

// ClaimPushCalls claims up to limit of the tenant's pending calls for the
// target for job jobID, and leases them for lease: oldest analysis first,
// skipping calls another job holds, a create in doubt and calls waiting to
// retry. Replicas claiming at once never take the same call.
func ClaimPushCalls(ctx context.Context, db DBTX, tenantID, target string, jobID int64, limit int, lease time.Duration) ([]ClaimedCall, error) {
	return queryRows(ctx, db, func(c *ClaimedCall) []any {
		return []any{&c.CallID, &c.RecordID, &c.ObjectType, &c.Fresh, &c.Attempts, &c.QueuedOutboxID,
			&c.Payload, &c.CreatedAt, &c.WhoID}
	}, pushClaimSQL, tenantID, target, jobID, limit, lease.Seconds())
}

//go:embed queries/push_in_doubt.sql
var pushInDoubtSQL string

// MarkPushInDoubt records that job jobID is about to send a create for the
// calls callIDs on the look-up path: once sent its outcome may stay unknown,
// so nobody looks the calls up or pushes them for wait unless the answer
// arrives. Only calls whose lease the job still holds are marked; it returns
// how many were.
func MarkPushInDoubt(ctx context.Context, db DBTX, tenantID, target string, jobID int64, callIDs []string, wait time.Duration) (int64, error) {
	tag, err := db.Exec(ctx, pushInDoubtSQL, tenantID, target, jobID, callIDs, wait.Seconds())
	return tag.RowsAffected(), err
}

//go:embed queries/push_store.sql
var pushStoreSQL string

// PushStoreParams is what became of the calls a push job leased. The
// slices run in parallel: index i of each is about call CallIDs[i].
type PushStoreParams struct {
	TenantID string
	Target   string
	// JobID is the push job; calls whose lease another job took meanwhile
	// are left alone.
	JobID int64

	CallIDs []string
	// Outcomes: "synced" (the CRM holds the record), "failed" (refused for
	// good, or failed too often), "retry" (try again after RetryAfter) or
	// "released" (not sent: no attempt is spent).
	Outcomes []string
	// RecordIDs and ObjectTypes: the record a synced call has in the CRM.
	RecordIDs   []*string
	ObjectTypes []*string
	// OutboxIDs: the outbox row whose payload was pushed.
	OutboxIDs []int64
	// Errors: the CRM's message, nil for none.
	Errors []*string
	// RetryAfter: seconds until a "retry" call is tried again.
	RetryAfter []float64
	// InDoubt: a create whose outcome is unknown (in_doubt_until stays).
	InDoubt []bool

	// What call matching found and sent (SPEC §5.6). A synced call keeps
	// the WhoId and owner sent before when none is sent now.
	//
	// Matches: nil when matching did not run.
	Matches []*string
	// WhoIDs and WhoTypes: nil when no WhoId was sent.
	WhoIDs   []*string
	WhoTypes []*string
	// OwnerIDs: nil when no owner was sent.
	OwnerIDs []*string
	// OwnerNotes: nil when there is nothing to say.
	OwnerNotes []*string
}

// StorePushOutcomes stores what became of a push job's calls and releases
// their leases. A newer outbox row queued meanwhile keeps a call pending:
// the next push sends it.
func StorePushOutcomes(ctx context.Context, db DBTX, p PushStoreParams) error {
	_, err := db.Exec(ctx, pushStoreSQL, p.TenantID, p.Target, p.JobID,
		p.CallIDs, p.Outcomes, p.RecordIDs, p.ObjectTypes, p.OutboxIDs, p.Errors, p.RetryAfter, p.InDoubt,
		p.Matches, p.WhoIDs, p.WhoTypes, p.OwnerIDs, p.OwnerNotes)
	return err
}
