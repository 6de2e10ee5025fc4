-- How the pending calls of each org ($1 tenants, $2 targets, paired) stand,
-- once the caller holds the org's lock (push_jobs_lock.sql),
-- and what push jobs and request slots it has, so that the caller inserts
-- the push jobs it lacks (in the transaction that made calls pending or
-- finished a batch):
--
--   claimable    pending calls a job could claim now (counted up to $3),
--   next_due     when no call is claimable: when the first pending call
--                becomes claimable (its lease, doubt or retry wait ends),
--   held_slots   request slots held now, and push jobs of the org that
--                started in the last $7 seconds and hold none yet (they are
--                about to take one); job $8, the caller's own, is not counted,
--   starting     those starting jobs alone: each is about to claim a batch
--                of the claimable calls,
--   jobs_due     push jobs of the org waiting to run now,
--   jobs_waiting all its waiting push jobs, snoozed ones included,
--   held         the tenant's pushes are held: credentials refused
--                (attention), REQUEST_LIMIT_EXCEEDED pause, or more than $4 of
--                the daily API budget used in the last $5 seconds; its waiting
--                jobs run when the hold ends or the settings are saved,
--   slow         more than $6 of the daily API budget is used: one request
--                at a time.
WITH orgs AS (
    SELECT DISTINCT tenant_id, target
    FROM unnest($1::text[], $2::text[]) AS o (tenant_id, target)
)

SELECT orgs.tenant_id, orgs.target, calls.claimable,
    CASE WHEN calls.claimable = 0 THEN (
        SELECT min(greatest(r.lease_until, r.in_doubt_until, r.retry_at))
        FROM sync_records r
        WHERE r.tenant_id = orgs.tenant_id AND r.target = orgs.target AND r.state = 'pending'
    ) END AS next_due,
    slots.held + slots.starting AS held_slots, slots.starting,
    jobs.due, jobs.waiting,
    coalesce(CASE orgs.target WHEN 'salesforce' THEN ss.attention ELSE ks.attention END IS NOT NULL
        OR st.paused_until > now()
        OR (st.api_max > 0 AND st.api_used >= $4::float8 * st.api_max AND st.api_at > now() - make_interval(secs => $5)),
        false) AS held,
    coalesce(st.api_max > 0 AND st.api_used >= $6::float8 * st.api_max, false) AS slow
FROM orgs
CROSS JOIN LATERAL (
    SELECT count(*) AS claimable
    FROM (
        SELECT FROM sync_records r
        WHERE r.tenant_id = orgs.tenant_id AND r.target = orgs.target AND r.state = 'pending'
          AND (r.lease_until IS NULL OR r.lease_until < now())
          AND (r.in_doubt_until IS NULL OR r.in_doubt_until < now())
          AND (r.retry_at IS NULL OR r.retry_at <= now())
        LIMIT $3
    ) AS c
) AS calls
CROSS JOIN LATERAL (
    SELECT
        (SELECT count(*) FROM push_slots s
         WHERE s.tenant_id = orgs.tenant_id AND s.target = orgs.target AND s.lease_until > now()) AS held,
        (SELECT count(*) FROM river_job j
         WHERE j.state = 'running' AND j.queue = orgs.target AND j.kind = orgs.target || '_push'
           AND j.args @> jsonb_build_object('tenant_id', orgs.tenant_id)
           AND j.attempted_at > now() - make_interval(secs => $7) AND j.id <> $8
           AND NOT EXISTS (SELECT FROM push_slots s WHERE s.job_id = j.id AND s.lease_until > now())) AS starting
) AS slots
CROSS JOIN LATERAL (
    -- Waiting push jobs of the org (River's fetch index: state, queue).
    SELECT count(*) FILTER (WHERE j.scheduled_at <= now()) AS due, count(*) AS waiting
    FROM river_job j
    WHERE j.state IN ('available', 'pending', 'retryable', 'scheduled')
      AND j.queue = orgs.target
      AND j.kind = orgs.target || '_push'
      AND j.args @> jsonb_build_object('tenant_id', orgs.tenant_id)
) AS jobs
LEFT JOIN org_state st ON st.tenant_id = orgs.tenant_id AND st.target = orgs.target
LEFT JOIN salesforce_settings ss ON ss.tenant_id = orgs.tenant_id
LEFT JOIN kintone_settings ks ON ks.tenant_id = orgs.tenant_id
ORDER BY orgs.tenant_id, orgs.target;
