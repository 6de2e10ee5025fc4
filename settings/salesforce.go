package settings

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/mapping"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/secrets"
	syncdsql "github.com/koeiq/syncd/sql"
)

// Salesforce is a tenant's Salesforce settings. The client secret is never
// part of it: ClientSecretSet says whether one is stored.
type Salesforce struct {
	TenantID        string `json:"-"`
	Enabled         bool   `json:"enabled"`
	InstanceURL     string `json:"instance_url"`
	ClientID        string `json:"client_id"`
	ClientSecretSet bool   `json:"client_secret_set"`
	ObjectType      string `json:"object_type"`
	ExternalIDField string `json:"external_id_field"`
	// LinkWho links each call to the Contact, else the open Lead, with its
	// customer_phone (WhoId; SPEC §5.6). Off by default.
	LinkWho bool `json:"link_who"`
	// AssignOwner makes the active User whose Email is the call's
	// agent_email the owner of the record it creates. Off by default.
	AssignOwner bool `json:"assign_owner"`
	// PhoneFields are phone fields matched besides Phone and MobilePhone:
	// "Field__c" on Contact and Lead, "Contact.Field__c" or "Lead.Field__c"
	// on one of them. At most 5.
	PhoneFields []string `json:"phone_fields"`
	// WhoField and OwnerField are the lookup fields of a custom object that
	// take the match and the owner; unset, a custom object gets neither.
	// Task uses WhoId and OwnerId.
	WhoField   string `json:"who_field"`
	OwnerField string `json:"owner_field"`
	// Attention, when not empty, says why the tenant's pushes wait for an
	// admin (Salesforce refused the credentials); saving clears it.
	Attention   string     `json:"attention,omitempty"`
	AttentionAt *time.Time `json:"attention_at,omitempty"`
	UpdatedAt   time.Time  `json:"updated_at"`
	UpdatedBy   string     `json:"updated_by"`
}

// MatchFields are the phone fields call matching reads on Contact and on
// Lead: Phone, MobilePhone, then the PhoneFields of each object.
func (v *Salesforce) MatchFields() (contact, lead []string) {
	contact, lead = []string{"Phone", "MobilePhone"}, []string{"Phone", "MobilePhone"}
	for _, f := range v.PhoneFields {
		object, name, qualified := strings.Cut(f, ".")
		switch {
		case !qualified:
			contact, lead = append(contact, f), append(lead, f)
		case object == "Contact":
			contact = append(contact, name)
		case object == "Lead":
			lead = append(lead, name)
		}
	}
	return contact, lead
}

// SalesforceInput is a change of Salesforce settings ("Save Salesforce
// Settings").
type SalesforceInput struct {
	Enabled     bool
	InstanceURL string
	ClientID    string
	// ClientSecret replaces the stored secret; nil keeps it.
	ClientSecret *string
	// ObjectType is "Task" or a custom object API name. Defaults to "Task".
	ObjectType string
	// ExternalIDField is the custom field holding the call ID, for upserts.
	// Optional; custom objects use call_id__c when it is empty.
	ExternalIDField string
	// The call matching settings (see Salesforce); nil keeps the stored
	// value (off, none or unset for new settings).
	LinkWho, AssignOwner *bool
	PhoneFields          *[]string
	WhoField, OwnerField *string
}

