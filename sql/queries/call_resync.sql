-- Resync: push tenant $1's call $2 again (the SQL function resync,
-- migration 0002): a copy of the call's newest event of the kind that
-- creates records for the tenant goes through the outbox. Returns how many
-- calls were queued: 1, or 0 when the outbox holds no such event of the
-- call.
SELECT resync($1, $2);
