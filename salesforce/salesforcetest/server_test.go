package salesforcetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

const (
	id     = "client-id"
	secret = "client-secret"
)

// newServer starts a test server, closed when the test ends.
func newServer(t *testing.T) *salesforcetest.Server {
	t.Helper()
	srv := salesforcetest.NewServer()
	t.Cleanup(srv.Close)
	return srv
}

// newOrg starts a test server with one org, acme, configured by cfg with
// the client credentials id and secret.
func newOrg(t *testing.T, cfg salesforcetest.OrgConfig) *salesforcetest.Org {
	t.Helper()
	cfg.ClientID, cfg.ClientSecret = id, secret
	return newServer(t).AddOrg("acme", cfg)
}

// orgTest runs body as a parallel subtest of t named name, with an org of
// its own configured by cfg (see newOrg).
func orgTest(t *testing.T, name string, cfg salesforcetest.OrgConfig, body func(t *testing.T, org *salesforcetest.Org)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		body(t, newOrg(t, cfg))
	})
}

// newClient returns a salesforce.Client for org, with the credentials newOrg
// gives it.
func newClient(t *testing.T, org *salesforcetest.Org) *salesforce.Client {
	t.Helper()
	client, err := salesforce.NewClient(&salesforce.Config{InstanceURL: org.URL(), ClientID: id, ClientSecret: secret, AllowInsecureLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// wantRequests checks that org counted want requests of kind op.
func wantRequests(t *testing.T, org *salesforcetest.Org, op string, want int) {
	t.Helper()
	if got := org.Requests(op); got != want {
		t.Errorf("%s requests = %d, want %d", op, got, want)
	}
}

// wantAPIUsage checks that org counted want requests against its daily API
// limit.
func wantAPIUsage(t *testing.T, org *salesforcetest.Org, want int) {
	t.Helper()
	if used, _ := org.APIUsage(); used != want {
		t.Errorf("API usage = %d, want %d", used, want)
	}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

func send(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

func postToken(t *testing.T, org *salesforcetest.Org, form url.Values) response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, org.URL()+"/services/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(t, req)
}

func getToken(t *testing.T, org *salesforcetest.Org) string {
	t.Helper()
	r := postToken(t, org, url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r.json(t, &tok)
	if r.status != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	return tok.AccessToken
}

// api sends an API request; path is appended to /services/data/vXX.X.
func api(t *testing.T, org *salesforcetest.Org, token, method, path, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, org.URL()+"/services/data/"+salesforce.APIVersion+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	return send(t, req)
}

func errorCode(t *testing.T, r response) string {
	t.Helper()
	var errs []struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	r.json(t, &errs)
	if len(errs) == 0 {
		t.Fatalf("no errors in %q", r.body)
	}
	return errs[0].ErrorCode
}

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{})

	r := postToken(t, org, url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}})
	var tok map[string]any
	r.json(t, &tok)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	for _, k := range []string{"access_token", "signature", "scope", "instance_url", "id", "token_type", "issued_at"} {
		if _, ok := tok[k].(string); !ok {
			t.Errorf("token response lacks string %q: %s", k, r.body)
		}
	}
	for _, k := range []string{"expires_in", "refresh_token"} {
		if _, ok := tok[k]; ok {
			t.Errorf("token response has %q, which Salesforce does not send", k)
		}
	}
	if tok["instance_url"] != org.URL() || tok["token_type"] != "Bearer" {
		t.Errorf("instance_url, token_type = %v, %v", tok["instance_url"], tok["token_type"])
	}
	if _, err := strconv.ParseInt(fmt.Sprint(tok["issued_at"]), 10, 64); err != nil {
		t.Errorf("issued_at %v is not milliseconds", tok["issued_at"])
	}
	if !strings.HasSuffix(fmt.Sprint(tok["id"]), "/"+org.ID()+"/"+org.UserID()) {
		t.Errorf("id = %v", tok["id"])
	}

	// Basic auth.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, org.URL()+"/services/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	if r := send(t, req); r.status != http.StatusOK {
		t.Errorf("Basic auth: %d %s", r.status, r.body)
	}

	tests := []struct {
		name     string
		form     url.Values
		wantCode string
	}{
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {"nope"}}, "invalid_client"},
		{"no secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}}, "invalid_client"},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"nope"}, "client_secret": {secret}}, "invalid_client_id"},
		{"password grant", url.Values{"grant_type": {"password"}, "client_id": {id}, "client_secret": {secret}}, "unsupported_grant_type"},
		{"no grant", url.Values{"client_id": {id}, "client_secret": {secret}}, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		r := postToken(t, org, tt.form)
		var e struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		r.json(t, &e)
		if r.status != http.StatusBadRequest || e.Error != tt.wantCode || e.ErrorDescription == "" {
			t.Errorf("%s: %d %s, want 400 %s", tt.name, r.status, r.body, tt.wantCode)
		}
	}

	get, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, org.URL()+"/services/oauth2/token", nil)
	if r := send(t, get); r.status != http.StatusBadRequest || !strings.Contains(r.body, "invalid_request") {
		t.Errorf("GET token: %d %s", r.status, r.body)
	}

	org.SetTokenError("invalid_grant", "no client credentials user enabled")
	r = postToken(t, org, url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `"error":"invalid_grant"`) || !strings.Contains(r.body, "no client credentials user enabled") {
		t.Errorf("with SetTokenError: %d %s", r.status, r.body)
	}

	wantRequests(t, org, "token", 2+len(tests)+2)
	wantAPIUsage(t, org, 0) // token requests do not count
}

