package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/koeiq/syncd/kintone/kintonetest"
	"github.com/koeiq/syncd/settings"
)

// addRecord writes a sync record of tenant's call as dispatch and a push
// would leave it, created age ago.
func (b *testBundle) addRecord(t *testing.T, tenant, callID, state string, age time.Duration) {
	t.Helper()
	var recordID, lastError, syncedAt any
	attempts := 1
	switch state {
	case "synced":
		recordID, syncedAt = "00T-"+callID, time.Now().Add(-age)
	case "failed":
		lastError = "FIELD_CUSTOM_VALIDATION_EXCEPTION: Comments must not quote a card number (" + callID + ")"
	case "pending":
		attempts = 0
	}
	_, err := b.pool.Exec(context.Background(), `
		INSERT INTO sync_records (tenant_id, call_id, target, object_type, record_id, state, last_error, attempts,
			queued_outbox_id, outbox_id, synced_at, created_at, updated_at)
		VALUES ($1, $2, 'salesforce', 'Task', $3, $4, $5, $6, 1, 1, $7, now() - make_interval(secs => $8), now())`,
		tenant, callID, recordID, state, lastError, attempts, syncedAt, age.Seconds())
	if err != nil {
		t.Fatal(err)
	}
}

// addSkipped writes an outbox row of tenant's call that dispatch skipped,
// age ago.
func (b *testBundle) addSkipped(t *testing.T, tenant, callID string, age time.Duration) {
	t.Helper()
	_, err := b.pool.Exec(context.Background(), `
		INSERT INTO outbox (tenant_id, call_id, event, payload, created_at, dispatched_at, outcome)
		VALUES ($1, $2, 'call.analysed', jsonb_build_object('call_id', $2::text), now() - make_interval(secs => $3), now(),
			'skipped: no integration enabled')`, tenant, callID, age.Seconds())
	if err != nil {
		t.Fatal(err)
	}
}

// logCalls reads the log with query, page after page, and returns the
// call IDs (with ":state") in order and the pages' sizes.
func (b *testBundle) logCalls(t *testing.T, tok string, query url.Values) (calls []string, pages []int) {
	t.Helper()
	for range 50 {
		r := b.do(t, "GET", "/api/v1/calls?"+query.Encode(), tok, nil)
		if r.status != 200 {
			t.Fatalf("GET /api/v1/calls?%s: %d %s", query.Encode(), r.status, r.raw)
		}
		rows, _ := r.body["calls"].([]any)
		pages = append(pages, len(rows))
		for _, row := range rows {
			m := row.(map[string]any)
			calls = append(calls, fmt.Sprintf("%s:%s", m["call_id"], m["state"]))
		}
		next, _ := r.body["next_after"].(string)
		if next == "" {
			return calls, pages
		}
		query.Set("after", next)
	}
	t.Fatal("the log never ends")
	return nil, nil
}

