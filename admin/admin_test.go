package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/admin"
	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/kintone/kintonetest"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/settings"
)

var jwtSecret = []byte("a-test-secret-that-is-at-least-32-bytes-long")

type testBundle struct {
	pool    *pgxpool.Pool
	store   *settings.Store
	api     *httptest.Server
	sf      *salesforcetest.Server
	kintone *kintonetest.Server
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	return setupWith(t, nil)
}

// setupWith is setup with the admin API's Config changed by change.
func setupWith(t *testing.T, change func(*admin.Config)) *testBundle {
	t.Helper()
	b := &testBundle{pool: pgtest.Pool(t)}
	b.store = testsupport.NewStore(t, b.pool, settings.Config{AllowInsecureURLs: true})
	cfg := &admin.Config{Pool: b.pool, Settings: b.store, JWTSecret: jwtSecret, ClockSkew: time.Second}
	if change != nil {
		change(cfg)
	}
	b.api = testsupport.AdminAPI(t, cfg)
	b.sf, b.kintone = testsupport.FakeCRMs(t)
	return b
}

// setupTenant is setup with tenant "a", which has the Audit & Export Pack
// and a Salesforce org (returned), and an admin token of it.
func setupTenant(t *testing.T) (*testBundle, *salesforcetest.Org, string) {
	t.Helper()
	b := setup(t)
	org := b.tenant(t, "a", true)
	return b, org, token(t, "a", "admin")
}

func (b *testBundle) tenant(t *testing.T, id string, pack bool) *salesforcetest.Org {
	t.Helper()
	if _, err := b.store.SetTenant(context.Background(), id, settings.TenantChange{AuditExportPack: &pack}); err != nil {
		t.Fatal(err)
	}
	return b.sf.AddOrg(id, salesforcetest.OrgConfig{ClientID: id + "-key", ClientSecret: id + "-secret",
		Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}})
}

// saveSalesforce saves working Salesforce settings of tenant id (see
// sfBody) through the API.
func (b *testBundle) saveSalesforce(t *testing.T, org *salesforcetest.Org, id, tok string) {
	t.Helper()
	if r := b.do(t, "PUT", "/api/v1/integrations/salesforce", tok, sfBody(org, id)); r.status != 200 {
		t.Fatalf("save the Salesforce settings of %s: %d %s", id, r.status, r.raw)
	}
}

func token(t *testing.T, tenantID, role string) string {
	t.Helper()
	tok, err := admin.MintToken(jwtSecret, tenantID, role, "admin@"+tenantID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	body   map[string]any
	raw    string
}

func (b *testBundle) do(t *testing.T, method, path, tok string, body any) response {
	t.Helper()
	resp, raw := testsupport.AdminRequest(t, b.api, method, path, tok, body)
	r := response{status: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return r
}

func sfBody(org *salesforcetest.Org, tenantID string) map[string]any {
	return map[string]any{"enabled": true, "instance_url": org.URL(), "client_id": tenantID + "-key",
		"client_secret": tenantID + "-secret", "object_type": "Task"}
}

func signed(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.tenant(t, "a", true)
	now := time.Now()
	valid := jwt.MapClaims{"tenant_id": "a", "role": "admin", "sub": "x", "exp": now.Add(time.Hour).Unix()}
	with := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range valid {
			c[k] = v
		}
		change(c)
		return c
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, valid).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		header string
		status int
	}{
		{"no header", "", 401},
		{"not bearer", "Basic " + token(t, "a", "admin"), 401},
		{"garbage", "Bearer not-a-jwt", 401},
		{"alg none", "Bearer " + none, 401},
		{"HS512", "Bearer " + signed(t, jwt.SigningMethodHS512, jwtSecret, valid), 401},
		{"other secret", "Bearer " + signed(t, jwt.SigningMethodHS256, []byte("another-secret-that-is-32-bytes-long!!"), valid), 401},
		{"expired", "Bearer " + signed(t, jwt.SigningMethodHS256, jwtSecret, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() })), 401},
		{"no exp", "Bearer " + signed(t, jwt.SigningMethodHS256, jwtSecret, with(func(c jwt.MapClaims) { delete(c, "exp") })), 401},
		{"not yet valid", "Bearer " + signed(t, jwt.SigningMethodHS256, jwtSecret, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })), 401},
		{"issued in the future", "Bearer " + signed(t, jwt.SigningMethodHS256, jwtSecret, with(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() })), 401},
		{"no tenant", "Bearer " + signed(t, jwt.SigningMethodHS256, jwtSecret, with(func(c jwt.MapClaims) { delete(c, "tenant_id") })), 401},
		{"no sub", "Bearer " + signed(t, jwt.SigningMethodHS256, jwtSecret, with(func(c jwt.MapClaims) { delete(c, "sub") })), 401},
		{"viewer", "Bearer " + token(t, "a", "viewer"), 403},
		{"no role", "Bearer " + signed(t, jwt.SigningMethodHS256, jwtSecret, with(func(c jwt.MapClaims) { delete(c, "role") })), 403},
		{"admin", "Bearer " + token(t, "a", "admin"), 200},
		{"lower-case scheme", "bearer " + token(t, "a", "admin"), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", b.api.URL+"/api/v1/integrations/salesforce", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%v), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status == 401 && (body["error"] != "unauthorized" || resp.Header.Get("WWW-Authenticate") == "") {
				t.Errorf("401 body %v, WWW-Authenticate %q", body, resp.Header.Get("WWW-Authenticate"))
			}
			if tt.status == 403 && body["error"] != "forbidden" {
				t.Errorf("403 body %v", body)
			}
		})
	}
}