func TestAuthenticationAndVersions(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	acme := srv.AddOrg("acme", salesforcetest.OrgConfig{ClientID: id, ClientSecret: secret})
	other := srv.AddOrg("other", salesforcetest.OrgConfig{ClientID: id, ClientSecret: secret})

	// The versions list needs no token and is not counted.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, acme.URL()+"/services/data/", nil)
	r := send(t, req)
	var versions []map[string]string
	r.json(t, &versions)
	if r.status != http.StatusOK || len(versions) == 0 || versions[0]["url"] != "/services/data/"+salesforce.APIVersion {
		t.Errorf("versions: %d %s", r.status, r.body)
	}

	for name, token := range map[string]string{"no token": "", "made-up token": "00D!forged", "another org's token": getToken(t, other)} {
		r := api(t, acme, token, http.MethodGet, "/sobjects/Task/describe", "")
		if r.status != http.StatusUnauthorized || r.body != `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]` {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}

	token := getToken(t, acme)
	if r := api(t, acme, token, http.MethodGet, "/sobjects/Task/describe", ""); r.status != http.StatusOK {
		t.Errorf("describe: %d %s", r.status, r.body)
	}
	acme.ExpireTokens()
	if r := api(t, acme, token, http.MethodGet, "/sobjects/Task/describe", ""); r.status != http.StatusUnauthorized || errorCode(t, r) != "INVALID_SESSION_ID" {
		t.Errorf("after ExpireTokens: %d %s", r.status, r.body)
	}
	token = getToken(t, acme)

	// Only the pinned version is served.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, acme.URL()+"/services/data/v58.0/sobjects/Task/describe", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if r := send(t, req); r.status != http.StatusNotFound || errorCode(t, r) != "NOT_FOUND" {
		t.Errorf("v58.0: %d %s", r.status, r.body)
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL()+"/org/nope/services/data/", nil)
	if r := send(t, req); r.status != http.StatusNotFound {
		t.Errorf("unknown org: %d %s", r.status, r.body)
	}
	if got := acme.Requests("versions"); got != 1 {
		t.Errorf("versions requests = %d, want 1", got)
	}
}

func TestDailyLimit(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{DailyAPILimit: 3})
	token := getToken(t, org)
	for i := 1; i <= 5; i++ {
		r := api(t, org, token, http.MethodGet, "/sobjects/Task/describe", "")
		wantUsed := min(i, 3)
		if got := r.header.Get("Sforce-Limit-Info"); got != fmt.Sprintf("api-usage=%d/3", wantUsed) {
			t.Errorf("request %d: Sforce-Limit-Info = %q", i, got)
		}
		if i <= 3 && r.status != http.StatusOK {
			t.Errorf("request %d: %d %s", i, r.status, r.body)
		}
		if i > 3 && (r.status != http.StatusForbidden || r.body != `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`) {
			t.Errorf("request %d: %d %s, want 403 REQUEST_LIMIT_EXCEEDED", i, r.status, r.body)
		}
	}
	org.SetDailyAPILimit(4)
	if r := api(t, org, token, http.MethodGet, "/sobjects/Task/describe", ""); r.status != http.StatusOK || r.header.Get("Sforce-Limit-Info") != "api-usage=4/4" {
		t.Errorf("after SetDailyAPILimit: %d %q", r.status, r.header.Get("Sforce-Limit-Info"))
	}
	wantRequests(t, org, "describe", 6) // refused ones count
}

func TestWireShapes(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}})
	token := getToken(t, org)

	r := api(t, org, token, http.MethodPost, "/sobjects/Task/", `{"Subject":"x"}`)
	var created map[string]any
	r.json(t, &created)
	if r.status != http.StatusCreated || created["success"] != true || len(created) != 3 || fmt.Sprint(created["errors"]) != "[]" {
		t.Errorf("create: %d %s", r.status, r.body)
	}
	taskID := created["id"].(string)

	if r := api(t, org, token, http.MethodPatch, "/sobjects/Task/"+taskID, `{"Subject":"y"}`); r.status != http.StatusNoContent || r.body != "" {
		t.Errorf("update: %d %q", r.status, r.body)
	}
	r = api(t, org, token, http.MethodGet, "/sobjects/task/"+strings.ToLower(taskID), "")
	var got map[string]any
	r.json(t, &got)
	if r.status != http.StatusOK || got["Subject"] != "y" || got["Id"] != taskID {
		t.Errorf("retrieve (case-insensitive): %d %s", r.status, r.body)
	}

	// Upsert: the external ID is percent-decoded from the path.
	r = api(t, org, token, http.MethodPatch, "/sobjects/Call_Recording__c/call_id__c/a%2Fb%20c", `{"Name":"n"}`)
	r.json(t, &created)
	if r.status != http.StatusCreated || created["created"] != true {
		t.Errorf("upsert create: %d %s", r.status, r.body)
	}
	r = api(t, org, token, http.MethodPatch, "/sobjects/Call_Recording__c/call_id__c/a%2Fb%20c", `{"Name":"m","call_id__c":"a/b c"}`)
	r.json(t, &created)
	if r.status != http.StatusOK || created["created"] != false {
		t.Errorf("upsert update: %d %s", r.status, r.body)
	}
	recs := org.Records("Call_Recording__c")
	if len(recs) != 1 || recs[0]["call_id__c"] != "a/b c" || recs[0]["Name"] != "m" {
		t.Errorf("records = %v", recs)
	}
	if r := api(t, org, token, http.MethodPatch, "/sobjects/Call_Recording__c/call_id__c/x", `{"call_id__c":"y"}`); r.status != http.StatusBadRequest {
		t.Errorf("contradicting external ID: %d %s", r.status, r.body)
	}

	// 300 lists the matching records.
	org.PutRecord("Call_Recording__c", salesforce.Fields{"Name": "dup", "call_id__c": "d"})
	org.PutRecord("Call_Recording__c", salesforce.Fields{"Name": "dup", "call_id__c": "d"})
	r = api(t, org, token, http.MethodPatch, "/sobjects/Call_Recording__c/call_id__c/d", `{"Name":"x"}`)
	var urls []string
	r.json(t, &urls)
	if r.status != http.StatusMultipleChoices || len(urls) != 2 || !strings.HasPrefix(urls[0], "/services/data/"+salesforce.APIVersion+"/sobjects/Call_Recording__c/a0") {
		t.Errorf("300: %d %s", r.status, r.body)
	}

	// Delete, then the recycle bin.
	if r := api(t, org, token, http.MethodDelete, "/sobjects/Task/"+taskID, ""); r.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	for _, method := range []string{http.MethodGet, http.MethodPatch, http.MethodDelete} {
		r := api(t, org, token, method, "/sobjects/Task/"+taskID, `{}`)
		if r.status != http.StatusNotFound || errorCode(t, r) != "ENTITY_IS_DELETED" {
			t.Errorf("%s deleted: %d %s", method, r.status, r.body)
		}
	}
	org.EmptyRecycleBin()
	if r := api(t, org, token, http.MethodPatch, "/sobjects/Task/"+taskID, `{}`); r.status != http.StatusNotFound || errorCode(t, r) != "NOT_FOUND" {
		t.Errorf("purged: %d %s", r.status, r.body)
	}
	if r := api(t, org, token, http.MethodPatch, "/sobjects/Task/001D000000IqhSLIAZ", `{}`); r.status != http.StatusBadRequest || errorCode(t, r) != "MALFORMED_ID" {
		t.Errorf("other key prefix: %d %s", r.status, r.body)
	}
	if r := api(t, org, token, http.MethodPost, "/sobjects/Task/", `not json`); r.status != http.StatusBadRequest || errorCode(t, r) != "JSON_PARSER_ERROR" {
		t.Errorf("not JSON: %d %s", r.status, r.body)
	}
	if r := api(t, org, token, http.MethodPut, "/sobjects/Task/"+taskID, `{}`); r.status != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d %s", r.status, r.body)
	}
}

