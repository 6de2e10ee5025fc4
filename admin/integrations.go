package admin

import (
	"errors"
	"net/http"

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
}

func (s *server) getSalesforce(w http.ResponseWriter, r *http.Request, c *Claims) error {
	st, err := s.cfg.Settings.Salesforce(r.Context(), c.TenantID)
	if errors.Is(err, settings.ErrNotFound) {
		st = &settings.Salesforce{ObjectType: "Task"} // not configured yet: an empty form
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
