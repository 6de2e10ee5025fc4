-- Outbox retention: delete up to $2 dispatched rows older than $1 seconds,
-- oldest first, and skipped rows ('skipped: <reason>', which a backfill hands
-- back to dispatch) only once older than $3 seconds. Rows that a sync record
-- still needs (the newest analysis of a call, which a pending push or a later
-- resync sends) are kept.
WITH doomed AS (
    SELECT id FROM outbox
    WHERE dispatched_at < now() - make_interval(secs => $1)
      AND (outcome NOT LIKE 'skipped%' OR dispatched_at < now() - make_interval(secs => $3))
      AND NOT EXISTS (SELECT FROM sync_records WHERE sync_records.queued_outbox_id = outbox.id)
    ORDER BY dispatched_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
DELETE FROM outbox USING doomed WHERE outbox.id = doomed.id;
