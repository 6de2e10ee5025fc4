package kintonetest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/koeiq/syncd/kintone/kintonetest"
)

const token = "app-token-1"

type testBundle struct {
	srv *kintonetest.Server
	app *kintonetest.App
}

func setup(t *testing.T, cfg kintonetest.AppConfig) *testBundle {
	t.Helper()
	if cfg.APIToken == "" {
		cfg.APIToken = token
	}
	srv := kintonetest.NewServer()
	t.Cleanup(srv.Close)
	return &testBundle{srv: srv, app: srv.AddApp("acme", cfg)}
}

// appTest runs body in a parallel subtest with an app of cfg on a server of
// its own.
func appTest(t *testing.T, name string, cfg kintonetest.AppConfig, body func(t *testing.T, b *testBundle)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		body(t, setup(t, cfg))
	})
}

// response is a decoded reply.
type response struct {
	status int
	header http.Header
	body   map[string]any
}

func (r response) code() string {
	s, _ := r.body["code"].(string)
	return s
}

// errorKeys returns the keys of a validation error's "errors".
func (r response) errorKeys() []string {
	m, _ := r.body["errors"].(map[string]any)
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// do sends a raw request to the app's domain. body is JSON-encoded unless it
// is a string, which is sent as is.
func (b *testBundle) do(t *testing.T, method, api, tok string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			data, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(data)
		}
	}
	req, err := http.NewRequest(method, b.app.URL()+"/k/v1/"+api, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("X-Cybozu-API-Token", tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, api, err)
	}
	defer resp.Body.Close()
	out := response{status: resp.StatusCode, header: resp.Header}
	data, _ := io.ReadAll(resp.Body)
	json.Unmarshal(data, &out.body)
	return out
}

func (b *testBundle) add(t *testing.T, rec map[string]any) response {
	t.Helper()
	return b.do(t, http.MethodPost, "record.json", token, map[string]any{"app": b.app.ID(), "record": wrap(rec)})
}

func (b *testBundle) query(t *testing.T, q string, extra ...string) response {
	t.Helper()
	params := url.Values{"app": {fmt.Sprint(b.app.ID())}, "query": {q}}
	for i := 0; i+1 < len(extra); i += 2 {
		params.Add(extra[i], extra[i+1])
	}
	return b.do(t, http.MethodGet, "records.json?"+params.Encode(), token, nil)
}

// wrap turns {"code": v} into {"code": {"value": v}}.
func wrap(rec map[string]any) map[string]any {
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		out[k] = map[string]any{"value": v}
	}
	return out
}

// ids returns the $id values of a Get Records response, in order.
func ids(t *testing.T, r response) []string {
	t.Helper()
	recs, ok := r.body["records"].([]any)
	if !ok {
		t.Fatalf("response has no records: %d %v", r.status, r.body)
	}
	out := []string{}
	for _, rec := range recs {
		out = append(out, rec.(map[string]any)["$id"].(map[string]any)["value"].(string))
	}
	return out
}

func TestAuthentication(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		token      string
		appID      any
		wantStatus int
		wantCode   string
	}{
		{"own token", token, 1, 200, ""},
		{"own and another app's token", token + "," + "other-app", 1, 200, ""},
		{"spaces around the comma", "other-app , " + token, 1, 200, ""},
		{"app ID as a string", token, "1", 200, ""},
		{"no token", "", 1, 401, "CB_AU01"},
		{"wrong token", "nope", 1, 400, "GAIA_IA02"},
		{"another app's token only", "other-app", 1, 400, "GAIA_IA02"},
		{"token of an app in another domain", "elsewhere", 1, 400, "GAIA_IA02"},
		{"own and a wrong token", token + ",nope", 1, 400, "GAIA_IA02"},
		{"own token twice", token + "," + token, 1, 400, "GAIA_DA03"},
		{"unknown app", token, 99, 404, "GAIA_AP01"},
		{"no app", token, nil, 400, "CB_VA01"},
		{"app zero", token, 0, 400, "CB_VA01"},
	}
	for _, tt := range tests {
		appTest(t, tt.name, kintonetest.AppConfig{}, func(t *testing.T, b *testBundle) {
			b.srv.AddApp("acme", kintonetest.AppConfig{APIToken: "other-app"})
			b.srv.AddApp("elsewhere", kintonetest.AppConfig{AppID: 1, APIToken: "elsewhere"})

			body := map[string]any{"record": wrap(map[string]any{"call_id": "c-1"})}
			if tt.appID != nil {
				body["app"] = tt.appID
			}
			r := b.do(t, http.MethodPost, "record.json", tt.token, body)
			if r.status != tt.wantStatus || r.code() != tt.wantCode {
				t.Errorf("got %d %q, want %d %q (%v)", r.status, r.code(), tt.wantStatus, tt.wantCode, r.body)
			}
			if r.status != 200 {
				if id, _ := r.body["id"].(string); id == "" {
					t.Errorf("error response without an id: %v", r.body)
				}
				if n := len(b.app.Records()); n != 0 {
					t.Errorf("%d records written by a rejected request", n)
				}
			}
		})
	}
}