func TestSyncLog(t *testing.T) {
	t.Parallel()
	b, org, tok := setupTenant(t)
	b.tenant(t, "other", true)
	b.saveSalesforce(t, org, "a", tok)
	// Newest first: c-8 arrived a minute ago, c-1 eight minutes ago.
	states := []string{"synced", "failed", "pending", "synced", "skipped", "synced", "failed", "synced"}
	for i, state := range states {
		callID, age := fmt.Sprintf("c-%d", i+1), time.Duration(len(states)-i)*time.Minute
		if state == "skipped" {
			b.addSkipped(t, "a", callID, age)
			continue
		}
		b.addRecord(t, "a", callID, state, age)
	}
	b.addSkipped(t, "a", "c-2", 20*time.Minute) // skipped once, then pushed: listed by its record only
	b.addRecord(t, "other", "c-9", "failed", time.Minute)
	b.addRecord(t, "a", "test-20261201T000000Z-00aa", "synced", 30*time.Second)

	want := []string{"test-20261201T000000Z-00aa:synced", "c-8:synced", "c-7:failed", "c-6:synced", "c-5:skipped",
		"c-4:synced", "c-3:pending", "c-2:failed", "c-1:synced"}
	calls, pages := b.logCalls(t, tok, url.Values{"limit": {"2"}})
	if !slices.Equal(calls, want) {
		t.Errorf("log, 2 a page:\n got %v\nwant %v", calls, want)
	}
	if !slices.Equal(pages, []int{2, 2, 2, 2, 1}) {
		t.Errorf("page sizes %v", pages)
	}
	if calls, _ := b.logCalls(t, tok, url.Values{"state": {"failed"}}); !slices.Equal(calls, []string{"c-7:failed", "c-2:failed"}) {
		t.Errorf("failed calls: %v", calls)
	}
	if calls, _ := b.logCalls(t, tok, url.Values{"state": {"skipped"}}); !slices.Equal(calls, []string{"c-5:skipped"}) {
		t.Errorf("skipped calls: %v", calls)
	}
	// Searching: by the beginning of the ID, in ID order.
	b.addRecord(t, "a", "c-10", "synced", time.Hour)
	if calls, _ := b.logCalls(t, tok, url.Values{"q": {"c-1"}, "limit": {"1"}}); !slices.Equal(calls, []string{"c-1:synced", "c-10:synced"}) {
		t.Errorf("search c-1: %v", calls)
	}
	if calls, _ := b.logCalls(t, tok, url.Values{"q": {"c-5"}}); !slices.Equal(calls, []string{"c-5:skipped"}) {
		t.Errorf("search c-5: %v", calls)
	}
	if calls, _ := b.logCalls(t, tok, url.Values{"q": {"c-9"}}); len(calls) != 0 {
		t.Errorf("another tenant's call found: %v", calls)
	}
	if calls, _ := b.logCalls(t, tok, url.Values{"q": {"c-"}, "state": {"failed"}}); !slices.Equal(calls, []string{"c-2:failed", "c-7:failed"}) {
		t.Errorf("search c- among failed: %v", calls)
	}

	// What a row says.
	r := b.do(t, "GET", "/api/v1/calls?limit=9", tok, nil)
	rows := map[string]map[string]any{}
	for _, row := range r.body["calls"].([]any) {
		m := row.(map[string]any)
		rows[m["call_id"].(string)] = m
	}
	if m := rows["c-8"]; m["record_url"] != org.URL()+"/"+m["record_id"].(string) || m["target"] != "salesforce" || m["test"] != false {
		t.Errorf("synced row: %v", m)
	}
	if m := rows["c-7"]; !strings.HasPrefix(m["last_error"].(string), "FIELD_CUSTOM_VALIDATION_EXCEPTION") || m["attempts"] != float64(1) {
		t.Errorf("failed row: %v", m)
	}
	if m := rows["c-5"]; m["skipped_reason"] != "no integration enabled" || m["target"] != "" {
		t.Errorf("skipped row: %v", m)
	}
	if m := rows["test-20261201T000000Z-00aa"]; m["test"] != true {
		t.Errorf("test call row: %v", m)
	}
	if m := rows["c-3"]; m["last_push_at"] != nil {
		t.Errorf("never pushed, yet a last push: %v", m)
	}

	for _, q := range []string{"state=done", "limit=0", "limit=201", "limit=x", "after=nonsense", "q=" + url.QueryEscape(strings.Repeat("x", 201))} {
		if r := b.do(t, "GET", "/api/v1/calls?"+q, tok, nil); r.status != 400 || r.body["field"] == nil {
			t.Errorf("?%s: %d %s", q, r.status, r.raw)
		}
	}
	if r := b.do(t, "GET", "/api/v1/calls", token(t, "a", "agent"), nil); r.status != 403 {
		t.Errorf("non-admin: %d", r.status)
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, org, tok := setupTenant(t)

	r := b.do(t, "GET", "/api/v1/summary", tok, nil)
	if r.status != 200 || r.body["integration"] != "" || !hasAttention(r, "not_enabled") || r.body["needs_attention"] != true {
		t.Fatalf("before any settings: %d %s", r.status, r.raw)
	}
	b.saveSalesforce(t, org, "a", tok)
	for i, state := range []string{"synced", "synced", "failed", "pending"} {
		b.addRecord(t, "a", fmt.Sprintf("new-%d", i), state, time.Hour)
		b.addRecord(t, "a", fmt.Sprintf("old-%d", i), state, 48*time.Hour)
	}
	b.addRecord(t, "a", "test-x", "failed", time.Minute) // not in last_24h, but retried with the others
	b.addSkipped(t, "a", "s-1", time.Hour)

	r = b.do(t, "GET", "/api/v1/summary", tok, nil)
	last := r.body["last_24h"].(map[string]any)
	if r.status != 200 || last["synced"] != float64(2) || last["failed"] != float64(1) || last["pending"] != float64(1) ||
		last["skipped"] != float64(1) || r.body["failed"] != float64(3) || r.body["pending"] != float64(2) {
		t.Errorf("counts: %s", r.raw)
	}
	tenant := r.body["tenant"].(map[string]any)
	if r.body["integration"] != "salesforce" || r.body["needs_attention"] != false || tenant["audit_export_pack"] != true {
		t.Errorf("summary: %s", r.raw)
	}

	// What holds calls back, and what to do.
	if _, err := b.pool.Exec(ctx, `UPDATE salesforce_settings SET attention = 'invalid_client', attention_at = now();
		INSERT INTO org_state (tenant_id, target, paused_until, pause_reason, api_used, api_max, api_at)
		VALUES ('a', 'salesforce', now() + interval '5 minutes', 'REQUEST_LIMIT_EXCEEDED', 99000, 100000, now())`); err != nil {
		t.Fatal(err)
	}
	r = b.do(t, "GET", "/api/v1/summary", tok, nil)
	for _, code := range []string{"credentials_refused", "api_limit_paused", "api_budget_held"} {
		if !hasAttention(r, code) {
			t.Errorf("no %s: %s", code, r.raw)
		}
	}
	if strings.Contains(r.raw, "a-secret") {
		t.Error("the summary shows the client secret")
	}
	if _, err := b.store.SetTenant(ctx, "a", withPack(false)); err != nil {
		t.Fatal(err)
	}
	if r := b.do(t, "GET", "/api/v1/summary", tok, nil); !hasAttention(r, "pack_missing") {
		t.Errorf("without the pack: %s", r.raw)
	}

	// A tenant on Kintone alone, whose token Kintone refused.
	b.tenant(t, "k", true)
	app := b.kintone.AddApp("k", kintonetest.AppConfig{APIToken: "kintone-token-k"})
	ktok := token(t, "k", "admin")
	if r := b.do(t, "PUT", "/api/v1/integrations/kintone", ktok, map[string]any{"enabled": true, "base_url": app.URL(),
		"app_id": app.ID(), "api_token": "kintone-token-k"}); r.status != 200 {
		t.Fatal(r.raw)
	}
	if _, err := b.pool.Exec(ctx, "UPDATE kintone_settings SET attention = 'GAIA_IA02', attention_at = now()"); err != nil {
		t.Fatal(err)
	}
	r = b.do(t, "GET", "/api/v1/summary", ktok, nil)
	if r.status != 200 || r.body["integration"] != "kintone" || !hasAttention(r, "credentials_refused") || !strings.Contains(r.raw, "Kintone refused") {
		t.Errorf("Kintone alone: %d %s", r.status, r.raw)
	}
}

func hasAttention(r response, code string) bool {
	items, _ := r.body["attention"].([]any)
	for _, it := range items {
		m := it.(map[string]any)
		if m["code"] == code && m["message"] != "" && m["action"] != "" {
			return true
		}
	}
	return false
}

func TestRetryFailedAndTestCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, org, tok := setupTenant(t)
	b.tenant(t, "other", true)

	if r := b.do(t, "POST", "/api/v1/test-call", tok, nil); r.status != 409 || r.body["error"] != "not_enabled" {
		t.Errorf("test call without an integration: %d %s", r.status, r.raw)
	}
	b.saveSalesforce(t, org, "a", tok)
	r := b.do(t, "POST", "/api/v1/test-call", tok, nil)
	callID, _ := r.body["call_id"].(string)
	if r.status != 202 || !strings.HasPrefix(callID, "test-") || r.body["target"] != "salesforce" {
		t.Fatalf("test call: %d %s", r.status, r.raw)
	}
	var event, summary string
	if err := b.pool.QueryRow(ctx, "SELECT event, payload->>'summary' FROM outbox WHERE tenant_id = 'a' AND call_id = $1", callID).
		Scan(&event, &summary); err != nil {
		t.Fatal(err)
	}
	if event != "call.analysed" || !strings.Contains(summary, "TEST CALL") {
		t.Errorf("test call row: %s %q", event, summary)
	}

	// Retry all failed: the tenant's failed calls, not another's.
	for _, id := range []string{"f-1", "f-2"} {
		if _, err := b.pool.Exec(ctx, `SELECT enqueue('a', $1, 'call.analysed',
			jsonb_build_object('call_id', $1::text, 'started_at', '2026-05-01T09:00:00Z', 'duration_seconds', 5))`, id); err != nil {
			t.Fatal(err)
		}
		b.addRecord(t, "a", id, "failed", time.Hour)
	}
	b.addRecord(t, "other", "f-3", "failed", time.Hour)
	r = b.do(t, "POST", "/api/v1/calls/retry-failed", tok, nil)
	if r.status != 202 || r.body["queued"] != float64(2) {
		t.Errorf("retry failed: %d %s", r.status, r.raw)
	}

	if _, err := b.store.SetTenant(ctx, "a", withPack(false)); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/test-call", "/api/v1/calls/retry-failed"} {
		if r := b.do(t, "POST", path, tok, nil); r.status != 403 || r.body["error"] != "audit_export_pack_required" {
			t.Errorf("%s without the pack: %d %s", path, r.status, r.raw)
		}
	}
}

func TestPageIsServed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/admin/", "/admin/app.js", "/admin/app.css"} {
		resp, err := b.api.Client().Get(b.api.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != 200 || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: %d, CSP %q", path, resp.StatusCode, csp)
		}
	}
	client := *b.api.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(b.api.URL + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/admin/" {
		t.Errorf("GET /admin: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// withPack gives the tenant the Audit & Export Pack, or takes it away.
func withPack(pack bool) settings.TenantChange {
	return settings.TenantChange{AuditExportPack: &pack}
}
