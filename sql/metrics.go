package sql

import (
	"context"
	_ "embed"
)

// Metrics: what the daemon's metrics read of syncd's tables on each
// scrape.

//go:embed queries/outbox_waiting.sql
var outboxWaitingSQL string

// OutboxWaiting is how the outbox's undispatched rows stand.
type OutboxWaiting struct {
	Count         int64   // rows committed but not dispatched yet
	OldestSeconds float64 // age of the oldest of them; 0 when none waits
}

// GetOutboxWaiting counts the outbox rows not dispatched yet and the age of
// the oldest.
func GetOutboxWaiting(ctx context.Context, db DBTX) (OutboxWaiting, error) {
	var w OutboxWaiting
	err := db.QueryRow(ctx, outboxWaitingSQL).Scan(&w.Count, &w.OldestSeconds)
	return w, err
}