func TestTokenRotation(t *testing.T) {
	t.Parallel()
	b := setup(t, kintonetest.AppConfig{})
	b.app.SetAPIToken("rotated")

	if r := b.add(t, map[string]any{"call_id": "c-1"}); r.code() != "GAIA_IA02" {
		t.Errorf("old token: got %d %s, want GAIA_IA02", r.status, r.code())
	}
	r := b.do(t, http.MethodPost, "record.json", "rotated", map[string]any{"app": 1, "record": wrap(map[string]any{"call_id": "c-1"})})
	if r.status != 200 {
		t.Errorf("new token: got %d %v", r.status, r.body)
	}
}

func TestMalformedRequests(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		body any
	}{
		{"not JSON", `{"app": 1,`},
		{"JSON array", `[1]`},
		{"value not wrapped", map[string]any{"app": 1, "record": map[string]any{"call_id": "c-1"}}},
		{"list for a text field", map[string]any{"app": 1, "record": wrap(map[string]any{"call_id": []string{"c-1"}})}},
		{"object for a number field", map[string]any{"app": 1, "record": wrap(map[string]any{"call_id": "c-1", "duration_seconds": map[string]any{}})}},
		{"boolean for a text field", map[string]any{"app": 1, "record": wrap(map[string]any{"call_id": true})}},
	}
	for _, tt := range tests {
		appTest(t, tt.name, kintonetest.AppConfig{}, func(t *testing.T, b *testBundle) {
			r := b.do(t, http.MethodPost, "record.json", token, tt.body)
			if r.status != 400 || r.code() != "CB_IJ01" {
				t.Errorf("got %d %q, want 400 CB_IJ01", r.status, r.code())
			}
		})
	}

	appTest(t, "no content type", kintonetest.AppConfig{}, func(t *testing.T, b *testBundle) {
		req, _ := http.NewRequest(http.MethodPost, b.app.URL()+"/k/v1/record.json", strings.NewReader(`{"app":1,"record":{}}`))
		req.Header.Set("X-Cybozu-API-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
	})

	appTest(t, "unknown API", kintonetest.AppConfig{}, func(t *testing.T, b *testBundle) {
		if r := b.do(t, http.MethodDelete, "record.json", token, nil); r.status != 404 {
			t.Errorf("DELETE record.json: status %d, want 404", r.status)
		}
	})
}