func TestFieldLengthsCountUTF16Units(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{})
	token := getToken(t, org)
	tests := []struct {
		name  string
		value string
		ok    bool
	}{
		{"255 ASCII", strings.Repeat("a", 255), true},
		{"256 ASCII", strings.Repeat("a", 256), false},
		{"255 accented (1 unit each)", strings.Repeat("é", 255), true},
		{"127 emoji and one letter", strings.Repeat("😀", 127) + "a", true},
		{"128 emoji", strings.Repeat("😀", 128), false},
	}
	for _, tt := range tests {
		body, _ := json.Marshal(map[string]string{"CallDisposition": tt.value})
		r := api(t, org, token, http.MethodPost, "/sobjects/Task/", string(body))
		if tt.ok != (r.status == http.StatusCreated) {
			t.Errorf("%s: %d %.200s", tt.name, r.status, r.body)
		}
		if !tt.ok && errorCode(t, r) != "STRING_TOO_LONG" {
			t.Errorf("%s: %s, want STRING_TOO_LONG", tt.name, r.body)
		}
	}
}

func TestCollections(t *testing.T) {
	t.Parallel()

	orgTest(t, "more than 200 records", salesforcetest.OrgConfig{}, func(t *testing.T, org *salesforcetest.Org) {
		recs := make([]string, 201)
		for i := range recs {
			recs[i] = `{"attributes":{"type":"Task"},"Subject":"x"}`
		}
		r := api(t, org, getToken(t, org), http.MethodPost, "/composite/sobjects", `{"allOrNone":false,"records":[`+strings.Join(recs, ",")+`]}`)
		if r.status != http.StatusBadRequest || errorCode(t, r) != "EXCEEDED_ID_LIMIT" {
			t.Errorf("%d %s", r.status, r.body)
		}
		if n := len(org.Records("Task")); n != 0 {
			t.Errorf("records = %d", n)
		}
	})

	orgTest(t, "allOrNone rolls back", salesforcetest.OrgConfig{}, func(t *testing.T, org *salesforcetest.Org) {
		body := `{"allOrNone":true,"records":[
			{"attributes":{"type":"Task"},"Subject":"good"},
			{"attributes":{"type":"Task"},"Subject":"bad","CallType":"Sideways"}]}`
		r := api(t, org, getToken(t, org), http.MethodPost, "/composite/sobjects", body)
		var results []salesforce.Result
		r.json(t, &results)
		if r.status != http.StatusOK || len(results) != 2 || results[0].Success || results[1].Success ||
			results[0].Errors[0].StatusCode != "ALL_OR_NONE_OPERATION_ROLLED_BACK" ||
			results[1].Errors[0].StatusCode != "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" {
			t.Errorf("%d %s", r.status, r.body)
		}
		if n := len(org.Records("Task")); n != 0 {
			t.Errorf("records = %d, want 0 after the rollback", n)
		}
	})

	orgTest(t, "missing type", salesforcetest.OrgConfig{}, func(t *testing.T, org *salesforcetest.Org) {
		r := api(t, org, getToken(t, org), http.MethodPost, "/composite/sobjects", `{"records":[{"Subject":"x"}]}`)
		if r.status != http.StatusBadRequest || errorCode(t, r) != "INVALID_TYPE" {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
}

func TestCollectionUpdate(t *testing.T) {
	t.Parallel()
	custom := salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}}
	type result struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
		Created *bool  `json:"created"`
		Errors  []struct {
			StatusCode string   `json:"statusCode"`
			Message    string   `json:"message"`
			Fields     []string `json:"fields"`
		} `json:"errors"`
	}
	update := func(t *testing.T, org *salesforcetest.Org, token string, allOrNone bool, records ...string) response {
		t.Helper()
		return api(t, org, token, http.MethodPatch, "/composite/sobjects",
			fmt.Sprintf(`{"allOrNone":%t,"records":[%s]}`, allOrNone, strings.Join(records, ",")))
	}
	rec := func(typ, id, fields string) string {
		if fields != "" {
			fields = "," + fields
		}
		return fmt.Sprintf(`{"attributes":{"type":%q},"id":%q%s}`, typ, id, fields)
	}

	orgTest(t, "mixed results", custom, func(t *testing.T, org *salesforcetest.Org) {
		token := getToken(t, org)
		ok1 := org.PutRecord("Task", salesforce.Fields{"Subject": "one"})
		deleted := org.PutRecord("Task", salesforce.Fields{"Subject": "deleted"})
		purged := org.PutRecord("Task", salesforce.Fields{"Subject": "purged"})
		org.DeleteRecord("Task", purged)
		org.EmptyRecycleBin()
		org.DeleteRecord("Task", deleted)
		tooLong := org.PutRecord("Task", salesforce.Fields{"Subject": "too long"})
		custom := org.PutRecord("Call_Recording__c", salesforce.Fields{"Name": "n", "call_id__c": "c-1"})
		taken := org.PutRecord("Call_Recording__c", salesforce.Fields{"Name": "m", "call_id__c": "c-2"})
		named := org.PutRecord("Call_Recording__c", salesforce.Fields{"Name": "o", "call_id__c": "c-3"})
		subtype := org.PutRecord("Task", salesforce.Fields{"Subject": "subtype"})
		foreign := org.PutRecord("Call_Recording__c", salesforce.Fields{"Name": "p", "call_id__c": "c-4"})

		r := update(t, org, token, false,
			rec("Task", strings.ToLower(ok1), `"Subject":"one again","Description":null`), // 18-character IDs are case-insensitive
			rec("Task", deleted, `"Subject":"x"`),
			rec("Task", purged, `"Subject":"x"`),
			rec("Task", tooLong, `"CallDisposition":"`+strings.Repeat("x", 256)+`"`),
			rec("Call_Recording__c", custom, `"Name":"renamed"`), // several types in one request
			rec("Task", foreign, `"Subject":"x"`),
			`{"attributes":{"type":"Task"},"Subject":"no id"}`,
			rec("Task", "not-an-id", `"Subject":"x"`),
			rec("Call_Recording__c", taken, `"call_id__c":"c-1"`),
			rec("Task", subtype[:15], `"TaskSubtype":"Call"`),
			rec("Call_Recording__c", named, `"Name":null`),
		)
		var results []result
		r.json(t, &results)
		if r.status != http.StatusOK || len(results) != 11 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		tests := []struct {
			wantID     string
			wantCode   string
			wantFields []string
		}{
			{wantID: ok1},
			{wantCode: "ENTITY_IS_DELETED"},
			{wantCode: "INVALID_CROSS_REFERENCE_KEY"},
			{wantCode: "STRING_TOO_LONG", wantFields: []string{"CallDisposition"}},
			{wantID: custom},
			{wantCode: "MALFORMED_ID", wantFields: []string{"Id"}},
			{wantCode: "MISSING_ARGUMENT"},
			{wantCode: "MALFORMED_ID", wantFields: []string{"Id"}},
			{wantCode: "DUPLICATE_VALUE", wantFields: []string{"call_id__c"}},
			{wantCode: "INVALID_FIELD_FOR_INSERT_UPDATE", wantFields: []string{"TaskSubtype"}},
			{wantCode: "REQUIRED_FIELD_MISSING", wantFields: []string{"Name"}},
		}
		for i, tt := range tests {
			got := results[i]
			if got.Created != nil {
				t.Errorf("result %d has created: %s", i, r.body)
			}
			if tt.wantCode == "" {
				if !got.Success || got.ID != tt.wantID || len(got.Errors) != 0 {
					t.Errorf("result %d = %+v, want success for %s", i, got, tt.wantID)
				}
				continue
			}
			if got.Success || got.ID != "" || len(got.Errors) != 1 || got.Errors[0].StatusCode != tt.wantCode ||
				got.Errors[0].Message == "" || !slices.Equal(got.Errors[0].Fields, cmpNil(tt.wantFields)) {
				t.Errorf("result %d = %+v, want %s on %q", i, got, tt.wantCode, tt.wantFields)
			}
		}
		if !strings.Contains(r.body, `"fields":[]`) {
			t.Errorf("per-record errors without fields should say [], got %s", r.body)
		}

		if got, _ := org.Record("Task", ok1); got["Subject"] != "one again" || got["Description"] != nil {
			t.Errorf("updated record = %v", got)
		}
		if got, _ := org.Record("Task", tooLong); got["CallDisposition"] != nil {
			t.Errorf("failed record changed: %v", got)
		}
		if got, _ := org.Record("Call_Recording__c", custom); got["Name"] != "renamed" {
			t.Errorf("custom record = %v", got)
		}
		if got, _ := org.Record("Call_Recording__c", taken); got["call_id__c"] != "c-2" || got["Name"] != "m" {
			t.Errorf("failed custom record changed: %v", got)
		}
		wantRequests(t, org, "collection_update", 1)
		wantAPIUsage(t, org, 1) // one for the whole batch
	})

	orgTest(t, "whole request refused", custom, func(t *testing.T, org *salesforcetest.Org) {
		token := getToken(t, org)
		id := org.PutRecord("Task", salesforce.Fields{"Subject": "kept"})
		id2 := org.PutRecord("Task", salesforce.Fields{"Subject": "kept"})
		good := rec("Task", id, `"Subject":"changed"`)
		many := make([]string, 201)
		for i := range many {
			many[i] = good
		}
		tests := []struct {
			name       string
			records    []string
			wantStatus int
			wantCode   string
		}{
			{"unknown field", []string{good, rec("Task", id2, `"Foo__c":1`)}, 400, "INVALID_FIELD"},
			{"wrong JSON type", []string{good, rec("Task", id2, `"CallDurationInSeconds":"long"`)}, 400, "JSON_PARSER_ERROR"},
			{"bad date", []string{good, rec("Task", id2, `"ActivityDate":"2026-02-30"`)}, 400, "JSON_PARSER_ERROR"},
			{"id not a string", []string{good, `{"attributes":{"type":"Task"},"id":42}`}, 400, "JSON_PARSER_ERROR"},
			{"no type", []string{good, `{"id":"` + id2 + `","Subject":"x"}`}, 400, "INVALID_TYPE"},
			{"unknown type", []string{good, rec("Nope__c", id2, "")}, 400, "INVALID_TYPE"},
			{"same ID twice", []string{good, rec("Task", strings.ToLower(id), `"Subject":"again"`)}, 400, "INVALID_FIELD"},
			{"201 records", many, 400, "EXCEEDED_ID_LIMIT"},
		}
		for _, tt := range tests {
			r := update(t, org, token, false, tt.records...)
			if r.status != tt.wantStatus || errorCode(t, r) != tt.wantCode {
				t.Errorf("%s: %d %.300s, want %d %s", tt.name, r.status, r.body, tt.wantStatus, tt.wantCode)
			}
		}
		for _, got := range org.Records("Task") {
			if got["Subject"] != "kept" {
				t.Errorf("record %v changed by a refused request", got["Id"])
			}
		}
		if r := api(t, org, token, http.MethodPatch, "/composite/sobjects", `not json`); r.status != http.StatusBadRequest || errorCode(t, r) != "JSON_PARSER_ERROR" {
			t.Errorf("not JSON: %d %s", r.status, r.body)
		}
	})

	orgTest(t, "200 records", salesforcetest.OrgConfig{}, func(t *testing.T, org *salesforcetest.Org) {
		records := make([]string, 200)
		for i := range records {
			records[i] = rec("Task", org.PutRecord("Task", nil), fmt.Sprintf(`"Subject":"s-%d"`, i))
		}
		r := update(t, org, getToken(t, org), false, records...)
		var results []result
		r.json(t, &results)
		if r.status != http.StatusOK || len(results) != 200 {
			t.Fatalf("%d %.300s", r.status, r.body)
		}
		for i, got := range org.Records("Task") {
			if !results[i].Success || got["Subject"] != fmt.Sprint("s-", i) {
				t.Fatalf("record %d = %v, result %+v", i, got, results[i])
			}
		}
	})

	orgTest(t, "allOrNone rolls back", salesforcetest.OrgConfig{}, func(t *testing.T, org *salesforcetest.Org) {
		id := org.PutRecord("Task", salesforce.Fields{"Subject": "before"})
		deleted := org.PutRecord("Task", nil)
		org.DeleteRecord("Task", deleted)
		r := update(t, org, getToken(t, org), true, rec("Task", id, `"Subject":"after"`), rec("Task", deleted, `"Subject":"x"`))
		var results []result
		r.json(t, &results)
		if r.status != http.StatusOK || len(results) != 2 || results[0].Success || results[1].Success ||
			results[0].Errors[0].StatusCode != "ALL_OR_NONE_OPERATION_ROLLED_BACK" ||
			results[1].Errors[0].StatusCode != "ENTITY_IS_DELETED" {
			t.Errorf("%d %s", r.status, r.body)
		}
		if got, _ := org.Record("Task", id); got["Subject"] != "before" {
			t.Errorf("Subject = %v, want before after the rollback", got["Subject"])
		}
	})

	orgTest(t, "faults", salesforcetest.OrgConfig{}, func(t *testing.T, org *salesforcetest.Org) {
		token := getToken(t, org)
		id := org.PutRecord("Task", salesforce.Fields{"Subject": "before"})
		org.InjectFault(salesforcetest.Fault{Op: "collection_update", Kind: salesforcetest.FaultLockRow})
		if r := update(t, org, token, false, rec("Task", id, `"Subject":"after"`)); r.status != http.StatusBadRequest || errorCode(t, r) != "UNABLE_TO_LOCK_ROW" {
			t.Errorf("faulted: %d %s", r.status, r.body)
		}
		if got, _ := org.Record("Task", id); got["Subject"] != "before" {
			t.Errorf("Subject = %v after a faulted request", got["Subject"])
		}
		if r := update(t, org, token, false, rec("Task", id, `"Subject":"after"`)); r.status != http.StatusOK {
			t.Errorf("after the fault: %d %s", r.status, r.body)
		}
		wantRequests(t, org, "collection_update", 2)
	})
}

