package admin_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/admin"
	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/kintone"
	"github.com/koeiq/syncd/kintone/kintonetest"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/settings"
)

// The credentials the fuzzing CRMs accept. Bodies reach them at any
// loopback address (fuzzTransport routes them), so the seeds do not depend
// on the test servers' ports.
const (
	fuzzSalesforceURL = "http://127.0.0.1:1/org/acme"
	fuzzKintoneURL    = "http://127.0.0.1:1/org/acme"
	fuzzClientID      = "acme-key"
	fuzzClientSecret  = "acme-secret"
	fuzzAPIToken      = "acme-kintone-token"
)

// FuzzSettingsJSON sends request bodies to PUT /api/v1/integrations/salesforce
// (kintone false) or /kintone, as a tenant admin of a tenant with the Audit &
// Export Pack (with valid settings already saved when saved is true), through
// the real handler, store and database. Whatever the body:
//
//   - the answer is 200, 400 or 422 (never a 5xx, never a panic), JSON of the
//     documented shape;
//   - a 400 to a JSON object names the field at fault;
//   - a 422 says why with a documented reason;
//   - a refused save changes nothing, and an accepted one reads back the same
//     with GET and matches what the body asked for.
//
// `go test` runs the seeds below and those in testdata/fuzz (the inputs
// that found bugs: an empty or NUL key not named as the field at fault, a
// null body taken for an object, keys in another case accepted, Kintone
// tokens no HTTP header can carry answered 500); fuzz with
//
//	go test -run=^$ -fuzz=FuzzSettingsJSON -fuzztime=60s ./admin/
func FuzzSettingsJSON(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed.kintone, false, []byte(seed.body))
		if seed.saved {
			f.Add(seed.kintone, true, []byte(seed.body))
		}
	}

	fz := newFuzzBundle(f)
	f.Fuzz(func(t *testing.T, kintone, saved bool, body []byte) {
		fz.check(t, kintone, saved, body)
	})
}

type fuzzSeed struct {
	kintone bool
	saved   bool // also run with settings already saved
	body    string
}

