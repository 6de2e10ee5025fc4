package sql

import (
	"context"
	_ "embed"
	"time"
)

// The state of one tenant's org (target "salesforce") or app ("kintone")
// that every replica must agree on: org_state.

//go:embed queries/org_state.sql
var orgStateSQL string

// OrgState is what every replica knows of an org: a pause after
// REQUEST_LIMIT_EXCEEDED, and the daily API budget last reported. Fields
// are nil where nothing was recorded.
type OrgState struct {
	PausedUntil *time.Time
	PauseReason *string
	APIUsed     *int
	APIMax      *int
	APIAt       *time.Time
}

// GetOrgState reads the org's state; pgx.ErrNoRows when none is recorded.
func GetOrgState(ctx context.Context, db DBTX, tenantID, target string) (OrgState, error) {
	var s OrgState
	err := db.QueryRow(ctx, orgStateSQL, tenantID, target).Scan(&s.PausedUntil, &s.PauseReason, &s.APIUsed, &s.APIMax, &s.APIAt)
	return s, err
}

//go:embed queries/org_pause.sql
var orgPauseSQL string

// PauseOrg holds the org's pushes on every replica for the given time
// (the org answered REQUEST_LIMIT_EXCEEDED; reason says so). A longer
// pause already recorded stays.
func PauseOrg(ctx context.Context, db DBTX, tenantID, target string, pause time.Duration, reason string) error {
	_, err := db.Exec(ctx, orgPauseSQL, tenantID, target, pause.Seconds(), reason)
	return err
}

//go:embed queries/org_usage.sql
var orgUsageSQL string

// RecordOrgUsage records that the org reported at `at` that used of its max
// daily API requests are used (Sforce-Limit-Info). An older report never
// replaces a newer one.
func RecordOrgUsage(ctx context.Context, db DBTX, tenantID, target string, used, max int, at time.Time) error {
	_, err := db.Exec(ctx, orgUsageSQL, tenantID, target, used, max, at)
	return err
}
