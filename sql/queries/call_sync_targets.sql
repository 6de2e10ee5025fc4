-- ListCallSyncTargets: what each CRM holds of tenant $1's call $2, one row
-- per target in target order (none before a push is owed).
SELECT target, state, coalesce(object_type, ''), coalesce(record_id, ''), coalesce(last_error, ''),
    attempts, synced_at, updated_at, coalesce(match, ''), coalesce(who_id, ''), coalesce(who_type, ''),
    coalesce(owner_id, ''), coalesce(owner_note, '')
FROM sync_records WHERE tenant_id = $1 AND call_id = $2 ORDER BY target;
