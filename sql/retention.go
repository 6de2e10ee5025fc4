package sql

import (
	"context"
	_ "embed"
	"time"
)

//go:embed queries/retention.sql
var retentionSQL string

// DeleteOldOutbox deletes up to limit dispatched outbox rows older than
// age, oldest first, and skipped rows ("skipped: <reason>", which a
// backfill hands back to dispatch) only once older than skippedAge. Rows a
// sync record still needs are kept. It returns how many it deleted.
func DeleteOldOutbox(ctx context.Context, db DBTX, age time.Duration, limit int, skippedAge time.Duration) (int64, error) {
	tag, err := db.Exec(ctx, retentionSQL, age.Seconds(), limit, skippedAge.Seconds())
	return tag.RowsAffected(), err
}
