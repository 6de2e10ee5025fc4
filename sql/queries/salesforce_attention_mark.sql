-- MarkAttention(SalesforceSettingsTable): record that Salesforce refused
-- tenant $1's credentials, $3 saying how, unless the settings changed since
-- version $2 (their updated_at) was read or are marked already: a push that
-- failed with old settings must not park new ones.
UPDATE salesforce_settings SET attention = $3, attention_at = now()
WHERE tenant_id = $1 AND updated_at = $2 AND attention IS NULL;