func TestIssuerAndAudience(t *testing.T) {
	t.Parallel()
	const iss, aud = "https://id.koeiq.example", "syncd-admin"
	claims := func(change func(jwt.MapClaims)) string {
		c := jwt.MapClaims{"tenant_id": "a", "role": "admin", "sub": "x", "exp": time.Now().Add(time.Hour).Unix(),
			"iss": iss, "aud": aud}
		change(c)
		return signed(t, jwt.SigningMethodHS256, jwtSecret, c)
	}
	keep := func(jwt.MapClaims) {}
	set := func(k string, v any) func(jwt.MapClaims) { return func(c jwt.MapClaims) { c[k] = v } }
	drop := func(k string) func(jwt.MapClaims) { return func(c jwt.MapClaims) { delete(c, k) } }
	minted := func(issuer, audience string) string {
		tok, err := (&admin.Token{TenantID: "a", Role: admin.RoleAdmin, Subject: "x", Issuer: issuer, Audience: audience}).Sign(jwtSecret)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	type check struct {
		name    string
		token   string
		status  int
		mention string // what the 401 message names
	}
	tests := []struct {
		name     string
		iss, aud string // the API's Config
		checks   []check
	}{
		{"both required", iss, aud, []check{
			{"right iss and aud", claims(keep), 200, ""},
			{"aud an array holding it", claims(set("aud", []string{"other", aud})), 200, ""},
			{"minted with both", minted(iss, aud), 200, ""},
			{"wrong iss", claims(set("iss", "https://evil.example")), 401, "(iss)"},
			{"no iss", claims(drop("iss")), 401, "(iss)"},
			{"empty iss", claims(set("iss", "")), 401, "(iss)"},
			{"iss of another case", claims(set("iss", "HTTPS://ID.KOEIQ.EXAMPLE")), 401, "(iss)"},
			{"wrong aud", claims(set("aud", "other")), 401, "(aud)"},
			{"no aud", claims(drop("aud")), 401, "(aud)"},
			{"aud an array without it", claims(set("aud", []string{"other", "syncd"})), 401, "(aud)"},
			{"aud an empty array", claims(set("aud", []string{})), 401, "(aud)"},
			{"aud not a string", claims(set("aud", 7)), 401, "invalid"},
			{"minted without", minted("", ""), 401, "(iss)"},
			{"no exp, right iss", claims(drop("exp")), 401, "(exp)"},
		}},
		{"iss only", iss, "", []check{
			{"right iss, no aud", claims(drop("aud")), 200, ""},
			{"right iss, any aud", claims(set("aud", "other")), 200, ""},
			{"wrong iss", claims(set("iss", "other")), 401, "(iss)"},
			{"no iss", claims(drop("iss")), 401, "(iss)"},
		}},
		{"aud only", "", aud, []check{
			{"right aud, no iss", claims(drop("iss")), 200, ""},
			{"right aud, any iss", claims(set("iss", "other")), 200, ""},
			{"wrong aud", claims(set("aud", "other")), 401, "(aud)"},
			{"no aud", claims(drop("aud")), 401, "(aud)"},
		}},
		{"neither: not checked", "", "", []check{
			{"any iss and aud", claims(func(c jwt.MapClaims) { c["iss"], c["aud"] = "other", []string{"x", "y"} }), 200, ""},
			{"no iss or aud", claims(func(c jwt.MapClaims) { delete(c, "iss"); delete(c, "aud") }), 200, ""},
			{"minted without", minted("", ""), 200, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupWith(t, func(c *admin.Config) { c.JWTIssuer, c.JWTAudience = tt.iss, tt.aud })
			b.tenant(t, "a", true)
			for _, c := range tt.checks {
				r := b.do(t, "GET", "/api/v1/integrations/salesforce", c.token, nil)
				if r.status != c.status {
					t.Errorf("%s: %d %s, want %d", c.name, r.status, r.raw, c.status)
					continue
				}
				if c.status != 401 {
					continue
				}
				msg, _ := r.body["message"].(string)
				if r.body["error"] != "unauthorized" || !strings.Contains(msg, c.mention) {
					t.Errorf("%s: %s, want unauthorized mentioning %q", c.name, r.raw, c.mention)
				}
				if strings.Contains(r.raw, c.token) || strings.Contains(r.raw, iss) || strings.Contains(r.raw, "evil") {
					t.Errorf("%s: the answer quotes the token or its claims: %s", c.name, r.raw)
				}
			}
		})
	}
}

func TestSalesforceSettings(t *testing.T) {
	t.Parallel()
	b, org, tok := setupTenant(t)

	r := b.do(t, "GET", "/api/v1/integrations/salesforce", tok, nil)
	if r.status != 200 || r.body["enabled"] != false || r.body["client_secret_set"] != false {
		t.Fatalf("before saving: %d %v", r.status, r.body)
	}

	r = b.do(t, "PUT", "/api/v1/integrations/salesforce", tok, sfBody(org, "a"))
	if r.status != 200 || r.body["enabled"] != true || r.body["client_secret_set"] != true || r.body["updated_by"] != "admin@a" {
		t.Fatalf("save: %d %v", r.status, r.body)
	}
	if strings.Contains(r.raw, "a-secret") {
		t.Fatalf("the secret came back: %s", r.raw)
	}
	r = b.do(t, "GET", "/api/v1/integrations/salesforce", tok, nil)
	if r.body["instance_url"] != org.URL() || r.body["client_id"] != "a-key" || strings.Contains(r.raw, "a-secret") {
		t.Fatalf("read back: %s", r.raw)
	}

	// Without client_secret the stored one is kept and checked.
	body := sfBody(org, "a")
	delete(body, "client_secret")
	body["object_type"] = "Call_Recording__c"
	if r := b.do(t, "PUT", "/api/v1/integrations/salesforce", tok, body); r.status != 200 || r.body["object_type"] != "Call_Recording__c" {
		t.Fatalf("save without secret: %d %v", r.status, r.body)
	}

	r = b.do(t, "POST", "/api/v1/integrations/salesforce/test", tok, nil)
	if r.status != 200 || r.body["ok"] != true {
		t.Fatalf("test connection: %d %s", r.status, r.raw)
	}
	body["object_type"] = "Missing_Object__c"
	b.do(t, "PUT", "/api/v1/integrations/salesforce", tok, body)
	r = b.do(t, "POST", "/api/v1/integrations/salesforce/test", tok, nil)
	if r.status != 200 || r.body["ok"] != false || !strings.Contains(r.raw, "Missing_Object__c does not exist") {
		t.Fatalf("test connection of a missing object: %d %s", r.status, r.raw)
	}
}

func TestSalesforceSettingsRefused(t *testing.T) {
	t.Parallel()
	b, org, tok := setupTenant(t)
	b.tenant(t, "nopack", false)
	noRunAs := b.sf.AddOrg("norunas", salesforcetest.OrgConfig{ClientID: "a-key", ClientSecret: "a-secret",
		TokenError: "invalid_grant", TokenErrorDescription: "no client credentials user enabled"})

	with := func(k string, v any) map[string]any {
		body := sfBody(org, "a")
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
		return body
	}
	tests := []struct {
		name          string
		tok           string
		body          any
		status        int
		code, field   string
		reason, quote string
	}{
		{"unknown field", tok, with("tenant_id", "b"), 400, "invalid_request", "tenant_id", "", "unknown field"},
		{"wrong type", tok, with("enabled", "yes"), 400, "invalid_request", "enabled", "", "true or false"},
		{"missing enabled", tok, with("enabled", nil), 400, "invalid_request", "enabled", "", "required"},
		{"not an object", tok, "[1, 2]", 400, "invalid_request", "", "", "object"},
		{"not JSON", tok, "{enabled: true", 400, "invalid_request", "", "", "not valid JSON"},
		{"two objects", tok, `{"enabled": false} {}`, 400, "invalid_request", "", "", "one JSON object"},
		{"oversized", tok, `{"enabled": true, "client_id": "` + strings.Repeat("x", 70<<10) + `"}`, 400, "invalid_request", "", "", "larger than"},
		{"login.salesforce.com", tok, with("instance_url", "https://login.salesforce.com"), 400, "invalid_request", "instance_url", "", "My Domain"},
		{"bad object type", tok, with("object_type", "Account"), 400, "invalid_request", "object_type", "", "custom object"},
		{"wrong secret", tok, with("client_secret", "nope"), 422, "connection_check_failed", "", "wrong_secret", "Consumer Secret"},
		{"flow not enabled", tok, with("instance_url", noRunAs.URL()), 422, "connection_check_failed", "", "flow_not_enabled", "Client Credentials Flow"},
		{"unreachable", tok, with("instance_url", "http://127.0.0.1:1"), 422, "connection_check_failed", "", "unreachable", "Could not reach"},
		{"no pack", token(t, "nopack", "admin"), sfBody(org, "a"), 403, "audit_export_pack_required", "", "", "Audit & Export Pack"},
		{"unknown tenant", token(t, "ghost", "admin"), sfBody(org, "a"), 404, "not_found", "", "", "not set up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.do(t, "PUT", "/api/v1/integrations/salesforce", tt.tok, tt.body)
			if r.status != tt.status || r.body["error"] != tt.code || !strings.Contains(r.raw, tt.quote) {
				t.Errorf("%d %s; want %d %s mentioning %q", r.status, r.raw, tt.status, tt.code, tt.quote)
			}
			if tt.field != "" && r.body["field"] != tt.field {
				t.Errorf("field %v, want %s", r.body["field"], tt.field)
			}
			if tt.reason != "" && r.body["reason"] != tt.reason {
				t.Errorf("reason %v, want %s", r.body["reason"], tt.reason)
			}
		})
	}
	for _, tenant := range []string{"a", "nopack"} {
		if _, err := b.store.Salesforce(context.Background(), tenant); err == nil {
			t.Errorf("a refused save stored settings for %s", tenant)
		}
	}
}

// Keys are matched exactly and once; a refusal names the key at fault as
// the body has it, or none when the body as a whole is wrong.
func TestBodyKeys(t *testing.T) {
	t.Parallel()
	b, _, tok := setupTenant(t)
	const rest = `"instance_url": "https://acme.my.salesforce.com", "client_id": "k"`
	tests := []struct {
		name  string
		body  string
		field *string // nil: no field
		quote string
	}{
		{"another case", `{"enabled": false, ` + rest + `, "Client_Id": "x"}`, ptr("Client_Id"), "unknown field"},
		{"another case overriding", `{"enabled": false, "ENABLED": true, ` + rest + `}`, ptr("ENABLED"), "unknown field"},
		{"given twice", `{"enabled": true, "enabled": false, ` + rest + `}`, ptr("enabled"), "more than once"},
		{"given twice, once escaped", `{"enabled": false, "en\u0061bled": false, ` + rest + `}`, ptr("enabled"), "more than once"},
		{"empty key", `{"enabled": false, "": 1, ` + rest + `}`, ptr(""), "unknown field"},
		{"NUL key", `{"enabled": false, "\u0000": 1, ` + rest + `}`, ptr("\x00"), "unknown field"},
		{"unknown key before a syntax error", `{"x": 1, "enabled": false`, nil, "not valid JSON"},
		{"unknown key before trailing data", `{"x": 1} {}`, nil, "one JSON object"},
		{"null", `null`, nil, "must be a JSON object"},
		{"empty", ``, nil, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.do(t, "PUT", "/api/v1/integrations/salesforce", tok, tt.body)
			if r.status != 400 || r.body["error"] != "invalid_request" || !strings.Contains(r.raw, tt.quote) {
				t.Errorf("%d %s; want 400 invalid_request mentioning %q", r.status, r.raw, tt.quote)
			}
			field, ok := r.body["field"]
			switch {
			case tt.field == nil && ok:
				t.Errorf("field %q named", field)
			case tt.field != nil && (!ok || field != *tt.field):
				t.Errorf("field %#v, want %q", field, *tt.field)
			}
		})
	}
	if _, err := b.store.Salesforce(context.Background(), "a"); err == nil {
		t.Errorf("a refused body stored settings")
	}
}

