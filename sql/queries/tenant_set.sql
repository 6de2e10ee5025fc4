-- SetTenant: create tenant $1 or change the fields given. $2 name, $3
-- audit_export_pack, $4 analytics_enabled, $5 timezone, $6 default_region;
-- a NULL leaves the field as it is (a new tenant takes '', false, true,
-- 'UTC', ''). Returns the tenant as it now stands.
INSERT INTO tenants (id, name, audit_export_pack, analytics_enabled, timezone, default_region)
VALUES ($1, coalesce($2, ''), coalesce($3, false), coalesce($4, true), coalesce($5, 'UTC'), coalesce($6, ''))
ON CONFLICT (id) DO UPDATE SET
    name              = coalesce($2, tenants.name),
    audit_export_pack = coalesce($3, tenants.audit_export_pack),
    analytics_enabled = coalesce($4, tenants.analytics_enabled),
    timezone          = coalesce($5, tenants.timezone),
    default_region    = coalesce($6, tenants.default_region),
    updated_at        = now()
RETURNING id, name, audit_export_pack, analytics_enabled, timezone, default_region, created_at, updated_at;
