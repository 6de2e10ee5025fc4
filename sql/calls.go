package sql

import (
	"context"
	_ "embed"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// Calls: a tenant's sync log (sync_records, and the outbox for calls that
// were skipped), what syncd did with one call, and pushing calls again.

// CallLogRow is one row of the sync log: a call and the CRM it goes to, or
// a call that was skipped (Target ""). Nil fields are NULL.
type CallLogRow struct {
	CallID        string
	Target        string
	State         string // synced, pending, failed or skipped
	ObjectType    *string
	RecordID      *string
	Attempts      int
	LastError     *string
	SkippedReason *string
	// RetryAt is when a pending call held back (after a failed attempt, or
	// a create in doubt) may be pushed next; it may be past.
	RetryAt    *time.Time
	LastPushAt *time.Time
	SyncedAt   *time.Time
	CreatedAt  time.Time
	// What call matching found (SPEC §5.6).
	Match     *string
	WhoID     *string
	WhoType   *string
	OwnerID   *string
	OwnerNote *string
}

// callLogFields are the columns of a CallLogRow, as calls_page.sql and
// calls_search.sql return them.
func callLogFields(l *CallLogRow) []any {
	return []any{&l.CallID, &l.Target, &l.State, &l.ObjectType, &l.RecordID, &l.Attempts, &l.LastError, &l.SkippedReason,
		&l.RetryAt, &l.LastPushAt, &l.SyncedAt, &l.CreatedAt, &l.Match, &l.WhoID, &l.WhoType, &l.OwnerID, &l.OwnerNote}
}

//go:embed queries/calls_page.sql
var callsPageSQL string

// ListCallsPageParams says which page of the sync log ListCallsPage reads.
type ListCallsPageParams struct {
	TenantID string
	State    string // synced, pending, failed or skipped; "" for all
	// The page starts after the row whose key is (AfterCreatedAt,
	// AfterCallID, AfterTarget): the previous page's last row. A nil
	// AfterCreatedAt (with "", "") reads the first page.
	AfterCreatedAt *time.Time
	AfterCallID    string
	AfterTarget    string
	Limit          int // page size
}

// ListCallsPage reads one page of a tenant's sync log, newest first (by
// created_at, call ID, target).
func ListCallsPage(ctx context.Context, db DBTX, p ListCallsPageParams) ([]CallLogRow, error) {
	after := pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}
	if p.AfterCreatedAt != nil {
		after = pgtype.Timestamptz{Time: *p.AfterCreatedAt, Valid: true}
	}
	return queryRows(ctx, db, callLogFields, callsPageSQL, p.TenantID, p.State, after, p.AfterCallID, p.AfterTarget, p.Limit)
}

//go:embed queries/calls_search.sql
var callsSearchSQL string

// SearchCallsParams says which page of a search SearchCalls reads.
type SearchCallsParams struct {
	TenantID string
	Prefix   string // the beginning of the call IDs sought
	// Start is where the range of call IDs starts: the greater, by bytes,
	// of Prefix and AfterCallID.
	Start string
	// The page starts after the row (AfterCallID, AfterTarget), the
	// previous page's last; "", "" for the first page.
	AfterCallID string
	AfterTarget string
	Limit       int    // page size
	State       string // synced, pending, failed or skipped; "" for all
}

// SearchCalls reads one page of a tenant's calls whose ID begins with a
// prefix, in call ID order (by bytes), then target.
func SearchCalls(ctx context.Context, db DBTX, p SearchCallsParams) ([]CallLogRow, error) {
	return queryRows(ctx, db, callLogFields, callsSearchSQL, p.TenantID, p.Prefix, p.Start, p.AfterCallID, p.AfterTarget, p.Limit, p.State)
}

//go:embed queries/calls_summary.sql
var callsSummarySQL string

// CallsSummary counts a tenant's calls by state.
type CallsSummary struct {
	// The calls that arrived since the time asked, by their state now,
	// test calls left out.
	Synced, Pending, Failed, Skipped int64
	// Every call pending and failed now, test calls too.
	PendingNow, FailedNow int64
}

// GetCallsSummary counts the tenant's calls that arrived since since by
// state, leaving out the test calls (whose ID begins with testCallPrefix),
// and every call pending and failed now.
func GetCallsSummary(ctx context.Context, db DBTX, tenantID string, since time.Time, testCallPrefix string) (CallsSummary, error) {
	var s CallsSummary
	err := db.QueryRow(ctx, callsSummarySQL, tenantID, since, testCallPrefix).Scan(
		&s.Synced, &s.Pending, &s.Failed, &s.Skipped, &s.PendingNow, &s.FailedNow)
	return s, err
}

// CallSyncTarget is what one CRM holds of a call: its sync record.
type CallSyncTarget struct {
	Target     string
	State      string
	ObjectType string // "" when unknown
	RecordID   string // "" before the record is stored
	LastError  string
	Attempts   int
	SyncedAt   *time.Time
	UpdatedAt  time.Time
	// What call matching found (SPEC §5.6); "" for none.
	Match, WhoID, WhoType, OwnerID, OwnerNote string
}

//go:embed queries/call_sync_targets.sql
var callSyncTargetsSQL string

// ListCallSyncTargets reads the sync records of the tenant's call, in
// target order.
func ListCallSyncTargets(ctx context.Context, db DBTX, tenantID, callID string) ([]CallSyncTarget, error) {
	return queryRows(ctx, db, func(t *CallSyncTarget) []any {
		return []any{&t.Target, &t.State, &t.ObjectType, &t.RecordID, &t.LastError, &t.Attempts, &t.SyncedAt, &t.UpdatedAt,
			&t.Match, &t.WhoID, &t.WhoType, &t.OwnerID, &t.OwnerNote}
	}, callSyncTargetsSQL, tenantID, callID)
}

// CallEvent is one outbox row of a call: what the pipeline reported and
// what became of it.
type CallEvent struct {
	ID           int64
	Event        string
	Outcome      string // "" while not dispatched
	CreatedAt    time.Time
	DispatchedAt *time.Time
}

//go:embed queries/call_events.sql
var callEventsSQL string

// ListCallEvents reads the outbox rows of the tenant's call, oldest first.
func ListCallEvents(ctx context.Context, db DBTX, tenantID, callID string) ([]CallEvent, error) {
	return queryRows(ctx, db, func(e *CallEvent) []any {
		return []any{&e.ID, &e.Event, &e.Outcome, &e.CreatedAt, &e.DispatchedAt}
	}, callEventsSQL, tenantID, callID)
}

//go:embed queries/call_resync.sql
var callResyncSQL string

// Resync pushes the tenant's call again from its newest event that creates
// records, through the outbox. It returns how many calls were queued: 1,
// or 0 when the outbox holds no such event of the call.
func Resync(ctx context.Context, db DBTX, tenantID, callID string) (int, error) {
	var queued int
	err := db.QueryRow(ctx, callResyncSQL, tenantID, callID).Scan(&queued)
	return queued, err
}

//go:embed queries/calls_retry_failed.sql
var callsRetryFailedSQL string

// RetryFailed pushes again every call of the tenant whose sync record
// failed, and returns how many calls were queued.
func RetryFailed(ctx context.Context, db DBTX, tenantID string) (int, error) {
	var queued int
	err := db.QueryRow(ctx, callsRetryFailedSQL, tenantID).Scan(&queued)
	return queued, err
}
