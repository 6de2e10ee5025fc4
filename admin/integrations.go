package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/koeiq/syncd/kintone"
	"github.com/koeiq/syncd/settings"
)

// salesforceBody is the body of PUT /api/v1/integrations/salesforce.
type salesforceBody struct {
	Enabled     *bool  `json:"enabled"`
	InstanceURL string `json:"instance_url"`
	ClientID    string `json:"client_id"`
	// ClientSecret replaces the stored secret; absent, null or "" keeps it.
	ClientSecret    *string `json:"client_secret"`
	ObjectType      string  `json:"object_type"`
	ExternalIDField string  `json:"external_id_field"`
	// The call matching settings; absent or null keeps the stored value.
	LinkWho     *bool     `json:"link_who"`
	AssignOwner *bool     `json:"assign_owner"`
	PhoneFields *[]string `json:"phone_fields"`
	WhoField    *string   `json:"who_field"`
	OwnerField  *string   `json:"owner_field"`
}

func (s *server) getSalesforce(w http.ResponseWriter, r *http.Request, c *Claims) error {
	return getSettings(w, r, c, s.cfg.Settings.Salesforce, &settings.Salesforce{ObjectType: "Task", PhoneFields: []string{}})
}

func (b *salesforceBody) input() (settings.SalesforceInput, error) {
	if b.Enabled == nil {
		return settings.SalesforceInput{}, errEnabledRequired()
	}
	return settings.SalesforceInput{
		Enabled:         *b.Enabled,
		InstanceURL:     b.InstanceURL,
		ClientID:        b.ClientID,
		ClientSecret:    emptyIsNil(b.ClientSecret),
		ObjectType:      b.ObjectType,
		ExternalIDField: b.ExternalIDField,
		LinkWho:         b.LinkWho,
		AssignOwner:     b.AssignOwner,
		PhoneFields:     b.PhoneFields,
		WhoField:        b.WhoField,
		OwnerField:      b.OwnerField,
	}, nil
}

func (s *server) putSalesforce(w http.ResponseWriter, r *http.Request, c *Claims) error {
	return putSettings(s, w, r, c, &salesforceBody{}, s.cfg.Settings.SaveSalesforce)
}

func (s *server) testSalesforce(w http.ResponseWriter, r *http.Request, c *Claims) error {
	return testSettings(w, r, c, "Salesforce", s.cfg.Settings.TestSalesforce)
}

// kintoneBody is the body of PUT /api/v1/integrations/kintone.
type kintoneBody struct {
	Enabled *bool  `json:"enabled"`
	BaseURL string `json:"base_url"`
	AppID   int64  `json:"app_id"`
	// APIToken replaces the stored token; absent, null or "" keeps it.
	APIToken *string `json:"api_token"`
}

func (s *server) getKintone(w http.ResponseWriter, r *http.Request, c *Claims) error {
	return getSettings(w, r, c, s.cfg.Settings.Kintone, &settings.Kintone{})
}

func (b *kintoneBody) input() (settings.KintoneInput, error) {
	if b.Enabled == nil {
		return settings.KintoneInput{}, errEnabledRequired()
	}
	return settings.KintoneInput{
		Enabled:  *b.Enabled,
		BaseURL:  b.BaseURL,
		AppID:    b.AppID,
		APIToken: emptyIsNil(b.APIToken),
	}, nil
}

func (s *server) putKintone(w http.ResponseWriter, r *http.Request, c *Claims) error {
	return putSettings(s, w, r, c, &kintoneBody{}, func(ctx context.Context, tenantID string, in settings.KintoneInput, by string) (*settings.Kintone, error) {
		st, err := s.cfg.Settings.SaveKintone(ctx, tenantID, in, by)
		if errors.Is(err, kintone.ErrInvalidConfig) {
			// The settings passed validation, but the client refused the token
			// (sent or stored): it holds a character an HTTP header cannot carry.
			return nil, badField("api_token", "api_token must be an API token of the app (letters, digits and punctuation)")
		}
		return st, err
	})
}

func (s *server) testKintone(w http.ResponseWriter, r *http.Request, c *Claims) error {
	return testSettings(w, r, c, "Kintone", s.cfg.Settings.TestKintone)
}

