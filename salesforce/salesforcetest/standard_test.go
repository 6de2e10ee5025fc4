package salesforcetest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

// sfDateTime matches a datetime as Salesforce answers it.
var sfDateTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`)

type describedField struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Length     int    `json:"length"`
	Nillable   bool   `json:"nillable"`
	Createable bool   `json:"createable"`
	Updateable bool   `json:"updateable"`
	Unique     bool   `json:"unique"`
}

func describe(t *testing.T, org *salesforcetest.Org, token, sobject string) (keyPrefix string, fields map[string]describedField) {
	t.Helper()
	r := api(t, org, token, http.MethodGet, "/sobjects/"+sobject+"/describe", "")
	var d struct {
		KeyPrefix string           `json:"keyPrefix"`
		Fields    []describedField `json:"fields"`
	}
	r.json(t, &d)
	if r.status != http.StatusOK {
		t.Fatalf("describe %s: %d %s", sobject, r.status, r.body)
	}
	fields = make(map[string]describedField)
	for _, f := range d.Fields {
		fields[f.Name] = f
	}
	return d.KeyPrefix, fields
}

func TestStandardObjects(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{})
	token := getToken(t, org)

	tests := []struct {
		object string
		prefix string
		fields map[string]string // name → "type length [required]"
	}{
		{"Contact", "003", map[string]string{
			"FirstName": "string 40", "LastName": "string 80 required", "Phone": "phone 40", "MobilePhone": "phone 40",
			"HomePhone": "phone 40", "OtherPhone": "phone 40", "Email": "email 80", "AccountId": "reference 18",
			"OwnerId": "reference 18 required", "LastModifiedDate": "datetime 0 required",
		}},
		{"Lead", "00Q", map[string]string{
			"FirstName": "string 40", "LastName": "string 80 required", "Company": "string 255 required",
			"Phone": "phone 40", "MobilePhone": "phone 40", "Email": "email 80", "Status": "picklist 40 required",
			"IsConverted": "boolean 0 required", "LastModifiedDate": "datetime 0 required",
		}},
		{"User", "005", map[string]string{
			"Username": "string 80 required", "FirstName": "string 40", "LastName": "string 80 required",
			"Email": "email 128 required", "IsActive": "boolean 0 required",
		}},
		{"Task", "00T", map[string]string{"WhoId": "reference 18", "Subject": "combobox 255"}},
	}
	for _, tt := range tests {
		prefix, fields := describe(t, org, token, tt.object)
		if prefix != tt.prefix {
			t.Errorf("%s keyPrefix = %q, want %q", tt.object, prefix, tt.prefix)
		}
		for name, want := range tt.fields {
			f, ok := fields[name]
			if !ok {
				t.Errorf("%s has no field %s", tt.object, name)
				continue
			}
			got := fmt.Sprintf("%s %d", f.Type, f.Length)
			if !f.Nillable {
				got += " required"
			}
			if got != want {
				t.Errorf("%s.%s = %q, want %q", tt.object, name, got, want)
			}
		}
	}
	_, lead := describe(t, org, token, "Lead")
	if f := lead["IsConverted"]; f.Createable || f.Updateable {
		t.Errorf("Lead.IsConverted is createable or updateable: %+v", f)
	}
	_, user := describe(t, org, token, "User")
	if !user["Username"].Unique {
		t.Errorf("User.Username is not unique")
	}

	// The integration user is an active User from the start.
	users := org.Records("User")
	if len(users) != 1 || users[0]["Id"] != org.UserID() || users[0]["IsActive"] != true ||
		users[0]["Username"] != "integration@acme.example.com" || !sfDateTime.MatchString(users[0]["LastModifiedDate"].(string)) {
		t.Errorf("User records = %v, want the integration user %s", users, org.UserID())
	}
	r := api(t, org, token, http.MethodGet, "/query?q="+url.QueryEscape("SELECT Id, IsActive FROM User WHERE Email IN ('INTEGRATION@acme.example.com')"), "")
	if r.status != http.StatusOK || !strings.Contains(r.body, `"Id":"`+org.UserID()+`","IsActive":true`) {
		t.Errorf("query for the integration user: %d %s", r.status, r.body)
	}
}

func TestStandardObjectWrites(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{})
	token := getToken(t, org)
	create := func(sobject, body string) response {
		t.Helper()
		return api(t, org, token, http.MethodPost, "/sobjects/"+sobject+"/", body)
	}

	for _, tt := range []struct {
		sobject, body, wantCode string
	}{
		{"Contact", `{"FirstName":"Ada"}`, "REQUIRED_FIELD_MISSING"},
		{"Contact", `{"LastName":"Lovelace","Phone":"` + strings.Repeat("1", 41) + `"}`, "STRING_TOO_LONG"},
		{"Contact", `{"LastName":"Lovelace","Email":"not an address"}`, "INVALID_EMAIL_ADDRESS"},
		{"Contact", `{"LastName":"Lovelace","LastModifiedDate":"2026-01-15T10:00:00.000+0000"}`, "INVALID_FIELD_FOR_INSERT_UPDATE"},
		{"Lead", `{"LastName":"Hopper"}`, "REQUIRED_FIELD_MISSING"},
		{"Lead", `{"LastName":"Hopper","Company":"Navy","IsConverted":true}`, "INVALID_FIELD_FOR_INSERT_UPDATE"},
		{"User", `{"LastName":"Doe","Email":"doe@example.com","Username":"integration@acme.example.com"}`, "DUPLICATE_VALUE"},
	} {
		if r := create(tt.sobject, tt.body); r.status != http.StatusBadRequest || errorCode(t, r) != tt.wantCode {
			t.Errorf("create %s %s: %d %s, want %s", tt.sobject, tt.body, r.status, r.body, tt.wantCode)
		}
	}

	r := create("Contact", `{"LastName":"Lovelace","Phone":"+81312345678","Email":"ada@example.com"}`)
	var created struct {
		ID string `json:"id"`
	}
	r.json(t, &created)
	if r.status != http.StatusCreated || !strings.HasPrefix(created.ID, "003") {
		t.Fatalf("create Contact: %d %s", r.status, r.body)
	}
	contact, _ := org.Record("Contact", created.ID)
	if contact["OwnerId"] != org.UserID() || !sfDateTime.MatchString(contact["LastModifiedDate"].(string)) {
		t.Errorf("Contact = %v", contact)
	}

	r = create("Lead", `{"LastName":"Hopper","Company":"Navy"}`)
	r.json(t, &created)
	if r.status != http.StatusCreated || !strings.HasPrefix(created.ID, "00Q") {
		t.Fatalf("create Lead: %d %s", r.status, r.body)
	}
	lead, _ := org.Record("Lead", created.ID)
	if lead["Status"] != "Open - Not Contacted" || lead["IsConverted"] != false {
		t.Errorf("Lead = %v, want the default Status and IsConverted false", lead)
	}
	converted := org.PutRecord("Lead", salesforce.Fields{"LastName": "Converted", "Company": "Acme", "IsConverted": true})
	if rec, _ := org.Record("Lead", converted); rec["IsConverted"] != true || rec["Status"] != "Open - Not Contacted" {
		t.Errorf("PutRecord Lead = %v", rec)
	}
}

func TestReplaceStandardObject(t *testing.T) {
	t.Parallel()
	contact := salesforcetest.ContactObject()
	contact.KeyPrefix = "" // the standard prefix all the same
	contact.Fields = append(contact.Fields, salesforcetest.FieldDef{Name: "Direct_Line__c", Label: "Direct Line", Type: "phone"})
	org := newOrg(t, salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{
		contact, salesforcetest.CustomCallObject("Call_Recording__c"),
	}})
	token := getToken(t, org)
	prefix, fields := describe(t, org, token, "Contact")
	if f := fields["Direct_Line__c"]; prefix != "003" || f.Type != "phone" || f.Length != 40 {
		t.Errorf("Contact: prefix %q, Direct_Line__c %+v; want 003 and phone 40", prefix, f)
	}
	for _, sobject := range []string{"Task", "Lead", "User", "Call_Recording__c"} {
		if r := api(t, org, token, http.MethodGet, "/sobjects/"+sobject+"/describe", ""); r.status != http.StatusOK {
			t.Errorf("describe %s: %d", sobject, r.status)
		}
	}
	r := api(t, org, token, http.MethodPost, "/sobjects/Contact/", `{"LastName":"Lovelace","Direct_Line__c":"03-1234-5678"}`)
	if r.status != http.StatusCreated {
		t.Errorf("create Contact with Direct_Line__c: %d %s", r.status, r.body)
	}
}

func TestPutRecordDates(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{})
	token := getToken(t, org)
	older := org.PutRecord("Contact", salesforce.Fields{
		"LastName": "Older", "LastModifiedDate": time.Date(2021, 1, 15, 19, 4, 5, 123_000_000, time.FixedZone("JST", 9*3600)),
	})
	newer := org.PutRecord("Contact", salesforce.Fields{"LastName": "Newer", "lastmodifieddate": "2021-02-01T00:00:00Z"})
	now := org.PutRecord("Contact", salesforce.Fields{"LastName": "Now"})
	for id, want := range map[string]string{older: "2021-01-15T10:04:05.123+0000", newer: "2021-02-01T00:00:00.000+0000"} {
		if rec, _ := org.Record("Contact", id); rec["LastModifiedDate"] != want {
			t.Errorf("LastModifiedDate = %v, want %s", rec["LastModifiedDate"], want)
		}
	}
	r := api(t, org, token, http.MethodGet, "/query?q="+url.QueryEscape("SELECT Id, LastModifiedDate FROM Contact ORDER BY LastModifiedDate DESC"), "")
	var page struct {
		Records []struct {
			ID               string `json:"Id"`
			LastModifiedDate string `json:"LastModifiedDate"`
		} `json:"records"`
	}
	r.json(t, &page)
	if r.status != http.StatusOK || len(page.Records) != 3 || page.Records[0].ID != now || page.Records[1].ID != newer ||
		page.Records[2].ID != older || page.Records[2].LastModifiedDate != "2021-01-15T10:04:05.123+0000" {
		t.Errorf("query: %d %s", r.status, r.body)
	}

	// An update sets LastModifiedDate to now.
	if r := api(t, org, token, http.MethodPatch, "/sobjects/Contact/"+older, `{"FirstName":"Ada"}`); r.status != http.StatusNoContent {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	if rec, _ := org.Record("Contact", older); rec["LastModifiedDate"] == "2021-01-15T10:04:05.123+0000" || !sfDateTime.MatchString(rec["LastModifiedDate"].(string)) {
		t.Errorf("LastModifiedDate after an update = %v", rec["LastModifiedDate"])
	}
}

func TestReferences(t *testing.T) {
	t.Parallel()
	custom := salesforcetest.CustomCallObject("Call_Recording__c")
	custom.Fields = append(custom.Fields, salesforcetest.FieldDef{Name: "Contact__c", Label: "Contact", Type: "reference", ReferenceTo: []string{"contact"}})
	org := newOrg(t, salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{custom}})
	token := getToken(t, org)

	contact := org.PutRecord("Contact", salesforce.Fields{"LastName": "Lovelace"})
	lead := org.PutRecord("Lead", salesforce.Fields{"LastName": "Hopper", "Company": "Navy"})
	deleted := org.PutRecord("Contact", salesforce.Fields{"LastName": "Deleted"})
	org.DeleteRecord("Contact", deleted)
	purged := org.PutRecord("Lead", salesforce.Fields{"LastName": "Purged", "Company": "Acme"})
	org.DeleteRecord("Lead", purged)
	org.EmptyRecycleBin()
	deleted = org.PutRecord("Contact", salesforce.Fields{"LastName": "Deleted"})
	org.DeleteRecord("Contact", deleted)
	agent := org.PutRecord("User", salesforce.Fields{"Username": "agent@acme.example.com", "LastName": "Agent", "Email": "agent@acme.example.com"})
	gone := org.PutRecord("User", salesforce.Fields{"Username": "gone@acme.example.com", "LastName": "Gone", "Email": "gone@acme.example.com", "IsActive": false})
	const account = "001D000000IqhSLIAZ" // an Account's ID, from Salesforce's docs
	const nobody = "003D000000IqhSL"     // a Contact ID no record has

	r := api(t, org, token, http.MethodGet, "/sobjects/Task/describe", "")
	if !strings.Contains(r.body, `"name":"WhoId","label":"Name ID","type":"reference"`) || !strings.Contains(r.body, `"referenceTo":["Contact","Lead"]`) ||
		!strings.Contains(r.body, `"referenceTo":["User"]`) {
		t.Errorf("Task describe lacks WhoId's or OwnerId's referenceTo: %s", r.body)
	}

	tests := []struct {
		name      string
		sobject   string
		body      string
		wantCode  string // "" for success
		wantMsg   string
		wantField string
	}{
		{"a Contact", "Task", `{"Subject":"c","WhoId":"` + contact + `"}`, "", "", ""},
		{"a Lead, 15 characters", "Task", `{"Subject":"c","WhoId":"` + lead[:15] + `"}`, "", "", ""},
		{"an active owner", "Task", `{"Subject":"c","OwnerId":"` + strings.ToLower(agent) + `"}`, "", "", ""},
		{"an Account as WhoId", "Task", `{"Subject":"c","WhoId":"` + account + `"}`, "FIELD_INTEGRITY_EXCEPTION", "Name ID: id value of incorrect type: " + account, "WhoId"},
		{"a User as WhoId", "Task", `{"Subject":"c","WhoId":"` + agent + `"}`, "FIELD_INTEGRITY_EXCEPTION", "Name ID: id value of incorrect type: " + agent, "WhoId"},
		{"a Contact in the recycle bin", "Task", `{"Subject":"c","WhoId":"` + deleted + `"}`, "ENTITY_IS_DELETED", "entity is deleted", ""},
		{"a purged Lead", "Task", `{"Subject":"c","WhoId":"` + purged + `"}`, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ""},
		{"no such Contact", "Task", `{"Subject":"c","WhoId":"` + nobody + `"}`, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ""},
		{"an inactive owner", "Task", `{"Subject":"c","OwnerId":"` + gone + `"}`, "INACTIVE_OWNER_OR_USER",
			"operation performed with inactive user [" + gone[:15] + "] as owner of task", ""},
		{"no such owner", "Task", `{"Subject":"c","OwnerId":"005D000000IqhSL"}`, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ""},
		{"a Contact as owner", "Task", `{"Subject":"c","OwnerId":"` + contact + `"}`, "FIELD_INTEGRITY_EXCEPTION", "Owner ID: id value of incorrect type: " + contact, "OwnerId"},
		{"an inactive owner of a Contact", "Contact", `{"LastName":"x","OwnerId":"` + gone + `"}`, "INACTIVE_OWNER_OR_USER",
			"operation performed with inactive user [" + gone[:15] + "] as owner of contact", ""},
		{"a custom lookup", "Call_Recording__c", `{"Name":"n","Contact__c":"` + contact + `"}`, "", "", ""},
		{"a custom lookup to a Lead", "Call_Recording__c", `{"Name":"n","Contact__c":"` + lead + `"}`, "FIELD_INTEGRITY_EXCEPTION", "Contact: id value of incorrect type: " + lead, "Contact__c"},
		{"a malformed WhoId", "Task", `{"Subject":"c","WhoId":"003-nope"}`, "MALFORMED_ID", "Name ID: id value of incorrect type: 003-nope", "WhoId"},
		{"a WhatId is not checked", "Task", `{"Subject":"c","WhatId":"` + account + `"}`, "", "", ""},
	}
	for _, tt := range tests {
		r := api(t, org, token, http.MethodPost, "/sobjects/"+tt.sobject+"/", tt.body)
		if tt.wantCode == "" {
			if r.status != http.StatusCreated {
				t.Errorf("%s: %d %s, want 201", tt.name, r.status, r.body)
			}
			continue
		}
		var errs []struct {
			ErrorCode string   `json:"errorCode"`
			Message   string   `json:"message"`
			Fields    []string `json:"fields"`
		}
		r.json(t, &errs)
		var want []string
		if tt.wantField != "" {
			want = []string{tt.wantField}
		}
		if r.status != http.StatusBadRequest || len(errs) != 1 || errs[0].ErrorCode != tt.wantCode || errs[0].Message != tt.wantMsg ||
			fmt.Sprint(errs[0].Fields) != fmt.Sprint(want) {
			t.Errorf("%s: %d %s, want 400 %s %q %v", tt.name, r.status, r.body, tt.wantCode, tt.wantMsg, want)
		}
	}

	// In a collection, per record.
	r = api(t, org, token, http.MethodPost, "/composite/sobjects", `{"allOrNone":false,"records":[
		{"attributes":{"type":"Task"},"Subject":"ok","WhoId":"`+contact+`","OwnerId":"`+agent+`"},
		{"attributes":{"type":"Task"},"Subject":"bad","WhoId":"`+nobody+`"},
		{"attributes":{"type":"Task"},"Subject":"gone","OwnerId":"`+gone+`"}]}`)
	var results []struct {
		Success bool `json:"success"`
		Errors  []struct {
			StatusCode string `json:"statusCode"`
		} `json:"errors"`
	}
	r.json(t, &results)
	if r.status != http.StatusOK || len(results) != 3 || !results[0].Success || results[1].Success || results[2].Success ||
		results[1].Errors[0].StatusCode != "INVALID_CROSS_REFERENCE_KEY" || results[2].Errors[0].StatusCode != "INACTIVE_OWNER_OR_USER" {
		t.Errorf("collection: %d %s", r.status, r.body)
	}

	// Updates: the references they write, and an inactive owner even when
	// they leave OwnerId alone.
	owned := org.PutRecord("Task", salesforce.Fields{"Subject": "owned by gone", "OwnerId": gone})
	mine := org.PutRecord("Task", salesforce.Fields{"Subject": "mine"})
	for _, tt := range []struct {
		id, body, wantCode string
	}{
		{mine, `{"WhoId":"` + lead + `"}`, ""},
		{mine, `{"WhoId":null}`, ""},
		{mine, `{"WhoId":"` + nobody + `"}`, "INVALID_CROSS_REFERENCE_KEY"},
		{mine, `{"OwnerId":"` + gone + `"}`, "INACTIVE_OWNER_OR_USER"},
		{owned, `{"Subject":"still owned by gone"}`, "INACTIVE_OWNER_OR_USER"},
		{owned, `{"OwnerId":"` + agent + `","Subject":"reassigned"}`, ""},
	} {
		r := api(t, org, token, http.MethodPatch, "/sobjects/Task/"+tt.id, tt.body)
		if tt.wantCode == "" && r.status != http.StatusNoContent || tt.wantCode != "" && (r.status != http.StatusBadRequest || errorCode(t, r) != tt.wantCode) {
			t.Errorf("update %s: %d %s, want %q", tt.body, r.status, r.body, tt.wantCode)
		}
	}
	if rec, _ := org.Record("Task", owned); rec["Subject"] != "reassigned" || rec["OwnerId"] != agent {
		t.Errorf("reassigned Task = %v", rec)
	}
}

func TestReferenceToPanics(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for name, def := range map[string]salesforcetest.ObjectDef{
		"unknown target":  {Name: "X__c", Fields: []salesforcetest.FieldDef{{Name: "Account__c", Type: "reference", ReferenceTo: []string{"Account"}}}},
		"not a reference": {Name: "Y__c", Fields: []salesforcetest.FieldDef{{Name: "Contact__c", Type: "string", ReferenceTo: []string{"Contact"}}}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: AddOrg did not panic", name)
				}
			}()
			srv.AddOrg(strings.ToLower(def.Name[:1])+"-org", salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{def}})
		}()
	}
}

// queryIDs runs a query and returns the IDs of its records, or fails the
// test.
func queryIDs(t *testing.T, org *salesforcetest.Org, token, soql string) []string {
	t.Helper()
	r := api(t, org, token, http.MethodGet, "/query?q="+url.QueryEscape(soql), "")
	var page struct {
		Records []struct {
			ID string `json:"Id"`
		} `json:"records"`
	}
	r.json(t, &page)
	if r.status != http.StatusOK {
		t.Fatalf("query %q: %d %s", soql, r.status, r.body)
	}
	var ids []string
	for _, rec := range page.Records {
		ids = append(ids, rec.ID)
	}
	return ids
}

func TestMatchingQueries(t *testing.T) {
	t.Parallel()
	contact := salesforcetest.ContactObject()
	contact.Fields = append(contact.Fields, salesforcetest.FieldDef{Name: "Direct_Line__c", Label: "Direct Line", Type: "phone"})
	org := newOrg(t, salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{contact}})
	token := getToken(t, org)

	jan, mar := "2021-01-01T00:00:00.000+0000", "2021-03-01T09:00:00+09:00"
	c1 := org.PutRecord("Contact", salesforce.Fields{"LastName": "c1", "Phone": "+81312345678", "LastModifiedDate": jan})
	c2 := org.PutRecord("Contact", salesforce.Fields{"LastName": "c2", "MobilePhone": "03-1234-5678", "LastModifiedDate": mar})
	c3 := org.PutRecord("Contact", salesforce.Fields{"LastName": "c3", "Direct_Line__c": "+81312345678", "LastModifiedDate": mar})
	c4 := org.PutRecord("Contact", salesforce.Fields{"LastName": "c4", "Phone": "+81399999999", "LastModifiedDate": mar})
	l1 := org.PutRecord("Lead", salesforce.Fields{"LastName": "l1", "Company": "x", "Phone": "03-1234-5678", "LastModifiedDate": jan})
	l2 := org.PutRecord("Lead", salesforce.Fields{"LastName": "l2", "Company": "x", "MobilePhone": "+81312345678", "IsConverted": true})
	l3 := org.PutRecord("Lead", salesforce.Fields{"LastName": "l3", "Company": "x", "MobilePhone": "+81312345678", "LastModifiedDate": mar})
	agent := org.PutRecord("User", salesforce.Fields{"Username": "a@x.com.acme", "LastName": "A", "Email": "a@x.com", "IsActive": false})

	phones := "('+81312345678','03-1234-5678')"
	for _, tt := range []struct {
		soql string
		want []string
	}{
		// The daemon's queries.
		{"SELECT Id, LastModifiedDate, Phone, MobilePhone, Direct_Line__c FROM Contact WHERE Phone IN " + phones +
			" OR MobilePhone IN " + phones + " OR Direct_Line__c IN " + phones + " ORDER BY LastModifiedDate DESC, Id", []string{c2, c3, c1}},
		{"SELECT Id, LastModifiedDate, Phone, MobilePhone FROM Lead WHERE IsConverted = false AND (Phone IN " + phones +
			" OR MobilePhone IN " + phones + ") ORDER BY LastModifiedDate DESC, Id", []string{l3, l1}},
		{"SELECT Id, Email, IsActive FROM User WHERE Email IN ('A@X.COM', 'nobody@x.com')", []string{agent}},
		// Datetimes compare by instant, whatever the offset written.
		{"SELECT Id FROM Contact WHERE (LastModifiedDate > 2021-02-01T00:00:00Z AND LastModifiedDate < 2021-04-01T00:00:00+09:00) ORDER BY Id DESC LIMIT 2",
			[]string{c4, c3}},
		{"SELECT Id FROM Contact WHERE LastModifiedDate = 2021-03-01T00:00:00Z AND (Phone != null OR Direct_Line__c != null) ORDER BY Id",
			[]string{c3, c4}},
		{"SELECT Id FROM Contact WHERE LastName NOT IN ('c2', 'c3', 'c4') AND LastName <= 'C1'", []string{c1}},
		{"SELECT Id FROM Lead WHERE IsConverted = TRUE OR (LastName = 'l1')", []string{l1, l2}},
	} {
		if got := queryIDs(t, org, token, tt.soql); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s\n= %v, want %v", tt.soql, got, tt.want)
		}
	}

	// Nulls sort first ascending and last descending, unless told; ties
	// keep creation order.
	for soql, want := range map[string][]string{
		"SELECT Id FROM Contact ORDER BY Phone":                  {c2, c3, c1, c4},
		"SELECT Id FROM Contact ORDER BY Phone DESC":             {c4, c1, c2, c3},
		"SELECT Id FROM Contact ORDER BY Phone ASC NULLS LAST":   {c1, c4, c2, c3},
		"SELECT Id FROM Contact ORDER BY Phone DESC NULLS FIRST": {c2, c3, c4, c1},
	} {
		if got := queryIDs(t, org, token, soql); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", soql, got, want)
		}
	}

	for soql, wantCode := range map[string]string{
		"SELECT Id FROM Lead WHERE IsConverted = false AND Phone IN " + phones + " OR MobilePhone IN " + phones:      "MALFORMED_QUERY",
		"SELECT Id FROM Lead WHERE Phone IN " + phones + " OR MobilePhone IN " + phones + " AND IsConverted = false": "MALFORMED_QUERY",
		"SELECT Id FROM Lead WHERE IsConverted = 'false'":                                                            "INVALID_QUERY_FILTER_OPERATOR",
		"SELECT Id FROM Lead WHERE IsConverted < true":                                                               "INVALID_QUERY_FILTER_OPERATOR",
		"SELECT Id FROM Contact WHERE LastModifiedDate > 2021-02-01":                                                 "INVALID_QUERY_FILTER_OPERATOR",
		"SELECT Id FROM Contact WHERE (Phone = 'x' OR Nope__c = 'y')":                                                "INVALID_FIELD",
		"SELECT Id FROM Contact ORDER BY LastModifiedDate DESC, Nope__c":                                             "INVALID_FIELD",
		"SELECT Id FROM Task ORDER BY Description":                                                                   "INVALID_FIELD",
	} {
		r := api(t, org, token, http.MethodGet, "/query?q="+url.QueryEscape(soql), "")
		if r.status != http.StatusBadRequest || errorCode(t, r) != wantCode {
			t.Errorf("%s: %d %s, want %s", soql, r.status, r.body, wantCode)
		}
	}
}
