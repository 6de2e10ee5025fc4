-- SaveKintoneSettings: store tenant $1's Kintone settings. $2 enabled, $3
-- base URL, $4 app ID, $5 the sealed API token (NULL keeps the stored one),
-- $6 who saved.
--
-- Saving clears the attention mark and moves updated_at, the settings
-- version.
INSERT INTO kintone_settings (tenant_id, enabled, base_url, app_id, api_token_encrypted, updated_by)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant_id) DO UPDATE SET
    enabled             = excluded.enabled,
    base_url            = excluded.base_url,
    app_id              = excluded.app_id,
    api_token_encrypted = coalesce(excluded.api_token_encrypted, kintone_settings.api_token_encrypted),
    attention           = NULL,
    attention_at        = NULL,
    updated_at          = now(),
    updated_by          = excluded.updated_by;
