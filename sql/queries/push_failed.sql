-- A push of outbox row $5 failed with $4 and releases the lease. When $6
-- (final) the record is failed, unless a newer outbox row was queued
-- meanwhile, which may fare better; the result says whether one was.
UPDATE sync_records
SET last_error  = $4,
    attempts    = attempts + 1,
    state       = CASE WHEN $6 AND queued_outbox_id <= $5 THEN 'failed' ELSE state END,
    lease_until = NULL,
    updated_at  = now()
WHERE tenant_id = $1 AND call_id = $2 AND target = $3
RETURNING queued_outbox_id > $5;