func TestValidationRules(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}})
	token := getToken(t, org)
	org.AddValidationRule(salesforcetest.ValidationRule{
		Object: "task", Field: "subject", Contains: "SSN", Message: "No personal data in the subject.", ErrorField: "subject",
	})
	const refusedSubject = `[{"message":"No personal data in the subject.","errorCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","fields":["Subject"]}]`

	// A single create: 400, nothing saved. The rule is case-sensitive.
	r := api(t, org, token, http.MethodPost, "/sobjects/Task/", `{"Subject":"Call about SSN 123"}`)
	if r.status != http.StatusBadRequest || r.body != refusedSubject {
		t.Errorf("create: %d %s, want 400 %s", r.status, r.body, refusedSubject)
	}
	if n := len(org.Records("Task")); n != 0 {
		t.Errorf("records = %d after a refused create", n)
	}
	if r := api(t, org, token, http.MethodPost, "/sobjects/Task/", `{"Subject":"ssn"}`); r.status != http.StatusCreated {
		t.Errorf("create not matching (case): %d %s", r.status, r.body)
	}
	// Field-level errors come first.
	r = api(t, org, token, http.MethodPost, "/sobjects/Task/", `{"Subject":"SSN","CallType":"Sideways"}`)
	if r.status != http.StatusBadRequest || errorCode(t, r) != "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" || strings.Contains(r.body, "FIELD_CUSTOM") {
		t.Errorf("create with a bad picklist value: %d %s", r.status, r.body)
	}

	// A collection create, one of three records matching: two saved.
	r = api(t, org, token, http.MethodPost, "/composite/sobjects", `{"allOrNone":false,"records":[
		{"attributes":{"type":"Task"},"Subject":"one"},
		{"attributes":{"type":"Task"},"Subject":"SSN two"},
		{"attributes":{"type":"Task"},"Subject":"three"}]}`)
	var results []json.RawMessage
	r.json(t, &results)
	const perRecord = `{"success":false,"errors":[{"statusCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","message":"No personal data in the subject.","fields":["Subject"]}]}`
	if r.status != http.StatusOK || len(results) != 3 || string(results[1]) != perRecord ||
		!strings.Contains(string(results[0]), `"success":true`) || !strings.Contains(string(results[2]), `"success":true`) {
		t.Fatalf("collection create: %d %s, want the second record to fail with %s", r.status, r.body, perRecord)
	}
	var subjects []any
	for _, rec := range org.Records("Task") {
		subjects = append(subjects, rec["Subject"])
	}
	if fmt.Sprint(subjects) != "[ssn one three]" {
		t.Errorf("subjects = %v, want [ssn one three]", subjects)
	}

	// An update is checked on the merged record: it fails when it would make
	// the record match, and when the record already matches (seeded with
	// PutRecord, which is not checked) and stays so.
	id := org.Records("Task")[1]["Id"].(string)
	r = api(t, org, token, http.MethodPatch, "/sobjects/Task/"+id, `{"Subject":"SSN 987"}`)
	if r.status != http.StatusBadRequest || r.body != refusedSubject {
		t.Errorf("update: %d %s, want 400 %s", r.status, r.body, refusedSubject)
	}
	seeded := org.PutRecord("Task", salesforce.Fields{"Subject": "SSN seeded"})
	if r := api(t, org, token, http.MethodPatch, "/sobjects/Task/"+seeded, `{"Description":"x"}`); r.status != http.StatusBadRequest || r.body != refusedSubject {
		t.Errorf("update of a matching record: %d %s", r.status, r.body)
	}
	if r := api(t, org, token, http.MethodPatch, "/sobjects/Task/"+seeded, `{"Subject":null}`); r.status != http.StatusNoContent {
		t.Errorf("update that clears the match: %d %s", r.status, r.body)
	}
	// Every rule that fires reports; without an ErrorField, fields is [].
	org.AddValidationRule(salesforcetest.ValidationRule{Object: "Task", Field: "Description", Contains: "", Message: "Comments must be empty."})
	r = api(t, org, token, http.MethodPatch, "/sobjects/Task/"+id, `{"Subject":"SSN","Description":"d"}`)
	const both = `[{"message":"No personal data in the subject.","errorCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","fields":["Subject"]},` +
		`{"message":"Comments must be empty.","errorCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","fields":[]}]`
	if r.status != http.StatusBadRequest || r.body != both {
		t.Errorf("two rules: %d %s, want 400 %s", r.status, r.body, both)
	}
	if got, _ := org.Record("Task", id); got["Subject"] != "one" || got["Description"] != nil {
		t.Errorf("refused updates changed the record: %v", got)
	}

	// Upserts, single and in a collection; rules run before unique values.
	org.AddValidationRule(salesforcetest.ValidationRule{Object: "Call_Recording__c", Field: "Name", Contains: "test", Message: "No test calls."})
	org.PutRecord("Call_Recording__c", salesforce.Fields{"Name": "taken", "call_id__c": "c-1"})
	if r := api(t, org, token, http.MethodPatch, "/sobjects/Call_Recording__c/call_id__c/c-2", `{"Name":"a test"}`); r.status != http.StatusBadRequest ||
		errorCode(t, r) != "FIELD_CUSTOM_VALIDATION_EXCEPTION" || !strings.Contains(r.body, `"fields":[]`) {
		t.Errorf("upsert: %d %s", r.status, r.body)
	}
	r = api(t, org, token, http.MethodPatch, "/composite/sobjects/Call_Recording__c/call_id__c", `{"allOrNone":false,"records":[
		{"attributes":{"type":"Call_Recording__c"},"call_id__c":"c-1","Name":"test again"},
		{"attributes":{"type":"Call_Recording__c"},"call_id__c":"c-3","Name":"real"}]}`)
	var upserted []salesforce.Result
	r.json(t, &upserted)
	if r.status != http.StatusOK || len(upserted) != 2 || upserted[0].Success || len(upserted[0].Errors) != 1 ||
		upserted[0].Errors[0].StatusCode != "FIELD_CUSTOM_VALIDATION_EXCEPTION" || !upserted[1].Success {
		t.Errorf("collection upsert: %d %s", r.status, r.body)
	}
	r = api(t, org, token, http.MethodPost, "/sobjects/Call_Recording__c/", `{"Name":"test","call_id__c":"c-1"}`)
	if r.status != http.StatusBadRequest || errorCode(t, r) != "FIELD_CUSTOM_VALIDATION_EXCEPTION" || strings.Contains(r.body, "DUPLICATE_VALUE") {
		t.Errorf("a rule and a duplicate value: %d %s, want the rule's error only", r.status, r.body)
	}
	if got := len(org.Records("Call_Recording__c")); got != 2 {
		t.Errorf("custom records = %d, want 2", got)
	}

	// ClearValidationRules lets the saves through.
	org.ClearValidationRules()
	if r := api(t, org, token, http.MethodPatch, "/sobjects/Task/"+id, `{"Subject":"SSN 987","Description":"d"}`); r.status != http.StatusNoContent {
		t.Errorf("update after ClearValidationRules: %d %s", r.status, r.body)
	}
	if r := api(t, org, token, http.MethodPost, "/sobjects/Call_Recording__c/", `{"Name":"test","call_id__c":"c-9"}`); r.status != http.StatusCreated {
		t.Errorf("create after ClearValidationRules: %d %s", r.status, r.body)
	}
}

