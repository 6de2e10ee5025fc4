package salesforcetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// ObjectDef defines an object of an org: its API name, the prefix of its
// record IDs and its fields. [Server.AddOrg] adds the system fields Id,
// OwnerId (a reference to User), CreatedDate, LastModifiedDate and IsDeleted
// to every object that lacks them.
type ObjectDef struct {
	// Name is the API name, e.g. "Task" or "Call_Recording__c".
	Name string
	// KeyPrefix is the first three characters of the object's record IDs.
	// Defaults to "00T" for Task and to "a00", "a01", ... for other objects.
	KeyPrefix string
	Fields    []FieldDef
}

// FieldDef defines a field. Its zero value (apart from Name and Type) is an
// optional field that can be set on create and on update, as most fields are.
type FieldDef struct {
	// Name is the API name, e.g. "Subject" or "call_id__c".
	Name string
	// Label appears in messages such as STRING_TOO_LONG. Defaults to Name.
	Label string
	// Type is the describe type: "string", "textarea", "combobox",
	// "picklist", "multipicklist", "url", "email", "phone", "reference",
	// "id", "int", "double", "currency", "percent", "boolean", "date" or
	// "datetime".
	Type string
	// Length is the maximum length of a text value in UTF-16 code units.
	// Defaults to 255 for text types (18 for "id" and "reference", 40 for
	// "phone", as Salesforce's custom phone fields).
	Length int
	// ReadOnly fields can be set neither on create nor on update
	// (INVALID_FIELD_FOR_INSERT_UPDATE).
	ReadOnly bool
	// CreateOnly fields can be set on create but not on update (TaskSubtype).
	CreateOnly bool
	// Required fields are not nillable: without a Default, a create that
	// omits them fails with REQUIRED_FIELD_MISSING, and no update may set
	// them to null.
	Required bool
	// ExternalID fields can be used to upsert.
	ExternalID bool
	// Unique fields refuse a value another record has (DUPLICATE_VALUE).
	// Values are compared case-sensitively.
	Unique bool
	// Picklist lists the values of a picklist or combobox.
	Picklist []string
	// Restricted picklists refuse other values
	// (INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST).
	Restricted bool
	// Default is set on create when the field is not sent.
	Default any
	// ReferenceTo names the objects a "reference" field points to, as
	// describe's referenceTo does: Task.WhoId is Contact or Lead, OwnerId is
	// User. Each must be an object of the org. When set, a create, update or
	// upsert that writes the field must name a live record of one of them
	// (see the package documentation for the errors); an OwnerId must
	// moreover be an active User. Defaults to nil: any well-formed ID is
	// accepted.
	ReferenceTo []string
}

// TaskObject returns the Task object with the fields, types and lengths of
// Salesforce's (Object Reference, v67.0): Subject (combobox, 255), Status
// (restricted picklist, required, default "Not Started"), Priority
// (restricted picklist, required, default "Normal"), ActivityDate (date),
// CallDurationInSeconds (int), CallDisposition (255), CallType (restricted
// picklist: Inbound, Internal, Outbound), CallObject (255), Description
// (textarea, 32,000), TaskSubtype (restricted picklist, create only, default
// "Task"), Type (picklist), WhoId (a reference to Contact or Lead), WhatId,
// and the read-only AccountId and IsClosed. Its OwnerId ("Assigned To") is the
// system field: a reference to User.
func TaskObject() ObjectDef {
	return ObjectDef{
		Name:      "Task",
		KeyPrefix: "00T",
		Fields: []FieldDef{
			{Name: "Subject", Type: "combobox", Length: 255, Picklist: []string{"Call", "Send Letter", "Send Quote", "Other"}},
			{Name: "Status", Type: "picklist", Length: 255, Required: true, Restricted: true, Default: "Not Started",
				Picklist: []string{"Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"}},
			{Name: "Priority", Type: "picklist", Length: 20, Required: true, Restricted: true, Default: "Normal",
				Picklist: []string{"High", "Normal", "Low"}},
			{Name: "ActivityDate", Label: "Due Date", Type: "date"},
			{Name: "CallDurationInSeconds", Label: "Call Duration", Type: "int"},
			{Name: "CallDisposition", Label: "Call Result", Type: "string", Length: 255},
			{Name: "CallType", Label: "Call Type", Type: "picklist", Length: 40, Restricted: true,
				Picklist: []string{"Inbound", "Internal", "Outbound"}},
			{Name: "CallObject", Label: "Call Object Identifier", Type: "string", Length: 255},
			{Name: "Description", Label: "Comments", Type: "textarea", Length: 32000},
			{Name: "TaskSubtype", Label: "Task Subtype", Type: "picklist", Length: 40, CreateOnly: true, Restricted: true,
				Default: "Task", Picklist: []string{"Task", "Email", "List Email", "Cadence", "Call", "LinkedIn"}},
			{Name: "Type", Type: "picklist", Length: 40, Picklist: []string{"Call", "Meeting", "Other", "Email"}},
			{Name: "WhoId", Label: "Name ID", Type: "reference", ReferenceTo: []string{"Contact", "Lead"}},
			{Name: "WhatId", Label: "Related To ID", Type: "reference"},
			{Name: "AccountId", Label: "Account ID", Type: "reference", ReadOnly: true},
			{Name: "IsClosed", Label: "Closed", Type: "boolean", ReadOnly: true},
		},
	}
}

