package admin

import (
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
	st, err := s.cfg.Settings.Salesforce(r.Context(), c.TenantID)
	if errors.Is(err, settings.ErrNotFound) {
		st = &settings.Salesforce{ObjectType: "Task", PhoneFields: []string{}} // not configured yet: an empty form
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *server) putSalesforce(w http.ResponseWriter, r *http.Request, c *Claims) error {
	var body salesforceBody
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	if body.Enabled == nil {
		return badField("enabled", "enabled is required (true or false)")
	}
	st, err := s.cfg.Settings.SaveSalesforce(r.Context(), c.TenantID, settings.SalesforceInput{
		Enabled:         *body.Enabled,
		InstanceURL:     body.InstanceURL,
		ClientID:        body.ClientID,
		ClientSecret:    emptyIsNil(body.ClientSecret),
		ObjectType:      body.ObjectType,
		ExternalIDField: body.ExternalIDField,
		LinkWho:         body.LinkWho,
		AssignOwner:     body.AssignOwner,
		PhoneFields:     body.PhoneFields,
		WhoField:        body.WhoField,
		OwnerField:      body.OwnerField,
	}, c.Subject)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *server) testSalesforce(w http.ResponseWriter, r *http.Request, c *Claims) error {
	report, err := s.cfg.Settings.TestSalesforce(r.Context(), c.TenantID)
	if errors.Is(err, settings.ErrNotFound) {
		return &apiError{status: http.StatusNotFound, code: "not_configured", message: "Salesforce is not configured; save the settings first"}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, report)
	return nil
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
	st, err := s.cfg.Settings.Kintone(r.Context(), c.TenantID)
	if errors.Is(err, settings.ErrNotFound) {
		st = &settings.Kintone{}
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *server) putKintone(w http.ResponseWriter, r *http.Request, c *Claims) error {
	var body kintoneBody
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	if body.Enabled == nil {
		return badField("enabled", "enabled is required (true or false)")
	}
	st, err := s.cfg.Settings.SaveKintone(r.Context(), c.TenantID, settings.KintoneInput{
		Enabled:  *body.Enabled,
		BaseURL:  body.BaseURL,
		AppID:    body.AppID,
		APIToken: emptyIsNil(body.APIToken),
	}, c.Subject)
	if errors.Is(err, kintone.ErrInvalidConfig) {
		// The settings passed validation, but the client refused the token
		// (sent or stored): it holds a character an HTTP header cannot carry.
		return badField("api_token", "api_token must be an API token of the app (letters, digits and punctuation)")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *server) testKintone(w http.ResponseWriter, r *http.Request, c *Claims) error {
	report, err := s.cfg.Settings.TestKintone(r.Context(), c.TenantID)
	if errors.Is(err, settings.ErrNotFound) {
		return &apiError{status: http.StatusNotFound, code: "not_configured", message: "Kintone is not configured; save the settings first"}
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
