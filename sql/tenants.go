package sql

import (
	"context"
	_ "embed"
	"time"
)

// Tenants: the tenants of KoeIQ that syncd knows, and what they bought.

// Tenant is a row of tenants.
type Tenant struct {
	ID               string
	Name             string
	AuditExportPack  bool
	AnalyticsEnabled bool
	Timezone         string // IANA name
	DefaultRegion    string // ISO 3166-1 alpha-2; "" when unset
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func scanTenant(row interface{ Scan(...any) error }) (Tenant, error) {
	var t Tenant
	err := row.Scan(&t.ID, &t.Name, &t.AuditExportPack, &t.AnalyticsEnabled, &t.Timezone, &t.DefaultRegion, &t.CreatedAt, &t.UpdatedAt)
	return t, err
}

//go:embed queries/tenant_set.sql
var tenantSetSQL string

// SetTenantParams are the fields SetTenant sets; a nil one is left as it
// is, or takes its default for a new tenant ("", false, true, "UTC", "").
type SetTenantParams struct {
	ID               string
	Name             *string
	AuditExportPack  *bool
	AnalyticsEnabled *bool
	Timezone         *string
	DefaultRegion    *string // "" unsets it
}

// SetTenant creates the tenant or changes the fields given, and returns it
// as it now stands.
func SetTenant(ctx context.Context, db DBTX, p SetTenantParams) (Tenant, error) {
	return scanTenant(db.QueryRow(ctx, tenantSetSQL,
		p.ID, p.Name, p.AuditExportPack, p.AnalyticsEnabled, p.Timezone, p.DefaultRegion))
}

//go:embed queries/tenant_get.sql
var tenantGetSQL string

// GetTenant reads a tenant; pgx.ErrNoRows when there is none with that ID.
func GetTenant(ctx context.Context, db DBTX, id string) (Tenant, error) {
	return scanTenant(db.QueryRow(ctx, tenantGetSQL, id))
}