func TestValidation(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		rec      map[string]any
		wantKeys []string // nil: accepted
		wantMsg  string   // a message expected under the first key
		stored   map[string]string
	}{
		{name: "valid call", rec: map[string]any{"call_id": "c-1", "duration_seconds": 312, "quality_score": "87.5", "direction": "outbound"},
			stored: map[string]string{"duration_seconds": "312", "quality_score": "87.5"}},
		{name: "required missing", rec: map[string]any{"summary": "x"}, wantKeys: []string{"record.call_id.value"}, wantMsg: "Required."},
		{name: "required empty", rec: map[string]any{"call_id": ""}, wantKeys: []string{"record.call_id.value"}, wantMsg: "Required."},
		{name: "required null", rec: map[string]any{"call_id": nil}, wantKeys: []string{"record.call_id.value"}},
		{name: "number with letters", rec: map[string]any{"call_id": "c-1", "duration_seconds": "12s"},
			wantKeys: []string{"record[duration_seconds].value"}, wantMsg: "Only numbers are allowed."},
		{name: "number with comma", rec: map[string]any{"call_id": "c-1", "duration_seconds": "1,200"}, wantKeys: []string{"record[duration_seconds].value"}},
		{name: "negative decimal", rec: map[string]any{"call_id": "c-1", "quality_score": "-0.5"}, stored: map[string]string{"quality_score": "-0.5"}},
		{name: "date", rec: map[string]any{"call_id": "c-1", "call_date": "2025-04-01"}, stored: map[string]string{"call_date": "2025-04-01"}},
		{name: "short date forms", rec: map[string]any{"call_id": "c-1", "call_date": "2025-4-1"}, stored: map[string]string{"call_date": "2025-04-01"}},
		{name: "year only", rec: map[string]any{"call_id": "c-1", "call_date": "2025"}, stored: map[string]string{"call_date": "2025-01-01"}},
		{name: "date with slashes", rec: map[string]any{"call_id": "c-1", "call_date": "2025/04/01"}, wantKeys: []string{"record.call_date.value"}},
		{name: "impossible date", rec: map[string]any{"call_id": "c-1", "call_date": "2025-02-30"}, wantKeys: []string{"record.call_date.value"}},
		{name: "date with time", rec: map[string]any{"call_id": "c-1", "call_date": "2025-04-01T00:00:00Z"}, wantKeys: []string{"record.call_date.value"}},
		{name: "datetime UTC", rec: map[string]any{"call_id": "c-1", "started_at": "2025-04-01T09:30:59Z"}, stored: map[string]string{"started_at": "2025-04-01T09:30:00Z"}},
		{name: "datetime offset", rec: map[string]any{"call_id": "c-1", "started_at": "2025-04-01T18:30:00+09:00"}, stored: map[string]string{"started_at": "2025-04-01T09:30:00Z"}},
		{name: "datetime date only", rec: map[string]any{"call_id": "c-1", "started_at": "2025-04-01"}, stored: map[string]string{"started_at": "2025-04-01T00:00:00Z"}},
		{name: "datetime without zone", rec: map[string]any{"call_id": "c-1", "started_at": "2025-04-01T09:30:00"}, wantKeys: []string{"record.started_at.value"}},
		{name: "datetime with space", rec: map[string]any{"call_id": "c-1", "started_at": "2025-04-01 09:30:00Z"}, wantKeys: []string{"record.started_at.value"}},
		{name: "datetime out of range", rec: map[string]any{"call_id": "c-1", "started_at": "2025-04-01T25:00:00Z"}, wantKeys: []string{"record.started_at.value"}},
		{name: "text at its maximum", rec: map[string]any{"call_id": strings.Repeat("x", 200)}},
		{name: "text over its maximum", rec: map[string]any{"call_id": strings.Repeat("x", 201)},
			wantKeys: []string{"record.call_id.value"}, wantMsg: "Enter less than 201 characters."},
		{name: "surrogate pairs count twice", rec: map[string]any{"call_id": strings.Repeat("😀", 101)}, wantKeys: []string{"record.call_id.value"}},
		{name: "option", rec: map[string]any{"call_id": "c-1", "direction": "internal"}},
		{name: "not an option", rec: map[string]any{"call_id": "c-1", "direction": "Inbound"},
			wantKeys: []string{"record.direction.value"}, wantMsg: `The value, "Inbound", is not in options.`},
		{name: "link", rec: map[string]any{"call_id": "c-1", "transcript_url": "https://app.example/t/1"}},
		{name: "link without scheme", rec: map[string]any{"call_id": "c-1", "transcript_url": "app.example/t/1"}, wantKeys: []string{"record.transcript_url.value"}},
		{name: "several errors at once", rec: map[string]any{"duration_seconds": "x", "direction": "up"},
			wantKeys: []string{"record.call_id.value", "record.direction.value", "record[duration_seconds].value"}},
		{name: "unknown field ignored", rec: map[string]any{"call_id": "c-1", "nope": "x"}},
	}
	for _, tt := range tests {
		appTest(t, tt.name, kintonetest.AppConfig{}, func(t *testing.T, b *testBundle) {
			r := b.add(t, tt.rec)
			if tt.wantKeys == nil {
				if r.status != 200 {
					t.Fatalf("got %d %v, want success", r.status, r.body)
				}
				rec, ok := b.app.Record(r.body["id"].(string))
				if !ok {
					t.Fatal("record not stored")
				}
				for k, v := range tt.stored {
					if rec[k] != v {
						t.Errorf("stored %s = %#v, want %q", k, rec[k], v)
					}
				}
				if _, ok := rec["nope"]; ok {
					t.Error("unknown field stored")
				}
				return
			}
			if r.status != 400 || r.code() != "CB_VA01" || r.body["message"] != "Missing or invalid input." {
				t.Fatalf("got %d %v, want 400 CB_VA01", r.status, r.body)
			}
			if got := r.errorKeys(); !slices.Equal(got, tt.wantKeys) {
				t.Errorf("error keys = %q, want %q", got, tt.wantKeys)
			}
			if tt.wantMsg != "" {
				msgs := r.body["errors"].(map[string]any)[tt.wantKeys[0]].(map[string]any)["messages"].([]any)
				if len(msgs) != 1 || msgs[0] != tt.wantMsg {
					t.Errorf("messages = %v, want [%q]", msgs, tt.wantMsg)
				}
			}
		})
	}
}

func TestUnique(t *testing.T) {
	t.Parallel()
	b := setup(t, kintonetest.AppConfig{})

	if r := b.add(t, map[string]any{"call_id": "c-1"}); r.status != 200 {
		t.Fatal(r.body)
	}
	r := b.add(t, map[string]any{"call_id": "c-1"})
	if r.code() != "CB_VA01" || !slices.Equal(r.errorKeys(), []string{"record.call_id.value"}) {
		t.Fatalf("duplicate: got %d %v", r.status, r.body)
	}
	msgs := r.body["errors"].(map[string]any)["record.call_id.value"].(map[string]any)["messages"].([]any)
	if msgs[0] != "This value already exists in another record." {
		t.Errorf("message = %v", msgs)
	}
	// Updating a record with its own value is not a duplicate.
	r = b.do(t, http.MethodPut, "record.json", token, map[string]any{"app": 1, "id": "1", "record": wrap(map[string]any{"call_id": "c-1"})})
	if r.status != 200 {
		t.Errorf("self update: %d %v", r.status, r.body)
	}
}

