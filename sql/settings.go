package sql

import (
	"context"
	_ "embed"
	"time"
)

// Integration settings: each tenant's Salesforce (salesforce_settings) and
// Kintone (kintone_settings) settings, their secrets sealed (package
// secrets), and the re-sealing of those secrets under a new key.

// SalesforceSettings is a row of salesforce_settings.
type SalesforceSettings struct {
	Enabled     bool
	InstanceURL string
	ClientID    string
	// ClientSecretSealed is the sealed client secret; nil when none is
	// stored.
	ClientSecretSealed []byte
	ObjectType         string
	ExternalIDField    *string // nil when none is set
	Attention          string  // "" when the settings are not marked
	AttentionAt        *time.Time
	UpdatedAt          time.Time // the settings version
	UpdatedBy          string
	LinkWho            bool
	AssignOwner        bool
	PhoneFields        []string
	WhoField           string // "" when unset
	OwnerField         string // "" when unset
}

//go:embed queries/salesforce_settings_get.sql
var salesforceSettingsGetSQL string

// GetSalesforceSettings reads the tenant's Salesforce settings;
// pgx.ErrNoRows when none are stored.
func GetSalesforceSettings(ctx context.Context, db DBTX, tenantID string) (SalesforceSettings, error) {
	var v SalesforceSettings
	err := db.QueryRow(ctx, salesforceSettingsGetSQL, tenantID).Scan(
		&v.Enabled, &v.InstanceURL, &v.ClientID, &v.ClientSecretSealed, &v.ObjectType, &v.ExternalIDField,
		&v.Attention, &v.AttentionAt, &v.UpdatedAt, &v.UpdatedBy,
		&v.LinkWho, &v.AssignOwner, &v.PhoneFields, &v.WhoField, &v.OwnerField)
	return v, err
}

//go:embed queries/salesforce_settings_save.sql
var salesforceSettingsSaveSQL string

// SaveSalesforceSettingsParams are the Salesforce settings to store.
type SaveSalesforceSettingsParams struct {
	TenantID    string
	Enabled     bool
	InstanceURL string
	ClientID    string
	// ClientSecretSealed replaces the stored secret; nil keeps it.
	ClientSecretSealed []byte
	ObjectType         string
	ExternalIDField    *string // nil for none
	UpdatedBy          string  // who saved
	// The call matching settings: nil keeps the stored value (off, none or
	// unset for new settings); "" unsets WhoField and OwnerField.
	LinkWho     *bool
	AssignOwner *bool
	PhoneFields *[]string
	WhoField    *string
	OwnerField  *string
}

// SaveSalesforceSettings stores the tenant's Salesforce settings, clearing
// any attention mark and moving the settings version (UpdatedAt).
func SaveSalesforceSettings(ctx context.Context, db DBTX, p SaveSalesforceSettingsParams) error {
	_, err := db.Exec(ctx, salesforceSettingsSaveSQL,
		p.TenantID, p.Enabled, p.InstanceURL, p.ClientID, p.ClientSecretSealed, p.ObjectType, p.ExternalIDField, p.UpdatedBy,
		p.LinkWho, p.AssignOwner, p.PhoneFields, p.WhoField, p.OwnerField)
	return err
}

// KintoneSettings is a row of kintone_settings.
type KintoneSettings struct {
	Enabled bool
	BaseURL string
	AppID   int64
	// APITokenSealed is the sealed API token; nil when none is stored.
	APITokenSealed []byte
	Attention      string // "" when the settings are not marked
	AttentionAt    *time.Time
	UpdatedAt      time.Time // the settings version
	UpdatedBy      string
}

//go:embed queries/kintone_settings_get.sql
var kintoneSettingsGetSQL string

// GetKintoneSettings reads the tenant's Kintone settings; pgx.ErrNoRows
// when none are stored.
func GetKintoneSettings(ctx context.Context, db DBTX, tenantID string) (KintoneSettings, error) {
	var v KintoneSettings
	err := db.QueryRow(ctx, kintoneSettingsGetSQL, tenantID).Scan(
		&v.Enabled, &v.BaseURL, &v.AppID, &v.APITokenSealed, &v.Attention, &v.AttentionAt, &v.UpdatedAt, &v.UpdatedBy)
	return v, err
}

