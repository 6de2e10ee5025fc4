-- Of the sync records just marked pending (arrays $1 tenant, $2 call,
-- $3 target), those that have no push job waiting or running: they need a
-- new one. Runs after dispatch marked them, in the same transaction, so it
-- sees jobs that concurrent dispatches committed meanwhile.
SELECT r.tenant_id, r.call_id, r.target, r.queued_outbox_id
FROM unnest($1::text[], $2::text[], $3::text[]) AS owed (tenant_id, call_id, target)
JOIN sync_records r USING (tenant_id, call_id, target)
WHERE r.push_job_id IS NULL
   OR NOT EXISTS (
       SELECT FROM river_job j
       WHERE j.id = r.push_job_id
         AND j.state IN ('available', 'pending', 'scheduled', 'retryable', 'running')
   )
ORDER BY r.tenant_id, r.call_id, r.target;