// ContactObject returns the Contact object (key prefix 003) with the fields,
// types and lengths of Salesforce's (Object Reference, Field Reference
// v67.0): FirstName (40), LastName (80, required), Phone ("Business Phone"),
// MobilePhone, HomePhone and OtherPhone (phone, 40), Email (email, 80) and
// AccountId (reference, optional). An ObjectDef named Contact in
// OrgConfig.Objects replaces it; start from this one to add fields:
//
//	contact := salesforcetest.ContactObject()
//	contact.Fields = append(contact.Fields, salesforcetest.FieldDef{Name: "Direct_Line__c", Label: "Direct Line", Type: "phone"})
func ContactObject() ObjectDef {
	return ObjectDef{
		Name:      "Contact",
		KeyPrefix: "003",
		Fields: []FieldDef{
			{Name: "FirstName", Label: "First Name", Type: "string", Length: 40},
			{Name: "LastName", Label: "Last Name", Type: "string", Length: 80, Required: true},
			{Name: "Phone", Label: "Business Phone", Type: "phone", Length: 40},
			{Name: "MobilePhone", Label: "Mobile Phone", Type: "phone", Length: 40},
			{Name: "HomePhone", Label: "Home Phone", Type: "phone", Length: 40},
			{Name: "OtherPhone", Label: "Other Phone", Type: "phone", Length: 40},
			{Name: "Email", Label: "Email", Type: "email", Length: 80},
			{Name: "AccountId", Label: "Account ID", Type: "reference"},
		},
	}
}

// LeadObject returns the Lead object (key prefix 00Q) with the fields, types
// and lengths of Salesforce's (v67.0): FirstName (40), LastName (80,
// required), Company (255, required), Phone and MobilePhone (phone, 40),
// Email (email, 80), Status (picklist, 40, required, default
// "Open - Not Contacted", the standard values) and the read-only IsConverted
// (boolean, default false: set it with [Org.PutRecord], as converting a lead
// is no REST write).
func LeadObject() ObjectDef {
	return ObjectDef{
		Name:      "Lead",
		KeyPrefix: "00Q",
		Fields: []FieldDef{
			{Name: "FirstName", Label: "First Name", Type: "string", Length: 40},
			{Name: "LastName", Label: "Last Name", Type: "string", Length: 80, Required: true},
			{Name: "Company", Label: "Company", Type: "string", Length: 255, Required: true},
			{Name: "Phone", Label: "Phone", Type: "phone", Length: 40},
			{Name: "MobilePhone", Label: "Mobile Phone", Type: "phone", Length: 40},
			{Name: "Email", Label: "Email", Type: "email", Length: 80},
			{Name: "Status", Label: "Lead Status", Type: "picklist", Length: 40, Required: true, Default: "Open - Not Contacted",
				Picklist: []string{"Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"}},
			{Name: "IsConverted", Label: "Converted", Type: "boolean", ReadOnly: true, Required: true, Default: false},
		},
	}
}

