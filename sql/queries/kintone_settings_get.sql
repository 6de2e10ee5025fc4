-- GetKintoneSettings: tenant $1's Kintone settings, the API token still
-- sealed (no row when none are stored).
SELECT enabled, base_url, app_id, api_token_encrypted, coalesce(attention, ''), attention_at, updated_at, updated_by
FROM kintone_settings WHERE tenant_id = $1;