func fuzzSeeds() []fuzzSeed {
	sf := func(body string) fuzzSeed { return fuzzSeed{body: body} }
	sfSaved := func(body string) fuzzSeed { return fuzzSeed{body: body, saved: true} }
	kt := func(body string) fuzzSeed { return fuzzSeed{kintone: true, body: body} }
	ktSaved := func(body string) fuzzSeed { return fuzzSeed{kintone: true, body: body, saved: true} }
	big := strings.Repeat("x", 70<<10)
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	nested := strings.Repeat(`{"a":`, 500) + "1" + strings.Repeat("}", 500)
	valid := fmt.Sprintf(`{"enabled": true, "instance_url": %q, "client_id": %q, "client_secret": %q, "object_type": "Task"}`,
		fuzzSalesforceURL, fuzzClientID, fuzzClientSecret)
	validKintone := fmt.Sprintf(`{"enabled": true, "base_url": %q, "app_id": 1, "api_token": %q}`, fuzzKintoneURL, fuzzAPIToken)

	return []fuzzSeed{
		// Salesforce: accepted.
		sfSaved(valid),
		sfSaved(fmt.Sprintf(`{"enabled": true, "instance_url": %q, "client_id": %q, "client_secret": %q,
			"object_type": "Call_Recording__c", "external_id_field": "KoeIQ_Call_Id__c"}`, fuzzSalesforceURL+"/", fuzzClientID, fuzzClientSecret)),
		sfSaved(fmt.Sprintf(`{"enabled": true, "instance_url": %q, "client_id": %q}`, fuzzSalesforceURL, fuzzClientID)),
		sfSaved(fmt.Sprintf(`{"enabled": true, "instance_url": %q, "client_id": %q, "client_secret": "", "object_type": ""}`, fuzzSalesforceURL, fuzzClientID)),
		sfSaved(`{"enabled": false, "instance_url": "https://acme.my.salesforce.com", "client_id": "3MVG9abc", "object_type": "Task"}`),
		sf(`{"enabled": false, "instance_url": " HTTPS://Acme--Dev.Sandbox.My.Salesforce.com.:443/ ", "client_id": " 3MVG9abc ", "client_secret": " s "}`),
		sf(`{"enabled": false, "instance_url": "https://acme.my.salesforce.com", "client_id": "k", "object_type": "ns__Call__c", "external_id_field": "ns__Id__c"}`),
		sf(`{"en\u0061bled": false, "instance_url": "https:\/\/acme.my.salesforce.com", "client_id": "k"}`),
		// Salesforce: refused by the CRM.
		sf(`{"enabled": true, "instance_url": "https://acme.my.salesforce.com", "client_id": "k", "client_secret": "s"}`),
		sf(fmt.Sprintf(`{"enabled": true, "instance_url": %q, "client_id": %q, "client_secret": "wrong"}`, fuzzSalesforceURL, fuzzClientID)),
		sf(fmt.Sprintf(`{"enabled": true, "instance_url": %q, "client_id": "other", "client_secret": %q}`, fuzzSalesforceURL, fuzzClientSecret)),
		sf(fmt.Sprintf(`{"enabled": true, "instance_url": %q, "client_id": %q, "client_secret": %q}`, "http://127.0.0.1:1/org/nobody", fuzzClientID, fuzzClientSecret)),
		// Salesforce: invalid values.
		sf(`{"enabled": true, "instance_url": "https://login.salesforce.com", "client_id": "k", "client_secret": "s"}`),
		sf(`{"enabled": false, "instance_url": "https://acme.my.salesforce.com", "client_id": "k", "object_type": "Account"}`),
		sf(`{"enabled": false, "instance_url": "https://acme.my.salesforce.com", "client_id": "k", "external_id_field": "Id"}`),
		sf(`{"enabled": false, "instance_url": "https://acme.my.salesforce.com", "client_id": "a b"}`),
		sf(`{"enabled": false, "instance_url": "https://acme.my.salesforce.com", "client_id": "k", "client_secret": "   "}`),
		sf(`{"enabled": true, "instance_url": "https://acme.my.salesforce.com", "client_id": "k"}`),
		sf(`{"enabled": false}`),
		// Unknown fields, wrong types, nulls.
		sf(`{"enabled": false, "instance_url": "https://acme.my.salesforce.com", "client_id": "k", "tenant_id": "b"}`),
		sf(`{"enabled": "yes"}`),
		sf(`{"enabled": 1}`),
		sf(`{"enabled": false, "client_id": 5}`),
		sf(`{"enabled": false, "object_type": []}`),
		sf(`{"enabled": false, "client_secret": {}}`),
		sf(`{"enabled": null}`),
		sf(`{"enabled": false, "instance_url": null, "client_id": null, "client_secret": null, "object_type": null, "external_id_field": null}`),
		sf(`{}`),
		// Huge numbers.
		sf(`{"enabled": 1e999}`),
		sf(`{"enabled": false, "client_id": 123456789012345678901234567890}`),
		// Duplicate keys, keys in another case.
		sf(`{"enabled": true, "enabled": false, "instance_url": "https://acme.my.salesforce.com", "client_id": "k"}`),
		sf(`{"enabled": false, "ENABLED": true, "instance_url": "https://acme.my.salesforce.com", "client_id": "k"}`),
		// Deep nesting.
		sf(`{"enabled": ` + deep + `}`),
		sf(`{"enabled": false, "x": ` + nested + `}`),
		sf(deep),
		// Invalid UTF-8, NUL bytes, control characters.
		sf("{\"enabled\": false, \"instance_url\": \"https://acme.my.salesforce.com\", \"client_id\": \"\xff\xfe\"}"),
		sf("{\"enabled\": false, \"\xff\": 1}"),
		sf("{\"enabled\": false, \"instance_url\": \"https://acme.my.salesforce.com\", \"client_id\": \"k\x00\"}"),
		sf("{\"enabled\": false\x00}"),
		sf(`{"enabled": false, "instance_url": "https://acme.my.salesforce.com\u0000", "client_id": "k"}`),
		sf(`{"enabled": false, "instance_url": "https://acme.my.salesforce.com", "client_id": "k", "client_secret": "s\u0000"}`),
		sf(`{"enabled": false, "instance_url": "https://acme.my.salesforce.com", "client_id": "k", "object_type": "Task\u0000"}`),
		sf(`{"enabled": false, "instance_url": "https://acme.my.salesforce.com", "client_id": "k", "external_id_field": "\ud800__c"}`),
		sf("\xef\xbb\xbf" + `{"enabled": false}`),
		// Sizes.
		sf(`{"enabled": false, "client_id": "` + big + `"}`),
		sf(`{"enabled": false, "instance_url": "https://acme.my.salesforce.com", "client_id": "k"}` + strings.Repeat(" ", 70<<10)),
		sf(`{"enabled": false, "instance_url": "https://acme.my.salesforce.com", "client_id": "k", "client_secret": "` + strings.Repeat("s", 2000) + `"}`),
		sf(`{"enabled": false, "instance_url": "https://` + strings.Repeat("a", 3000) + `.my.salesforce.com", "client_id": "k"}`),
		// Not one JSON object.
		sf(``),
		sf(`   `),
		sf(`[]`),
		sf(`"enabled"`),
		sf(`123`),
		sf(`{"enabled": false} {}`),
		sf(`{"enabled": false}x`),
		sf(`{"enabled": false}]`),
		sf(`{"enabled": false`),
		sf(`{enabled: false}`),

		// Kintone: accepted.
		ktSaved(validKintone),
		ktSaved(fmt.Sprintf(`{"enabled": true, "base_url": %q, "app_id": 1}`, fuzzKintoneURL+"/")),
		ktSaved(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": 42}`),
		kt(`{"enabled": false, "base_url": " HTTPS://Acme.S.Kintone.com.:443/ ", "app_id": 9223372036854775807, "api_token": " t "}`),
		// Kintone: refused by the CRM.
		kt(`{"enabled": true, "base_url": "https://acme.cybozu.com", "app_id": 1, "api_token": "t"}`),
		kt(fmt.Sprintf(`{"enabled": true, "base_url": %q, "app_id": 1, "api_token": "wrong"}`, fuzzKintoneURL)),
		kt(fmt.Sprintf(`{"enabled": true, "base_url": %q, "app_id": 2, "api_token": %q}`, fuzzKintoneURL, fuzzAPIToken)),
		// Kintone: invalid values, wrong types, huge numbers.
		kt(`{"enabled": false, "base_url": "https://example.com", "app_id": 1}`),
		kt(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": 0}`),
		kt(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": -1}`),
		kt(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": 1.5}`),
		kt(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": 1e3}`),
		kt(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": 9223372036854775808}`),
		kt(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": 1e999}`),
		kt(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": "7"}`),
		kt(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": null}`),
		kt(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": 1, "api_token": "a b"}`),
		kt(`{"enabled": true, "base_url": "https://acme.cybozu.com", "app_id": 1}`),
		kt(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": 1, "instance_url": "x"}`),
		kt(`{"enabled": false, "app_id": 1, "app_id": 2, "base_url": "https://acme.cybozu.com"}`),
		// Kintone: odd values, sizes, trailing data.
		kt(fmt.Sprintf(`{"enabled": true, "base_url": %q, "app_id": 1, "api_token": "t,u"}`, fuzzKintoneURL)),
		kt("{\"enabled\": false, \"base_url\": \"https://acme.cybozu.com\u0000\", \"app_id\": 1}"),
		kt(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": 1, "api_token": "` + big + `"}`),
		kt(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": ` + deep + `}`),
		kt(`{"enabled": false, "base_url": "https://acme.cybozu.com", "app_id": 1} null`),
		kt(``),
	}
}

// fuzzBundle is what every fuzzed request shares: one database, one CRM of
// each kind, one store.
type fuzzBundle struct {
	pool  *pgxpool.Pool
	store *settings.Store
}

// fuzzTenant is the tenant every input is sent as, its settings removed
// before each. (One tenant for all: adding a tenant costs a scan of
// pg_timezone_names.)
const fuzzTenant = "acme"

// reset removes the tenant's settings.
func (fz *fuzzBundle) reset(t *testing.T) {
	_, err := fz.pool.Exec(context.Background(), `DELETE FROM salesforce_settings WHERE tenant_id = '`+fuzzTenant+`';
		DELETE FROM kintone_settings WHERE tenant_id = '`+fuzzTenant+`'`)
	if err != nil {
		t.Fatal(err)
	}
}

func newFuzzBundle(f *testing.F) *fuzzBundle {
	// Commits need not wait for the disk: nothing here outlives the test,
	// and fuzzing makes several a request.
	pool := pgtest.NewPool(f, pgtest.ConnString(f)+" synchronous_commit=off")
	sf, kt := testsupport.FakeCRMs(f)
	sf.AddOrg("acme", salesforcetest.OrgConfig{ClientID: fuzzClientID, ClientSecret: fuzzClientSecret,
		Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}})
	if app := kt.AddApp("acme", kintonetest.AppConfig{APIToken: fuzzAPIToken}); app.ID() != 1 {
		f.Fatalf("the Kintone app is %d, want 1", app.ID())
	}
	store := testsupport.NewStore(f, pool, settings.Config{AllowInsecureURLs: true,
		Transport: newFuzzTransport(f, sf.URL(), kt.URL()), CheckTimeout: 10 * time.Second})
	pack := true
	if _, err := store.SetTenant(context.Background(), fuzzTenant, settings.TenantChange{AuditExportPack: &pack}); err != nil {
		f.Fatal(err)
	}
	return &fuzzBundle{pool: pool, store: store}
}

// fuzzTransport sends requests for any loopback address to the test CRMs
// (Kintone's API paths to Kintone, the rest to Salesforce) and refuses
// every other address, so no fuzzed URL reaches the network or a local
// service.
type fuzzTransport struct {
	salesforce, kintone string // host:port
	next                http.RoundTripper
}

func newFuzzTransport(t testing.TB, sfURL, kintoneURL string) *fuzzTransport {
	sf, err := url.Parse(sfURL)
	if err != nil {
		t.Fatal(err)
	}
	kt, err := url.Parse(kintoneURL)
	if err != nil {
		t.Fatal(err)
	}
	return &fuzzTransport{salesforce: sf.Host, kintone: kt.Host, next: http.DefaultTransport.(*http.Transport).Clone()}
}

func (ft *fuzzTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if h := r.URL.Hostname(); h != "127.0.0.1" && h != "localhost" {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errors.New("fuzzing: no network")
	}
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = "http", ft.salesforce, ""
	if strings.Contains(r.URL.Path, "/k/v1/") {
		r.URL.Host = ft.kintone
	}
	return ft.next.RoundTrip(r)
}

// The documented answers (README, "The admin API").
var (
	salesforceFields = []string{"enabled", "instance_url", "client_id", "client_secret", "object_type", "external_id_field",
		"link_who", "assign_owner", "phone_fields", "who_field", "owner_field"}
	kintoneFields      = []string{"enabled", "base_url", "app_id", "api_token"}
	salesforceSettings = []string{"enabled", "instance_url", "client_id", "client_secret_set", "object_type", "external_id_field",
		"link_who", "assign_owner", "phone_fields", "who_field", "owner_field", "attention", "attention_at", "updated_at", "updated_by"}
	kintoneSettings = []string{"enabled", "base_url", "app_id", "api_token_set", "attention", "attention_at", "updated_at", "updated_by"}
	checkReasons    = []string{"wrong_secret", "unknown_client_id", "flow_not_enabled", "not_authorized", "unreachable",
		"wrong_token", "unknown_app", "refused"}
)

const maxBody = 64 << 10 // admin.Config.MaxBodyBytes's default

func (fz *fuzzBundle) check(t *testing.T, isKintone, saved bool, body []byte) {
	ctx := context.Background()
	fz.reset(t)
	if saved {
		var err error
		if isKintone {
			_, err = fz.store.SaveKintone(ctx, fuzzTenant, settings.KintoneInput{BaseURL: fuzzKintoneURL, AppID: 1, APIToken: ptr(fuzzAPIToken)}, "setup")
		} else {
			_, err = fz.store.SaveSalesforce(ctx, fuzzTenant, settings.SalesforceInput{InstanceURL: fuzzSalesforceURL, ClientID: fuzzClientID,
				ClientSecret: ptr(fuzzClientSecret)}, "setup")
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	var logs bytes.Buffer
	h, err := admin.NewHandler(&admin.Config{Pool: fz.pool, Settings: fz.store, JWTSecret: jwtSecret,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	sub := "admin@" + fuzzTenant
	tok, err := admin.MintToken(jwtSecret, fuzzTenant, admin.RoleAdmin, sub, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	path, fields, shape := "/api/v1/integrations/salesforce", salesforceFields, salesforceSettings
	if isKintone {
		path, fields, shape = "/api/v1/integrations/kintone", kintoneFields, kintoneSettings
	}
	send := func(method string, body []byte) (int, map[string]any, string) {
		t.Helper()
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		raw := rec.Body.String()
		if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("%s %s: Content-Type %q: %.300s", method, path, ct, raw)
		}
		var v map[string]any
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil || v == nil || dec.More() {
			t.Fatalf("%s %s: %d, the answer is not one JSON object (%v): %.300s", method, path, rec.Code, err, raw)
		}
		return rec.Code, v, raw
	}

	get := func() map[string]any {
		t.Helper()
		status, v, raw := send("GET", nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %.300s", path, status, raw)
		}
		return v
	}

	before := get()
	status, got, raw := send("PUT", body)
	defer func() {
		if t.Failed() {
			t.Logf("body (%d bytes): %.500q\nanswer: %.1000s\nlog: %s", len(body), body, raw, logs.String())
		}
	}()
	after := get()

	switch status {
	case http.StatusOK:
		checkShape(t, got, shape)
		if !reflect.DeepEqual(got, after) {
			t.Errorf("GET after the save answers\n%v\nnot what the save answered\n%v", after, got)
		}
		checkSaved(t, isKintone, saved, body, got, sub)
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		checkError(t, status, got, fields, body)
		if !reflect.DeepEqual(before, after) {
			t.Errorf("a refused save (%d) changed the settings:\nbefore %v\nafter  %v", status, before, after)
		}
	default:
		t.Errorf("status %d, want 200, 400 or 422", status)
	}
}

// checkShape checks that v has only the keys of the documented settings,
// the required ones among them, each of its documented JSON type.
func checkShape(t *testing.T, v map[string]any, keys []string) {
	t.Helper()
	for k, val := range v {
		if !slices.Contains(keys, k) {
			t.Errorf("undocumented key %q in the settings", k)
			continue
		}
		var ok bool
		switch k {
		case "enabled", "client_secret_set", "api_token_set", "link_who", "assign_owner":
			_, ok = val.(bool)
		case "phone_fields":
			_, ok = val.([]any)
		case "app_id":
			_, ok = val.(json.Number)
		default:
			_, ok = val.(string)
		}
		if !ok {
			t.Errorf("settings key %q is %T", k, val)
		}
	}
	for _, k := range keys {
		if _, ok := v[k]; !ok && k != "attention" && k != "attention_at" {
			t.Errorf("the settings lack %q", k)
		}
	}
}

// checkError checks an error answer: {"error", "message", "field"?,
// "reason"?}, with the code of its status, a field for a 400 to an object,
// a documented reason for a 422.
func checkError(t *testing.T, status int, v map[string]any, fields []string, body []byte) {
	t.Helper()
	for k, val := range v {
		if s, ok := val.(string); !ok || s == "" && k != "field" {
			t.Errorf("%q is %#v, want a non-empty string", k, val)
		}
		if !slices.Contains([]string{"error", "message", "field", "reason"}, k) {
			t.Errorf("undocumented key %q in the error", k)
		}
	}
	if _, ok := v["message"]; !ok {
		t.Errorf("the error has no message")
	}
	field, hasField := v["field"].(string)
	reason, _ := v["reason"].(string)
	switch status {
	case http.StatusBadRequest:
		if v["error"] != "invalid_request" || reason != "" {
			t.Errorf("400 with error %v, reason %q; want invalid_request and no reason", v["error"], reason)
		}
		obj, isObject := jsonObject(body)
		switch {
		case !isObject && hasField:
			t.Errorf("field %q named, but the body is not one JSON object of at most %d bytes", field, maxBody)
		case isObject && !hasField:
			t.Errorf("400 to a JSON object names no field")
		case isObject && !slices.Contains(fields, field) && !slices.Contains(slices.Collect(maps.Keys(obj)), field):
			t.Errorf("field %q is neither a field of the endpoint nor a key of the body", field)
		}
	case http.StatusUnprocessableEntity:
		if v["error"] != "connection_check_failed" || !slices.Contains(checkReasons, reason) || hasField {
			t.Errorf("422 with error %v, reason %q, field %q; want connection_check_failed, a documented reason, no field", v["error"], reason, field)
		}
	}
}

// jsonObject returns body's keys when body is one JSON object within the
// size limit, the kind of body whose refusal must name a field.
func jsonObject(body []byte) (map[string]json.RawMessage, bool) {
	if len(body) > maxBody || !json.Valid(body) {
		return nil, false
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, false
	}
	return obj, true
}

// checkSaved checks that accepted settings are what the body asked for.
// Keys are matched exactly, as JSON has them; a duplicate key's last value
// counts.
func checkSaved(t *testing.T, isKintone, saved bool, body []byte, got map[string]any, sub string) {
	t.Helper()
	obj, ok := jsonObject(body)
	if !ok {
		t.Fatalf("a body that is not one JSON object was accepted")
	}
	for k := range obj {
		if !slices.Contains(salesforceFields, k) && !slices.Contains(kintoneFields, k) {
			t.Errorf("a body with the unknown key %q was accepted", k)
		}
	}
	str := func(k string) (string, bool) {
		var s *string
		if raw, ok := obj[k]; ok {
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Errorf("%q is %s, not a string, yet accepted", k, raw)
			}
		}
		if s == nil {
			return "", false
		}
		return *s, true
	}
	var enabled *bool
	if err := json.Unmarshal(obj["enabled"], &enabled); err != nil || enabled == nil {
		t.Errorf("enabled is %s, yet accepted", obj["enabled"])
	} else if got["enabled"] != *enabled {
		t.Errorf("saved enabled %v, the body said %v", got["enabled"], *enabled)
	}
	if got["updated_by"] != sub {
		t.Errorf("updated_by %v, want %s", got["updated_by"], sub)
	}
	if isKintone {
		var appID json.Number
		if err := json.Unmarshal(obj["app_id"], &appID); err != nil || got["app_id"] != appID {
			t.Errorf("saved app_id %v, the body said %s", got["app_id"], obj["app_id"])
		}
		base, _ := str("base_url")
		checkURL(t, "base_url", base, got["base_url"], func(s string) (*url.URL, error) { return kintone.ValidateBaseURL(s, true) })
		token, _ := str("api_token")
		if want := saved || token != ""; got["api_token_set"] != want {
			t.Errorf("api_token_set %v, want %v", got["api_token_set"], want)
		}
		return
	}
	instance, _ := str("instance_url")
	checkURL(t, "instance_url", instance, got["instance_url"], func(s string) (*url.URL, error) { return salesforce.ValidateInstanceURL(s, true) })
	clientID, _ := str("client_id")
	if got["client_id"] != strings.TrimSpace(clientID) {
		t.Errorf("saved client_id %q, the body said %q", got["client_id"], clientID)
	}
	objectType, _ := str("object_type")
	if want := cmp.Or(strings.TrimSpace(objectType), "Task"); got["object_type"] != want {
		t.Errorf("saved object_type %q, want %q", got["object_type"], want)
	}
	extField, _ := str("external_id_field")
	if got["external_id_field"] != strings.TrimSpace(extField) {
		t.Errorf("saved external_id_field %q, the body said %q", got["external_id_field"], extField)
	}
	secret, _ := str("client_secret")
	if want := saved || secret != ""; got["client_secret_set"] != want {
		t.Errorf("client_secret_set %v, want %v", got["client_secret_set"], want)
	}
}

// checkURL checks that a saved URL is the one the body gave, normalised:
// the same address ignoring case and a trailing slash, and already in the
// form validation gives.
func checkURL(t *testing.T, name, sent string, saved any, validate func(string) (*url.URL, error)) {
	t.Helper()
	s, _ := saved.(string)
	u, err := validate(s)
	if err != nil || strings.TrimSuffix(u.String(), "/") != s {
		t.Errorf("saved %s %q is not a normalised valid URL (%v)", name, s, err)
	}
	want, err := validate(strings.TrimSpace(sent))
	if err != nil || strings.TrimSuffix(want.String(), "/") != s {
		t.Errorf("saved %s %q, the body said %q (%v)", name, s, sent, err)
	}
}

func ptr[T any](v T) *T { return &v }
