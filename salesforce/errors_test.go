package salesforce_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/koeiq/syncd/internal/testsupport"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	api := func(op string, status int, code string) error {
		return &salesforce.APIError{Op: op, StatusCode: status, ErrorCode: code, Message: "m"}
	}
	tests := []struct {
		name string
		err  error
		want crm.Class
	}{
		{"nil", nil, 0},
		{"network", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), crm.ClassRetryable},
		{"canceled", fmt.Errorf("salesforce: create Task: %w", context.Canceled), crm.ClassRetryable},
		{"deadline", context.DeadlineExceeded, crm.ClassRetryable},
		{"500", api("create Task", 500, ""), crm.ClassRetryable},
		{"502 html", api("create Task", 502, ""), crm.ClassRetryable},
		{"429", api("create Task", 429, ""), crm.ClassRetryable},
		{"lock 400", api("create Task", 400, "UNABLE_TO_LOCK_ROW"), crm.ClassRetryable},
		{"lock 500", api("create Task", 500, "UNABLE_TO_LOCK_ROW"), crm.ClassRetryable},
		{"server unavailable", api("create Task", 503, "SERVER_UNAVAILABLE"), crm.ClassRetryable},
		{"session after retry", api("create Task", 401, "INVALID_SESSION_ID"), crm.ClassRetryable},
		{"401 without code", api("create Task", 401, ""), crm.ClassRetryable},
		{"unreadable success", api("create Task", 201, ""), crm.ClassRetryable},
		{"query timeout", api("query", 400, "QUERY_TIMEOUT"), crm.ClassRetryable},
		{"request limit", api("create Task", 403, "REQUEST_LIMIT_EXCEEDED"), crm.ClassRateLimited},
		{"concurrent limit", api("create Task", 400, "REQUEST_LIMIT_EXCEEDED"), crm.ClassRateLimited},
		{"login rate limit", api("token", 400, "rate_limit_exceeded"), crm.ClassRateLimited},
		{"invalid_client", api("token", 400, "invalid_client"), crm.ClassAuth},
		{"invalid_client_id", api("token", 400, "invalid_client_id"), crm.ClassAuth},
		{"invalid_grant", api("token", 400, "invalid_grant"), crm.ClassAuth},
		{"invalid_app_access", api("token", 400, "invalid_app_access"), crm.ClassAuth},
		{"unauthorized_client", api("token", 400, "unauthorized_client"), crm.ClassAuth},
		{"unsupported_grant_type", api("token", 400, "unsupported_grant_type"), crm.ClassAuth},
		{"inactive_user", api("token", 400, "inactive_user"), crm.ClassAuth},
		{"inactive_org", api("token", 400, "inactive_org"), crm.ClassAuth},
		{"other token 4xx", api("token", 400, "invalid_request"), crm.ClassAuth},
		{"token 404 html", api("token", 404, ""), crm.ClassAuth},
		{"token redirect", api("token", 302, ""), crm.ClassAuth},
		{"token unusable", api("token", 200, ""), crm.ClassAuth},
		{"token 503", api("token", 503, ""), crm.ClassRetryable},
		{"api disabled", api("create Task", 403, "API_DISABLED_FOR_ORG"), crm.ClassAuth},
		{"redirect", api("create Task", 302, ""), crm.ClassAuth},
		{"multiple choices", api("upsert Task", 300, "MULTIPLE_CHOICES"), crm.ClassData},
		{"string too long", api("create Task", 400, "STRING_TOO_LONG"), crm.ClassData},
		{"invalid field", api("create Task", 400, "INVALID_FIELD"), crm.ClassData},
		{"insert update", api("create Task", 400, "INVALID_FIELD_FOR_INSERT_UPDATE"), crm.ClassData},
		{"required", api("create Task", 400, "REQUIRED_FIELD_MISSING"), crm.ClassData},
		{"validation rule", api("create Task", 400, "FIELD_CUSTOM_VALIDATION_EXCEPTION"), crm.ClassData},
		{"not found", api("create Nope__c", 404, "NOT_FOUND"), crm.ClassData},
		{"invalid type", api("query", 400, "INVALID_TYPE"), crm.ClassData},
		{"malformed id", api("update Task", 400, "MALFORMED_ID"), crm.ClassData},
		{"json parser", api("create Task", 400, "JSON_PARSER_ERROR"), crm.ClassData},
		{"picklist", api("create Task", 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"), crm.ClassData},
		{"duplicate", api("create Task", 400, "DUPLICATE_VALUE"), crm.ClassData},
		{"insufficient access", api("create Task", 403, "INSUFFICIENT_ACCESS_OR_READONLY"), crm.ClassData},
		{"gone", api("create Task", 410, ""), crm.ClassData},
		{"other 4xx", api("create Task", 400, ""), crm.ClassData},
		{"not sent", api("update Task", 0, "MALFORMED_ID"), crm.ClassData},
		{"wrapped", fmt.Errorf("push call c-1: %w", api("token", 400, "invalid_grant")), crm.ClassAuth},
	}
	for _, tt := range tests {
		if got := salesforce.Classify(tt.err); got != tt.want {
			t.Errorf("%s: Classify(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestRecordErrorClass(t *testing.T) {
	t.Parallel()
	tests := map[string]crm.Class{
		"UNABLE_TO_LOCK_ROW":                crm.ClassRetryable,
		"ALL_OR_NONE_OPERATION_ROLLED_BACK": crm.ClassRetryable,
		"REQUEST_LIMIT_EXCEEDED":            crm.ClassRateLimited,
		"STRING_TOO_LONG":                   crm.ClassData,
		"DUPLICATE_VALUE":                   crm.ClassData,
		"MISSING_ARGUMENT":                  crm.ClassData,
		"":                                  crm.ClassData,
	}
	for code, want := range tests {
		if got := (salesforce.RecordError{StatusCode: code}).Class(); got != want {
			t.Errorf("RecordError{%q}.Class() = %v, want %v", code, got, want)
		}
	}
}

// A failed record of an sObject Collections request is a *SaveError that
// Classify understands, by its first error; its log value leaves the
// messages out.
func TestSaveError(t *testing.T) {
	t.Parallel()
	if err := (salesforce.Result{ID: "00T000000000001AAA", Success: true}).Err(); err != nil {
		t.Errorf("Err of a saved record = %v, want nil", err)
	}
	tests := []struct {
		name      string
		errs      []salesforce.RecordError
		wantClass crm.Class
		wantText  string
	}{
		{"too long", []salesforce.RecordError{{StatusCode: "STRING_TOO_LONG", Message: "secret call text", Fields: []string{"Subject", "Description"}}},
			crm.ClassData, "salesforce: save: STRING_TOO_LONG: secret call text (fields: Subject, Description)"},
		{"locked, then more", []salesforce.RecordError{{StatusCode: "UNABLE_TO_LOCK_ROW", Message: "secret call text"}, {StatusCode: "STRING_TOO_LONG", Message: "m"}},
			crm.ClassRetryable, "salesforce: save: UNABLE_TO_LOCK_ROW: secret call text; STRING_TOO_LONG: m"},
		{"limit", []salesforce.RecordError{{StatusCode: "REQUEST_LIMIT_EXCEEDED", Message: "secret call text"}},
			crm.ClassRateLimited, "salesforce: save: REQUEST_LIMIT_EXCEEDED: secret call text"},
		{"no error given", nil, crm.ClassRetryable, "salesforce: save: the record failed without an error"},
	}
	for _, tt := range tests {
		err := fmt.Errorf("push: %w", salesforce.Result{Errors: tt.errs}.Err())
		var se *salesforce.SaveError
		if !errors.As(err, &se) {
			t.Fatalf("%s: %T is not a *SaveError", tt.name, err)
		}
		if got := salesforce.Classify(err); got != tt.wantClass {
			t.Errorf("%s: Classify = %v, want %v", tt.name, got, tt.wantClass)
		}
		if got := se.Error(); got != tt.wantText {
			t.Errorf("%s: Error() = %q, want %q", tt.name, got, tt.wantText)
		}
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("push failed", "error", se)
		if strings.Contains(buf.String(), "secret") {
			t.Errorf("%s: the log quotes the message: %s", tt.name, buf.String())
		}
	}
}

func TestIsDeleted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{&salesforce.APIError{StatusCode: 404, ErrorCode: "ENTITY_IS_DELETED"}, true},
		{&salesforce.APIError{StatusCode: 404, ErrorCode: "NOT_FOUND"}, true},
		{fmt.Errorf("x: %w", &salesforce.APIError{StatusCode: 404, ErrorCode: "NOT_FOUND"}), true},
		{&salesforce.APIError{StatusCode: 0, ErrorCode: "NOT_FOUND"}, false},
		{&salesforce.APIError{StatusCode: 400, ErrorCode: "MALFORMED_ID"}, false},
		{errors.New("EOF"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := salesforce.IsDeleted(tt.err); got != tt.want {
			t.Errorf("IsDeleted(%v) = %t, want %t", tt.err, got, tt.want)
		}
	}
}

func TestResultDeleted(t *testing.T) {
	t.Parallel()
	failed := func(code string, fields ...string) salesforce.Result {
		return salesforce.Result{Errors: []salesforce.RecordError{{StatusCode: code, Message: "m", Fields: fields}}}
	}
	tests := []struct {
		name string
		r    salesforce.Result
		want bool
	}{
		{"in the recycle bin", failed("ENTITY_IS_DELETED"), true},
		{"purged", failed("INVALID_CROSS_REFERENCE_KEY"), true},
		{"about Id", failed("INVALID_CROSS_REFERENCE_KEY", "Id"), true},
		{"about id", failed("ENTITY_IS_DELETED", "id"), true},
		{"a deleted WhoId", failed("ENTITY_IS_DELETED", "WhoId"), false},
		{"an unknown WhatId", failed("INVALID_CROSS_REFERENCE_KEY", "WhatId"), false},
		{"Id and a reference", failed("INVALID_CROSS_REFERENCE_KEY", "Id", "WhoId"), false},
		{"another object's ID", failed("MALFORMED_ID", "Id"), false},
		{"not found is no per-record code", failed("NOT_FOUND"), false},
		{"validation", failed("STRING_TOO_LONG", "Subject"), false},
		{"second error", salesforce.Result{Errors: []salesforce.RecordError{
			{StatusCode: "UNABLE_TO_LOCK_ROW"}, {StatusCode: "ENTITY_IS_DELETED"}}}, true},
		{"success", salesforce.Result{ID: "00T000000000001AAA", Success: true, Errors: []salesforce.RecordError{{StatusCode: "ENTITY_IS_DELETED"}}}, false},
		{"zero", salesforce.Result{}, false},
	}
	for _, tt := range tests {
		if got := tt.r.Deleted(); got != tt.want {
			t.Errorf("%s: Deleted() = %t, want %t", tt.name, got, tt.want)
		}
	}
}

func TestAPIErrorFormatting(t *testing.T) {
	t.Parallel()
	const content = "the customer said their card number is 4111"
	ae := &salesforce.APIError{
		Op: "create Task", StatusCode: 400, ErrorCode: "STRING_TOO_LONG",
		Message: "Subject: data value too large: " + content + " (max length=255)", Fields: []string{"Subject"},
	}
	want := "salesforce: create Task: HTTP 400 STRING_TOO_LONG: Subject: data value too large: " + content + " (max length=255) (fields: Subject)"
	if got := ae.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	notSent := &salesforce.APIError{Op: "update Task", ErrorCode: "MALFORMED_ID", Message: "bad"}
	if got := notSent.Error(); got != "salesforce: update Task: not sent MALFORMED_ID: bad" {
		t.Errorf("Error() = %q", got)
	}

	for name, h := range map[string]func(io.Writer) slog.Handler{
		"json": func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
		"text": func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Error("push failed", "error", ae)
		out := buf.String()
		for _, s := range []string{"create Task", "400", "STRING_TOO_LONG", "Subject", "data"} {
			if !strings.Contains(out, s) {
				t.Errorf("%s log %q lacks %q", name, out, s)
			}
		}
		if strings.Contains(out, content) || strings.Contains(out, "data value too large") {
			t.Errorf("%s log %q contains the message", name, out)
		}
	}
}

// fakeSalesforce is a hand-written server for behaviour the test server does
// not have: redirects, odd bodies, odd token responses.
func fakeSalesforce(t *testing.T, token func(w http.ResponseWriter, r *http.Request, self string), api http.HandlerFunc) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/services/oauth2/token" {
			if token != nil {
				token(w, r, srv.URL)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"access_token": "fake-token", "instance_url": srv.URL, "token_type": "Bearer"})
			return
		}
		api(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func fakeClient(t *testing.T, instanceURL string, mod ...func(*salesforce.Config)) *salesforce.Client {
	t.Helper()
	cfg := &salesforce.Config{InstanceURL: instanceURL, ClientID: testClientID, ClientSecret: testClientSecret, AllowInsecureLoopback: true}
	for _, m := range mod {
		m(cfg)
	}
	c, err := salesforce.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// evilServer counts requests that reach it and remembers any secret they carry.
type evilServer struct {
	*httptest.Server
	hits    atomic.Int32
	mu      sync.Mutex
	carried []string
}

func newEvilServer(t *testing.T) *evilServer {
	e := &evilServer{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.carried = append(e.carried, r.Header.Get("Authorization"), string(body))
		e.mu.Unlock()
	}))
	t.Cleanup(e.Close)
	return e
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()

	t.Run("API request", func(t *testing.T) {
		t.Parallel()
		evil := newEvilServer(t)
		fake := fakeSalesforce(t, nil, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, evil.URL+"/steal", http.StatusFound)
		})
		client := fakeClient(t, fake.URL)
		_, err := client.Create(t.Context(), "Task", task("c-1"))
		ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
		if ae.StatusCode != http.StatusFound || salesforce.Classify(err) != crm.ClassAuth {
			t.Errorf("error = %v, want 302, auth", ae)
		}
		if n := evil.hits.Load(); n != 0 {
			t.Errorf("the other host got %d requests (%q)", n, evil.carried)
		}
	})

	t.Run("token request", func(t *testing.T) {
		t.Parallel()
		evil := newEvilServer(t)
		for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			fake := fakeSalesforce(t, func(w http.ResponseWriter, r *http.Request, _ string) {
				http.Redirect(w, r, evil.URL+"/services/oauth2/token", status)
			}, nil)
			err := fakeClient(t, fake.URL).CheckCredentials(t.Context())
			ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
			if ae.Op != "token" || ae.StatusCode != status || salesforce.Classify(err) != crm.ClassAuth {
				t.Errorf("error = %v, want token %d, auth", ae, status)
			}
		}
		if n := evil.hits.Load(); n != 0 {
			t.Errorf("the other host got %d requests (%q)", n, evil.carried)
		}
	})
}

