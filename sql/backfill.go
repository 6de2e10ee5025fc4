package sql

import (
	"context"
	_ "embed"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backfill: a tenant's skipped outbox rows ("skipped: <reason>", written
// while it had no Audit & Export Pack or no enabled integration) handed back
// to dispatch, which decides anew.

//go:embed queries/backfill_check.sql
var backfillCheckSQL string

// BackfillCheck is whether a backfill of a tenant would push anything:
// without both, dispatch would only skip the rows again.
type BackfillCheck struct {
	AuditExportPack    bool
	IntegrationEnabled bool
}

// CheckBackfill says whether the tenant has the Audit & Export Pack and an
// integration enabled; pgx.ErrNoRows for an unknown tenant.
func CheckBackfill(ctx context.Context, db DBTX, tenantID string) (BackfillCheck, error) {
	var c BackfillCheck
	err := db.QueryRow(ctx, backfillCheckSQL, tenantID).Scan(&c.AuditExportPack, &c.IntegrationEnabled)
	return c, err
}

//go:embed queries/backfill_count.sql
var backfillCountSQL string

// CountSkipped counts the tenant's skipped outbox rows written since since:
// the rows a backfill hands back.
func CountSkipped(ctx context.Context, db DBTX, tenantID string, since time.Time) (int, error) {
	var n int
	err := db.QueryRow(ctx, backfillCountSQL, tenantID, since).Scan(&n)
	return n, err
}

//go:embed queries/backfill.sql
var backfillSQL string

// Backfill makes up to limit of the tenant's skipped outbox rows written
// since since, with IDs above after, undispatched again, and returns their
// IDs in order; call it again after the last until none comes back.
func Backfill(ctx context.Context, db DBTX, tenantID string, since time.Time, limit int, after int64) ([]int64, error) {
	rows, err := db.Query(ctx, backfillSQL, tenantID, since, limit, after)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

//go:embed queries/backfill_status.sql
var backfillStatusSQL string

// BackfillStatus is how a backfill stands.
type BackfillStatus struct {
	// Undispatched counts the tenant's outbox rows written since since
	// that wait for dispatch.
	Undispatched int
	// Pending counts the tenant's calls that wait for a push.
	Pending int
}

// GetBackfillStatus says how many of the tenant's outbox rows written since
// since wait for dispatch, and how many of its calls wait for a push.
func GetBackfillStatus(ctx context.Context, db DBTX, tenantID string, since time.Time) (BackfillStatus, error) {
	var s BackfillStatus
	err := db.QueryRow(ctx, backfillStatusSQL, tenantID, since).Scan(&s.Undispatched, &s.Pending)
	return s, err
}
