-- Dispatch: claim undispatched outbox rows, up to $1 of each tenant that has
-- rows waiting, decide what becomes of each (SPEC §4.2), record the outcome,
-- and mark the sync records that now owe a push. The caller makes sure their
-- tenants have push jobs, in the same transaction.
--
-- Rows are claimed by state (dispatched_at IS NULL) with FOR UPDATE SKIP
-- LOCKED, so replicas never claim the same row and a row whose transaction
-- commits late is still claimed later. Every tenant with rows waiting is
-- served in every round, so one tenant's 100,000 waiting rows never hold up
-- another tenant's new call for more than one round.
WITH RECURSIVE waiting AS (
    -- The tenants with undispatched rows: a skip scan of
    -- outbox_undispatched_tenant_idx, one index probe per tenant.
    (SELECT tenant_id FROM outbox WHERE dispatched_at IS NULL ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT o.tenant_id FROM outbox o
            WHERE o.dispatched_at IS NULL AND o.tenant_id > waiting.tenant_id
            ORDER BY o.tenant_id LIMIT 1)
    FROM waiting
    WHERE waiting.tenant_id IS NOT NULL
),

claimed AS (
    SELECT rows.id, rows.tenant_id, rows.call_id, rows.event
    FROM waiting
    CROSS JOIN LATERAL (
        SELECT id, tenant_id, call_id, event
        FROM outbox
        WHERE dispatched_at IS NULL AND outbox.tenant_id = waiting.tenant_id
        ORDER BY id
        LIMIT $1
        FOR UPDATE SKIP LOCKED
    ) AS rows
    WHERE waiting.tenant_id IS NOT NULL
),

decided AS (
    SELECT
        claimed.id,
        claimed.tenant_id,
        claimed.call_id,
        CASE
            WHEN tenants.id IS NULL
                THEN 'skipped: unknown tenant'
            -- With analytics the analysis creates the record, without it the
            -- transcription does; the other event changes nothing.
            WHEN claimed.event <> CASE WHEN tenants.analytics_enabled THEN 'call.analysed' ELSE 'call.transcribed' END
                THEN 'ignored'
            WHEN NOT tenants.audit_export_pack
                THEN 'skipped: tenant has no Audit & Export Pack'
            WHEN salesforce_settings.enabled OR kintone_settings.enabled
                THEN 'queued'
            ELSE 'skipped: no integration enabled'
        END AS outcome,
        -- Salesforce wins over Kintone.
        CASE
            WHEN salesforce_settings.enabled THEN 'salesforce'
            WHEN kintone_settings.enabled THEN 'kintone'
        END AS target,
        CASE
            WHEN salesforce_settings.enabled THEN salesforce_settings.object_type
            WHEN kintone_settings.enabled THEN 'app:' || kintone_settings.app_id
        END AS object_type
    FROM claimed
    LEFT JOIN tenants ON tenants.id = claimed.tenant_id
    LEFT JOIN salesforce_settings ON salesforce_settings.tenant_id = claimed.tenant_id
    LEFT JOIN kintone_settings ON kintone_settings.tenant_id = claimed.tenant_id
),

marked AS (
    UPDATE outbox
    SET dispatched_at = now(),
        outcome = decided.outcome
    FROM decided
    WHERE outbox.id = decided.id
),

-- One push per record, for its newest row. A newer row makes a synced or
-- failed record pending again; an older row that committed late changes
-- nothing.
owed AS (
    INSERT INTO sync_records (tenant_id, call_id, target, object_type, queued_outbox_id)
    SELECT tenant_id, call_id, target, min(object_type), max(id)
    FROM decided
    WHERE outcome = 'queued'
    GROUP BY tenant_id, call_id, target
    ORDER BY tenant_id, call_id, target
    ON CONFLICT (tenant_id, call_id, target) DO UPDATE
    SET queued_outbox_id = excluded.queued_outbox_id,
        state = 'pending',
        retry_at = NULL,
        updated_at = now()
    WHERE sync_records.queued_outbox_id < excluded.queued_outbox_id
    RETURNING tenant_id, call_id, target, queued_outbox_id
)

-- Every claimed row, with the push it owes (target and queued_outbox_id are
-- NULL when it owes none).
SELECT decided.id, decided.tenant_id, decided.call_id, decided.outcome,
    owed.target, owed.queued_outbox_id
FROM decided
LEFT JOIN owed ON owed.queued_outbox_id = decided.id
ORDER BY decided.id;
