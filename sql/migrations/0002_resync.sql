-- syncd schema version 2: re-enqueueing with plain SQL.
--
-- Both functions go through the outbox, so they are transactional and safe
-- while the daemon runs: the new outbox row is dispatched like any other,
-- and since the call's record ID is stored, the push updates the record.

-- resync pushes one call again: it enqueues a copy of the call's newest
-- event of the kind that creates records for the tenant (call.analysed, or
-- call.transcribed without analytics). It returns how many calls it queued:
-- 1, or 0 when the outbox holds no such event of the call.
--
--   SELECT syncd.resync('t1', 'c-123');
CREATE FUNCTION resync(tenant_id text, call_id text) RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
DECLARE
    newest outbox;
BEGIN
    SELECT outbox.* INTO newest
    FROM outbox
    LEFT JOIN tenants ON tenants.id = outbox.tenant_id
    WHERE outbox.tenant_id = resync.tenant_id
      AND outbox.call_id = resync.call_id
      AND outbox.event = CASE WHEN coalesce(tenants.analytics_enabled, true)
                              THEN 'call.analysed' ELSE 'call.transcribed' END
    ORDER BY outbox.id DESC
    LIMIT 1;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    PERFORM enqueue(newest.tenant_id, newest.call_id, newest.event, newest.payload);
    RETURN 1;
END
$$;

-- retry_failed pushes again every call whose sync record failed, of one
-- tenant or, with NULL, of all tenants. It returns how many calls it queued.
--
--   SELECT syncd.retry_failed('t1');
--   SELECT syncd.retry_failed(NULL);
CREATE FUNCTION retry_failed(tenant_id text) RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
    SELECT coalesce(sum(resync(failed.tenant_id, failed.call_id)), 0)::integer
    FROM (
        SELECT DISTINCT sync_records.tenant_id, sync_records.call_id
        FROM sync_records
        WHERE sync_records.state = 'failed'
          AND (retry_failed.tenant_id IS NULL OR sync_records.tenant_id = retry_failed.tenant_id)
    ) AS failed
$$;

REVOKE ALL ON FUNCTION resync(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION retry_failed(text) FROM PUBLIC;