//go:embed queries/kintone_settings_save.sql
var kintoneSettingsSaveSQL string

// SaveKintoneSettingsParams are the Kintone settings to store.
type SaveKintoneSettingsParams struct {
	TenantID string
	Enabled  bool
	BaseURL  string
	AppID    int64
	// APITokenSealed replaces the stored token; nil keeps it.
	APITokenSealed []byte
	UpdatedBy      string // who saved
}

// SaveKintoneSettings stores the tenant's Kintone settings, clearing any
// attention mark and moving the settings version (UpdatedAt).
func SaveKintoneSettings(ctx context.Context, db DBTX, p SaveKintoneSettingsParams) error {
	_, err := db.Exec(ctx, kintoneSettingsSaveSQL, p.TenantID, p.Enabled, p.BaseURL, p.AppID, p.APITokenSealed, p.UpdatedBy)
	return err
}

// SettingsTable is one CRM's settings table, for the queries the two have
// alike.
type SettingsTable int

// The settings tables.
const (
	SalesforceSettingsTable SettingsTable = iota // salesforce_settings
	KintoneSettingsTable                         // kintone_settings
)

var (
	//go:embed queries/salesforce_attention_mark.sql
	salesforceAttentionMarkSQL string
	//go:embed queries/kintone_attention_mark.sql
	kintoneAttentionMarkSQL string
	//go:embed queries/reseal_salesforce_lock.sql
	resealSalesforceLockSQL string
	//go:embed queries/reseal_salesforce_store.sql
	resealSalesforceStoreSQL string
	//go:embed queries/reseal_kintone_lock.sql
	resealKintoneLockSQL string
	//go:embed queries/reseal_kintone_store.sql
	resealKintoneStoreSQL string
)

// settingsQueries are the queries of each SettingsTable.
var settingsQueries = [...]struct{ markAttention, lockSecrets, storeSecrets string }{
	SalesforceSettingsTable: {salesforceAttentionMarkSQL, resealSalesforceLockSQL, resealSalesforceStoreSQL},
	KintoneSettingsTable:    {kintoneAttentionMarkSQL, resealKintoneLockSQL, resealKintoneStoreSQL},
}

// MarkAttention records that the CRM of table refused the tenant's
// credentials (reason says how), unless the settings changed since version
// (their UpdatedAt) was read or are marked already.
func MarkAttention(ctx context.Context, db DBTX, table SettingsTable, tenantID string, version time.Time, reason string) error {
	_, err := db.Exec(ctx, settingsQueries[table].markAttention, tenantID, version, reason)
	return err
}

// SealedSecret is a tenant's secret as stored, sealed.
type SealedSecret struct {
	TenantID string
	Sealed   []byte
}

// LockSecrets locks, for re-sealing in db's transaction, the next limit
// sealed secrets of table (Salesforce client secrets, Kintone API tokens)
// in tenant order after afterTenant ("" for the first). Call again with the
// last tenant returned until fewer than limit come back.
func LockSecrets(ctx context.Context, db DBTX, table SettingsTable, afterTenant string, limit int) ([]SealedSecret, error) {
	return queryRows(ctx, db, func(s *SealedSecret) []any { return []any{&s.TenantID, &s.Sealed} },
		settingsQueries[table].lockSecrets, afterTenant, limit)
}

// StoreSecrets stores re-sealed secrets of table: for each tenant
// tenants[i], resealed[i] replaces sealed[i], the value read under
// LockSecrets' lock. It returns how many were stored. The settings version
// does not change.
func StoreSecrets(ctx context.Context, db DBTX, table SettingsTable, tenants []string, sealed, resealed [][]byte) (int64, error) {
	tag, err := db.Exec(ctx, settingsQueries[table].storeSecrets, tenants, sealed, resealed)
	return tag.RowsAffected(), err
}