// cmpNil turns nil into the empty list that a decoded "fields":[] is.
func cmpNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestFaults(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{})
	token := getToken(t, org)
	org.InjectFault(salesforcetest.Fault{Op: "create", Kind: salesforcetest.Fault503, Count: 2})
	org.InjectFault(salesforcetest.Fault{Kind: salesforcetest.FaultLockRow})
	org.InjectFault(salesforcetest.Fault{Op: "query", Kind: salesforcetest.FaultRequestLimit})

	create := func() response { return api(t, org, token, http.MethodPost, "/sobjects/Task/", `{"Subject":"x"}`) }
	for i, want := range []string{"SERVER_UNAVAILABLE", "SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW", ""} {
		r := create()
		switch {
		case want == "" && r.status != http.StatusCreated:
			t.Errorf("create %d: %d %s, want success", i, r.status, r.body)
		case want != "" && errorCode(t, r) != want:
			t.Errorf("create %d: %d %s, want %s", i, r.status, r.body, want)
		}
	}
	if n := len(org.Records("Task")); n != 1 {
		t.Errorf("records = %d, want 1 (faults do not write)", n)
	}
	// The query fault is still queued, and a token request is unaffected by
	// faults without Op "token".
	org.InjectFault(salesforcetest.Fault{Kind: salesforcetest.Fault503})
	getToken(t, org)
	if r := api(t, org, token, http.MethodGet, "/query?q="+url.QueryEscape("SELECT Id FROM Task"), ""); r.status != http.StatusForbidden || errorCode(t, r) != "REQUEST_LIMIT_EXCEEDED" {
		t.Errorf("query: %d %s", r.status, r.body)
	}
	if r := api(t, org, token, http.MethodGet, "/query?q="+url.QueryEscape("SELECT Id FROM Task"), ""); r.status != http.StatusServiceUnavailable {
		t.Errorf("query after: %d %s, want the queued 503", r.status, r.body)
	}

	counts := org.RequestCounts()
	if counts["create"] != 4 || counts["query"] != 2 || counts["token"] != 2 {
		t.Errorf("RequestCounts = %v", counts)
	}
	for op, n := range counts {
		if org.Requests(op) != n {
			t.Errorf("Requests(%q) = %d, RequestCounts says %d", op, org.Requests(op), n)
		}
	}
}