// An admin of tenant A can neither read nor change anything of tenant B,
// through any endpoint.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	orgA := b.tenant(t, "a", true)
	orgB := b.tenant(t, "b", true)
	tokA := token(t, "a", "admin")
	tokB := token(t, "b", "admin")
	if r := b.do(t, "PUT", "/api/v1/integrations/salesforce", tokB, sfBody(orgB, "b")); r.status != 200 {
		t.Fatalf("b saves: %d %s", r.status, r.raw)
	}
	app := b.kintone.AddApp("b", kintonetest.AppConfig{APIToken: "b-kintone-token"})
	if r := b.do(t, "PUT", "/api/v1/integrations/kintone", tokB, map[string]any{"enabled": true, "base_url": app.URL(),
		"app_id": app.ID(), "api_token": "b-kintone-token"}); r.status != 200 {
		t.Fatalf("b saves kintone: %d %s", r.status, r.raw)
	}
	if _, err := b.pool.Exec(ctx, `SELECT enqueue('b', 'b-call', 'call.analysed',
		'{"call_id": "b-call", "started_at": "2026-05-01T09:00:00Z", "duration_seconds": 5}')`); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, b.pool)

	// A reads and writes; whatever it sends, nothing of B is touched.
	for _, path := range []string{"/api/v1/integrations/salesforce", "/api/v1/integrations/kintone",
		"/api/v1/integrations/salesforce?tenant_id=b", "/api/v1/calls/b-call/sync", "/api/v1/calls/b-call/sync?tenant_id=b"} {
		r := b.do(t, "GET", path, tokA, nil)
		if strings.Contains(r.raw, orgB.URL()) || strings.Contains(r.raw, app.URL()) || strings.Contains(r.raw, "b-call") && r.status == 200 {
			t.Errorf("GET %s as a shows b's data: %d %s", path, r.status, r.raw)
		}
	}
	for _, path := range []string{"/api/v1/calls/b-call/resync", "/api/v1/calls/b-call/resync?tenant_id=b",
		"/api/v1/integrations/salesforce/test", "/api/v1/integrations/kintone/test"} {
		r := b.do(t, "POST", path, tokA, nil)
		if r.status == 200 || r.status == 202 {
			t.Errorf("POST %s as a: %d %s", path, r.status, r.raw)
		}
	}
	b.do(t, "PUT", "/api/v1/integrations/salesforce", tokA, with(sfBody(orgB, "b"), "tenant_id", "b"))
	b.do(t, "PUT", "/api/v1/integrations/salesforce?tenant_id=b", tokA, sfBody(orgA, "a"))
	b.do(t, "PUT", "/api/v1/integrations/kintone", tokA, map[string]any{"enabled": false, "base_url": app.URL(), "app_id": 1})
	// A forged token naming B, signed with another secret.
	forged := signed(t, jwt.SigningMethodHS256, []byte("not-the-secret-but-32-bytes-long!!"),
		jwt.MapClaims{"tenant_id": "b", "role": "admin", "sub": "mallory", "exp": time.Now().Add(time.Hour).Unix()})
	if r := b.do(t, "PUT", "/api/v1/integrations/salesforce", forged, sfBody(orgA, "a")); r.status != 401 {
		t.Errorf("forged token: %d", r.status)
	}

	if after := snapshot(t, b.pool); after != before {
		t.Errorf("tenant b changed through a's requests:\nbefore %s\nafter  %s", before, after)
	}
	// A's own writes landed on A.
	if st, err := b.store.Salesforce(ctx, "a"); err != nil || st.InstanceURL != orgA.URL() {
		t.Errorf("a's settings = %+v, %v", st, err)
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	m[k] = v
	return m
}

