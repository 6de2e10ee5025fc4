-- StoreSecrets(SalesforceSettingsTable): store re-sealed client secrets.
-- $1 tenants, $2 the sealed values read (under LockSecrets' lock), $3 the
-- same secrets sealed under the current key. Its row count is how many were
-- stored.
--
-- The secret itself does not change, so neither do updated_at (the settings
-- version: the daemon keeps its CRM clients, and MarkSalesforceAttention
-- still matches), updated_by or attention.
UPDATE salesforce_settings s
SET client_secret_encrypted = r.resealed
FROM unnest($1::text[], $2::bytea[], $3::bytea[]) AS r (tenant_id, sealed, resealed)
WHERE s.tenant_id = r.tenant_id
  AND s.client_secret_encrypted = r.sealed;
