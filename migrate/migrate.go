// Package migrate brings syncd's PostgreSQL schema up to date: River's own
// tables, migrated with rivermigrate, and syncd's tables and functions from
// the plain .sql files of package sql, all in one schema ("syncd" unless
// configured otherwise), so syncd can share the pipeline's database without
// touching its tables or its own River install.
//
// [Up] is idempotent and safe to run from several replicas at once: it holds
// a PostgreSQL advisory lock for the schema while it works, so a second
// replica waits and then finds nothing left to do. [Check] tells the daemon
// whether the schema is current before it starts.
//
// [ResetScratch] is for tools that work in a throw-away schema (`syncd
// demo`, `syncd bench`): it drops and recreates only a schema that the same
// tool created and marked, and refuses any other with [ErrNotScratch].
package migrate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/koeiq/syncd/outbox"
	syncdsql "github.com/koeiq/syncd/sql"
)

// DefaultSchema is the schema syncd uses unless configured otherwise:
// outbox.DefaultSchema, defined there so that the pipeline's package needs
// nothing else of syncd.
const DefaultSchema = outbox.DefaultSchema

// ErrNotMigrated is returned by Check (wrapped, with details) when the schema
// is missing or behind the migrations this binary carries.
var ErrNotMigrated = errors.New("database schema is not migrated")

// Config configures Up and Check.
type Config struct {
	// Schema is the PostgreSQL schema holding syncd's and River's tables:
	// lower-case letters, digits and underscores, starting with a letter or
	// underscore, at most 40 characters.
	//
	// Defaults to "syncd".
	Schema string

	// Logger receives one line per applied migration. Defaults to discarding.
	Logger *slog.Logger
}

func (c *Config) withDefaults() (*Config, error) {
	out := &Config{}
	if c != nil {
		*out = *c
	}
	out.Schema = cmp.Or(out.Schema, DefaultSchema)
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if err := ValidateSchema(out.Schema); err != nil {
		return nil, err
	}
	return out, nil
}

var schemaRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,39}$`)

// ValidateSchema reports whether name can be used as syncd's schema.
func ValidateSchema(name string) error {
	if !schemaRE.MatchString(name) {
		return fmt.Errorf("schema %q: use lower-case letters, digits and underscores, starting with a letter or underscore, at most 40 characters", name)
	}
	return nil
}

// Migration is one of syncd's own migrations.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Result says what Up applied.
type Result struct {
	// River lists the River migration versions applied.
	River []int
	// Syncd lists syncd's migration versions applied.
	Syncd []int
}

// Migrations returns syncd's own migrations in the order they apply.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(syncdsql.Migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration file %q: want NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(syncdsql.Migrations, path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: version, Name: name, SQL: string(body)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("two migrations with version %d", out[i].Version)
		}
	}
	return out, nil
}

// advisoryLockClass namespaces syncd's advisory lock ("sync").
const advisoryLockClass = 0x73796e63

// Up creates the schema if needed and applies every pending River and syncd
// migration.
func Up(ctx context.Context, pool *pgxpool.Pool, cfg *Config) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	migrations, err := Migrations()
	if err != nil {
		return nil, err
	}

	// A connection of its own, so that waiting for the lock holds no
	// connection of the pool, which River's migrations use.
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	// Replicas migrating at once queue up here; the lock is the session's, so
	// it also covers River's migrations, which run on the pool.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1, hashtext($2))", advisoryLockClass, cfg.Schema); err != nil {
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must go even when ctx is done.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1, hashtext($2))", advisoryLockClass, cfg.Schema)
	}()

	ident := pgx.Identifier{cfg.Schema}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+ident); err != nil {
		return nil, fmt.Errorf("migrate: create schema %s: %w", ident, err)
	}

	res := &Result{}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: cfg.Schema, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("migrate: river: %w", err)
	}
	riverRes, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate: river: %w", err)
	}
	for _, v := range riverRes.Versions {
		res.River = append(res.River, v.Version)
	}

	for _, m := range migrations {
		applied, err := apply(ctx, conn, ident, m)
		if err != nil {
			return nil, fmt.Errorf("migrate: %04d_%s: %w", m.Version, m.Name, err)
		}
		if applied {
			cfg.Logger.InfoContext(ctx, "migration applied", "schema", cfg.Schema, "version", m.Version, "name", m.Name)
			res.Syncd = append(res.Syncd, m.Version)
		}
	}
	return res, nil
}

// apply runs m in its own transaction unless it is already recorded.
func apply(ctx context.Context, conn *pgx.Conn, ident string, m Migration) (bool, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback(ctx) }()

	// pg_temp last, so functions created here capture a search_path that
	// temporary objects cannot hijack.
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+ident+", pg_temp"); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS syncd_migration (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return false, err
	}
	var done bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT FROM syncd_migration WHERE version = $1)", m.Version).Scan(&done); err != nil {
		return false, err
	}
	if done {
		return false, nil
	}
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO syncd_migration (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// Check returns nil when the schema holds every River and syncd migration
// this binary carries, and an error wrapping ErrNotMigrated when it does not.
func Check(ctx context.Context, pool *pgxpool.Pool, cfg *Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	migrations, err := Migrations()
	if err != nil {
		return err
	}
	want := migrations[len(migrations)-1].Version

	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", cfg.Schema+".syncd_migration").Scan(&exists); err != nil {
		return fmt.Errorf("check schema %q: %w", cfg.Schema, err)
	}
	var have int
	if exists {
		err := pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+pgx.Identifier{cfg.Schema, "syncd_migration"}.Sanitize()).Scan(&have)
		if err != nil {
			return fmt.Errorf("check schema %q: %w", cfg.Schema, err)
		}
	}
	if have < want {
		return fmt.Errorf("%w: schema %q is at syncd version %d of %d; run `syncd migrate`", ErrNotMigrated, cfg.Schema, have, want)
	}

	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: cfg.Schema, Logger: cfg.Logger})
	if err != nil {
		return err
	}
	res, err := migrator.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("check schema %q: river: %w", cfg.Schema, err)
	}
	if !res.OK {
		return fmt.Errorf("%w: schema %q: River: %s; run `syncd migrate`", ErrNotMigrated, cfg.Schema, strings.Join(res.Messages, "; "))
	}
	return nil
}
