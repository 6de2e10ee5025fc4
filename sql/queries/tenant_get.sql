-- GetTenant: tenant $1 (no row for an unknown tenant).
SELECT id, name, audit_export_pack, analytics_enabled, timezone, default_region, created_at, updated_at
FROM tenants WHERE id = $1;
