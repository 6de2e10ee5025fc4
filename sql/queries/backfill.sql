-- Backfill: make up to $3 of tenant $1's skipped outbox rows written since
-- $2, with ids above $4, undispatched again, so that dispatch decides anew
-- (for a tenant that just enabled the integration or got the pack). Returns
-- their ids; call again with the highest until none comes back.
WITH batch AS (
    SELECT id FROM outbox
    WHERE tenant_id = $1 AND created_at >= $2 AND id > $4
      AND outcome LIKE 'skipped%'
    ORDER BY id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox SET dispatched_at = NULL, outcome = NULL
FROM batch WHERE outbox.id = batch.id
RETURNING outbox.id;