func TestUpdateRecord(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		body       map[string]any
		wantStatus int
		wantCode   string
		wantRev    string
	}{
		{"by id", map[string]any{"id": 1, "record": wrap(map[string]any{"summary": "v2"})}, 200, "", "2"},
		{"by id as string", map[string]any{"id": "1", "record": wrap(map[string]any{"summary": "v2"})}, 200, "", "2"},
		{"by updateKey", map[string]any{"updateKey": map[string]any{"field": "call_id", "value": "c-1"}, "record": wrap(map[string]any{"summary": "v2"})}, 200, "", "2"},
		{"matching revision", map[string]any{"id": 1, "revision": "1", "record": wrap(map[string]any{"summary": "v2"})}, 200, "", "2"},
		{"revision -1", map[string]any{"id": 1, "revision": -1, "record": wrap(map[string]any{"summary": "v2"})}, 200, "", "2"},
		{"stale revision", map[string]any{"id": 1, "revision": 5, "record": wrap(map[string]any{"summary": "v2"})}, 409, "GAIA_CO02", ""},
		{"missing id", map[string]any{"id": 99, "record": wrap(map[string]any{"summary": "v2"})}, 404, "GAIA_RE01", ""},
		{"missing key", map[string]any{"updateKey": map[string]any{"field": "call_id", "value": "c-99"}, "record": wrap(map[string]any{})}, 404, "GAIA_RE20", ""},
		{"key not unique", map[string]any{"updateKey": map[string]any{"field": "subject", "value": "s"}, "record": wrap(map[string]any{})}, 400, "CB_VA01", ""},
		{"key of another type", map[string]any{"updateKey": map[string]any{"field": "call_date", "value": "2025-04-01"}, "record": wrap(map[string]any{})}, 400, "CB_VA01", ""},
		{"unknown key field", map[string]any{"updateKey": map[string]any{"field": "nope", "value": "x"}, "record": wrap(map[string]any{})}, 400, "CB_VA01", ""},
		{"key changed", map[string]any{"updateKey": map[string]any{"field": "call_id", "value": "c-1"}, "record": wrap(map[string]any{"call_id": "c-2"})}, 400, "CB_VA01", ""},
		{"id and updateKey", map[string]any{"id": 1, "updateKey": map[string]any{"field": "call_id", "value": "c-1"}, "record": wrap(map[string]any{})}, 400, "CB_VA01", ""},
		{"neither", map[string]any{"record": wrap(map[string]any{})}, 400, "CB_VA01", ""},
		{"clearing a required field", map[string]any{"id": 1, "record": wrap(map[string]any{"call_id": ""})}, 400, "CB_VA01", ""},
		{"invalid value", map[string]any{"id": 1, "record": wrap(map[string]any{"quality_score": "high"})}, 400, "CB_VA01", ""},
	}
	for _, tt := range tests {
		appTest(t, tt.name, kintonetest.AppConfig{}, func(t *testing.T, b *testBundle) {
			b.add(t, map[string]any{"call_id": "c-1", "summary": "v1", "subject": "s"})
			tt.body["app"] = 1
			r := b.do(t, http.MethodPut, "record.json", token, tt.body)
			if r.status != tt.wantStatus || r.code() != tt.wantCode {
				t.Fatalf("got %d %q %v, want %d %q", r.status, r.code(), r.body, tt.wantStatus, tt.wantCode)
			}
			rec, _ := b.app.Record("1")
			if tt.wantStatus != 200 {
				if rec["summary"] != "v1" || rec["$revision"] != "1" {
					t.Errorf("failed update changed the record: %v", rec)
				}
				return
			}
			if r.body["revision"] != tt.wantRev || len(r.body) != 1 {
				t.Errorf("response = %v, want only revision %q", r.body, tt.wantRev)
			}
			if rec["summary"] != "v2" || rec["subject"] != "s" || rec["call_id"] != "c-1" {
				t.Errorf("record = %v, want summary changed and the rest kept", rec)
			}
		})
	}
}

