// Package sql holds syncd's SQL as plain, commented .sql files that an
// operator can read: the schema migrations applied by `syncd migrate`, and
// the named queries the daemon runs.
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
