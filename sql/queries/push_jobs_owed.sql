-- Of the sync records just marked pending (arrays $1 tenant, $2 call,
-- $3 target), those that have no push job waiting or running: they need a
-- new one. Runs after dispatch marked them, in the same transaction, so it
-- sees jobs that concurrent dispatches committed meanwhile. backlog says
-- whether the tenant has at least $4 calls pending: its pushes go to the
-- backlog queue, so that they do not hold up other tenants'.
WITH owed AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS owed (tenant_id, call_id, target)
),
backlog AS (
    SELECT tenant_id,
        (SELECT count(*) FROM (
            SELECT FROM sync_records p WHERE p.tenant_id = t.tenant_id AND p.state = 'pending' LIMIT $4
        ) AS pending) >= $4 AS backlog
    FROM (SELECT DISTINCT tenant_id FROM owed) AS t
)
SELECT r.tenant_id, r.call_id, r.target, r.queued_outbox_id, backlog.backlog
FROM owed
JOIN sync_records r USING (tenant_id, call_id, target)
JOIN backlog USING (tenant_id)
WHERE r.push_job_id IS NULL
   OR NOT EXISTS (
       SELECT FROM river_job j
       WHERE j.id = r.push_job_id
         AND j.state IN ('available', 'pending', 'scheduled', 'retryable', 'running')
   )
ORDER BY r.tenant_id, r.call_id, r.target;
