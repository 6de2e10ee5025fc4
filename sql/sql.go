// Package sql holds syncd's SQL as plain, commented .sql files that an
// operator can read: the schema migrations applied by `syncd migrate`, and
// every statement the daemon runs, one named file each under queries/.
//
// Each query is reached through a typed function (GetOrgState,
// ClaimPushCalls, StorePushOutcomes, ...) that takes a [DBTX], so the
// caller chooses the transaction, and whose parameters, or Params struct
// fields, name what the statement's $1, $2, ... are; rows come back as
// structs with named fields. The SQL text itself is unexported: no other
// package builds or copies a statement. The files are grouped by what
// they serve: dispatch.go, push.go, org.go, retention.go, backfill.go,
// notify.go (the daemon's jobs), tenants.go and settings.go (tenants and
// their CRM settings), calls.go (the admin API's call log) and metrics.go.
//
// Import it under an alias so it never reads like database/sql:
//
//	import syncdsql "github.com/koeiq/syncd/sql"
//
// Every file is written without a schema name. Migrations run with
// search_path set to syncd's schema (SYNCD_SCHEMA, "syncd" by default), and
// functions capture that search_path when they are created; the daemon's
// connections use the same search_path, so the named queries find syncd's
// tables wherever they live.
package sql

import "embed"

// Migrations holds the schema migrations, migrations/NNNN_name.sql, applied
// in the order of their number, each once, each in its own transaction.
//
//go:embed migrations/*.sql
var Migrations embed.FS
