package migrate_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/migrate"
)

// emptyPool returns a pool on an empty database of the test's own, with
// the server's default search_path: what syncd migrate starts from.
func emptyPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.EmptyConnString(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestUpIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyPool(t)

	if err := migrate.Check(ctx, pool, nil); !errors.Is(err, migrate.ErrNotMigrated) {
		t.Fatalf("Check before Up = %v, want ErrNotMigrated", err)
	}

	first, err := migrate.Up(ctx, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, err := migrate.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Syncd) != len(all) || len(first.River) == 0 {
		t.Fatalf("first Up applied syncd %v and River %v, want all %d syncd migrations and River's", first.Syncd, first.River, len(all))
	}
	if err := migrate.Check(ctx, pool, nil); err != nil {
		t.Fatalf("Check after Up: %v", err)
	}

	second, err := migrate.Up(ctx, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Syncd) != 0 || len(second.River) != 0 {
		t.Fatalf("second Up applied %+v, want nothing", second)
	}

	// Everything syncd owns lives in its schema, River's tables included.
	for _, table := range []string{"tenants", "salesforce_settings", "kintone_settings", "outbox", "sync_records", "river_job", "river_migration"} {
		if !tableExists(t, pool, "syncd."+table) {
			t.Errorf("table syncd.%s missing", table)
		}
	}
	if n := pgtest.Count(t, pool, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"); n != 0 {
		t.Errorf("%d tables in schema public, want none", n)
	}
}

func TestUpConcurrentReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyPool(t)

	const replicas = 4
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	applied := make([]int, replicas)
	for i := range replicas {
		wg.Go(func() {
			res, err := migrate.Up(ctx, pool, nil)
			errs[i] = err
			if err == nil {
				applied[i] = len(res.Syncd)
			}
		})
	}
	wg.Wait()
	var total int
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
		total += applied[i]
	}
	all, _ := migrate.Migrations()
	if total != len(all) {
		t.Errorf("replicas applied %d syncd migrations in all, want each of the %d once", total, len(all))
	}
	if err := migrate.Check(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
}

func TestUpOtherSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyPool(t)
	cfg := &migrate.Config{Schema: "crm_sync"}

	if _, err := migrate.Up(ctx, pool, cfg); err != nil {
		t.Fatal(err)
	}
	if err := migrate.Check(ctx, pool, cfg); err != nil {
		t.Fatal(err)
	}
	if err := migrate.Check(ctx, pool, nil); !errors.Is(err, migrate.ErrNotMigrated) {
		t.Fatalf("Check of the default schema = %v, want ErrNotMigrated", err)
	}
	// Functions captured their schema: enqueue works from a session whose
	// search_path does not name it.
	var id int64
	err := pool.QueryRow(ctx, `SELECT crm_sync.enqueue('t1', 'c1', 'call.analysed',
		'{"call_id":"c1","started_at":"2026-05-01T09:30:00Z","duration_seconds":5}')`).Scan(&id)
	if err != nil || id == 0 {
		t.Fatalf("enqueue in crm_sync = %d, %v", id, err)
	}
}

func TestValidateSchema(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "Syncd", "1abc", "a-b", `x"; DROP`, "a2345678901234567890123456789012345678901"} {
		if migrate.ValidateSchema(name) == nil {
			t.Errorf("ValidateSchema(%q) = nil, want an error", name)
		}
	}
	for _, name := range []string{"syncd", "_s", "crm_sync2"} {
		if err := migrate.ValidateSchema(name); err != nil {
			t.Errorf("ValidateSchema(%q) = %v", name, err)
		}
	}
}
