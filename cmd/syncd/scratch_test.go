package main

import (
	"context"
	"strings"
	"testing"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/migrate"
	"github.com/koeiq/syncd/secrets"
)

// scratchTools are syncd demo and syncd bench, each as small as it goes,
// so that a guard that let them through would still end soon.
var scratchTools = [][]string{
	{"demo", "--calls", "8", "--latency", "1ms"},
	{"bench", "--calls", "20", "--baseline-calls", "4", "--fair-backlog", "20", "--latency", "1ms",
		"--trickle-rate", "1", "--trickle-duration", "1s"},
}

// syncd demo and syncd bench drop only a schema they made themselves: one
// made by `syncd migrate` that holds a tenant, or any other schema with a
// table in it, is refused with exit status 2 and one line naming it, and
// is left as it was.
func TestScratchToolsRefuseOtherSchemas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	connString := pgtest.EmptyConnString(t)
	pool := pgtest.NewPool(t, connString)
	environ := map[string]string{"DATABASE_URL": connString, "SYNCD_SCHEMA": "prod", "SYNCD_SECRET_KEY": secrets.GenerateKey(), "LOG_FORMAT": "json"}
	if r := syncd(t, ctx, environ, "", "migrate"); r.code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	if r := syncd(t, ctx, environ, "", "tenant", "set", "--id", "acme", "--pack=true"); r.code != 0 {
		t.Fatalf("tenant set: %+v", r)
	}
	pgtest.Exec(t, pool, "CREATE SCHEMA ledger; CREATE TABLE ledger.entries (id int); INSERT INTO ledger.entries VALUES (1)")

	for _, tt := range []struct {
		schema string
		check  string // counts what must survive: 1
	}{
		{"prod", "SELECT count(*) FILTER (WHERE id = 'acme') FROM prod.tenants"},
		{"prod", "SELECT count(*) FROM prod.river_migration WHERE version = 1"},
		{"ledger", "SELECT count(*) FROM ledger.entries"},
	} {
		for _, tool := range scratchTools {
			r := syncd(t, ctx, environ, "", append(tool, "--schema", tt.schema)...)
			prefix := "syncd " + tool[0] + `: refusing to drop schema "` + tt.schema + `"`
			if r.code != 2 || !strings.HasPrefix(r.stderr, prefix) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("%s --schema %s: exit %d, stderr %q; want 2 and one line starting %q", tool[0], tt.schema, r.code, r.stderr, prefix)
			}
			if n := pgtest.Count(t, pool, tt.check); n != 1 {
				t.Fatalf("after %s --schema %s: %s = %d, want 1", tool[0], tt.schema, tt.check, n)
			}
		}
	}
	// The daemon's schema is still whole.
	if err := migrate.Check(ctx, pool, &migrate.Config{Schema: "prod"}); err != nil {
		t.Errorf("schema prod after the refusals: %v", err)
	}
}
