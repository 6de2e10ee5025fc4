-- Backfill check: whether tenant $1 has the Audit & Export Pack, and
-- whether it has an integration enabled; no row for an unknown tenant.
-- Without both, dispatch would only skip the rows again.
SELECT t.audit_export_pack,
       coalesce((SELECT enabled FROM salesforce_settings WHERE tenant_id = t.id), false)
       OR coalesce((SELECT enabled FROM kintone_settings WHERE tenant_id = t.id), false)
FROM tenants t
WHERE t.id = $1;
