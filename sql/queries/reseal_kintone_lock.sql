-- LockSecrets(KintoneSettingsTable): lock the next batch of up to $2
-- sealed Kintone API tokens, in tenant order after tenant $1 ('' for the
-- first), for `syncd rotate-secrets` to re-seal in the same transaction.
-- Call again with the last tenant returned until fewer than $2 rows come
-- back.
--
-- FOR UPDATE, not SKIP LOCKED: a row being saved is waited for (saves are
-- short), never passed over, so no secret is left under the old key.
SELECT tenant_id, api_token_encrypted
FROM kintone_settings
WHERE tenant_id > $1
  AND api_token_encrypted IS NOT NULL
ORDER BY tenant_id
LIMIT $2
FOR UPDATE;
