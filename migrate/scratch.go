package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ErrNotScratch is returned (wrapped, naming the schema and the reason) by
// ResetScratch when the schema exists but is not the calling tool's scratch
// schema, and so is left as it is.
var ErrNotScratch = errors.New("not a scratch schema")

// ResetScratch gives a tool of syncd that works in a throw-away schema
// (`syncd demo`, `syncd bench`) that schema empty: it drops schema with
// everything in it, creates it anew and marks it with the comment
// "syncd scratch schema (TOOL)". Callers then migrate it with Up.
//
// It drops only a schema that is, beyond doubt, the tool's own scratch
// schema. A schema that does not exist is created and marked. An existing
// schema is refused, with an error wrapping ErrNotScratch and nothing
// changed, when
//
//   - it does not carry the tool's mark: `syncd migrate` made it, someone
//     else did, or another tool did (a demo schema is not bench's to drop);
//   - or it carries the mark but holds a tenant that is not the tool's own,
//     that is, whose ID is neither TOOL nor starts with "TOOL-": someone
//     has used it for real since.
//
// tool is the syncd command that owns the schema ("demo", "bench"); the
// tenants it creates must be named after it. db is anything that can begin
// a transaction (*pgxpool.Pool, *pgx.Conn). The check and the drop happen in
// one transaction, under the advisory lock Up takes for the schema and a
// lock on its tenants table, so neither a migration nor a new tenant can
// slip in between.
func ResetScratch(ctx context.Context, db interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}, schema, tool string,
) error {
	if err := ValidateSchema(schema); err != nil {
		return err
	}
	if tool == "" {
		return errors.New("migrate: ResetScratch needs the tool's name")
	}
	mark := "syncd scratch schema (" + tool + ")"
	ident := pgx.Identifier{schema}.Sanitize()
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", advisoryLockClass, schema); err != nil {
			return fmt.Errorf("lock schema %s: %w", ident, err)
		}
		var exists bool
		var comment *string
		err := tx.QueryRow(ctx, `SELECT true, obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1`, schema).
			Scan(&exists, &comment)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("look up schema %s: %w", ident, err)
		}
		if exists {
			if err := checkScratch(ctx, tx, schema, tool, mark, comment); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "DROP SCHEMA "+ident+" CASCADE"); err != nil {
				return fmt.Errorf("drop schema %s: %w", ident, err)
			}
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
			return fmt.Errorf("create schema %s: %w", ident, err)
		}
		// COMMENT takes no parameters; the mark is a constant but for the
		// tool's name, quoted all the same.
		if _, err := tx.Exec(ctx, "COMMENT ON SCHEMA "+ident+" IS '"+strings.ReplaceAll(mark, "'", "''")+"'"); err != nil {
			return fmt.Errorf("mark schema %s: %w", ident, err)
		}
		return nil
	})
}

// checkScratch returns an error wrapping ErrNotScratch unless the existing
// schema carries mark and holds no tenant but the tool's own.
func checkScratch(ctx context.Context, tx pgx.Tx, schema, tool, mark string, comment *string) error {
	if comment == nil || *comment != mark {
		return fmt.Errorf("refusing to drop schema %q: %w: syncd %s did not create it (it lacks the comment '%s'); choose another schema, or drop it yourself if it is disposable",
			schema, ErrNotScratch, tool, mark)
	}
	tenants := pgx.Identifier{schema, "tenants"}.Sanitize()
	var hasTenants bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", tenants).Scan(&hasTenants); err != nil {
		return fmt.Errorf("look up %s: %w", tenants, err)
	}
	if !hasTenants {
		return nil
	}
	// SHARE mode: no tenant can be added until the schema is dropped.
	if _, err := tx.Exec(ctx, "LOCK TABLE "+tenants+" IN SHARE MODE"); err != nil {
		return fmt.Errorf("lock %s: %w", tenants, err)
	}
	var foreign string
	err := tx.QueryRow(ctx, "SELECT id FROM "+tenants+" WHERE id <> $1 AND NOT starts_with(id, $1 || '-') ORDER BY id LIMIT 1", tool).Scan(&foreign)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("look up tenants in %s: %w", tenants, err)
	}
	return fmt.Errorf("refusing to drop schema %q: %w: it holds tenant %q, which syncd %s did not create; choose another schema, or drop it yourself if it is disposable",
		schema, ErrNotScratch, foreign, tool)
}