func TestFaultErrorAndURILimit(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{})
	token := getToken(t, org)
	org.InjectFault(salesforcetest.Fault{Op: "query", Kind: salesforcetest.FaultError, ErrorCode: "MALFORMED_QUERY"})
	query := func(soql string) response {
		return api(t, org, token, http.MethodGet, "/query?q="+url.QueryEscape(soql), "")
	}
	if r := query("SELECT Id FROM Task"); r.status != http.StatusBadRequest || errorCode(t, r) != "MALFORMED_QUERY" {
		t.Errorf("faulted query: %d %s, want 400 MALFORMED_QUERY", r.status, r.body)
	}
	if r := query("SELECT Id FROM Task"); r.status != http.StatusOK {
		t.Errorf("query after the fault: %d %s", r.status, r.body)
	}
	// 16,384 bytes of URI at most; what counts is the encoded URI.
	long := "SELECT Id FROM Task WHERE Subject IN ('" + strings.Repeat("—", 1900) + "')" // 9 bytes encoded each
	if r := query(long); r.status != http.StatusRequestURITooLong {
		t.Errorf("a %d-byte query: %d, want 414", len(url.QueryEscape(long)), r.status)
	}
	if r := query("SELECT Id FROM Task WHERE Subject IN ('" + strings.Repeat("—", 1700) + "')"); r.status != http.StatusOK {
		t.Errorf("a query just under the limit: %d %s", r.status, r.body)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{})
	client := newClient(t, org)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				_, err := client.Create(t.Context(), "Task", salesforce.Fields{"Subject": fmt.Sprintf("w%d-%d", w, i)})
				if salesforce.Classify(err) == crm.ClassRetryable {
					// A 503 or lock from the faults injected below: try again.
					_, err = client.Create(t.Context(), "Task", salesforce.Fields{"Subject": fmt.Sprintf("w%d-%d", w, i)})
				}
				errs <- err
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			org.ExpireTokens()
			org.InjectFault(salesforcetest.Fault{Op: "create", Kind: salesforcetest.FaultLockRow})
			org.Records("Task")
			org.RequestCounts()
		}
	})
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
		}
	}
	recs := org.Records("Task")
	ids := make(map[string]bool)
	for _, r := range recs {
		ids[r["Id"].(string)] = true
	}
	if len(ids) != len(recs) {
		t.Errorf("%d records but %d distinct IDs", len(recs), len(ids))
	}
	if len(recs) != workers*each-failed {
		t.Errorf("%d records, %d creates failed, want %d in all", len(recs), failed, workers*each)
	}
	if len(recs) < workers*each/2 {
		t.Errorf("only %d of %d creates succeeded", len(recs), workers*each)
	}
}