func TestUpdateRecords(t *testing.T) {
	t.Parallel()

	appTest(t, "upsert", kintonetest.AppConfig{}, func(t *testing.T, b *testBundle) {
		b.add(t, map[string]any{"call_id": "c-1"})
		r := b.do(t, http.MethodPut, "records.json", token, map[string]any{"app": 1, "upsert": true, "records": []any{
			map[string]any{"updateKey": map[string]any{"field": "call_id", "value": "c-1"}, "record": wrap(map[string]any{"summary": "updated"})},
			map[string]any{"updateKey": map[string]any{"field": "call_id", "value": "c-2"}, "record": wrap(map[string]any{"summary": "inserted"})},
			map[string]any{"id": 77, "record": wrap(map[string]any{"call_id": "c-3"})},
		}})
		if r.status != 200 {
			t.Fatalf("got %d %v", r.status, r.body)
		}
		got, _ := json.Marshal(r.body["records"])
		want := `[{"id":"1","operation":"UPDATE","revision":"2"},{"id":"2","operation":"INSERT","revision":"1"},{"id":"3","operation":"INSERT","revision":"1"}]`
		if string(got) != want {
			t.Errorf("records = %s, want %s", got, want)
		}
		if rec, _ := b.app.Record("2"); rec["call_id"] != "c-2" || rec["summary"] != "inserted" {
			t.Errorf("inserted record = %v, want the updateKey value set", rec)
		}
		if b.app.Requests("upsert") != 1 {
			t.Errorf("requests counted as upsert = %d", b.app.Requests("upsert"))
		}
	})

	appTest(t, "all or nothing", kintonetest.AppConfig{}, func(t *testing.T, b *testBundle) {
		b.add(t, map[string]any{"call_id": "c-1"})
		b.add(t, map[string]any{"call_id": "c-2"})
		r := b.do(t, http.MethodPut, "records.json", token, map[string]any{"app": 1, "records": []any{
			map[string]any{"id": 1, "record": wrap(map[string]any{"summary": "changed"})},
			map[string]any{"id": 2, "record": wrap(map[string]any{"direction": "nowhere"})},
		}})
		if r.code() != "CB_VA01" || !slices.Equal(r.errorKeys(), []string{"records[1].direction.value"}) {
			t.Fatalf("got %d %v", r.status, r.body)
		}
		if rec, _ := b.app.Record("1"); rec["summary"] != "" {
			t.Errorf("record 1 changed by a failed request: %v", rec)
		}
		r = b.do(t, http.MethodPut, "records.json", token, map[string]any{"app": 1, "records": []any{
			map[string]any{"id": 1, "record": wrap(map[string]any{"summary": "changed"})},
			map[string]any{"id": 99, "record": wrap(map[string]any{})},
		}})
		if r.status != 404 || r.code() != "GAIA_RE01" {
			t.Errorf("missing record in a bulk update: %d %v", r.status, r.body)
		}
		if rec, _ := b.app.Record("1"); rec["summary"] != "" {
			t.Errorf("record 1 changed by a failed request: %v", rec)
		}
	})

	appTest(t, "without upsert mode", kintonetest.AppConfig{NoUpsertMode: true}, func(t *testing.T, b *testBundle) {
		r := b.do(t, http.MethodPut, "records.json", token, map[string]any{"app": 1, "upsert": true, "records": []any{
			map[string]any{"updateKey": map[string]any{"field": "call_id", "value": "c-1"}, "record": wrap(map[string]any{})},
		}})
		if r.status != 404 || r.code() != "GAIA_RE20" {
			t.Errorf("got %d %v, want 404 GAIA_RE20", r.status, r.body)
		}
	})
}

