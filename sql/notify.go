package sql

import (
	"context"
	_ "embed"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Notifications that wake the daemons: the outbox's insert trigger
// (notify_outbox, migration 1) and a backfill notify '<schema>.outbox'.

//go:embed queries/outbox_notify.sql
var outboxNotifySQL string

// Notify wakes the daemons listening on channel when db's transaction
// commits, and never if it rolls back.
func Notify(ctx context.Context, db DBTX, channel string) error {
	_, err := db.Exec(ctx, outboxNotifySQL, channel)
	return err
}

//go:embed queries/listen.sql
var listenSQL string

// Listen makes the connection db listen on channel (quoted here as an
// identifier: LISTEN takes no parameter). db must be one connection, not a
// pool.
func Listen(ctx context.Context, db DBTX, channel string) error {
	_, err := db.Exec(ctx, strings.TrimSpace(listenSQL)+" "+pgx.Identifier{channel}.Sanitize())
	return err
}
