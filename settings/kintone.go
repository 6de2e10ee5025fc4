package settings

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/kintone"
	"github.com/koeiq/syncd/mapping"
	"github.com/koeiq/syncd/secrets"
	syncdsql "github.com/koeiq/syncd/sql"
)

// Kintone is a tenant's Kintone settings. The API token is never part of
// it: APITokenSet says whether one is stored.
type Kintone struct {
	TenantID    string     `json:"-"`
	Enabled     bool       `json:"enabled"`
	BaseURL     string     `json:"base_url"`
	AppID       int64      `json:"app_id"`
	APITokenSet bool       `json:"api_token_set"`
	Attention   string     `json:"attention,omitempty"`
	AttentionAt *time.Time `json:"attention_at,omitempty"`
	UpdatedAt   time.Time  `json:"updated_at"`
	UpdatedBy   string     `json:"updated_by"`
}

// KintoneInput is a change of Kintone settings.
type KintoneInput struct {
	Enabled bool
	BaseURL string
	AppID   int64
	// APIToken replaces the stored token; nil keeps it.
	APIToken *string
}

func (s *Store) validateKintone(in KintoneInput) (KintoneInput, error) {
	u, err := kintone.ValidateBaseURL(strings.TrimSpace(in.BaseURL), s.cfg.AllowInsecureURLs)
	if err != nil {
		return in, &ValidationError{"base_url", "must be your Kintone address, such as https://example.cybozu.com"}
	}
	in.BaseURL = strings.TrimSuffix(u.String(), "/")
	if in.AppID <= 0 {
		return in, &ValidationError{"app_id", "must be the app's number (the N in /k/N/)"}
	}
	if in.APIToken != nil {
		token := strings.TrimSpace(*in.APIToken)
		if token == "" || len(token) > 1024 || strings.ContainsAny(token, " \t\r\n") {
			return in, &ValidationError{"api_token", "must be an API token of the app"}
		}
		in.APIToken = &token
	}
	return in, nil
}

// SaveKintone validates in, checks the token against the app when
// in.Enabled, and only then stores the settings, token sealed. Like
// SaveSalesforce it clears any attention mark and runs Config.AfterSave.
func (s *Store) SaveKintone(ctx context.Context, tenantID string, in KintoneInput, by string) (*Kintone, error) {
	return save(ctx, s, kintoneIntegration, tenantID, in, by)
}

// kintoneIntegration is how Kintone settings are saved, read and marked.
var kintoneIntegration = &integration[KintoneInput, Kintone]{
	target: "kintone", secretName: "kintone api token", secretField: "api_token",
	purpose:  secrets.KintoneAPIToken,
	table:    syncdsql.KintoneSettingsTable,
	validate: (*Store).validateKintone,
	input:    func(in KintoneInput) (bool, *string) { return in.Enabled, in.APIToken },
	load:     (*Store).loadKintone,
	check:    (*Store).checkKintone,
	upsert: func(ctx context.Context, tx pgx.Tx, tenantID string, in KintoneInput, sealed []byte, by string) error {
		return syncdsql.SaveKintoneSettings(ctx, tx, syncdsql.SaveKintoneSettingsParams{
			TenantID: tenantID, Enabled: in.Enabled, BaseURL: in.BaseURL, AppID: in.AppID, APITokenSealed: sealed, UpdatedBy: by,
		})
	},
}

// checkKintone reads the app's fields with token.
func (s *Store) checkKintone(ctx context.Context, in KintoneInput, token string) error {
	_, err := s.kintoneFields(ctx, s.kintoneConfig(in.BaseURL, in.AppID, token))
	return err
}

// kintoneConfig is the kintone.Config of the app at baseURL with token, on
// the store's transport.
func (s *Store) kintoneConfig(baseURL string, appID int64, token string) kintone.Config {
	return kintone.Config{BaseURL: baseURL, AppID: appID, APIToken: crm.Secret(token),
		AllowInsecureLoopback: s.cfg.AllowInsecureURLs, Transport: s.cfg.Transport}
}

