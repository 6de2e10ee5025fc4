-- LockSecrets(SalesforceSettingsTable): lock the next batch of up to $2
-- sealed Salesforce client secrets, in tenant order after tenant $1 (''
-- for the first), for `syncd rotate-secrets` to re-seal in the same
-- transaction. Call again with the last tenant returned until fewer than $2
-- rows come back.
--
-- FOR UPDATE, not SKIP LOCKED: a row being saved is waited for (saves are
-- short), never passed over, so no secret is left under the old key.
SELECT tenant_id, client_secret_encrypted
FROM salesforce_settings
WHERE tenant_id > $1
  AND client_secret_encrypted IS NOT NULL
ORDER BY tenant_id
LIMIT $2
FOR UPDATE;
