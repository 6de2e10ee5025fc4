// Package settings keeps syncd's tenants and their CRM integration
// settings: what operators set with `syncd tenant set` and
// `syncd settings ...`, and tenant admins with the admin API.
//
// Saving an integration checks everything that can be checked before
// anything is written: the fields (the instance URL rules of SPEC §5.1, the
// object type), the tenant's Audit & Export Pack, and, when the integration
// is enabled, a live token request against the org. A failed check stores
// nothing and says why in words an admin understands ([*CheckError]).
// Secrets are stored only sealed (package secrets) and never returned:
// [Salesforce] and [Kintone] report only whether one is set. Secrets sealed
// under a key being replaced still open (Config.PreviousKeys);
// [Store.ResealSecrets] seals them anew under Config.Key.
package settings

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/phone"
	"github.com/koeiq/syncd/secrets"
	syncdsql "github.com/koeiq/syncd/sql"
)

// ErrNotFound is returned for a tenant or settings row that does not exist.
var ErrNotFound = errors.New("settings: not found")

// ErrPackRequired is returned when a tenant without the Audit & Export Pack
// tries to enable an integration.
var ErrPackRequired = errors.New("the Audit & Export Pack is required to enable a CRM integration")

// ValidationError says which field of a change is wrong and why.
type ValidationError struct {
	Field   string // JSON name: "instance_url", "timezone", ...
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// CheckError says why the live check against the CRM failed, for an admin.
type CheckError struct {
	// Reason is a stable code: "wrong_secret", "unknown_client_id",
	// "flow_not_enabled", "not_authorized", "unreachable", "refused".
	Reason string
	// Message explains it in words an admin understands.
	Message string
	// Err is the underlying error.
	Err error
}

func (e *CheckError) Error() string { return e.Message }
func (e *CheckError) Unwrap() error { return e.Err }

// Config configures a Store.
type Config struct {
	// Key seals and opens stored secrets (SYNCD_SECRET_KEY). Required.
	Key *secrets.Key

	// PreviousKeys open secrets sealed before Key replaced them
	// (SYNCD_SECRET_KEY_PREVIOUS), tried in order when Key does not open a
	// secret; nothing is sealed under them, and ResealSecrets moves what
	// they sealed to Key. None may be Key itself. Defaults to none.
	PreviousKeys []*secrets.Key

	// ResealBatchSize is how many secrets of a table ResealSecrets handles
	// in one transaction. Defaults to 100.
	ResealBatchSize int

	// AllowInsecureURLs accepts loopback test servers
	// (http://127.0.0.1:PORT/...) as instance and base URLs
	// (SYNCD_INSECURE_INSTANCE_URLS=1). Defaults to false.
	AllowInsecureURLs bool

	// Transport carries the live checks and the CRM clients built from the
	// settings. Defaults to a clone of http.DefaultTransport.
	Transport http.RoundTripper

	// CheckTimeout bounds a live check. Defaults to 15 seconds.
	CheckTimeout time.Duration

	// AfterSave, when set, runs inside the transaction that saves a
	// tenant's integration settings, after the row is written, with the
	// target saved ("salesforce" or "kintone"); an error rolls the save
	// back. syncd sets the hook of jobs.ResumePushes, which makes the
	// tenant's waiting pushes of the target run at once. Defaults to none.
	AfterSave func(ctx context.Context, tx pgx.Tx, tenantID, target string) error
}

// Store reads and writes tenants and settings. It is safe for concurrent
// use.
type Store struct {
	pool *pgxpool.Pool
	cfg  Config
	keys *secrets.Keyring // Key, then PreviousKeys
}

// NewStore returns a Store on pool, whose connections use syncd's schema as
// search_path.
func NewStore(pool *pgxpool.Pool, cfg *Config) (*Store, error) {
	if cfg == nil || cfg.Key == nil {
		return nil, errors.New("settings: Config.Key is required")
	}
	keys, err := secrets.NewKeyring(cfg.Key, cfg.PreviousKeys...)
	if err != nil {
		return nil, fmt.Errorf("settings: Config.PreviousKeys: %w", err)
	}
	c := *cfg
	c.CheckTimeout = cmp.Or(c.CheckTimeout, 15*time.Second)
	c.ResealBatchSize = cmp.Or(c.ResealBatchSize, 100)
	if c.ResealBatchSize < 0 {
		return nil, errors.New("settings: Config.ResealBatchSize must not be negative")
	}
	if c.Transport == nil {
		c.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &Store{pool: pool, cfg: c, keys: keys}, nil
}

// Tenant is a tenant of KoeIQ.
type Tenant struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	AuditExportPack  bool   `json:"audit_export_pack"`
	AnalyticsEnabled bool   `json:"analytics_enabled"`
	Timezone         string `json:"timezone"`
	// DefaultRegion (ISO 3166-1 alpha-2, such as "JP") reads the phone
	// numbers of calls written without a country code; "" when unset.
	DefaultRegion string    `json:"default_region"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Location returns the tenant's time zone.
func (t *Tenant) Location() *time.Location {
	loc, err := time.LoadLocation(t.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// TenantChange holds the fields to set; nil ones are left as they are (or
// take their defaults for a new tenant).
type TenantChange struct {
	Name             *string
	AuditExportPack  *bool
	AnalyticsEnabled *bool
	Timezone         *string
	DefaultRegion    *string // "" unsets it
}

// SetTenant creates the tenant or changes the given fields.
func (s *Store) SetTenant(ctx context.Context, id string, ch TenantChange) (*Tenant, error) {
	if id == "" || len([]rune(id)) > 200 {
		return nil, &ValidationError{"id", "must be 1 to 200 characters"}
	}
	if ch.Timezone != nil {
		if _, err := time.LoadLocation(*ch.Timezone); err != nil || *ch.Timezone == "" || *ch.Timezone == "Local" {
			return nil, &ValidationError{"timezone", fmt.Sprintf("%q is not an IANA time zone name such as Asia/Tokyo", *ch.Timezone)}
		}
	}
	if ch.DefaultRegion != nil {
		region := strings.ToUpper(strings.TrimSpace(*ch.DefaultRegion))
		if region != "" && !phone.ValidRegion(region) {
			return nil, &ValidationError{"default_region", fmt.Sprintf("%q is not a region code such as JP or US (ISO 3166-1 alpha-2)", *ch.DefaultRegion)}
		}
		ch.DefaultRegion = &region
	}
	row, err := syncdsql.SetTenant(ctx, s.pool, syncdsql.SetTenantParams{ID: id, Name: ch.Name, AuditExportPack: ch.AuditExportPack,
		AnalyticsEnabled: ch.AnalyticsEnabled, Timezone: ch.Timezone, DefaultRegion: ch.DefaultRegion})
	if err != nil {
		return nil, fmt.Errorf("settings: set tenant %q: %w", id, err)
	}
	return tenantOf(row), nil
}

// Tenant returns the tenant, or ErrNotFound.
func (s *Store) Tenant(ctx context.Context, id string) (*Tenant, error) {
	row, err := syncdsql.GetTenant(ctx, s.pool, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("settings: tenant %q: %w", id, err)
	}
	return tenantOf(row), nil
}

// afterSave runs Config.AfterSave, if any, in the transaction tx that saved
// the tenant's settings for target.
func (s *Store) afterSave(ctx context.Context, tx pgx.Tx, tenantID, target string) error {
	if s.cfg.AfterSave == nil {
		return nil
	}
	return s.cfg.AfterSave(ctx, tx, tenantID, target)
}

// tenantOf maps a row of tenants to a Tenant.
func tenantOf(t syncdsql.Tenant) *Tenant {
	return &Tenant{ID: t.ID, Name: t.Name, AuditExportPack: t.AuditExportPack, AnalyticsEnabled: t.AnalyticsEnabled,
		Timezone: t.Timezone, DefaultRegion: t.DefaultRegion, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

// checkTenant returns ErrNotFound for an unknown tenant and, when an
// integration is to be enabled, ErrPackRequired unless the tenant has the
// pack.
func (s *Store) checkTenant(ctx context.Context, tenantID string, enabling bool) error {
	t, err := s.Tenant(ctx, tenantID)
	if err != nil {
		return err
	}
	if enabling && !t.AuditExportPack {
		return ErrPackRequired
	}
	return nil
}

// withCheckTimeout bounds a live check.
func (s *Store) withCheckTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.CheckTimeout)
}