// kintoneFields reads the fields of the app of cfg within the check
// timeout; a failure the app answers comes back as a *CheckError.
func (s *Store) kintoneFields(ctx context.Context, cfg kintone.Config) (map[string]kintone.Field, error) {
	cfg.Timeout = s.cfg.CheckTimeout
	client, err := kintone.NewClient(&cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.withCheckTimeout(ctx)
	defer cancel()
	fields, err := client.Fields(ctx)
	if err != nil {
		return nil, kintoneCheckError(cfg.BaseURL, err)
	}
	return fields, nil
}

// kintoneCheckError explains a failed check against the app to an admin.
func kintoneCheckError(baseURL string, err error) *CheckError {
	var ae *kintone.APIError
	if !errors.As(err, &ae) {
		return &CheckError{Reason: "unreachable", Err: err,
			Message: fmt.Sprintf("Could not reach %s. Check the Kintone address.", baseURL)}
	}
	switch ae.Code {
	case "GAIA_IA02", "GAIA_AP15", "CB_AU01", "GAIA_DA03":
		return &CheckError{Reason: "wrong_token", Err: err,
			Message: fmt.Sprintf("Kintone refused the API token for this app (%s). Generate a token in the app's settings and save it again.", ae.Code)}
	case "GAIA_NO01", "CB_NO02":
		return &CheckError{Reason: "not_authorized", Err: err,
			Message: fmt.Sprintf("The API token lacks a permission (%s). Give it View, Add and Edit records.", ae.Code)}
	case "GAIA_AP01":
		return &CheckError{Reason: "unknown_app", Err: err,
			Message: "Kintone has no app with this ID (GAIA_AP01)."}
	}
	if ae.StatusCode >= 500 {
		return &CheckError{Reason: "unreachable", Err: err,
			Message: fmt.Sprintf("%s did not answer properly (HTTP %d). Try again later.", baseURL, ae.StatusCode)}
	}
	return &CheckError{Reason: "refused", Err: err, Message: fmt.Sprintf("Kintone refused the request (%s).", ae.Code)}
}

// Kintone returns the tenant's Kintone settings, or ErrNotFound.
func (s *Store) Kintone(ctx context.Context, tenantID string) (*Kintone, error) {
	return kintoneIntegration.get(ctx, s, tenantID)
}

// KintoneConfig returns the tenant's settings and a kintone.Config holding
// its credentials (the token opened).
func (s *Store) KintoneConfig(ctx context.Context, tenantID string) (*Kintone, kintone.Config, error) {
	v, token, err := kintoneIntegration.open(ctx, s, tenantID)
	if err != nil {
		return nil, kintone.Config{}, err
	}
	return v, s.kintoneConfig(v.BaseURL, v.AppID, token), nil
}

// loadKintone reads the tenant's settings and its sealed API token (nil
// when none is stored).
func (s *Store) loadKintone(ctx context.Context, tenantID string) (*Kintone, []byte, error) {
	row, err := getSettings(ctx, s, "kintone", tenantID, syncdsql.GetKintoneSettings)
	if err != nil {
		return nil, nil, err
	}
	v := &Kintone{TenantID: tenantID, Enabled: row.Enabled, BaseURL: row.BaseURL, AppID: row.AppID,
		APITokenSet: row.APITokenSealed != nil, Attention: row.Attention, AttentionAt: row.AttentionAt,
		UpdatedAt: row.UpdatedAt, UpdatedBy: row.UpdatedBy}
	return v, row.APITokenSealed, nil
}

// MarkKintoneAttention is MarkSalesforceAttention for Kintone.
func (s *Store) MarkKintoneAttention(ctx context.Context, tenantID string, version time.Time, reason string) error {
	return kintoneIntegration.markAttention(ctx, s, tenantID, version, reason)
}

// KintoneReport is what "Test connection" found for Kintone.
type KintoneReport struct {
	OK            bool     `json:"ok"`
	BaseURL       string   `json:"base_url"`
	AppID         int64    `json:"app_id"`
	Problems      []string `json:"problems"`
	MissingFields []string `json:"missing_fields"`
}

// TestKintone reads the app's form with the stored token and reports the
// fields syncd writes that the app lacks, and whether call_id can identify a
// call's record.
func (s *Store) TestKintone(ctx context.Context, tenantID string) (*KintoneReport, error) {
	v, token, err := kintoneIntegration.openSet(ctx, s, tenantID)
	if err != nil {
		return nil, err
	}
	fields, err := s.kintoneFields(ctx, s.kintoneConfig(v.BaseURL, v.AppID, token))
	if err != nil {
		return nil, err
	}
	r := &KintoneReport{BaseURL: v.BaseURL, AppID: v.AppID, Problems: []string{}, MissingFields: []string{}}
	for _, code := range mapping.KintoneFields() {
		if _, ok := fields[code]; !ok {
			r.MissingFields = append(r.MissingFields, code)
		}
	}
	if len(r.MissingFields) > 0 {
		r.Problems = append(r.Problems, "The app has no field with the code "+strings.Join(r.MissingFields, ", ")+".")
	}
	if key, ok := fields[mapping.KintoneKeyField]; ok && (!key.Unique || key.Type != "SINGLE_LINE_TEXT") {
		r.Problems = append(r.Problems, "The field call_id must be a Text field with \"Prohibit duplicate values\" on, so a call is never written twice.")
	}
	r.OK = len(r.Problems) == 0
	return r, nil
}
