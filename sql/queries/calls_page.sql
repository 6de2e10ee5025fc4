-- One page of tenant $1's sync log, newest first: a row per call and
-- target from sync_records, and a row (target '') per call whose newest
-- outbox row was skipped and that has no sync record. $2 is the state to
-- list ('synced', 'pending', 'failed', 'skipped', or '' for all); the page
-- starts after the row whose key (created_at, call_id, target) is
-- ($3, $4, $5) ('infinity', '', '' for the first page); $6 is the page size.
--
-- Each state is read newest first from its own range of
-- sync_records_log_idx (skipped rows from outbox_skipped_idx), at most $6
-- rows each, and the ranges are merged: a page costs the same however many
-- calls the tenant has.
SELECT call_id, target, state, object_type, record_id, attempts, last_error, skipped_reason,
    retry_at, last_push_at, synced_at, created_at, match, who_id, who_type, owner_id, owner_note
FROM (
    SELECT r.*
    FROM (VALUES ('synced'), ('pending'), ('failed')) AS states (state)
    CROSS JOIN LATERAL (
        SELECT call_id, target, state, object_type, record_id, attempts, last_error, NULL AS skipped_reason,
            greatest(retry_at, in_doubt_until) AS retry_at,
            CASE WHEN attempts > 0 THEN updated_at END AS last_push_at, synced_at, created_at,
            match, who_id, who_type, owner_id, owner_note
        FROM sync_records
        WHERE tenant_id = $1 AND sync_records.state = states.state AND $2 IN ('', states.state)
          AND (created_at, call_id, target) < ($3, $4, $5)
        ORDER BY created_at DESC, call_id DESC, target DESC
        LIMIT $6
    ) AS r
    UNION ALL
    (SELECT o.call_id, '', 'skipped', NULL, NULL, 0, NULL, ltrim(substr(o.outcome, length('skipped:') + 1)),
        NULL, NULL, NULL, o.created_at, NULL, NULL, NULL, NULL, NULL
     FROM outbox o
     WHERE o.tenant_id = $1 AND o.outcome LIKE 'skipped%' AND $2 IN ('', 'skipped')
       AND (o.created_at, o.call_id, '') < ($3, $4, $5)
       -- the call's newest skipped row, and only while nothing pushes it
       AND NOT EXISTS (SELECT FROM outbox n
                       WHERE n.tenant_id = o.tenant_id AND n.call_id = o.call_id
                         AND n.id > o.id AND n.outcome LIKE 'skipped%')
       AND NOT EXISTS (SELECT FROM sync_records s
                       WHERE s.tenant_id = o.tenant_id AND s.call_id = o.call_id)
     ORDER BY o.created_at DESC, o.call_id DESC
     LIMIT $6)
) AS page
ORDER BY created_at DESC, call_id DESC, target DESC
LIMIT $6;
