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
package jobs
