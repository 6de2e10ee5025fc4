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

// Dispatch claims a batch of undispatched outbox rows, records what becomes
// of each and returns the calls that must be pushed. $1 is the batch size.
//
//go:embed queries/dispatch.sql
var Dispatch string

// ResumePushes makes a tenant's waiting pushes of one kind due now. $1 is
// the job kind, $2 the tenant.
//
//go:embed queries/resume_pushes.sql
var ResumePushes string

// PushLease takes the lease on a call's sync record and returns what a push
// needs. $1 tenant, $2 call, $3 target, $4 lease seconds, $5 job ID.
//
//go:embed queries/push_lease.sql
var PushLease string

// PushSynced records a successful push. $1 tenant, $2 call, $3 target,
// $4 record ID, $5 object type, $6 applied outbox row.
//
//go:embed queries/push_synced.sql
var PushSynced string

// PushFailed records a failed push. $1 tenant, $2 call, $3 target, $4 error,
// $5 applied outbox row, $6 final, $7 job ID.
//
//go:embed queries/push_failed.sql
var PushFailed string

// PushJobsOwed returns which just-dispatched sync records have no push job
// waiting, and whether their tenant has a backlog. $1, $2, $3: arrays of
// tenant, call and target; $4 the backlog threshold.
//
//go:embed queries/push_jobs_owed.sql
var PushJobsOwed string

// PushJobsRegister records the push jobs dispatch inserted. $1, $2, $3, $4:
// arrays of tenant, call, target and job ID.
//
//go:embed queries/push_jobs_register.sql
var PushJobsRegister string

// Retention deletes old dispatched outbox rows. $1 age in seconds, $2 batch
// size.
//
//go:embed queries/retention.sql
var Retention string

// Backfill makes a batch of a tenant's skipped outbox rows undispatched
// again. $1 tenant, $2 since, $3 batch size, $4 the last id done.
//
//go:embed queries/backfill.sql
var Backfill string
