package sql

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DBTX is what a query runs on: a *pgxpool.Pool, a *pgxpool.Conn, a
// *pgx.Conn or a pgx.Tx. The caller chooses the transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queryRows runs query with args on db and collects the rows, each scanned
// into a T through the pointers fields returns, in the statement's column
// order.
func queryRows[T any](ctx context.Context, db DBTX, fields func(*T) []any, query string, args ...any) ([]T, error) {
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
		var v T
		err := row.Scan(fields(&v)...)
		return v, err
	})
}
