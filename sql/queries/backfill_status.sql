-- Backfill status: how many of tenant $1's outbox rows written since $2 wait
-- for dispatch, and how many of its calls wait for a push.
SELECT
    (SELECT count(*) FROM outbox WHERE tenant_id = $1 AND created_at >= $2 AND dispatched_at IS NULL),
    (SELECT count(*) FROM sync_records WHERE tenant_id = $1 AND state = 'pending');
