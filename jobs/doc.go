// Package jobs runs syncd's work on River: dispatching the outbox and pushing
// each call to the tenant's CRM.
//
// # Dispatch
//
// The call pipeline commits outbox rows (package outbox); every commit
// notifies channel "<schema>.outbox". A [Client] listens on it and
// dispatches at once: in one transaction it claims undispatched rows with
// FOR UPDATE SKIP LOCKED, applies the trigger rule of SPEC §4.2, records
// each row's outcome and inserts one push job per call that owes a push.
// Replicas never claim the same row. A periodic [DispatchArgs] job runs the
// same dispatch as a safety net for lost notifications.
//
// # Pushes
//
// A push job ([SalesforcePushArgs], [KintonePushArgs]) carries IDs only. A
// call has at most one push job waiting: dispatch inserts one only when the
// call's sync record names no waiting job (push_job_id). A job that starts
// pushing no longer waits, so an analysis that arrives meanwhile gets a job
// of its own; every job pushes the call's newest queued outbox row. Two
// workers never push one call at once (a lease on the sync record), and the
// record ID, the synced state and the job's completion commit together.
//
// # Batches, budgets, fairness
//
// Salesforce push jobs hand their calls to their tenant's batcher, which
// gathers them for Config.BatchWindow and pushes up to Config.BatchSize with
// one sObject Collections request, at most Config.TenantConcurrency at once;
// each call's result goes back to its own job. A tenant whose org reports
// (Sforce-Limit-Info) more than Config.BudgetSlowShare of its daily API
// requests spent is slowed down, above Config.BudgetHoldShare held. A tenant
// with Config.BacklogThreshold calls pending has its pushes dispatched to
// [QueueBacklog], so that its backlog, or its slow org, never holds up other
// tenants' calls.
//
// # Errors
//
// A push that fails is retried with River's backoff (network, 5xx, lock
// contention), pauses its tenant (REQUEST_LIMIT_EXCEEDED), parks its tenant
// until the settings are saved again (refused credentials), or fails the call
// for good (data errors): sync_records.last_error keeps the CRM's message,
// while logs and River's job errors keep only codes and field names.
package jobs