// UserObject returns the User object (key prefix 005) with the fields of
// Salesforce's that matter here (v67.0): Username (80, required, unique),
// FirstName (40), LastName (80, required), Email (email, 128, required) and
// IsActive (boolean, default true). Every org has its integration user,
// [Org.UserID], as an active User from the start; add others, active or
// not, with [Org.PutRecord].
func UserObject() ObjectDef {
	return ObjectDef{
		Name:      "User",
		KeyPrefix: "005",
		Fields: []FieldDef{
			{Name: "Username", Label: "Username", Type: "string", Length: 80, Required: true, Unique: true},
			{Name: "FirstName", Label: "First Name", Type: "string", Length: 40},
			{Name: "LastName", Label: "Last Name", Type: "string", Length: 80, Required: true},
			{Name: "Email", Label: "Email", Type: "email", Length: 128, Required: true},
			{Name: "IsActive", Label: "Active", Type: "boolean", Required: true, Default: true},
		},
	}
}

// standardObjects returns the objects every org has, unless OrgConfig.Objects
// defines one of the same name.
func standardObjects() []ObjectDef {
	return []ObjectDef{TaskObject(), ContactObject(), LeadObject(), UserObject()}
}

// standardKeyPrefix returns Salesforce's key prefix of a standard object
// this server knows, or "".
func standardKeyPrefix(name string) string {
	switch strings.ToLower(name) {
	case "task":
		return "00T"
	case "contact":
		return "003"
	case "lead":
		return "00Q"
	case "user":
		return "005"
	}
	return ""
}

// CustomCallObject returns a custom object, such as "Call_Recording__c", with
// the fields of SPEC §5.3: Name (text 80, required), call_id__c (text 255,
// external ID, unique), call_date__c (date), call_duration_seconds__c
// (number), primary_intent__c (text 255), summary__c (long text 131,072),
// quality_score__c (number), transcript_url__c (URL 255) and description__c
// (long text 32,000). Its KeyPrefix is left for AddOrg to assign.
func CustomCallObject(name string) ObjectDef {
	return ObjectDef{
		Name: name,
		Fields: []FieldDef{
			{Name: "Name", Label: "Call Name", Type: "string", Length: 80, Required: true},
			{Name: "call_id__c", Label: "Call ID", Type: "string", Length: 255, ExternalID: true, Unique: true},
			{Name: "call_date__c", Label: "Call Date", Type: "date"},
			{Name: "call_duration_seconds__c", Label: "Call Duration (seconds)", Type: "double"},
			{Name: "primary_intent__c", Label: "Primary Intent", Type: "string", Length: 255},
			{Name: "summary__c", Label: "Summary", Type: "textarea", Length: 131072},
			{Name: "quality_score__c", Label: "Quality Score", Type: "double"},
			{Name: "transcript_url__c", Label: "Transcript URL", Type: "url", Length: 255},
			{Name: "description__c", Label: "Description", Type: "textarea", Length: 32000},
		},
	}
}

// Field kinds, by how values are read.
type kind int

const (
	kindText kind = iota + 1
	kindInt
	kindDouble
	kindBool
	kindDate
	kindDateTime
)

func kindOf(typ string) (kind, bool) {
	switch typ {
	case "string", "textarea", "combobox", "picklist", "multipicklist", "url", "email", "phone", "reference", "id", "encryptedstring":
		return kindText, true
	case "int":
		return kindInt, true
	case "double", "currency", "percent":
		return kindDouble, true
	case "boolean":
		return kindBool, true
	case "date":
		return kindDate, true
	case "datetime":
		return kindDateTime, true
	}
	return 0, false
}

// field is a FieldDef ready for use.
type field struct {
	FieldDef
	kind kind
	// defaulted is true for fields the org fills on create (Default, OwnerId,
	// system fields).
	defaulted bool
}

func (f *field) createable() bool { return !f.ReadOnly }
func (f *field) updateable() bool { return !f.ReadOnly && !f.CreateOnly }

// filterable reports whether SOQL may filter on the field: long text areas
// cannot be filtered.
func (f *field) filterable() bool { return !(f.Type == "textarea" && f.Length > 255) }

// object is an ObjectDef ready for use, with its records.
type object struct {
	name      string
	keyPrefix string
	fields    []*field          // in definition order
	byName    map[string]*field // by lower-cased name
	records   map[string]map[string]any
	order     []string                  // IDs in creation order, deleted ones included
	recycled  map[string]map[string]any // soft-deleted records
	rules     []ValidationRule          // with the canonical field names
}

