-- Push job $3 still works: renew, for $5 seconds from now, its request slot
-- $4 of tenant $1's org (target $2) and the leases of the calls it holds.
-- Returns how many call leases it renewed.
WITH slot AS (
    UPDATE push_slots
    SET lease_until = now() + make_interval(secs => $5)
    WHERE tenant_id = $1 AND target = $2 AND slot = $4 AND job_id = $3
)
UPDATE sync_records
SET lease_until = now() + make_interval(secs => $5)
WHERE tenant_id = $1 AND target = $2 AND state = 'pending'
  AND push_job_id = $3 AND lease_until IS NOT NULL;
