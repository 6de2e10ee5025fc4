// Package jobs runs syncd's work on River: dispatching the outbox and pushing
// calls to the tenants' CRMs, with every piece of state that replicas must
// agree on kept in PostgreSQL.
//
// # Dispatch
//
// The call pipeline commits outbox rows (package outbox); every commit
// notifies channel "<schema>.outbox". A [Client] listens on it and
// dispatches at once: in one transaction it claims undispatched rows with
// FOR UPDATE SKIP LOCKED, up to Config.DispatchBatchSize of every tenant
// that has rows waiting (so one tenant's backlog never holds up another's
// new call for more than one round), applies the trigger rule of SPEC §4.2,
// records each row's outcome, marks the sync records that owe a push
// pending, and inserts the push jobs their tenants need. Replicas never claim
// the same row.
//
// # Pushes
//
// A push job ([SalesforcePushArgs], [KintonePushArgs]) names a tenant only.
// It takes one of the org's request slots (at most Config.TenantConcurrency
// from all replicas together), claims up to Config.BatchSize of the tenant's
// pending calls (FOR UPDATE SKIP LOCKED, the lease taken in the same
// transaction), pushes them with one sObject Collections request per kind of
// write, and stores every call's outcome, the job's output (the calls, their
// outcomes and record IDs, shown in the River UI) and its completion in one
// transaction, in which it also inserts the jobs the tenant still needs.
//
// Leases are short (Config.LeaseTime) and renewed while the job's requests
// live, so a call whose worker died is pushed again soon after. A create on
// the look-up path (no external ID field) is marked in doubt before it is
// sent; if its answer is lost, the call is not looked up, nor pushed by
// anyone, before Config.InDoubtWait: Salesforce finishes requests whose
// client left. A job that gives up (Config.PushTimeout) returns only when
// its requests did, so nothing it queued is sent later.
//
// # Limits per org
//
// The request slots (push_slots), a REQUEST_LIMIT_EXCEEDED pause and the
// daily API budget read from Sforce-Limit-Info (org_state), and refused
// credentials (the settings' attention) live in PostgreSQL, so every replica
// sees them at once. Above Config.BudgetSlowShare of the daily budget an
// org gets one request at a time; above Config.BudgetHoldShare its pushes
// wait (one job snoozes with the tenant, visible in the River UI).
//
// # Background work
//
// Every goroutine the Client starts has an owner that stops it and waits
// for it, and [Client.Stop] stops them all, in this order:
//
//   - The outbox listener and the dispatch loop belong to the Client:
//     [Client.Start] starts them, Stop cancels them and waits for both.
//   - River's goroutines (producers, job executors, the leader's
//     maintenance services) belong to River, whose Stop waits for them; a
//     push job's lease keeper belongs to its job, which stops it and waits
//     for it before returning.
//   - A Salesforce client's token request runs on a goroutine of the client
//     (see [salesforce.Client.Close]). The per-tenant cache owns the clients:
//     it closes one once newer settings replaced it and the last job using
//     it returned, and Stop closes them all once River stopped.
//
// Kintone clients start no goroutines. The idle connections of the
// settings' Transport, shared by every CRM client, belong to net/http and
// to whoever built the [settings.Store].
//
// # Outside the daemon
//
// [ResumePushes] is the settings store's save hook: in the transaction that
// saves a tenant's settings it makes the tenant's waiting pushes due now,
// through River's API. [Backfill] hands a tenant's skipped outbox rows back
// to dispatch (`syncd backfill`). Neither needs a running Client.
//
// # Errors
//
// A call that fails is retried after Config.RetryBackoff, doubling
// (network, 5xx, lock contention), pauses its tenant
// (REQUEST_LIMIT_EXCEEDED), parks its tenant until the settings are saved
// again (refused credentials), or fails for good (data errors, or
// Config.MaxAttempts failures): sync_records.last_error keeps the CRM's
// message, while logs and the job's output keep only codes and field names.
package jobs
