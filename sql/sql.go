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

// PushClaim claims a batch of a tenant's pending calls for a push job and
// leases them. $1 tenant, $2 target, $3 job ID, $4 batch size, $5 lease
// seconds.
//
//go:embed queries/push_claim.sql
var PushClaim string

// PushInDoubt marks calls whose create is about to be sent on the look-up
// path. $1 tenant, $2 target, $3 job ID, $4 calls, $5 seconds in doubt.
//
//go:embed queries/push_in_doubt.sql
var PushInDoubt string

// PushRenew renews a push job's slot and call leases. $1 tenant, $2 target,
// $3 job ID, $4 slot, $5 lease seconds.
//
//go:embed queries/push_renew.sql
var PushRenew string

// PushStore stores the outcomes of a push job's calls and releases their
// leases. $1 tenant, $2 target, $3 job ID, $4 to $16 arrays (see the file).
//
//go:embed queries/push_store.sql
var PushStore string

// PushSlotTake takes one of an org's request slots. $1 tenant, $2 target,
// $3 job ID, $4 slots, $5 lease seconds.
//
//go:embed queries/push_slot_take.sql
var PushSlotTake string

// PushSlotRelease gives a request slot back. $1 tenant, $2 target, $3 job
// ID, $4 slot.
//
//go:embed queries/push_slot_release.sql
var PushSlotRelease string

// PushJobsLock locks orgs for counting and inserting their push jobs. $1,
// $2: arrays of tenant and target.
//
//go:embed queries/push_jobs_lock.sql
var PushJobsLock string

// PushJobsOwed says how each org's pending calls, slots and push jobs
// stand. $1, $2: arrays of tenant and target; $3 claimable cap; $4 budget
// hold share, $5 budget hold seconds, $6 budget slow share; $7 lease
// seconds, $8 the calling job's ID (0 for none).
//
//go:embed queries/push_jobs_owed.sql
var PushJobsOwed string

// PendingOrgs lists the orgs with pending calls.
//
//go:embed queries/pending_orgs.sql
var PendingOrgs string

// Retention deletes old dispatched outbox rows. $1 age in seconds, $2 batch
// size, $3 age in seconds of skipped rows.
//
//go:embed queries/retention.sql
var Retention string

// Backfill makes a batch of a tenant's skipped outbox rows undispatched
// again. $1 tenant, $2 since, $3 batch size, $4 the last id done.
//
//go:embed queries/backfill.sql
var Backfill string

// BackfillCheck says whether a tenant has the Audit & Export Pack and an
// integration enabled (no row for an unknown tenant). $1 tenant.
//
//go:embed queries/backfill_check.sql
var BackfillCheck string

// BackfillCount counts a tenant's skipped outbox rows. $1 tenant, $2 since.
//
//go:embed queries/backfill_count.sql
var BackfillCount string

// BackfillStatus counts a tenant's outbox rows waiting for dispatch and its
// calls waiting for a push. $1 tenant, $2 since.
//
//go:embed queries/backfill_status.sql
var BackfillStatus string

// OutboxNotify wakes the daemons when the transaction commits. $1 the
// channel.
//
//go:embed queries/outbox_notify.sql
var OutboxNotify string
