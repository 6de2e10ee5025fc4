-- A push stored outbox row $6 in the CRM as record $4 of type $5: keep the
-- ID and release the lease. The record is synced unless a newer outbox row
-- was queued meanwhile; that row has a push job of its own.
UPDATE sync_records
SET record_id   = $4,
    object_type = $5,
    outbox_id   = $6,
    state       = CASE WHEN queued_outbox_id > $6 THEN 'pending' ELSE 'synced' END,
    synced_at   = now(),
    last_error  = NULL,
    attempts    = attempts + 1,
    lease_until = NULL,
    updated_at  = now()
WHERE tenant_id = $1 AND call_id = $2 AND target = $3;