func TestInFlight(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{})
	client := newClient(t, org)
	// Token requests and unauthenticated requests are not counted.
	if err := client.CheckCredentials(t.Context()); err != nil {
		t.Fatalf("CheckCredentials: %v", err)
	}
	api(t, org, "", http.MethodGet, "/sobjects/Task/describe", "")
	if got := org.PeakInFlight(); got != 0 {
		t.Fatalf("PeakInFlight = %d after a token and an unauthenticated request, want 0", got)
	}

	// The latency is long enough for the three creates to overlap.
	org.SetLatency(time.Second)
	const n = 3
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		go func() {
			<-start
			_, err := client.Create(t.Context(), "Task", salesforce.Fields{"Subject": fmt.Sprint("c-", i)})
			errs <- err
		}()
	}
	close(start)
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("Create: %v", err)
		}
	}
	if got := org.PeakInFlight(); got != n {
		t.Errorf("PeakInFlight = %d, want %d", got, n)
	}
	if got := org.InFlight(); got != 0 {
		t.Errorf("InFlight = %d once every client has its answer, want 0", got)
	}

	org.ResetPeakInFlight()
	if got := org.PeakInFlight(); got != 0 {
		t.Errorf("PeakInFlight = %d after ResetPeakInFlight, want 0", got)
	}
	org.SetLatency(0)
	for i := range 2 {
		if _, err := client.Create(t.Context(), "Task", salesforce.Fields{"Subject": fmt.Sprint("d-", i)}); err != nil {
			t.Fatalf("Create: %v", err)
		}
	}
	if got := org.PeakInFlight(); got != 1 {
		t.Errorf("PeakInFlight = %d after two requests one after the other, want 1", got)
	}
}

