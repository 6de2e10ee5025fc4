-- Claim up to $4 of tenant $1's pending calls for target $2 ('salesforce' or
-- 'kintone') for push job $3, and lease them for $5 seconds: oldest analysis
-- first, skipping calls another job holds (a lease that has not run out), a
-- create in doubt (in_doubt_until) and calls waiting to retry (retry_at).
-- FOR UPDATE SKIP LOCKED: replicas claiming at once never take the same call.
--
-- Returns what the push needs: the stored record, whether this is the call's
-- first lease (no record of it can exist in the CRM yet, so it needs no
-- look-up), its attempts so far, the newest queued payload, and the WhoId
-- syncd set on its record before (never sent again).
WITH claimable AS (
    SELECT tenant_id, call_id, target
    FROM sync_records
    WHERE tenant_id = $1 AND target = $2 AND state = 'pending'
      AND (lease_until IS NULL OR lease_until < now())
      AND (in_doubt_until IS NULL OR in_doubt_until < now())
      AND (retry_at IS NULL OR retry_at <= now())
    ORDER BY queued_outbox_id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
),

leased AS (
    UPDATE sync_records r
    SET lease_until = now() + make_interval(secs => $5),
        leases      = r.leases + 1,
        push_job_id = $3
    FROM claimable
    WHERE r.tenant_id = claimable.tenant_id AND r.call_id = claimable.call_id AND r.target = claimable.target
    RETURNING r.call_id, r.record_id, r.object_type, r.leases, r.attempts, r.queued_outbox_id, r.who_id
)

SELECT leased.call_id, leased.record_id, leased.object_type, leased.leases = 1 AS fresh,
    leased.attempts, leased.queued_outbox_id, outbox.payload, outbox.created_at, leased.who_id
FROM leased
LEFT JOIN outbox ON outbox.id = leased.queued_outbox_id
ORDER BY leased.queued_outbox_id;
