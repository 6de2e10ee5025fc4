package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/koeiq/syncd/migrate"
)

const usage = `syncd puts analysed phone calls from KoeIQ into the customer's CRM.

Usage:
  syncd demo [--serve]
                     a complete local run against the built-in Salesforce simulator; with
                     --serve it keeps running and serves the Salesforce Integration page
  syncd migrate      bring the database schema up to date
  syncd run          run the daemon
  syncd tenant set --id T [--name N] [--pack=true|false] [--analytics=true|false] [--timezone ZONE]
                     [--region JP]
                     create a tenant or change it
  syncd settings salesforce --tenant T --enabled=true --instance-url URL --client-id ID
                     [--object-type Task] [--external-id-field F] [--link-who] [--assign-owner]
                     [--phone-fields F,...] [--who-field F] [--owner-field F]
                     (client secret on standard input)
  syncd settings kintone --tenant T --enabled=true --base-url URL --app-id N
                     (API token on standard input)
  syncd backfill --tenant T --since DATE [--wait 10m]
                     re-dispatch the tenant's skipped outbox rows
  syncd rotate-secrets
                     re-seal stored secrets under SYNCD_SECRET_KEY (old ones opened with
                     SYNCD_SECRET_KEY_PREVIOUS)
  syncd bench [--tenants 2] [--replicas 1] [--calls 10000] [--latency 100ms]
                     measure batched pushes against one request per call
  syncd admin-token --tenant T [--sub S] [--role admin] [--ttl 1h] [--issuer I] [--audience A]
                     mint a development token for the admin API (iss and aud default to
                     SYNCD_ADMIN_JWT_ISSUER and SYNCD_ADMIN_JWT_AUDIENCE)

Environment:
  DATABASE_URL       PostgreSQL connection string (default: libpq defaults and PG* variables)
  SYNCD_SCHEMA       schema for syncd's and River's tables (default: syncd)
  LOG_LEVEL          debug, info, warn or error (default: info)
  LOG_FORMAT         text or json (default: text on a terminal, json otherwise)
  SYNCD_SECRET_KEY   base64 of 32 bytes that encrypts stored secrets (openssl rand -base64 32)
  SYNCD_SECRET_KEY_PREVIOUS
                     the key SYNCD_SECRET_KEY replaces, while secrets sealed under it remain
                     (see syncd rotate-secrets)
  SYNCD_LISTEN       address of the admin API (default :8080)
  SYNCD_ADMIN_JWT_SECRET
                     HS256 secret of admin API tokens, at least 32 bytes (no secret: no admin API)
  SYNCD_ADMIN_JWT_ISSUER, SYNCD_ADMIN_JWT_AUDIENCE
                     iss and aud every admin API token must carry (aud: a string, or an array
                     holding it); 401 otherwise (default: unset, not checked)
  SYNCD_OPS_LISTEN   address of the River UI, /metrics, /healthz, /readyz (default 127.0.0.1:9090)
  SYNCD_OPS_USER, SYNCD_OPS_PASSWORD
                     basic auth for the River UI and /metrics (required off loopback)
  SYNCD_OPS_ALLOWED_HOSTS
                     further Host names of the ops listener, host or host:port, comma-separated
                     (a browser's or Prometheus's name for it beyond localhost and its address)
  SYNCD_OUTBOX_RETENTION
                     how long dispatched outbox rows are kept (default 720h)
  SYNCD_SKIPPED_RETENTION
                     how long skipped rows wait for a backfill (default 8760h)
  SYNCD_BATCH_SIZE, SYNCD_TENANT_CONCURRENCY
                     calls per push job and Salesforce request (200), requests in flight
                     per org from all replicas together (5)
  SYNCD_PUSH_TIMEOUT, SYNCD_REQUEST_TIMEOUT, SYNCD_IN_DOUBT_WAIT
                     bound of one push job (2m), of one CRM request (30s), how long a create
                     whose outcome is unknown waits before its call is looked up again (10m)
  SYNCD_API_BUDGET_SLOW, SYNCD_API_BUDGET_HOLD
                     share of an org's daily API budget above which its pushes slow (0.8) or wait (0.95)
  SYNCD_INSECURE_INSTANCE_URLS
                     1 accepts http://127.0.0.1:PORT test servers as CRM addresses (tests, demos)
`

// errUsage marks an error in how syncd was called (exit status 2).
var errUsage = errors.New("usage")

type command struct {
	name string
	run  func(ctx context.Context, e *env, args []string) error
}

// run runs the syncd command line and returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	commands := []command{
		{"demo", cmdDemo},
		{"migrate", cmdMigrate},
		{"run", cmdRun},
		{"tenant", cmdTenant},
		{"settings", cmdSettings},
		{"admin-token", cmdAdminToken},
		{"backfill", cmdBackfill},
		{"bench", cmdBench},
		{"rotate-secrets", cmdRotateSecrets},
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "syncd %s: %v\n", c.name, err)
			return 2
		case errors.Is(err, migrate.ErrNotScratch):
			// demo or bench was pointed at a schema that is not theirs to drop.
			fmt.Fprintf(stderr, "syncd %s: %s\n", c.name, oneLine(err.Error()))
			return 2
		default:
			fmt.Fprintf(stderr, "syncd %s: %s\n", c.name, oneLine(err.Error()))
			return 1
		}
	}
	fmt.Fprintf(stderr, "syncd: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// oneLine folds a multi-line error message into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("syncd "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses args into fs and rejects positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}