// An update whose client gave up is performed all the same, after its
// latency; InFlight tells when.
func TestAbandonedRequestLands(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{})
	token := getToken(t, org)
	recID := org.PutRecord("Task", salesforce.Fields{"Subject": "before"})
	org.SetLatency(300 * time.Millisecond)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPatch, org.URL()+"/services/data/"+salesforce.APIVersion+"/sobjects/Task/"+recID,
		strings.NewReader(`{"Subject":"after"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("update answered %d, want the client to give up first", resp.StatusCode)
	}
	pgtest.WaitFor(t, 5*time.Second, "the abandoned update to land", func() bool {
		got, _ := org.Record("Task", recID)
		return got["Subject"] == "after"
	})
	pgtest.WaitFor(t, 5*time.Second, "no request in flight", func() bool { return org.InFlight() == 0 })
	wantRequests(t, org, "update", 1)
	wantAPIUsage(t, org, 1)
}

// Close does not wait out a long latency: it performs the requests in flight
// at once.
func TestCloseFinishesRequestsInFlight(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	org := srv.AddOrg("acme", salesforcetest.OrgConfig{ClientID: id, ClientSecret: secret, Latency: time.Hour})
	client := newClient(t, org)
	// The token first, so that a slow token request under load cannot use up
	// the create's 50ms before the create is sent.
	if err := client.CheckCredentials(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := client.Create(ctx, "Task", salesforce.Fields{"Subject": "c-1"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Create error = %v, want context.DeadlineExceeded", err)
	}
	pgtest.WaitFor(t, 5*time.Second, "the abandoned create in flight", func() bool { return org.InFlight() == 1 })

	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waiting after 10s")
	}
	if recs := org.Records("Task"); len(recs) != 1 || recs[0]["Subject"] != "c-1" {
		t.Errorf("records = %v, want the create that was in flight", recs)
	}
	if got := org.InFlight(); got != 0 {
		t.Errorf("InFlight = %d after Close, want 0", got)
	}
}

func TestAddOrgPanics(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.AddOrg("acme", salesforcetest.OrgConfig{})
	for name, f := range map[string]func(){
		"duplicate name": func() { srv.AddOrg("acme", salesforcetest.OrgConfig{}) },
		"bad name":       func() { srv.AddOrg("Acme/../x", salesforcetest.OrgConfig{}) },
		"bad object": func() {
			srv.AddOrg("a1", salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{{Name: "no spaces"}}})
		},
		"bad field type": func() {
			srv.AddOrg("a2", salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{{Name: "X__c", Fields: []salesforcetest.FieldDef{{Name: "F__c", Type: "blob"}}}}})
		},
		"bad key prefix": func() {
			srv.AddOrg("a3", salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{{Name: "X__c", KeyPrefix: "a-"}}})
		},
		"taken key prefix": func() {
			srv.AddOrg("a4", salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{{Name: "X__c", KeyPrefix: "00T"}}})
		},
		"PutRecord unknown": func() { srv.AddOrg("a5", salesforcetest.OrgConfig{}).PutRecord("Nope__c", nil) },
		"rule on unknown object": func() {
			srv.AddOrg("a6", salesforcetest.OrgConfig{}).AddValidationRule(salesforcetest.ValidationRule{Object: "Nope__c", Field: "Name", Message: "m"})
		},
		"rule on unknown field": func() {
			srv.AddOrg("a7", salesforcetest.OrgConfig{}).AddValidationRule(salesforcetest.ValidationRule{Object: "Task", Field: "Nope__c", Message: "m"})
		},
		"rule on a number field": func() {
			srv.AddOrg("a8", salesforcetest.OrgConfig{}).AddValidationRule(salesforcetest.ValidationRule{Object: "Task", Field: "CallDurationInSeconds", Message: "m"})
		},
		"rule with unknown error field": func() {
			srv.AddOrg("a9", salesforcetest.OrgConfig{}).AddValidationRule(salesforcetest.ValidationRule{Object: "Task", Field: "Subject", Message: "m", ErrorField: "Nope__c"})
		},
		"rule without message": func() {
			srv.AddOrg("b1", salesforcetest.OrgConfig{}).AddValidationRule(salesforcetest.ValidationRule{Object: "Task", Field: "Subject"})
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestRecordPage(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}})
	token := getToken(t, org)

	r := api(t, org, token, http.MethodPost, "/sobjects/Task/", `{"Subject":"<script>alert(1)</script>","Description":"Tom & Jerry"}`)
	var created struct {
		ID string `json:"id"`
	}
	r.json(t, &created)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	taskID := created.ID
	callID := org.PutRecord("Call_Recording__c", salesforce.Fields{"Name": "Call with Ada", "call_id__c": "c-1"})

	countsBefore := org.RequestCounts()
	usedBefore, _ := org.APIUsage()
	// Record pages are no API requests: no latency, no faults.
	org.SetLatency(time.Hour)
	org.InjectFault(salesforcetest.Fault{Kind: salesforcetest.Fault503})

	page := func(path string) response {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, org.URL()+path, nil)
		return send(t, req) // no Authorization: record pages are open
	}
	isHTML := func(what string, r response) {
		t.Helper()
		if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type = %q", what, ct)
		}
		if csp := r.header.Get("Content-Security-Policy"); csp != "default-src 'none'; style-src 'unsafe-inline'" {
			t.Errorf("%s: Content-Security-Policy = %q", what, csp)
		}
		if !strings.Contains(r.body, "syncd Salesforce simulator") {
			t.Errorf("%s: no simulator line in %s", what, r.body)
		}
		if strings.Contains(r.body, "<script") || strings.Contains(r.body, "<link") || strings.Contains(r.body, "src=") {
			t.Errorf("%s: not self-contained: %s", what, r.body)
		}
	}

	for _, path := range []string{"/" + taskID, "/" + strings.ToLower(taskID), "/" + taskID[:15], "/" + taskID + "/"} {
		r := page(path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		isHTML(path, r)
		for _, want := range []string{"<h1>Task</h1>", taskID, "&lt;script&gt;alert(1)&lt;/script&gt;", "Tom &amp; Jerry", ">Not Started<"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("GET %s: no %q in %s", path, want, r.body)
			}
		}
		// The object's field order: Subject, Status, ..., system fields.
		subject, status, created := strings.Index(r.body, ">Subject<"), strings.Index(r.body, ">Status<"), strings.Index(r.body, ">CreatedDate<")
		if subject < 0 || !(subject < status && status < created) {
			t.Errorf("GET %s: fields out of order (Subject %d, Status %d, CreatedDate %d)", path, subject, status, created)
		}
	}
	if r := page("/" + callID); r.status != http.StatusOK || !strings.Contains(r.body, "<h1>Call_Recording__c</h1>") || !strings.Contains(r.body, ">Call with Ada<") {
		t.Errorf("custom object: %d %s", r.status, r.body)
	}
	if got := org.RequestCounts(); !maps.Equal(got, countsBefore) {
		t.Errorf("request counts = %v, want %v (record pages do not count)", got, countsBefore)
	}
	wantAPIUsage(t, org, usedBefore)
	org.SetLatency(0)
	if r := api(t, org, token, http.MethodGet, "/sobjects/Task/describe", ""); r.status != http.StatusServiceUnavailable {
		t.Errorf("the fault should still be queued: describe %d %s", r.status, r.body)
	}

	// Deleted, then purged, unknown and malformed IDs.
	if r := api(t, org, token, http.MethodDelete, "/sobjects/Task/"+taskID, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	r = page("/" + taskID)
	isHTML("deleted", r)
	if r.status != http.StatusNotFound || !strings.Contains(r.body, "was deleted") || !strings.Contains(r.body, taskID) || strings.Contains(r.body, "alert(1)") {
		t.Errorf("deleted: %d %s", r.status, r.body)
	}
	org.EmptyRecycleBin()
	bad := taskID[:15] + "AAA" // a wrong checksum
	for _, path := range []string{"/" + taskID, "/001D000000IqhSLIAZ", "/a0Z" + taskID[3:15], "/" + bad, "/nope", "/%3Cb%3E"} {
		r := page(path)
		isHTML(path, r)
		if r.status != http.StatusNotFound || !strings.Contains(r.body, "Record not found") || strings.Contains(r.body, "<b>") {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}

	// Other methods are refused; the API's routes are not shadowed.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, org.URL()+"/"+callID, nil)
	if r := send(t, req); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d %s", r.status, r.body)
	}
	if r := page("/services"); r.status != http.StatusNotFound || errorCode(t, r) != "NOT_FOUND" {
		t.Errorf("/services: %d %s", r.status, r.body)
	}
	if r := page("/services/data/"); r.status != http.StatusOK {
		t.Errorf("versions: %d %s", r.status, r.body)
	}
}