var apiName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}$`)

func newObject(def ObjectDef, keyPrefix string) (*object, error) {
	if !apiName.MatchString(def.Name) {
		return nil, fmt.Errorf("object name %q is not an API name", def.Name)
	}
	o := &object{
		name:      def.Name,
		keyPrefix: keyPrefix,
		byName:    make(map[string]*field),
		records:   make(map[string]map[string]any),
		recycled:  make(map[string]map[string]any),
	}
	system := []FieldDef{
		{Name: "Id", Label: "Record ID", Type: "id", ReadOnly: true, Required: true},
		{Name: "OwnerId", Label: "Owner ID", Type: "reference", Required: true, ReferenceTo: []string{"User"}},
		{Name: "CreatedDate", Label: "Created Date", Type: "datetime", ReadOnly: true, Required: true},
		{Name: "LastModifiedDate", Label: "Last Modified Date", Type: "datetime", ReadOnly: true, Required: true},
		{Name: "IsDeleted", Label: "Deleted", Type: "boolean", ReadOnly: true, Required: true},
	}
	defs := append([]FieldDef(nil), def.Fields...)
	for _, s := range system {
		if !hasField(defs, s.Name) {
			defs = append(defs, s)
		}
	}
	for _, fd := range defs {
		if !apiName.MatchString(fd.Name) {
			return nil, fmt.Errorf("object %s: field name %q is not an API name", def.Name, fd.Name)
		}
		k, ok := kindOf(fd.Type)
		if !ok {
			return nil, fmt.Errorf("object %s: field %s has unknown type %q", def.Name, fd.Name, fd.Type)
		}
		key := strings.ToLower(fd.Name)
		if _, dup := o.byName[key]; dup {
			return nil, fmt.Errorf("object %s: field %s is defined twice", def.Name, fd.Name)
		}
		f := &field{FieldDef: fd, kind: k}
		f.Picklist = append([]string(nil), fd.Picklist...)
		f.ReferenceTo = append([]string(nil), fd.ReferenceTo...)
		if len(f.ReferenceTo) > 0 && f.Type != "reference" {
			return nil, fmt.Errorf("object %s: field %s has ReferenceTo but is of type %q, not reference", def.Name, fd.Name, fd.Type)
		}
		if f.Label == "" {
			f.Label = f.Name
		}
		if f.kind == kindText && f.Length == 0 {
			f.Length = 255
			switch f.Type {
			case "id", "reference":
				f.Length = 18
			case "phone":
				f.Length = 40
			}
		}
		if f.Default != nil {
			v, err := normalise(f.Default)
			if err != nil {
				return nil, fmt.Errorf("object %s: field %s: default: %w", def.Name, fd.Name, err)
			}
			f.Default = v
		}
		f.defaulted = f.Default != nil || f.ReadOnly || strings.EqualFold(f.Name, "OwnerId")
		o.fields = append(o.fields, f)
		o.byName[key] = f
	}
	return o, nil
}

func hasField(defs []FieldDef, name string) bool {
	for _, d := range defs {
		if strings.EqualFold(d.Name, name) {
			return true
		}
	}
	return false
}

func (o *object) field(name string) *field { return o.byName[strings.ToLower(name)] }

// normalise converts a Go value to what encoding/json decodes it into
// (string, float64, bool, nil, ...), as records hold it.
func normalise(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// sfError is a Salesforce error: an entry of a REST error array, or a
// per-record error of a collection.
type sfError struct {
	status int // HTTP status when it is the answer to a whole request
	code   string
	msg    string
	fields []string
	also   []*sfError // further errors reported with this one (validation rules)
}

// all returns e and the errors reported with it.
func (e *sfError) all() []*sfError { return append([]*sfError{e}, e.also...) }

func newError(status int, code, msg string, fields ...string) *sfError {
	return &sfError{status: status, code: code, msg: msg, fields: fields}
}

// kv is one key and raw value of a JSON object, in document order.
type kv struct {
	key string
	raw json.RawMessage
}

// decodeObject reads a JSON object keeping its keys in order, so that errors
// name the first offending field as Salesforce does.
func decodeObject(data []byte) ([]kv, *sfError) {
	bad := func(msg string) ([]kv, *sfError) {
		return nil, newError(400, "JSON_PARSER_ERROR", msg)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return bad("Unexpected end-of-input: expected a JSON object")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return bad(fmt.Sprintf("Cannot deserialize instance of SObject out of %s token", jsonTokenName(tok)))
	}
	var out []kv
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad("Unexpected character in JSON: " + err.Error())
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return bad("Unexpected character in JSON: " + err.Error())
		}
		out = append(out, kv{key, raw})
	}
	if _, err := dec.Token(); err != nil {
		return bad("Unexpected end-of-input: expected close marker for OBJECT")
	}
	if _, err := dec.Token(); err == nil {
		return bad("Unexpected content after the JSON object")
	}
	return out, nil
}

func jsonTokenName(tok any) string {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return "START_OBJECT"
		case '[':
			return "START_ARRAY"
		}
		return "END_ARRAY"
	case string:
		return "VALUE_STRING"
	case json.Number:
		if strings.ContainsAny(t.String(), ".eE") {
			return "VALUE_NUMBER_FLOAT"
		}
		return "VALUE_NUMBER_INT"
	case float64:
		return "VALUE_NUMBER_FLOAT"
	case bool:
		if t {
			return "VALUE_TRUE"
		}
		return "VALUE_FALSE"
	case nil:
		return "VALUE_NULL"
	}
	return "VALUE_EMBEDDED_OBJECT"
}

// String returns the name Salesforce's deserializer gives the kind.
func (k kind) String() string {
	switch k {
	case kindText:
		return "string"
	case kindInt:
		return "int"
	case kindDouble:
		return "double"
	case kindBool:
		return "boolean"
	case kindDate:
		return "date"
	case kindDateTime:
		return "datetime"
	}
	return "unknown"
}

// decodeValue reads a raw JSON value for f, failing like Salesforce's
// deserializer (JSON_PARSER_ERROR, which fails a whole collection request).
func (f *field) decodeValue(raw json.RawMessage) (any, *sfError) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, newError(400, "JSON_PARSER_ERROR", "Unexpected character in JSON: "+err.Error())
	}
	if v == nil {
		return nil, nil
	}
	bad := func() (any, *sfError) {
		shown := string(raw)
		if s, ok := v.(string); ok {
			shown = s
		}
		return nil, newError(400, "JSON_PARSER_ERROR", fmt.Sprintf(
			"Cannot deserialize instance of %s from %s value %s or request may be missing a required field",
			f.kind, jsonTokenName(v), shown))
	}
	switch f.kind {
	case kindText:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case kindInt:
		if n, ok := v.(json.Number); ok {
			if i, err := strconv.ParseInt(n.String(), 10, 32); err == nil {
				return float64(i), nil
			}
		}
	case kindDouble:
		if n, ok := v.(json.Number); ok {
			if x, err := n.Float64(); err == nil {
				return x, nil
			}
		}
	case kindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case kindDate:
		if s, ok := v.(string); ok {
			if _, err := time.Parse(time.DateOnly, s); err == nil {
				return s, nil
			}
		}
	case kindDateTime:
		if s, ok := v.(string); ok {
			if t, ok := parseDateTime(s); ok {
				return formatDateTime(t), nil
			}
		}
	}
	return bad()
}

// checkValue applies the save-time rules of a value: restricted picklist,
// length, ID format. They come back per record in a collection.
func (f *field) checkValue(v any) *sfError {
	s, ok := v.(string)
	if !ok || f.kind != kindText {
		return nil
	}
	if f.Restricted && !containsString(f.Picklist, s) {
		return newError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
			f.Label+": bad value for restricted picklist field: "+s, f.Name)
	}
	if n := utf16Len(s); n > f.Length {
		return newError(400, "STRING_TOO_LONG",
			fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.Label, s, f.Length), f.Name)
	}
	if f.Type == "reference" || f.Type == "id" {
		if _, ok := canonicalID(s); !ok {
			return newError(400, "MALFORMED_ID", f.Label+": id value of incorrect type: "+s, f.Name)
		}
	}
	if f.Type == "email" && !emailAddress.MatchString(s) {
		return newError(400, "INVALID_EMAIL_ADDRESS", f.Label+": invalid email address: "+s, f.Name)
	}
	return nil
}

// sfDateTime is how Salesforce answers datetime values: UTC, milliseconds,
// a +0000 offset.
const sfDateTime = "2006-01-02T15:04:05.000-0700"

// formatDateTime returns t as Salesforce answers datetimes, in UTC.
func formatDateTime(t time.Time) string { return t.UTC().Format(sfDateTime) }

// parseDateTime reads a datetime as Salesforce accepts it
// (yyyy-MM-ddTHH:mm:ss[.SSS] then Z, +HH:mm or +HHmm).
func parseDateTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// emailAddress is a loose check of an email field's value, enough to refuse
// what is plainly not an address as Salesforce does (INVALID_EMAIL_ADDRESS).
var emailAddress = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