// settingsBody is the body of PUT /api/v1/integrations/{crm}: input makes
// the change of settings it asks for, refusing a body without enabled.
type settingsBody[In any] interface {
	input() (In, error)
}

func errEnabledRequired() error {
	return badField("enabled", "enabled is required (true or false)")
}

// putSettings answers PUT /api/v1/integrations/{crm}: it decodes body, saves
// the change it asks for with save, as the admin, and answers the settings
// as saved.
func putSettings[In, Out any](s *server, w http.ResponseWriter, r *http.Request, c *Claims, body settingsBody[In],
	save func(ctx context.Context, tenantID string, in In, by string) (Out, error)) error {
	if err := s.decode(w, r, body); err != nil {
		return err
	}
	in, err := body.input()
	if err != nil {
		return err
	}
	st, err := save(r.Context(), c.TenantID, in, c.Subject)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// getSettings answers GET /api/v1/integrations/{crm} with the tenant's
// settings read by get or, when the CRM is not configured yet, with empty:
// an empty form.
func getSettings[T any](w http.ResponseWriter, r *http.Request, c *Claims,
	get func(ctx context.Context, tenantID string) (*T, error), empty *T) error {
	st, err := get(r.Context(), c.TenantID)
	if errors.Is(err, settings.ErrNotFound) {
		st = empty
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// testSettings answers POST /api/v1/integrations/{crm}/test with the report
// of test, or 404 not_configured when the tenant has not saved settings of
// crm, the CRM's name.
func testSettings[R any](w http.ResponseWriter, r *http.Request, c *Claims, crm string,
	test func(ctx context.Context, tenantID string) (R, error)) error {
	report, err := test(r.Context(), c.TenantID)
	if errors.Is(err, settings.ErrNotFound) {
		return &apiError{status: http.StatusNotFound, code: "not_configured", message: crm + " is not configured; save the settings first"}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, report)
	return nil
}

// emptyIsNil treats an empty secret as "keep the stored one", as a form
// whose secret box was left blank sends it.
func emptyIsNil(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	return s
}

// integrations are a tenant's settings of both CRMs, each nil when not
// configured.
type integrations struct {
	salesforce *settings.Salesforce
	kintone    *settings.Kintone
}

// integrations reads the tenant's settings of both CRMs.
func (s *server) integrations(r *http.Request, tenantID string) (*integrations, error) {
	var in integrations
	var err error
	if in.salesforce, err = s.cfg.Settings.Salesforce(r.Context(), tenantID); err != nil && !errors.Is(err, settings.ErrNotFound) {
		return nil, err
	}
	if in.kintone, err = s.cfg.Settings.Kintone(r.Context(), tenantID); err != nil && !errors.Is(err, settings.ErrNotFound) {
		return nil, err
	}
	return &in, nil
}

// active is the CRM the tenant's calls go to: "salesforce", which wins when
// both are enabled, "kintone", or "" when neither is enabled.
func (in *integrations) active() string {
	switch {
	case in.salesforce != nil && in.salesforce.Enabled:
		return "salesforce"
	case in.kintone != nil && in.kintone.Enabled:
		return "kintone"
	}
	return ""
}

// recordURL is the address of a record in its CRM, or "" when there is no
// record or the CRM is not configured any more.
func (in *integrations) recordURL(target, objectType, recordID string) string {
	switch {
	case recordID == "":
		return ""
	case target == "salesforce" && in.salesforce != nil:
		return strings.TrimSuffix(in.salesforce.InstanceURL, "/") + "/" + url.PathEscape(recordID)
	case target == "kintone" && in.kintone != nil:
		app := strings.TrimPrefix(objectType, "app:")
		return fmt.Sprintf("%s/k/%s/show#record=%s", strings.TrimSuffix(in.kintone.BaseURL, "/"), url.PathEscape(app), url.QueryEscape(recordID))
	}
	return ""
}

// requirePack refuses, with 403 audit_export_pack_required, a change by a
// tenant without the Audit & Export Pack.
func (s *server) requirePack(r *http.Request, tenantID string) error {
	tenant, err := s.cfg.Settings.Tenant(r.Context(), tenantID)
	if err != nil {
		return err
	}
	if !tenant.AuditExportPack {
		return settings.ErrPackRequired
	}
	return nil
}