// snapshot renders everything syncd stores of tenant b.
func snapshot(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	err := pool.QueryRow(context.Background(), `SELECT concat_ws(' | ',
		(SELECT row_to_json(x)::text FROM salesforce_settings x WHERE tenant_id = 'b'),
		(SELECT row_to_json(x)::text FROM kintone_settings x WHERE tenant_id = 'b'),
		(SELECT json_agg(x ORDER BY id)::text FROM outbox x WHERE tenant_id = 'b'),
		(SELECT json_agg(x)::text FROM sync_records x WHERE tenant_id = 'b'))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKintoneSettings(t *testing.T) {
	t.Parallel()
	b, _, tok := setupTenant(t)
	app := b.kintone.AddApp("a", kintonetest.AppConfig{APIToken: "kintone-api-token-a"})

	r := b.do(t, "PUT", "/api/v1/integrations/kintone", tok, map[string]any{"enabled": true, "base_url": app.URL(), "app_id": app.ID(), "api_token": "wrong"})
	if r.status != 422 || r.body["reason"] != "wrong_token" {
		t.Fatalf("wrong token: %d %s", r.status, r.raw)
	}
	r = b.do(t, "PUT", "/api/v1/integrations/kintone", tok, map[string]any{"enabled": true, "base_url": app.URL(), "app_id": app.ID(), "api_token": "kintone-api-token-a"})
	if r.status != 200 || r.body["api_token_set"] != true || strings.Contains(r.raw, "kintone-api-token-a") {
		t.Fatalf("save: %d %s", r.status, r.raw)
	}
	if r := b.do(t, "PUT", "/api/v1/integrations/kintone", tok, map[string]any{"enabled": true, "app_id": "7"}); r.status != 400 || r.body["field"] != "app_id" {
		t.Errorf("app_id as a string: %d %s", r.status, r.raw)
	}
	r = b.do(t, "POST", "/api/v1/integrations/kintone/test", tok, nil)
	if r.status != 200 || r.body["ok"] != true {
		t.Fatalf("test: %d %s", r.status, r.raw)
	}

	// A token that no HTTP header can carry is the admin's mistake, whether
	// sent now or stored while the integration was off.
	if r := b.do(t, "PUT", "/api/v1/integrations/kintone", tok, map[string]any{"enabled": true, "base_url": app.URL(), "app_id": app.ID(), "api_token": "トークン"}); r.status != 400 || r.body["field"] != "api_token" {
		t.Errorf("non-ASCII token: %d %s", r.status, r.raw)
	}
	if r := b.do(t, "PUT", "/api/v1/integrations/kintone", tok, map[string]any{"enabled": false, "base_url": app.URL(), "app_id": app.ID(), "api_token": "t\x00"}); r.status != 200 {
		t.Fatalf("disabled, NUL in the token: %d %s", r.status, r.raw)
	}
	if r := b.do(t, "PUT", "/api/v1/integrations/kintone", tok, map[string]any{"enabled": true, "base_url": app.URL(), "app_id": app.ID()}); r.status != 400 || r.body["field"] != "api_token" {
		t.Errorf("enabled with the stored NUL token: %d %s", r.status, r.raw)
	}
}

func TestCallSyncAndResync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, org, tok := setupTenant(t)
	b.saveSalesforce(t, org, "a", tok)
	if _, err := b.pool.Exec(ctx, `SELECT enqueue('a', 'c-1', 'call.analysed',
		'{"call_id": "c-1", "started_at": "2026-05-01T09:00:00Z", "duration_seconds": 5}')`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.pool.Exec(ctx, `UPDATE outbox SET dispatched_at = now(), outcome = 'queued';
		INSERT INTO sync_records (tenant_id, call_id, target, object_type, record_id, state, queued_outbox_id, outbox_id, synced_at,
			match, who_id, who_type, owner_note)
		VALUES ('a', 'c-1', 'salesforce', 'Task', '00T000000000001AAA', 'synced', 1, 1, now(),
			'ambiguous:2', '003000000000001AAA', 'Contact', 'inactive_user')`); err != nil {
		t.Fatal(err)
	}

	r := b.do(t, "GET", "/api/v1/calls/c-1/sync", tok, nil)
	targets, _ := r.body["targets"].([]any)
	if r.status != 200 || len(targets) != 1 {
		t.Fatalf("sync status: %d %s", r.status, r.raw)
	}
	sf := targets[0].(map[string]any)
	if sf["state"] != "synced" || sf["record_id"] != "00T000000000001AAA" || sf["record_url"] != org.URL()+"/00T000000000001AAA" {
		t.Errorf("salesforce target = %v", sf)
	}
	if sf["match"] != "ambiguous:2" || sf["who_id"] != "003000000000001AAA" || sf["who_type"] != "Contact" ||
		sf["owner_note"] != "inactive_user" || sf["owner_id"] != nil {
		t.Errorf("the match of the salesforce target = %v", sf)
	}
	if r := b.do(t, "GET", "/api/v1/calls/nope/sync", tok, nil); r.status != 404 {
		t.Errorf("unknown call: %d", r.status)
	}

	r = b.do(t, "POST", "/api/v1/calls/c-1/resync", tok, nil)
	if r.status != 202 || r.body["queued"] != float64(1) {
		t.Fatalf("resync: %d %s", r.status, r.raw)
	}
	if n := pgtest.Count(t, b.pool, "SELECT count(*) FROM outbox WHERE call_id = 'c-1' AND dispatched_at IS NULL"); n != 1 {
		t.Errorf("resync added %d undispatched rows, want 1", n)
	}
	if r := b.do(t, "POST", "/api/v1/calls/nope/resync", tok, nil); r.status != 404 {
		t.Errorf("resync of an unknown call: %d", r.status)
	}
	if r := b.do(t, "DELETE", "/api/v1/calls/c-1/sync", tok, nil); r.status != 405 {
		t.Errorf("DELETE: %d", r.status)
	}
}

// TestMatchingSettings: the call matching settings are saved, kept when a
// PUT leaves them out, validated, and checked by Test connection.
func TestMatchingSettings(t *testing.T) {
	t.Parallel()
	b, org, tok := setupTenant(t)

	body := with(with(with(sfBody(org, "a"), "link_who", true), "assign_owner", true), "phone_fields", []string{" Direct_Line__c", "Lead.Other__c", "Phone"})
	r := b.do(t, "PUT", "/api/v1/integrations/salesforce", tok, body)
	if r.status != 200 || r.body["link_who"] != true || r.body["assign_owner"] != true ||
		fmt.Sprint(r.body["phone_fields"]) != "[Direct_Line__c Lead.Other__c]" {
		t.Fatalf("save: %d %s", r.status, r.raw)
	}
	// A PUT without them keeps them.
	if r := b.do(t, "PUT", "/api/v1/integrations/salesforce", tok, sfBody(org, "a")); r.status != 200 || r.body["link_who"] != true ||
		fmt.Sprint(r.body["phone_fields"]) != "[Direct_Line__c Lead.Other__c]" {
		t.Fatalf("save without them: %d %s", r.status, r.raw)
	}
	// Test connection names what matching would miss: the org's Contact has
	// no Direct_Line__c, its Lead no Other__c.
	r = b.do(t, "POST", "/api/v1/integrations/salesforce/test", tok, nil)
	if r.status != 200 || r.body["ok"] != false || !strings.Contains(r.raw, "Contact.Direct_Line__c") || !strings.Contains(r.raw, "Lead.Other__c") {
		t.Fatalf("test connection: %d %s", r.status, r.raw)
	}
	for _, bad := range []map[string]any{
		with(sfBody(org, "a"), "phone_fields", []string{"Account.Phone"}),
		with(sfBody(org, "a"), "phone_fields", []string{"A__c", "B__c", "C__c", "D__c", "E__c", "F__c"}),
		with(sfBody(org, "a"), "phone_fields", []string{"bad field"}),
		with(sfBody(org, "a"), "who_field", "Contact"),
		with(sfBody(org, "a"), "link_who", "yes"),
	} {
		if r := b.do(t, "PUT", "/api/v1/integrations/salesforce", tok, bad); r.status != 400 || r.body["field"] == nil {
			t.Errorf("%v: %d %s", bad, r.status, r.raw)
		}
	}
	// Linking off again clears the problems.
	if r := b.do(t, "PUT", "/api/v1/integrations/salesforce", tok, with(with(sfBody(org, "a"), "link_who", false), "assign_owner", false)); r.status != 200 {
		t.Fatal(r.raw)
	}
	if r := b.do(t, "POST", "/api/v1/integrations/salesforce/test", tok, nil); r.body["ok"] != true {
		t.Errorf("test connection with matching off: %s", r.raw)
	}
}
