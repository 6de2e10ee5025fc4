// Package pgtest gives each test its own PostgreSQL database with syncd's
// schema already migrated, so tests and packages run in parallel against a
// real server and never see each other's rows, jobs or notifications.
//
// The server is, in order of preference:
//
//  1. the one named by TEST_DATABASE_URL (a role that may CREATE DATABASE);
//  2. a testcontainers PostgreSQL, when a Docker daemon is reachable;
//  3. the local default server (libpq defaults and PG* variables).
//
// The schema is migrated once per server into a template database named
// after a hash of the migrations; each test then gets a copy of it
// (CREATE DATABASE ... TEMPLATE), which is dropped when the test ends.
//
// Go cannot import a _test.go file from another package, so this package is
// where the shared harness lives; testcontainers_test.go at the module root
// builds the end-to-end harness on top of it.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"

	"github.com/koeiq/syncd/migrate"
)

// Schema is the schema the template database is migrated into.
const Schema = migrate.DefaultSchema

var server struct {
	once     sync.Once
	url      string // admin connection string
	template string // migrated template database
	source   string // where the server came from, for messages
	err      error
}

// ServerURL returns the admin connection string of the server tests use,
// starting a container if that is the way.
func ServerURL(t testing.TB) string {
	t.Helper()
	setup(t)
	return server.url
}

func setup(t testing.TB) {
	t.Helper()
	server.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		server.url, server.source, server.err = findServer(ctx)
		if server.err == nil {
			server.template, server.err = ensureTemplate(ctx, server.url)
		}
	})
	if server.err != nil {
		t.Fatalf("pgtest: PostgreSQL from %s: %v", server.source, server.err)
	}
}

func findServer(ctx context.Context) (url, source string, err error) {
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		return url, "TEST_DATABASE_URL", nil
	}
	if dockerReachable(ctx) {
		c, err := tcpostgres.Run(ctx, "postgres:16-alpine",
			tcpostgres.WithDatabase("postgres"),
			tcpostgres.WithUsername("postgres"),
			tcpostgres.WithPassword("postgres"),
			tcpostgres.BasicWaitStrategies(),
		)
		if err != nil {
			return "", "testcontainers", err
		}
		// The container is removed by testcontainers' reaper when the test
		// binary exits.
		url, err := c.ConnectionString(ctx, "sslmode=disable")
		return url, "testcontainers", err
	}
	// libpq defaults: PGHOST, PGUSER, ... or the local socket as the OS user.
	return "", "the local default server", nil
}

func dockerReachable(ctx context.Context) (ok bool) {
	if os.Getenv("DOCKER_HOST") == "" {
		if _, err := os.Stat("/var/run/docker.sock"); err != nil {
			return false
		}
	}
	defer func() {
		if recover() != nil { // testcontainers panics when it finds no Docker
			ok = false
		}
	}()
	provider, err := testcontainers.ProviderDefault.GetProvider()
	if err != nil {
		return false
	}
	defer provider.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return provider.Health(ctx) == nil
}

// templateName names the migrated template after the migrations it holds,
// so a changed migration gets a new template.
func templateName() (string, error) {
	migrations, err := migrate.Migrations()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range migrations {
		fmt.Fprintf(h, "%d %s\n%s\n", m.Version, m.Name, m.SQL)
	}
	// River's migrations change with its version.
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if strings.HasPrefix(dep.Path, "github.com/riverqueue/river") {
				fmt.Fprintf(h, "%s %s\n", dep.Path, dep.Version)
			}
		}
	}
	return "syncd_template_" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

// ensureTemplate makes sure the migrated template exists, building it under
// an advisory lock so that parallel test binaries build it once.
func ensureTemplate(ctx context.Context, url string) (string, error) {
	name, err := templateName()
	if err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext('syncd pgtest template'))"); err != nil {
		return "", err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext('syncd pgtest template'))") //nolint:errcheck

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}

	building := name + "_building"
	ident := pgx.Identifier{building}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", err
	}
	pool, err := pgxpool.New(ctx, withDatabase(conn.Config(), building))
	if err != nil {
		return "", err
	}
	_, err = migrate.Up(ctx, pool, &migrate.Config{Schema: Schema})
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident+" RENAME TO "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return name, nil
}

// withDatabase returns a connection string for database db on the server of
// cfg.
func withDatabase(cfg *pgx.ConnConfig, db string) string {
	c := cfg.Config
	s := fmt.Sprintf("host=%s port=%d user=%s dbname=%s", quoteConnValue(c.Host), c.Port, quoteConnValue(c.User), quoteConnValue(db))
	if c.Password != "" {
		s += " password=" + quoteConnValue(c.Password)
	}
	if c.TLSConfig == nil {
		s += " sslmode=disable"
	}
	return s
}

func quoteConnValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// ConnString returns the connection string of a fresh database holding the
// migrated "syncd" schema. The database is dropped when the test ends.
func ConnString(t testing.TB) string {
	t.Helper()
	setup(t)
	return newDatabase(t, server.template)
}

// EmptyConnString returns the connection string of a fresh, empty database,
// for tests of migrations themselves.
func EmptyConnString(t testing.TB) string {
	t.Helper()
	setup(t)
	return newDatabase(t, "")
}

func newDatabase(t testing.TB, template string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, server.url)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)

	name := "syncd_test_" + rand.Text()[:16]
	name = strings.ToLower(name)
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		stmt += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, stmt)
		// Copies of one template are made one at a time; another copy in
		// progress shows up as the template being in use.
		var pgErr *pgconn.PgError
		if err == nil || attempt == 50 || !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			break
		}
		time.Sleep(time.Duration(20+attempt*10) * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("pgtest: %s: %v", stmt, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, server.url)
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(conn.Config(), name)
}

// Pool returns a pool on a fresh migrated database whose connections use the
// "syncd" schema as search_path, like the daemon's. It is closed when the
// test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return NewPool(t, ConnString(t))
}

// NewPool opens a pool on connString with the "syncd" search_path, closed
// when the test ends.
func NewPool(t testing.TB, connString string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = Schema
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// WaitFor polls cond every 10 milliseconds until it holds, failing the test
// after timeout: how tests wait for the daemon, never by sleeping.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// Exec runs sql on db, failing the test on an error.
func Exec(t testing.TB, db DB, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// Count runs a query of one integer (a count, say) on db, failing the test
// on an error.
func Count(t testing.TB, db DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// DB is what Exec and Count run on: a pool, a connection or a transaction.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