func TestBulkLimits(t *testing.T) {
	t.Parallel()

	records := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = wrap(map[string]any{"call_id": fmt.Sprintf("c-%d", i)})
		}
		return out
	}
	updates := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"updateKey": map[string]any{"field": "call_id", "value": fmt.Sprintf("c-%d", i)}, "record": wrap(nil)}
		}
		return out
	}
	tests := []struct {
		name       string
		method     string
		body       map[string]any
		wantStatus int
		wantMsg    string
	}{
		{"add 100", http.MethodPost, map[string]any{"records": records(100)}, 200, ""},
		{"add 101", http.MethodPost, map[string]any{"records": records(101)}, 400, "A maximum of 100 records can be added at one time."},
		{"add none", http.MethodPost, map[string]any{"records": []any{}}, 400, "Required."},
		{"upsert 100", http.MethodPut, map[string]any{"upsert": true, "records": updates(100)}, 200, ""},
		{"upsert 101", http.MethodPut, map[string]any{"upsert": true, "records": updates(101)}, 400, "A maximum of 100 records can be updated at one time."},
	}
	for _, tt := range tests {
		appTest(t, tt.name, kintonetest.AppConfig{}, func(t *testing.T, b *testBundle) {
			tt.body["app"] = 1
			r := b.do(t, tt.method, "records.json", token, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("got %d %v, want %d", r.status, r.body, tt.wantStatus)
			}
			if tt.wantMsg == "" {
				if n := len(b.app.Records()); n != 100 {
					t.Errorf("%d records, want 100", n)
				}
				return
			}
			msgs := r.body["errors"].(map[string]any)["records"].(map[string]any)["messages"].([]any)
			if r.code() != "CB_VA01" || msgs[0] != tt.wantMsg {
				t.Errorf("got %s %v, want CB_VA01 %q", r.code(), msgs, tt.wantMsg)
			}
			if n := len(b.app.Records()); n != 0 {
				t.Errorf("%d records written", n)
			}
		})
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	b := setup(t, kintonetest.AppConfig{})
	seed := []map[string]any{
		{"call_id": "c-1", "subject": "plain", "duration_seconds": "9", "direction": "inbound", "call_date": "2025-04-01", "summary": "About the Invoice"},
		{"call_id": "c-2", "subject": `say "hi"`, "duration_seconds": "10", "direction": "outbound", "call_date": "2025-04-02"},
		{"call_id": "c-3", "subject": `back\slash`, "duration_seconds": "100", "direction": "internal", "call_date": "2025-03-31"},
		{"call_id": "c-4", "subject": "plain", "summary": "invoice again"},
		{"call_id": `c-"5"`, "subject": "日本語"},
	}
	for _, rec := range seed {
		if r := b.add(t, rec); r.status != 200 {
			t.Fatalf("seed: %v", r.body)
		}
	}

	tests := []struct {
		query string
		want  []string
	}{
		{``, []string{"5", "4", "3", "2", "1"}},
		{`subject = "plain"`, []string{"4", "1"}},
		{`subject = "plain" order by $id asc`, []string{"1", "4"}},
		{`subject = "plain" ORDER BY $id ASC`, []string{"1", "4"}},
		{`subject = "say \"hi\""`, []string{"2"}},
		{`subject = "back\\slash"`, []string{"3"}},
		{`call_id = "c-\"5\""`, []string{"5"}},
		{`subject = "日本語"`, []string{"5"}},
		{`subject != "plain" order by $id asc`, []string{"2", "3", "5"}},
		{`subject in ("plain", "日本語") order by $id asc`, []string{"1", "4", "5"}},
		{`subject not in ("plain") order by $id asc`, []string{"2", "3", "5"}},
		{`direction in ("inbound", "internal") order by $id asc`, []string{"1", "3"}},
		{`direction not in ("inbound") order by $id asc`, []string{"2", "3", "4", "5"}},
		{`duration_seconds > 9 order by $id asc`, []string{"2", "3"}},
		{`duration_seconds >= "10" order by duration_seconds desc`, []string{"3", "2"}},
		{`duration_seconds < 100 order by duration_seconds asc`, []string{"1", "2"}},
		{`call_date > "2025-04-01"`, []string{"2"}},
		{`call_date <= "2025-4-1" order by call_date asc`, []string{"3", "1"}},
		{`summary like "invoice" order by $id asc`, []string{"1", "4"}},
		{`summary not like "again" order by $id asc`, []string{"1", "2", "3", "5"}},
		{`summary is empty order by $id asc`, []string{"2", "3", "5"}},
		{`summary is not empty order by $id asc`, []string{"1", "4"}},
		{`$id > 2 and $id <= 4 order by $id asc`, []string{"3", "4"}},
		{`Record_number in (1, 5) order by Record_number asc`, []string{"1", "5"}},
		{`subject = "plain" or subject = "日本語" and $id > 100 order by $id asc`, []string{"1", "4"}},
		{`(subject = "plain" or subject = "日本語") and $id > 1 order by $id asc`, []string{"4", "5"}},
		{`order by $id asc limit 2`, []string{"1", "2"}},
		{`order by $id asc limit 2 offset 3`, []string{"4", "5"}},
		{`limit 0`, []string{}},
		{`subject = "x\" or subject != \""`, []string{}},
	}
	for _, tt := range tests {
		r := b.query(t, tt.query)
		if r.status != 200 {
			t.Errorf("%s: got %d %v", tt.query, r.status, r.body)
			continue
		}
		got := ids(t, r)
		want := tt.want
		if want == nil {
			want = []string{}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", tt.query, got, want)
		}
	}

	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			query, wantCode string
		}{
			{`SUBJECT = "plain"`, "GAIA_IQ11"}, // field codes are case-sensitive
			{`nope = "x"`, "GAIA_IQ11"},
			{`order by nope`, "GAIA_IQ11"},
			{`direction = "inbound"`, "GAIA_IQ03"},
			{`summary = "x"`, "GAIA_IQ03"},
			{`duration_seconds like "1"`, "GAIA_IQ03"},
			{`subject = 'plain'`, "CB_VA01"},
			{`subject = "plain`, "CB_VA01"},
			{`subject = `, "CB_VA01"},
			{`subject "plain"`, "CB_VA01"},
			{`subject = "a" garbage`, "CB_VA01"},
			{`(subject = "a"`, "CB_VA01"},
			{`call_date = TODAY()`, "CB_VA01"},
			{`duration_seconds > "ten"`, "CB_VA01"},
			{`call_date = "yesterday"`, "CB_VA01"},
			{`limit 501`, "GAIA_QU01"},
			{`offset 10001`, "GAIA_QU02"},
			{`limit -1`, "CB_VA01"},
		}
		for _, tt := range tests {
			r := b.query(t, tt.query)
			if r.status != 400 || r.code() != tt.wantCode {
				t.Errorf("%s: got %d %q, want 400 %s", tt.query, r.status, r.code(), tt.wantCode)
			}
		}
	})

	t.Run("fields and totalCount", func(t *testing.T) {
		r := b.query(t, `subject = "plain"`, "fields[0]", "$id", "fields[1]", "call_id", "totalCount", "true")
		recs := r.body["records"].([]any)
		first := recs[0].(map[string]any)
		if len(first) != 2 || first["call_id"].(map[string]any)["type"] != "SINGLE_LINE_TEXT" {
			t.Errorf("record = %v, want only $id and call_id with types", first)
		}
		if r.body["totalCount"] != "2" {
			t.Errorf("totalCount = %v, want \"2\"", r.body["totalCount"])
		}
		if r := b.query(t, ``); r.body["totalCount"] != nil {
			t.Errorf("totalCount without asking = %v, want null", r.body["totalCount"])
		}
	})
}

