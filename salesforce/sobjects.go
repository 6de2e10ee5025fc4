package salesforce

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Fields holds one record's field values by API name, for example
// {"Subject": "KoeIQ Call — c-1", "CallDurationInSeconds": 42}. Values are
// encoded with encoding/json: strings, numbers, booleans and nil; dates as
// "YYYY-MM-DD" strings. Records read back (by [Client.Query]) hold what
// encoding/json decodes into any: string, float64, bool, nil.
type Fields map[string]any

var (
	// apiName matches object and field API names: Task, Call_Recording__c,
	// ns__Thing__c.
	apiName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}$`)
	// recordID matches a 15- or 18-character record ID.
	recordID = regexp.MustCompile(`^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$`)
)

// checkName refuses an object or field name that is not an API name before
// it is put into a URL path.
func checkName(op, what, name string) error {
	if !apiName.MatchString(name) {
		code := "INVALID_FIELD"
		if what == "object" {
			code = "INVALID_TYPE"
		}
		return &APIError{Op: op, ErrorCode: code, Message: "not a valid " + what + " API name: " + name}
	}
	return nil
}

func encodeFields(op string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &APIError{Op: op, ErrorCode: "JSON_PARSER_ERROR", Message: "cannot encode the fields: " + err.Error()}
	}
	return b, nil
}

// saveResult is the body of a successful create or upsert.
type saveResult struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Created *bool  `json:"created"`
}

// Create creates one record with POST /sobjects/{sobject}/ and returns its ID.
//
// Create is not idempotent: if the response is lost (a network error, a
// timeout) the record may exist anyway, and calling Create again makes a
// second one. Prefer [Client.Upsert] on an external ID field, or look the
// record up with [Client.Query] before creating it again.
func (c *Client) Create(ctx context.Context, sobject string, f Fields) (string, error) {
	name := "create " + sobject
	if err := checkName(name, "object", sobject); err != nil {
		return "", err
	}
	body, err := encodeFields(name, nonNil(f))
	if err != nil {
		return "", err
	}
	status, resp, err := c.do(ctx, call{op: opCreate, name: name, method: http.MethodPost,
		path: dataPath("sobjects", sobject) + "/", body: body})
	if err != nil {
		return "", err
	}
	var r saveResult
	if err := decode(name, status, resp, &r); err != nil {
		return "", err
	}
	if r.ID == "" {
		return "", &APIError{Op: name, StatusCode: status, Message: "the response has no record ID"}
	}
	return r.ID, nil
}

// Update sets fields of the record with the given ID, with PATCH
// /sobjects/{sobject}/{id}. An ID that is not 15 or 18 letters and digits is
// refused without a request (MALFORMED_ID). A record deleted in Salesforce
// answers ENTITY_IS_DELETED or NOT_FOUND; see [IsDeleted].
func (c *Client) Update(ctx context.Context, sobject, id string, f Fields) error {
	name := "update " + sobject
	if err := checkName(name, "object", sobject); err != nil {
		return err
	}
	if !recordID.MatchString(id) {
		return &APIError{Op: name, ErrorCode: "MALFORMED_ID", Message: "a record ID has 15 or 18 letters and digits: " + id}
	}
	body, err := encodeFields(name, nonNil(f))
	if err != nil {
		return err
	}
	_, _, err = c.do(ctx, call{op: opUpdate, name: name, method: http.MethodPatch,
		path: dataPath("sobjects", sobject, id), body: body})
	return err
}

// UpsertResult is the outcome of [Client.Upsert].
type UpsertResult struct {
	// ID is the record's ID.
	ID string
	// Created is true when the record was created, false when an existing
	// one was updated.
	Created bool
}

// Upsert creates or updates the record whose external ID field extIDField
// holds extID, with PATCH /sobjects/{sobject}/{extIDField}/{extID}: created
// (201) when no record has the value, updated (200) when one has. It is
// idempotent, so it is safe to retry after any error.
//
// Leave extIDField out of f: the value comes from the URL. When more than
// one record holds the value, Salesforce answers 300 and Upsert returns an
// [*APIError] with ErrorCode "MULTIPLE_CHOICES" (class data) whose Message
// lists their IDs. An extIDField that is not an external ID field answers
// 404 NOT_FOUND.
//
// extID is percent-encoded as one path segment. Salesforce answers 404 to
// some values that end like a file name ("a@b.inc"); prefer values without
// dots.
func (c *Client) Upsert(ctx context.Context, sobject, extIDField, extID string, f Fields) (UpsertResult, error) {
	name := "upsert " + sobject
	if err := checkName(name, "object", sobject); err != nil {
		return UpsertResult{}, err
	}
	if err := checkName(name, "field", extIDField); err != nil {
		return UpsertResult{}, err
	}
	if extID == "" {
		return UpsertResult{}, &APIError{Op: name, ErrorCode: "MISSING_ARGUMENT", Message: extIDField + " not specified", Fields: []string{extIDField}}
	}
	body, err := encodeFields(name, nonNil(f))
	if err != nil {
		return UpsertResult{}, err
	}
	status, resp, err := c.do(ctx, call{op: opUpsert, name: name, method: http.MethodPatch,
		path: dataPath("sobjects", sobject, extIDField, url.PathEscape(extID)), body: body})
	if err != nil {
		return UpsertResult{}, err
	}
	var r saveResult
	if err := decode(name, status, resp, &r); err != nil {
		return UpsertResult{}, err
	}
	if r.ID == "" {
		return UpsertResult{}, &APIError{Op: name, StatusCode: status, Message: "the response has no record ID"}
	}
	return UpsertResult{ID: r.ID, Created: status == http.StatusCreated || (r.Created != nil && *r.Created)}, nil
}

// ObjectDescribe is what Salesforce says about an object and its fields, for
// the Run As user: which fields exist, their types and lengths, and whether
// they can be set on create and on update.
type ObjectDescribe struct {
	Name       string
	KeyPrefix  string // first three characters of the object's record IDs, e.g. "00T"
	Createable bool
	Updateable bool
	Fields     []FieldDescribe
}

// FieldDescribe describes one field. Length is in UTF-16 code units, for text
// fields.
type FieldDescribe struct {
	Name       string
	Label      string
	Type       string // "string", "textarea", "picklist", "date", "int", "double", "reference", ...
	Length     int
	Createable bool
	Updateable bool
	Nillable   bool
	// DefaultedOnCreate is true when Salesforce fills the field on create
	// if it is not sent (Task.Status, OwnerId).
	DefaultedOnCreate bool
	ExternalID        bool
	Unique            bool
	// RestrictedPicklist is true when a value outside PicklistValues is
	// refused (INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST).
	RestrictedPicklist bool
	// PicklistValues are the active values of a picklist field.
	PicklistValues []string
}

// Field returns the field with the given API name, compared
// case-insensitively as Salesforce does.
func (d *ObjectDescribe) Field(name string) (FieldDescribe, bool) {
	for _, f := range d.Fields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return FieldDescribe{}, false
}

// Describe returns the description of an object, with GET
// /sobjects/{sobject}/describe. An unknown object answers 404 NOT_FOUND.
func (c *Client) Describe(ctx context.Context, sobject string) (*ObjectDescribe, error) {
	name := "describe " + sobject
	if err := checkName(name, "object", sobject); err != nil {
		return nil, err
	}
	status, resp, err := c.do(ctx, call{op: opDescribe, name: name, method: http.MethodGet,
		path: dataPath("sobjects", sobject, "describe")})
	if err != nil {
		return nil, err
	}
	var raw struct {
		Name       string `json:"name"`
		KeyPrefix  string `json:"keyPrefix"`
		Createable bool   `json:"createable"`
		Updateable bool   `json:"updateable"`
		Fields     []struct {
			Name               string `json:"name"`
			Label              string `json:"label"`
			Type               string `json:"type"`
			Length             int    `json:"length"`
			Createable         bool   `json:"createable"`
			Updateable         bool   `json:"updateable"`
			Nillable           bool   `json:"nillable"`
			DefaultedOnCreate  bool   `json:"defaultedOnCreate"`
			ExternalID         bool   `json:"externalId"`
			Unique             bool   `json:"unique"`
			RestrictedPicklist bool   `json:"restrictedPicklist"`
			PicklistValues     []struct {
				Value  string `json:"value"`
				Active bool   `json:"active"`
			} `json:"picklistValues"`
		} `json:"fields"`
	}
	if err := decode(name, status, resp, &raw); err != nil {
		return nil, err
	}
	d := &ObjectDescribe{Name: raw.Name, KeyPrefix: raw.KeyPrefix, Createable: raw.Createable, Updateable: raw.Updateable,
		Fields: make([]FieldDescribe, 0, len(raw.Fields))}
	for _, f := range raw.Fields {
		fd := FieldDescribe{Name: f.Name, Label: f.Label, Type: f.Type, Length: f.Length,
			Createable: f.Createable, Updateable: f.Updateable, Nillable: f.Nillable,
			DefaultedOnCreate: f.DefaultedOnCreate, ExternalID: f.ExternalID, Unique: f.Unique,
			RestrictedPicklist: f.RestrictedPicklist}
		for _, v := range f.PicklistValues {
			if v.Active {
				fd.PicklistValues = append(fd.PicklistValues, v.Value)
			}
		}
		d.Fields = append(d.Fields, fd)
	}
	return d, nil
}

func nonNil(f Fields) Fields {
	if f == nil {
		return Fields{}
	}
	return f
}
