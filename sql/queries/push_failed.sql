-- A push of outbox row $5 failed with $4 and releases the lease. When $6
-- (final) the record is failed, unless a newer outbox row was queued
-- meanwhile (its own push job will try it). Otherwise job $7 waits to try
-- again, and is the call's waiting push job unless another one is.
UPDATE sync_records
SET last_error  = $4,
    attempts    = attempts + 1,
    state       = CASE WHEN $6 AND queued_outbox_id <= $5 THEN 'failed' ELSE state END,
    push_job_id = CASE WHEN $6 THEN push_job_id ELSE coalesce(push_job_id, $7) END,
    lease_until = NULL,
    updated_at  = now()
WHERE tenant_id = $1 AND call_id = $2 AND target = $3;