func TestFormFields(t *testing.T) {
	t.Parallel()
	b := setup(t, kintonetest.AppConfig{Fields: []kintonetest.FieldDef{
		{Code: "key", Type: "SINGLE_LINE_TEXT", Required: true, Unique: true, MaxLength: 64},
		{Code: "notes", Type: "MULTI_LINE_TEXT", Label: "Notes"},
		{Code: "tags", Type: "CHECK_BOX", Options: []string{"b", "a"}},
	}})
	r := b.do(t, http.MethodGet, "app/form/fields.json?app=1", token, nil)
	if r.status != 200 {
		t.Fatalf("got %d %v", r.status, r.body)
	}
	props := r.body["properties"].(map[string]any)
	key := props["key"].(map[string]any)
	if key["required"] != true || key["unique"] != true || key["maxLength"] != "64" || key["label"] != "key" || key["type"] != "SINGLE_LINE_TEXT" {
		t.Errorf("key = %v", key)
	}
	if notes := props["notes"].(map[string]any); notes["label"] != "Notes" || notes["required"] != false {
		t.Errorf("notes = %v", notes)
	}
	opts, _ := json.Marshal(props["tags"].(map[string]any)["options"])
	if string(opts) != `{"a":{"index":"1","label":"a"},"b":{"index":"0","label":"b"}}` {
		t.Errorf("options = %s", opts)
	}
	if props["Record_number"].(map[string]any)["type"] != "RECORD_NUMBER" {
		t.Errorf("no Record_number field: %v", props)
	}

	t.Run("check boxes", func(t *testing.T) {
		r := b.add(t, map[string]any{"key": "k1", "tags": []string{"a", "z"}})
		if !slices.Equal(r.errorKeys(), []string{"record.tags.values[1].value"}) {
			t.Errorf("got %v", r.body)
		}
		if r := b.add(t, map[string]any{"key": "k1", "tags": []string{"a"}}); r.status != 200 {
			t.Fatalf("got %v", r.body)
		}
		if got := ids(t, b.query(t, `tags in ("a")`)); !slices.Equal(got, []string{"1"}) {
			t.Errorf("tags in (a) = %q", got)
		}
	})
}

func TestFaults(t *testing.T) {
	t.Parallel()

	appTest(t, "kinds and headers", kintonetest.AppConfig{}, func(t *testing.T, b *testBundle) {
		b.app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultRateLimit, Op: "query"})
		b.app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultUnavailable, Op: "add"})

		r := b.add(t, map[string]any{"call_id": "c-1"})
		if r.status != 503 || r.body != nil {
			t.Errorf("add: got %d %v, want an HTML 503", r.status, r.body)
		}
		r = b.query(t, "")
		if r.status != 429 || r.code() != "GAIA_TO04" || r.header.Get("X-Cybozu-Error") != "GAIA_TO04" {
			t.Errorf("query: got %d %v %v, want 429 GAIA_TO04", r.status, r.body, r.header)
		}
		if r.header.Get("X-ConcurrencyLimit-Limit") != "100" {
			t.Errorf("X-ConcurrencyLimit-Limit = %q", r.header.Get("X-ConcurrencyLimit-Limit"))
		}
		r = b.add(t, map[string]any{"call_id": "c-1"})
		if r.status != 200 || r.header.Get("X-ConcurrencyLimit-Running") != "1" {
			t.Errorf("after the faults: %d, running %q", r.status, r.header.Get("X-ConcurrencyLimit-Running"))
		}
		if b.app.Requests("add") != 2 || b.app.Requests("query") != 1 || b.app.Requests("") != 3 {
			t.Errorf("requests add=%d query=%d all=%d", b.app.Requests("add"), b.app.Requests("query"), b.app.Requests(""))
		}
	})

	appTest(t, "until cleared", kintonetest.AppConfig{}, func(t *testing.T, b *testBundle) {
		b.app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultDatabaseLock, Times: -1})
		for range 3 {
			if r := b.add(t, map[string]any{"call_id": "c-1"}); r.status != 520 || r.code() != "GAIA_RE18" {
				t.Fatalf("got %d %v", r.status, r.body)
			}
		}
		b.app.ClearFaults()
		if r := b.add(t, map[string]any{"call_id": "c-1"}); r.status != 200 {
			t.Errorf("after ClearFaults: %d %v", r.status, r.body)
		}
	})

	appTest(t, "drop after commit", kintonetest.AppConfig{}, func(t *testing.T, b *testBundle) {
		b.app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultDropAfterCommit})
		body, _ := json.Marshal(map[string]any{"app": 1, "record": wrap(map[string]any{"call_id": "c-1"})})
		req, _ := http.NewRequest(http.MethodPost, b.app.URL()+"/k/v1/record.json", bytes.NewReader(body))
		req.Header.Set("X-Cybozu-API-Token", token)
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("got a response %d, want a dropped connection", resp.StatusCode)
		}
		if n := len(b.app.Records()); n != 1 {
			t.Errorf("%d records, want the write committed", n)
		}
	})

	t.Run("close cuts latency short", func(t *testing.T) {
		t.Parallel()
		srv := kintonetest.NewServer()
		app := srv.AddApp("slow", kintonetest.AppConfig{APIToken: token, Latency: time.Hour})
		done := make(chan error, 1)
		go func() {
			resp, err := http.Get(app.URL() + "/k/v1/records.json?app=1")
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
		waitFor(t, func() bool { return app.Requests("query") == 1 })
		srv.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("request still blocked after Close")
		}
	})
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatal("condition not met in time")
		case <-tick.C:
		}
	}
}