var (
	customObjectRE = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9]*__)?[A-Za-z](?:[A-Za-z0-9]|_[A-Za-z0-9])*__c$`)
	clientIDRE     = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)
	fieldNameRE    = regexp.MustCompile(`^[A-Za-z](?:[A-Za-z0-9]|_[A-Za-z0-9])*(?:__c)?$`)
)

// validateSalesforce checks in and returns it normalised.
func (s *Store) validateSalesforce(in SalesforceInput) (SalesforceInput, error) {
	u, err := salesforce.ValidateInstanceURL(strings.TrimSpace(in.InstanceURL), s.cfg.AllowInsecureURLs)
	if err != nil {
		return in, &ValidationError{"instance_url", "must be your org's My Domain URL, such as https://acme.my.salesforce.com " +
			"(login.salesforce.com and test.salesforce.com do not support the client credentials flow)"}
	}
	in.InstanceURL = strings.TrimSuffix(u.String(), "/")
	in.ClientID = strings.TrimSpace(in.ClientID)
	if !clientIDRE.MatchString(in.ClientID) {
		return in, &ValidationError{"client_id", "must be the Consumer Key of the External Client App (up to 255 characters, no spaces)"}
	}
	if in.ClientSecret != nil {
		secret := strings.TrimSpace(*in.ClientSecret)
		if secret == "" || len(secret) > 1024 {
			return in, &ValidationError{"client_secret", "must be the Consumer Secret of the External Client App"}
		}
		in.ClientSecret = &secret
	}
	in.ObjectType = strings.TrimSpace(in.ObjectType)
	if in.ObjectType == "" {
		in.ObjectType = "Task"
	}
	if in.ObjectType != "Task" && (!customObjectRE.MatchString(in.ObjectType) || len(in.ObjectType) > 60) {
		return in, &ValidationError{"object_type", "must be Task or a custom object API name such as Call_Recording__c"}
	}
	in.ExternalIDField = strings.TrimSpace(in.ExternalIDField)
	if in.ExternalIDField != "" && (!customObjectRE.MatchString(in.ExternalIDField) || len(in.ExternalIDField) > 60) {
		return in, &ValidationError{"external_id_field", "must be the API name of a custom field such as KoeIQ_Call_Id__c"}
	}
	if in.PhoneFields != nil {
		var fields []string
		for _, f := range *in.PhoneFields {
			f = strings.TrimSpace(f)
			object, name, qualified := strings.Cut(f, ".")
			if !qualified {
				name = object
			}
			if (qualified && object != "Contact" && object != "Lead") || !fieldNameRE.MatchString(name) {
				return in, &ValidationError{"phone_fields", fmt.Sprintf("%q must be a phone field's API name such as Direct_Line__c, or Contact.Direct_Line__c for one object", f)}
			}
			if name != "Phone" && name != "MobilePhone" && !slices.Contains(fields, f) { // those two are always matched
				fields = append(fields, f)
			}
		}
		if len(fields) > MaxPhoneFields {
			return in, &ValidationError{"phone_fields", fmt.Sprintf("lists at most %d fields besides Phone and MobilePhone", MaxPhoneFields)}
		}
		in.PhoneFields = &fields
	}
	for _, f := range []struct {
		name  string
		value *string
	}{{"who_field", in.WhoField}, {"owner_field", in.OwnerField}} {
		if f.value == nil {
			continue
		}
		*f.value = strings.TrimSpace(*f.value)
		if *f.value != "" && (!customObjectRE.MatchString(*f.value) || len(*f.value) > 60) {
			return in, &ValidationError{f.name, "must be the API name of a custom lookup field such as Contact__c"}
		}
	}
	return in, nil
}

// MaxPhoneFields is how many phone fields besides Phone and MobilePhone
// calls may be matched on.
const MaxPhoneFields = 5

// SaveSalesforce validates in, checks the credentials against the org when
// in.Enabled (fetching a token), and only then stores the settings, sealed
// secret included. It clears any attention mark and runs Config.AfterSave
// (which lets the tenant's waiting pushes run at once) in the same
// transaction. by is who saved (the admin's token subject or the operator).
func (s *Store) SaveSalesforce(ctx context.Context, tenantID string, in SalesforceInput, by string) (*Salesforce, error) {
	return save(ctx, s, salesforceIntegration, tenantID, in, by)
}

// salesforceIntegration is how Salesforce settings are saved, read and marked.
var salesforceIntegration = &integration[SalesforceInput, Salesforce]{
	target: "salesforce", secretName: "salesforce client secret", secretField: "client_secret",
	purpose:  secrets.SalesforceClientSecret,
	table:    syncdsql.SalesforceSettingsTable,
	validate: (*Store).validateSalesforce,
	input:    func(in SalesforceInput) (bool, *string) { return in.Enabled, in.ClientSecret },
	load:     (*Store).loadSalesforce,
	check:    (*Store).checkSalesforce,
	upsert: func(ctx context.Context, tx pgx.Tx, tenantID string, in SalesforceInput, sealed []byte, by string) error {
		var extField *string
		if in.ExternalIDField != "" {
			extField = &in.ExternalIDField
		}
		return syncdsql.SaveSalesforceSettings(ctx, tx, syncdsql.SaveSalesforceSettingsParams{
			TenantID: tenantID, Enabled: in.Enabled, InstanceURL: in.InstanceURL, ClientID: in.ClientID,
			ClientSecretSealed: sealed, ObjectType: in.ObjectType, ExternalIDField: extField, UpdatedBy: by,
			LinkWho: in.LinkWho, AssignOwner: in.AssignOwner, PhoneFields: in.PhoneFields,
			WhoField: in.WhoField, OwnerField: in.OwnerField,
		})
	},
}

// checkSalesforce fetches a token with secret.
func (s *Store) checkSalesforce(ctx context.Context, in SalesforceInput, secret string) error {
	ctx, cancel := s.withCheckTimeout(ctx)
	defer cancel()
	client, err := s.salesforceClient(ctx, s.salesforceConfig(in.InstanceURL, in.ClientID, secret))
	if err != nil {
		return err
	}
	client.Close()
	return nil
}

// salesforceConfig is the salesforce.Config of the org at instanceURL with
// the app's client ID and secret, on the store's transport.
func (s *Store) salesforceConfig(instanceURL, clientID, secret string) salesforce.Config {
	return salesforce.Config{
		InstanceURL:           instanceURL,
		ClientID:              clientID,
		ClientSecret:          crm.Secret(secret),
		AllowInsecureLoopback: s.cfg.AllowInsecureURLs,
		Transport:             s.cfg.Transport,
	}
}

// salesforceClient returns a client of cfg, with the check timeout, once it
// has fetched a token by ctx's deadline; credentials Salesforce refuses come
// back as a *CheckError. The caller closes the client.
func (s *Store) salesforceClient(ctx context.Context, cfg salesforce.Config) (*salesforce.Client, error) {
	cfg.Timeout = s.cfg.CheckTimeout
	client, err := salesforce.NewClient(&cfg)
	if err != nil {
		return nil, err
	}
	if err := client.CheckCredentials(ctx); err != nil {
		client.Close()
		return nil, salesforceCheckError(cfg.InstanceURL, err)
	}
	return client, nil
}

// salesforceCheckError explains a failed token request to an admin.
func salesforceCheckError(instanceURL string, err error) *CheckError {
	var ae *salesforce.APIError
	if !errors.As(err, &ae) {
		return &CheckError{Reason: "unreachable", Err: err,
			Message: fmt.Sprintf("Could not reach %s. Check the My Domain URL and that the org is up.", instanceURL)}
	}
	switch ae.ErrorCode {
	case "invalid_client":
		return &CheckError{Reason: "wrong_secret", Err: err,
			Message: "Salesforce refused the client secret (invalid_client). Copy the Consumer Secret of the External Client App again."}
	case "invalid_client_id":
		return &CheckError{Reason: "unknown_client_id", Err: err,
			Message: "Salesforce does not know this client ID (invalid_client_id). Copy the Consumer Key again; a new app can take a few minutes to be ready."}
	case "invalid_grant", "unsupported_grant_type", "unauthorized_client":
		return &CheckError{Reason: "flow_not_enabled", Err: err,
			Message: fmt.Sprintf("The client credentials flow is not enabled for this app, or it has no Run As user (%s: %s). "+
				"In the External Client App, enable the Client Credentials Flow and choose the user it runs as.", ae.ErrorCode, ae.Message)}
	case "invalid_app_access", "inactive_user", "inactive_org":
		return &CheckError{Reason: "not_authorized", Err: err,
			Message: fmt.Sprintf("Salesforce refused the Run As user or the org (%s: %s).", ae.ErrorCode, ae.Message)}
	}
	if ae.StatusCode >= 500 || ae.StatusCode == 0 {
		return &CheckError{Reason: "unreachable", Err: err,
			Message: fmt.Sprintf("%s did not answer properly (HTTP %d). Try again later.", instanceURL, ae.StatusCode)}
	}
	return &CheckError{Reason: "refused", Err: err,
		Message: fmt.Sprintf("Salesforce refused the credentials (%s %s).", ae.ErrorCode, ae.Message)}
}

// Salesforce returns the tenant's Salesforce settings, or ErrNotFound.
func (s *Store) Salesforce(ctx context.Context, tenantID string) (*Salesforce, error) {
	return salesforceIntegration.get(ctx, s, tenantID)
}

// SalesforceConfig returns the tenant's settings and a salesforce.Config
// holding its credentials (the secret opened), ready for
// salesforce.NewClient once the caller has added Timeout, OnRequest and
// Logger.
func (s *Store) SalesforceConfig(ctx context.Context, tenantID string) (*Salesforce, salesforce.Config, error) {
	v, secret, err := salesforceIntegration.open(ctx, s, tenantID)
	if err != nil {
		return nil, salesforce.Config{}, err
	}
	return v, s.salesforceConfig(v.InstanceURL, v.ClientID, secret), nil
}

// loadSalesforce reads the tenant's settings and its sealed client secret
// (nil when none is stored).
func (s *Store) loadSalesforce(ctx context.Context, tenantID string) (*Salesforce, []byte, error) {
	row, err := getSettings(ctx, s, "salesforce", tenantID, syncdsql.GetSalesforceSettings)
	if err != nil {
		return nil, nil, err
	}
	v := &Salesforce{TenantID: tenantID, Enabled: row.Enabled, InstanceURL: row.InstanceURL, ClientID: row.ClientID,
		ClientSecretSet: row.ClientSecretSealed != nil, ObjectType: row.ObjectType,
		Attention: row.Attention, AttentionAt: row.AttentionAt, UpdatedAt: row.UpdatedAt, UpdatedBy: row.UpdatedBy,
		LinkWho: row.LinkWho, AssignOwner: row.AssignOwner, PhoneFields: row.PhoneFields,
		WhoField: row.WhoField, OwnerField: row.OwnerField}
	if v.PhoneFields == nil {
		v.PhoneFields = []string{}
	}
	if row.ExternalIDField != nil {
		v.ExternalIDField = *row.ExternalIDField
	}
	return v, row.ClientSecretSealed, nil
}

// MarkSalesforceAttention records that Salesforce refused the tenant's
// credentials, unless the settings changed since version (their UpdatedAt)
// was read: a push that failed with old settings must not park new ones.
func (s *Store) MarkSalesforceAttention(ctx context.Context, tenantID string, version time.Time, reason string) error {
	return salesforceIntegration.markAttention(ctx, s, tenantID, version, reason)
}

// SalesforceReport is what "Test connection" found.
type SalesforceReport struct {
	// OK is true when a push can succeed: the token, the object and every
	// field syncd writes are there and writable.
	OK          bool   `json:"ok"`
	InstanceURL string `json:"instance_url"`
	ObjectType  string `json:"object_type"`
	// Problems explains each problem in words an admin understands.
	Problems []string `json:"problems"`
	// MissingFields are fields syncd writes that the object lacks (or the
	// integration user cannot see), and, as "Contact.Phone", fields call
	// matching reads that Contact, Lead or User lack.
	MissingFields []string `json:"missing_fields"`
	// NotCreateable and NotUpdateable are fields the integration user may not
	// write on create or on update.
	NotCreateable []string `json:"not_createable_fields"`
	NotUpdateable []string `json:"not_updateable_fields"`
	// APIUsage is the org's daily API request usage, when Salesforce said.
	APIUsage *salesforce.Usage `json:"api_usage,omitempty"`
}

// TestSalesforce fetches a token and describes the object type, reporting
// what would stop a push before any call is pushed. Credential failures come
// back as a *CheckError.
func (s *Store) TestSalesforce(ctx context.Context, tenantID string) (*SalesforceReport, error) {
	v, secret, err := salesforceIntegration.openSet(ctx, s, tenantID)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.withCheckTimeout(ctx)
	defer cancel()
	client, err := s.salesforceClient(ctx, s.salesforceConfig(v.InstanceURL, v.ClientID, secret))
	if err != nil {
		return nil, err
	}
	defer client.Close()

	r := &SalesforceReport{InstanceURL: client.InstanceURL(), ObjectType: v.ObjectType,
		Problems: []string{}, MissingFields: []string{}, NotCreateable: []string{}, NotUpdateable: []string{}}
	desc, err := client.Describe(ctx, v.ObjectType)
	if u, ok := client.APIUsage(); ok {
		r.APIUsage = &u
	}
	if err != nil {
		var ae *salesforce.APIError
		if errors.As(err, &ae) && (ae.ErrorCode == "NOT_FOUND" || ae.ErrorCode == "INVALID_TYPE") {
			r.Problems = append(r.Problems, fmt.Sprintf("The object %s does not exist in the org, or the integration user cannot see it.", v.ObjectType))
			return r, nil
		}
		return nil, fmt.Errorf("describe %s: %w", v.ObjectType, err)
	}
	if !desc.Createable {
		r.Problems = append(r.Problems, fmt.Sprintf("The integration user may not create %s records.", v.ObjectType))
	}
	extField := mapping.ExternalIDField(v.ObjectType, v.ExternalIDField)
	for _, name := range mapping.SalesforceFields(v.ObjectType, v.ExternalIDField) {
		f, ok := desc.Field(name)
		switch {
		case !ok:
			r.MissingFields = append(r.MissingFields, name)
		case !f.Createable:
			r.NotCreateable = append(r.NotCreateable, name)
		case !f.Updateable && name != extField && name != mapping.TaskSubtype: // both are sent on create only
			r.NotUpdateable = append(r.NotUpdateable, name)
		}
	}
	if len(r.MissingFields) > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%s has no field %s (or the integration user cannot see it).",
			v.ObjectType, strings.Join(r.MissingFields, ", ")))
	}
	if len(r.NotCreateable) > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("The integration user may not set %s on new %s records (check field-level security).",
			strings.Join(r.NotCreateable, ", "), v.ObjectType))
	}
	if len(r.NotUpdateable) > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("The integration user may not update %s (check field-level security); re-analysed calls would fail.",
			strings.Join(r.NotUpdateable, ", ")))
	}
	if extField != "" && !slices.Contains(r.MissingFields, extField) {
		if f, _ := desc.Field(extField); !f.ExternalID {
			r.Problems = append(r.Problems, fmt.Sprintf("%s is not marked External ID, so syncd cannot upsert by it.", extField))
		}
	}
	if err := checkMatching(ctx, client, v, desc, r); err != nil {
		return nil, err
	}
	r.OK = len(r.Problems) == 0
	return r, nil
}

// checkMatching adds to r what would stop call matching (SPEC §5.6): the
// object's fields that take the match and the owner, and whether the
// integration user can read Contact and Lead with their phone fields, and
// User with Email and IsActive.
func checkMatching(ctx context.Context, client *salesforce.Client, v *Salesforce, desc *salesforce.ObjectDescribe, r *SalesforceReport) error {
	whoField, ownerField := "WhoId", "OwnerId"
	if mapping.IsCustomObject(v.ObjectType) {
		whoField, ownerField = v.WhoField, v.OwnerField
	}
	for _, want := range []struct {
		on    bool
		field string
		what  string
	}{{v.LinkWho, whoField, "who_field"}, {v.AssignOwner, ownerField, "owner_field"}} {
		switch {
		case !want.on:
		case want.field == "":
			r.Problems = append(r.Problems, fmt.Sprintf("%s is on, but %s names no lookup field of %s: nothing is set.",
				map[string]string{"who_field": "Linking calls to people", "owner_field": "Assigning owners"}[want.what], want.what, v.ObjectType))
		default:
			if f, ok := desc.Field(want.field); !ok || !f.Createable {
				r.Problems = append(r.Problems, fmt.Sprintf("The integration user may not set %s on new %s records.", want.field, v.ObjectType))
			}
		}
	}
	type need struct {
		object string
		fields []string
	}
	var needs []need
	if v.LinkWho {
		contact, lead := v.MatchFields()
		needs = append(needs, need{"Contact", contact}, need{"Lead", append(lead, "IsConverted")})
	}
	if v.AssignOwner {
		needs = append(needs, need{"User", []string{"Email", "IsActive"}})
	}
	for _, n := range needs {
		d, err := client.Describe(ctx, n.object)
		if err != nil {
			var ae *salesforce.APIError
			if errors.As(err, &ae) && (ae.ErrorCode == "NOT_FOUND" || ae.ErrorCode == "INVALID_TYPE") {
				r.Problems = append(r.Problems, fmt.Sprintf("The integration user cannot read %s records, which call matching looks up.", n.object))
				continue
			}
			return fmt.Errorf("describe %s: %w", n.object, err)
		}
		var missing []string
		for _, name := range n.fields {
			if _, ok := d.Field(name); !ok {
				missing = append(missing, name)
				r.MissingFields = append(r.MissingFields, n.object+"."+name)
			}
		}
		if len(missing) > 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("%s has no field %s (or the integration user cannot read it), which call matching reads.",
				n.object, strings.Join(missing, ", ")))
		}
	}
	return nil
}
