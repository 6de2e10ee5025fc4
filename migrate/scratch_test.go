package migrate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/migrate"
)

// comment returns the schema's comment, "" for none, and whether it exists.
func comment(t *testing.T, pool *pgxpool.Pool, schema string) (string, bool) {
	t.Helper()
	var c *string
	var n int
	err := pool.QueryRow(context.Background(), `SELECT count(*), max(obj_description(oid, 'pg_namespace'))
		FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n, &c)
	if err != nil {
		t.Fatal(err)
	}
	if c == nil {
		return "", n == 1
	}
	return *c, n == 1
}

// tableExists reports whether table, qualified or found on the search_path,
// exists.
func tableExists(t *testing.T, pool *pgxpool.Pool, table string) bool {
	t.Helper()
	return pgtest.Count(t, pool, "SELECT count(to_regclass($1))", table) == 1
}

// A missing schema is created and marked; the tool's own schema, migrated
// and holding the tool's tenants, is dropped and created empty.
func TestResetScratchOwnSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyPool(t)

	if err := migrate.ResetScratch(ctx, pool, "play", "demo"); err != nil {
		t.Fatal(err)
	}
	if c, ok := comment(t, pool, "play"); !ok || c != "syncd scratch schema (demo)" {
		t.Fatalf("schema play: exists %v, comment %q; want it marked", ok, c)
	}
	if _, err := migrate.Up(ctx, pool, &migrate.Config{Schema: "play"}); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, pool, "INSERT INTO play.tenants (id) VALUES ('demo'), ('demo-2')")
	if err := migrate.ResetScratch(ctx, pool, "play", "demo"); err != nil {
		t.Fatalf("second ResetScratch: %v", err)
	}
	if tableExists(t, pool, "play.tenants") {
		t.Error("play.tenants survived the reset")
	}
	if c, ok := comment(t, pool, "play"); !ok || c != "syncd scratch schema (demo)" {
		t.Fatalf("schema play after the reset: exists %v, comment %q; want it marked", ok, c)
	}
}

// Every schema that is not the tool's own scratch schema is refused and left
// as it was.
func TestResetScratchRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		setup string // SQL run on a database whose "syncd" schema is migrated
		want  string // in the error
	}{
		{"migrated", "INSERT INTO syncd.tenants (id) VALUES ('acme')", "lacks the comment"},
		{"migrated, no tenants", "", "lacks the comment"},
		{"another comment", "COMMENT ON SCHEMA syncd IS 'production'", "lacks the comment"},
		{"another tool's", "COMMENT ON SCHEMA syncd IS 'syncd scratch schema (bench)'", "lacks the comment 'syncd scratch schema (demo)'"},
		{"marked, with a real tenant", "COMMENT ON SCHEMA syncd IS 'syncd scratch schema (demo)'; INSERT INTO syncd.tenants (id) VALUES ('demo'), ('acme')", `tenant "acme"`},
		{"marked, a tenant named like the tool", "COMMENT ON SCHEMA syncd IS 'syncd scratch schema (demo)'; INSERT INTO syncd.tenants (id) VALUES ('demonstrable')", `tenant "demonstrable"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool := pgtest.Pool(t)
			if tt.setup != "" {
				pgtest.Exec(t, pool, tt.setup)
			}
			before, _ := comment(t, pool, "syncd")
			err := migrate.ResetScratch(ctx, pool, "syncd", "demo")
			if !errors.Is(err, migrate.ErrNotScratch) || !strings.Contains(err.Error(), `schema "syncd"`) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ResetScratch = %v; want ErrNotScratch naming the schema and %q", err, tt.want)
			}
			if after, ok := comment(t, pool, "syncd"); !ok || after != before {
				t.Errorf("schema syncd: exists %v, comment %q; want it kept with comment %q", ok, after, before)
			}
			if !tableExists(t, pool, "syncd.tenants") || !tableExists(t, pool, "syncd.river_job") {
				t.Error("the schema's tables are gone")
			}
		})
	}
}

// An unmarked schema holding anything at all is refused, not only syncd's.
func TestResetScratchRefusesForeignSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyPool(t)
	pgtest.Exec(t, pool, "CREATE SCHEMA ledger; CREATE TABLE ledger.entries (id int); INSERT INTO ledger.entries VALUES (1)")
	if err := migrate.ResetScratch(ctx, pool, "ledger", "bench"); !errors.Is(err, migrate.ErrNotScratch) {
		t.Fatalf("ResetScratch = %v, want ErrNotScratch", err)
	}
	if n := pgtest.Count(t, pool, "SELECT count(*) FROM ledger.entries"); n != 1 {
		t.Fatalf("ledger.entries: %d rows, want 1", n)
	}
}