func TestAppAccessors(t *testing.T) {
	t.Parallel()
	b := setup(t, kintonetest.AppConfig{})
	b.add(t, map[string]any{"call_id": "c-1"})
	b.add(t, map[string]any{"call_id": "c-2"})

	recs := b.app.Records()
	if len(recs) != 2 || recs[0]["$id"] != "1" || recs[1]["call_id"] != "c-2" {
		t.Errorf("Records = %v", recs)
	}
	recs[0]["call_id"] = "mutated"
	if rec, _ := b.app.Record("1"); rec["call_id"] != "c-1" {
		t.Error("Records returned shared state")
	}
	b.app.DeleteRecord("1")
	b.app.DeleteRecord("not-an-id")
	if _, ok := b.app.Record("1"); ok {
		t.Error("record 1 still there after DeleteRecord")
	}
	if _, ok := b.app.Record("x"); ok {
		t.Error("Record(x) found something")
	}
	// IDs are never reused.
	if r := b.add(t, map[string]any{"call_id": "c-3"}); r.body["id"] != "3" {
		t.Errorf("new record ID = %v, want 3", r.body["id"])
	}
	if got := b.app.URL(); !strings.HasPrefix(got, b.srv.URL()+"/org/acme") {
		t.Errorf("URL = %q", got)
	}
}

func TestAddAppPanics(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		base string
		cfg  kintonetest.AppConfig
	}{
		{"bad base", "Acme/x", kintonetest.AppConfig{APIToken: "t"}},
		{"no token", "acme", kintonetest.AppConfig{}},
		{"duplicate app", "acme", kintonetest.AppConfig{AppID: 1, APIToken: "t"}},
		{"unsupported type", "acme", kintonetest.AppConfig{APIToken: "t", Fields: []kintonetest.FieldDef{{Code: "f", Type: "SUBTABLE"}}}},
		{"duplicate field", "acme", kintonetest.AppConfig{APIToken: "t", Fields: []kintonetest.FieldDef{{Code: "f", Type: "NUMBER"}, {Code: "f", Type: "NUMBER"}}}},
		{"unique multi-line", "acme", kintonetest.AppConfig{APIToken: "t", Fields: []kintonetest.FieldDef{{Code: "f", Type: "MULTI_LINE_TEXT", Unique: true}}}},
		{"drop-down without options", "acme", kintonetest.AppConfig{APIToken: "t", Fields: []kintonetest.FieldDef{{Code: "f", Type: "DROP_DOWN"}}}},
		{"max length on a number", "acme", kintonetest.AppConfig{APIToken: "t", Fields: []kintonetest.FieldDef{{Code: "f", Type: "NUMBER", MaxLength: 3}}}},
		{"system field code", "acme", kintonetest.AppConfig{APIToken: "t", Fields: []kintonetest.FieldDef{{Code: "Record_number", Type: "NUMBER"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := kintonetest.NewServer()
			defer srv.Close()
			srv.AddApp("acme", kintonetest.AppConfig{AppID: 1, APIToken: "first"})
			defer func() {
				if recover() == nil {
					t.Error("AddApp did not panic")
				}
			}()
			srv.AddApp(tt.base, tt.cfg)
		})
	}
}
