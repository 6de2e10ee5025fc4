-- Backfill count: how many of tenant $1's outbox rows written since $2 are
-- skipped ('skipped: <reason>'), the rows a backfill hands back.
SELECT count(*) FROM outbox
WHERE tenant_id = $1 AND created_at >= $2 AND outcome LIKE 'skipped%';