func TestTokenInstanceURL(t *testing.T) {
	t.Parallel()

	t.Run("refused when not allowed", func(t *testing.T) {
		t.Parallel()
		for _, instanceURL := range []string{"https://evil.example", "https://login.salesforce.com", "http://169.254.169.254:80", "https://acme.my.salesforce.com.evil.example"} {
			var apiCalls atomic.Int32
			fake := fakeSalesforce(t, func(w http.ResponseWriter, r *http.Request, _ string) {
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]string{"access_token": "tok", "instance_url": instanceURL})
			}, func(http.ResponseWriter, *http.Request) { apiCalls.Add(1) })
			_, err := fakeClient(t, fake.URL).Describe(t.Context(), "Task")
			ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
			if ae.Op != "token" || !strings.Contains(ae.Message, "instance_url") || salesforce.Classify(err) != crm.ClassAuth {
				t.Errorf("instance_url %s: error = %v, want a token error about instance_url, auth", instanceURL, ae)
			}
			if n := apiCalls.Load(); n != 0 {
				t.Errorf("instance_url %s: %d API calls made", instanceURL, n)
			}
		}
	})

	t.Run("API calls go to it", func(t *testing.T) {
		t.Parallel()
		var path, auth string
		fake := fakeSalesforce(t, func(w http.ResponseWriter, r *http.Request, self string) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"access_token": "tok-123", "instance_url": self + "/pod7/"})
		}, func(w http.ResponseWriter, r *http.Request) {
			path, auth = r.URL.Path, r.Header.Get("Authorization")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":"00T000000000001AAA","success":true,"errors":[]}`)
		})
		client := fakeClient(t, fake.URL)
		id, err := client.Create(t.Context(), "Task", task("c-1"))
		if err != nil || id != "00T000000000001AAA" {
			t.Fatalf("Create = %q, %v", id, err)
		}
		if want := "/pod7/services/data/" + salesforce.APIVersion + "/sobjects/Task/"; path != want || auth != "Bearer tok-123" {
			t.Errorf("request to %q with %q, want %q with the token", path, auth, want)
		}
		if got := client.InstanceURL(); got != fake.URL+"/pod7" {
			t.Errorf("InstanceURL() = %q", got)
		}
	})

	t.Run("token response without access_token", func(t *testing.T) {
		t.Parallel()
		fake := fakeSalesforce(t, func(w http.ResponseWriter, r *http.Request, self string) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"instance_url":"`+self+`"}`)
		}, nil)
		err := fakeClient(t, fake.URL).CheckCredentials(t.Context())
		if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); ae.Op != "token" || ae.StatusCode != 200 || salesforce.Classify(err) != crm.ClassAuth {
			t.Errorf("error = %v, want a token error, auth", ae)
		}
	})
}

func TestOddResponseBodies(t *testing.T) {
	t.Parallel()
	html := "<html><head><title>502 Bad Gateway</title></head><body>" + strings.Repeat("upstream unreachable ", 100) + "</body></html>"
	tests := []struct {
		name      string
		status    int
		body      string
		wantCode  string
		wantMsg   string
		wantClass crm.Class
	}{
		{"html 502", 502, html, "", "Bad Gateway: <html>", crm.ClassRetryable},
		{"plain 400", 400, "Bad Request", "", "Bad Request: Bad Request", crm.ClassData},
		{"empty 500", 500, "", "", "Internal Server Error", crm.ClassRetryable},
		{"single error object", 404, `{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}`, "NOT_FOUND", "does not exist", crm.ClassData},
		{"several errors", 400, `[{"errorCode":"STRING_TOO_LONG","message":"a","fields":["Subject"]},{"errorCode":"INVALID_FIELD","message":"b"}]`,
			"STRING_TOO_LONG", "a; INVALID_FIELD: b", crm.ClassData},
		{"oauth shape on the API", 401, `{"error":"invalid_token","error_description":"expired"}`, "invalid_token", "expired", crm.ClassRetryable},
		{"garbage success", 201, "<html>ok</html>", "", "cannot read the response", crm.ClassRetryable},
		{"success without id", 201, `{"success":true,"errors":[]}`, "", "no record ID", crm.ClassRetryable},
		{"binary 500", 500, "\x00\x01\xff\xfe secret?", "", "Internal Server Error", crm.ClassRetryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fakeSalesforce(t, nil, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, err := fakeClient(t, fake.URL).Create(t.Context(), "Task", task("c-1"))
			ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
			if ae.StatusCode != tt.status || ae.ErrorCode != tt.wantCode || !strings.Contains(ae.Message, tt.wantMsg) {
				t.Errorf("error = %#v, want %d %q with message containing %q", ae, tt.status, tt.wantCode, tt.wantMsg)
			}
			if len(ae.Message) > 400 {
				t.Errorf("Message is %d bytes long, want it truncated", len(ae.Message))
			}
			if c := salesforce.Classify(err); c != tt.wantClass {
				t.Errorf("Classify = %v, want %v", c, tt.wantClass)
			}
		})
	}
}

func TestNextRecordsURLMustStayOnTheInstance(t *testing.T) {
	t.Parallel()
	evil := newEvilServer(t)
	for _, next := range []string{evil.URL + "/services/data/v67.0/query/x", "//evil.example/services/data/x", "/services/data/../../x", "/elsewhere", "/services/data/v67.0/query/x?y=1"} {
		fake := fakeSalesforce(t, nil, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"done": false, "nextRecordsUrl": next, "records": []any{}})
		})
		_, err := fakeClient(t, fake.URL).Query(t.Context(), "SELECT Id FROM Task")
		if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); !strings.Contains(ae.Message, "nextRecordsUrl") {
			t.Errorf("nextRecordsUrl %q: error = %v", next, ae)
		}
	}
	if n := evil.hits.Load(); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
}

func TestOnRequestOperations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}})
	id, err := b.client.Create(ctx, "Task", task("c-1"))
	if err != nil {
		t.Fatal(err)
	}
	steps := []error{
		b.client.Update(ctx, "Task", id, salesforce.Fields{"Subject": "c-2"}),
		func() error {
			_, err := b.client.Upsert(ctx, "Call_Recording__c", "call_id__c", "c-1", salesforce.Fields{"Name": "n"})
			return err
		}(),
		func() error { _, err := b.client.Query(ctx, "SELECT Id FROM Task"); return err }(),
		func() error { _, err := b.client.Describe(ctx, "Task"); return err }(),
		func() error { _, err := b.client.CreateMany(ctx, "Task", []salesforce.Fields{task("c-3")}); return err }(),
		func() error {
			_, err := b.client.UpsertMany(ctx, "Call_Recording__c", "call_id__c", []salesforce.Fields{{"call_id__c": "c-2", "Name": "n"}})
			return err
		}(),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	want := []string{"token 200", "create 201", "update 204", "upsert 201", "query 200", "describe 200", "collection_create 200", "collection_upsert 200"}
	if got := b.ops.Calls(); !slices.Equal(got, want) {
		t.Errorf("OnRequest saw %q, want %q", got, want)
	}
}

// tokenRecorder records the bearer tokens the client sends.
type tokenRecorder struct {
	base   http.RoundTripper
	mu     sync.Mutex
	tokens []string
}

func (r *tokenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
		r.mu.Lock()
		r.tokens = append(r.tokens, tok)
		r.mu.Unlock()
	}
	return r.base.RoundTrip(req)
}

func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const (
		wrongSecret = "WRONG-s3cr3t-value-9d8e"
		content     = "CALL-CONTENT-the-caller-said-xyz"
	)

	var logs testsupport.SyncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	textLogger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rec := &tokenRecorder{base: http.DefaultTransport}
	withLogs := func(l *slog.Logger) func(*salesforce.Config) {
		return func(c *salesforce.Config) { c.Logger = l; c.Transport = rec }
	}
	b := setup(t, salesforcetest.OrgConfig{}, withLogs(logger))

	var outputs []string // every error string and formatting that could reach a person
	collect := func(err error) {
		if err == nil {
			return
		}
		outputs = append(outputs, err.Error(), fmt.Sprintf("%v|%+v|%#v|%s", err, err, err, err))
		var ae *salesforce.APIError
		if errors.As(err, &ae) {
			outputs = append(outputs, fmt.Sprintf("%v|%+v|%#v", *ae, *ae, *ae))
		}
		logger.Error("operation failed", "error", err)
		textLogger.Error("operation failed", "error", err)
	}

	// Token failures: a wrong secret, a rotated secret, a 503.
	wrong := fakeClientFor(t, b.org, wrongSecret, withLogs(logger))
	_, err := wrong.Create(ctx, "Task", task("c-0"))
	if salesforce.Classify(err) != crm.ClassAuth {
		t.Fatalf("wrong secret: error %v, want auth", err)
	}
	collect(err)
	collect(wrong.CheckCredentials(ctx))

	// Successes, a refresh, and errors that quote call content.
	if _, err := b.client.Create(ctx, "Task", task("c-1")); err != nil {
		t.Fatal(err)
	}
	b.org.ExpireTokens()
	if _, err := b.client.Create(ctx, "Task", task("c-2")); err != nil {
		t.Fatal(err)
	}
	_, err = b.client.Create(ctx, "Task", salesforce.Fields{"Subject": content + strings.Repeat("!", 255)})
	if !strings.Contains(fmt.Sprint(err), content) {
		t.Fatalf("error %v does not carry the message (it must, to be stored for the tenant)", err)
	}
	collect(err)
	results, err := b.client.CreateMany(ctx, "Task", []salesforce.Fields{task("c-3"), {"CallType": content}})
	if err != nil || results[1].Success {
		t.Fatalf("CreateMany = %+v, %v", results, err)
	}
	outputs = append(outputs, fmt.Sprintf("%v|%+v|%#v", results, results, results))
	b.org.InjectFault(salesforcetest.Fault{Op: "token", Kind: salesforcetest.Fault503})
	collect(b.client.CheckCredentials(ctx))
	b.org.SetClientSecret("rotated-" + testClientSecret)
	b.org.ExpireTokens()
	_, err = b.client.Describe(ctx, "Task")
	if salesforce.Classify(err) != crm.ClassAuth {
		t.Fatalf("after rotation: error %v, want auth", err)
	}
	collect(err)

	// A hostile token endpoint and API that echo what they were sent.
	echo := fakeSalesforce(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "you sent " + r.PostForm.Encode()})
	}, nil)
	collect(fakeClient(t, echo.URL, withLogs(logger)).CheckCredentials(ctx))
	echo2 := fakeSalesforce(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		r.ParseForm()
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "<html>you sent "+r.PostForm.Encode()+"</html>")
	}, nil)
	collect(fakeClient(t, echo2.URL, withLogs(logger)).CheckCredentials(ctx))
	echo3 := fakeSalesforce(t, nil, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode([]map[string]string{{"errorCode": "INVALID_FIELD", "message": "you sent " + r.Header.Get("Authorization")}})
	})
	collect(func() error {
		_, err := fakeClient(t, echo3.URL, withLogs(logger)).Create(ctx, "Task", task("c-1"))
		return err
	}())

	cfg := salesforce.Config{InstanceURL: b.org.URL(), ClientID: testClientID, ClientSecret: testClientSecret}
	outputs = append(outputs, testsupport.Renderings(t, cfg, &cfg, b.client, wrong)...)
	logger.Info("config", "cfg", cfg, "client", b.client)
	textLogger.Info("config", "cfg", cfg, "client", b.client)

	rec.mu.Lock()
	secrets := append([]string{testClientSecret, wrongSecret, "rotated-" + testClientSecret, "fake-token"}, rec.tokens...)
	rec.mu.Unlock()
	if len(secrets) < 6 {
		t.Fatalf("only %d secrets and tokens recorded; the scenario did not run", len(secrets))
	}
	logged := logs.String()
	for _, want := range []string{`"level":"DEBUG"`, "invalid_client", `"op":"create"`, "STRING_TOO_LONG"} {
		if !strings.Contains(logged, want) {
			t.Errorf("logs lack %q; the scenario did not log what it should:\n%s", want, logged)
		}
	}
	for _, s := range secrets {
		if strings.Contains(logged, s) {
			t.Errorf("logs contain secret or token %q", s)
		}
		for _, out := range outputs {
			if strings.Contains(out, s) {
				t.Errorf("output %q contains secret or token %q", out, s)
			}
		}
	}
	if strings.Contains(logged, content) {
		t.Errorf("logs contain Salesforce's message quoting call content")
	}
	if !strings.Contains(strings.Join(outputs, "\n"), "[REDACTED]") {
		t.Error("the echoed secret was not redacted")
	}
}

// fakeClientFor returns a client for org with the given secret.
func fakeClientFor(t *testing.T, org *salesforcetest.Org, secret string, mod ...func(*salesforce.Config)) *salesforce.Client {
	t.Helper()
	return fakeClient(t, org.URL(), append(mod, func(c *salesforce.Config) { c.ClientSecret = crm.Secret(secret) })...)
}
