-- Tenant $1's calls whose ID begins with $2, in call ID order (by bytes),
-- one page: rows after the call ID $4 and target $5 ($4 = '' for the first
-- page), at most $6, of state $7 ('' for all). $3 is where the range
-- starts: the greater, by bytes, of $2 and $4. Rows are shaped as in
-- calls_page.sql.
--
-- sync_records is read from one range of sync_records_call_prefix_idx; the
-- skipped rows of the tenant are few (a backfill or retention clears them)
-- and are filtered.
SELECT call_id, target, state, object_type, record_id, attempts, last_error, skipped_reason,
    retry_at, last_push_at, synced_at, created_at, match, who_id, who_type, owner_id, owner_note
FROM (
    (SELECT call_id, target, state, object_type, record_id, attempts, last_error, NULL AS skipped_reason,
        greatest(retry_at, in_doubt_until) AS retry_at,
        CASE WHEN attempts > 0 THEN updated_at END AS last_push_at, synced_at, created_at,
        match, who_id, who_type, owner_id, owner_note
     FROM sync_records
     WHERE tenant_id = $1
       AND call_id ~>=~ $3 AND call_id ~<~ ($2 || U&'\+10FFFF')
       AND starts_with(call_id, $2)
       AND NOT (call_id = $4 AND target <= $5)
       AND $7 IN ('', state)
     ORDER BY call_id USING ~<~, target
     LIMIT $6)
    UNION ALL
    (SELECT DISTINCT ON (o.call_id COLLATE "C") o.call_id, '', 'skipped', NULL, NULL, 0, NULL,
        ltrim(substr(o.outcome, length('skipped:') + 1)), NULL, NULL, NULL, o.created_at, NULL, NULL, NULL, NULL, NULL
     FROM outbox o
     WHERE o.tenant_id = $1 AND o.outcome LIKE 'skipped%' AND $7 IN ('', 'skipped')
       AND starts_with(o.call_id, $2) AND o.call_id ~>~ $4
       AND NOT EXISTS (SELECT FROM sync_records s
                       WHERE s.tenant_id = o.tenant_id AND s.call_id = o.call_id)
     ORDER BY o.call_id COLLATE "C", o.id DESC
     LIMIT $6)
) AS page
ORDER BY call_id COLLATE "C", target
LIMIT $6;
