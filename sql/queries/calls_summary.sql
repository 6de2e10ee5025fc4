-- What the summary line of tenant $1's sync log counts: its calls that
-- arrived since $2, by their state now, leaving out those whose ID begins
-- with $3 (test calls); then every call pending and failed now, whatever
-- its age, as "Retry all failed" sees them (from the partial indexes
-- alone).
SELECT
    (SELECT count(*) FROM sync_records
     WHERE tenant_id = $1 AND state = 'synced' AND created_at >= $2 AND NOT starts_with(call_id, $3)) AS synced,
    (SELECT count(*) FROM sync_records
     WHERE tenant_id = $1 AND state = 'pending' AND created_at >= $2 AND NOT starts_with(call_id, $3)) AS pending,
    (SELECT count(*) FROM sync_records
     WHERE tenant_id = $1 AND state = 'failed' AND created_at >= $2 AND NOT starts_with(call_id, $3)) AS failed,
    (SELECT count(DISTINCT o.call_id) FROM outbox o
     WHERE o.tenant_id = $1 AND o.outcome LIKE 'skipped%' AND o.created_at >= $2 AND NOT starts_with(o.call_id, $3)
       AND NOT EXISTS (SELECT FROM sync_records s WHERE s.tenant_id = o.tenant_id AND s.call_id = o.call_id)) AS skipped,
    (SELECT count(*) FROM sync_records WHERE tenant_id = $1 AND state = 'pending') AS pending_now,
    (SELECT count(*) FROM sync_records WHERE tenant_id = $1 AND state = 'failed') AS failed_now;
