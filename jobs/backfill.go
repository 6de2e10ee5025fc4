package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/migrate"
	"github.com/koeiq/syncd/settings"
	syncdsql "github.com/koeiq/syncd/sql"
)

// BackfillConfig says which rows a Backfill hands back to dispatch.
type BackfillConfig struct {
	// Schema is syncd's schema, whose daemons a backfill wakes; the pool's
	// connections must use it as search_path. Defaults to "syncd".
	Schema string

	// TenantID is the tenant whose rows are handed back. Required.
	TenantID string

	// Since is the earliest time a row handed back was written at.
	// Defaults to the zero time: every skipped row of the tenant.
	Since time.Time

	// BatchSize is how many rows one transaction hands back. Defaults to
	// 1000.
	BatchSize int
}

// Backfill hands a tenant's skipped outbox rows ("skipped: <reason>",
// written while it had no Audit & Export Pack or no enabled integration)
// back to dispatch, which decides anew and pushes them. It needs no
// running Client: each batch wakes the daemons when it commits.
type Backfill struct {
	pool *pgxpool.Pool
	cfg  BackfillConfig
}

// NewBackfill returns a Backfill working on pool. It does not start
// anything.
func NewBackfill(pool *pgxpool.Pool, cfg *BackfillConfig) (*Backfill, error) {
	c := BackfillConfig{}
	if cfg != nil {
		c = *cfg
	}
	c.Schema = cmp.Or(c.Schema, migrate.DefaultSchema)
	c.BatchSize = cmp.Or(c.BatchSize, 1000)
	if err := migrate.ValidateSchema(c.Schema); err != nil {
		return nil, err
	}
	if c.TenantID == "" {
		return nil, errors.New("jobs: BackfillConfig.TenantID is required")
	}
	if c.BatchSize < 1 {
		return nil, errors.New("jobs: BackfillConfig.BatchSize must be positive")
	}
	return &Backfill{pool: pool, cfg: c}, nil
}

// Check refuses a backfill whose rows would only be skipped again, because
// the tenant has no Audit & Export Pack or no integration enabled
// (settings.ErrNotFound for an unknown tenant), and otherwise returns how
// many skipped rows there are.
func (b *Backfill) Check(ctx context.Context) (skipped int, err error) {
	check, err := syncdsql.CheckBackfill(ctx, b.pool, b.cfg.TenantID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, settings.ErrNotFound
	case err != nil:
		return 0, err
	case !check.AuditExportPack:
		return 0, fmt.Errorf("tenant %q has no Audit & Export Pack: the rows would be skipped again", b.cfg.TenantID)
	case !check.IntegrationEnabled:
		return 0, fmt.Errorf("tenant %q has no integration enabled: the rows would be skipped again", b.cfg.TenantID)
	}
	return syncdsql.CountSkipped(ctx, b.pool, b.cfg.TenantID, b.cfg.Since)
}

// Run hands the rows back, BatchSize a transaction, each of which wakes the
// daemons when it commits. After each batch, progress (when not nil) is
// told how many rows were handed back so far. It returns how many in all.
func (b *Backfill) Run(ctx context.Context, progress func(done int)) (int, error) {
	var total int
	var last int64
	for {
		var ids []int64
		err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
			var err error
			ids, err = syncdsql.Backfill(ctx, tx, b.cfg.TenantID, b.cfg.Since, b.cfg.BatchSize, last)
			if err != nil {
				return err
			}
			return syncdsql.Notify(ctx, tx, outboxChannel(b.cfg.Schema))
		})
		if err != nil {
			return total, fmt.Errorf("backfill after row %d: %w", last, err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		total += len(ids)
		last = ids[len(ids)-1]
		if progress != nil {
			progress(total)
		}
	}
}

// Status says how many of the tenant's outbox rows written since Since
// wait for dispatch, and how many of its calls wait for a push.
func (b *Backfill) Status(ctx context.Context) (undispatched, pending int, err error) {
	st, err := syncdsql.GetBackfillStatus(ctx, b.pool, b.cfg.TenantID, b.cfg.Since)
	return st.Undispatched, st.Pending, err
}
