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
// A push job ([SalesforcePushArgs], [KintonePushArgs]) carries IDs only and
// is unique per (tenant, call) while it waits; whichever job runs pushes the
// call's newest queued outbox row, and if a newer row arrives while it runs,
// it leaves the record pending and queues a follow-up in the transaction that
// completes it.
package jobs
