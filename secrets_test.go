package syncd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/koeiq/syncd/admin"
	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/kintone/kintonetest"
	"github.com/koeiq/syncd/outbox"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/settings"
)

// adminCall makes an admin API request and returns the whole response as
// text, headers included.
func (s *stack) adminCall(t *testing.T, method, path, tenantID string, body any) (int, string) {
	t.Helper()
	tok, err := admin.MintToken(jwtSecret, tenantID, admin.RoleAdmin, "admin@"+tenantID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	resp, raw := testsupport.AdminRequest(t, s.api, method, path, tok, body)
	var headers strings.Builder
	_ = resp.Header.Write(&headers)
	return resp.StatusCode, headers.String() + "\n" + string(raw)
}

// A full configure-and-sync run through the admin API: the client secret,
// the Kintone API token and every access token Salesforce issued appear in
// no log line, no API response, no job args or errors and no stored error.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t)
	const (
		sfSecret = "SFSECRET-5f3c9e1d7a"
		ktToken  = "KTTOKEN-0b8e2c4d6f"
	)
	org := s.sf.AddOrg("acme", salesforcetest.OrgConfig{ClientID: "acme-key", ClientSecret: sfSecret})
	app := s.kintone.AddApp("beta", kintonetest.AppConfig{APIToken: ktToken})
	for _, id := range []string{"acme", "beta"} {
		if _, err := s.store.SetTenant(ctx, id, settings.TenantChange{AuditExportPack: ptr(true)}); err != nil {
			t.Fatal(err)
		}
	}
	var responses []string
	call := func(method, path, tenant string, body any, want int) {
		t.Helper()
		status, text := s.adminCall(t, method, path, tenant, body)
		responses = append(responses, text)
		if status != want {
			t.Fatalf("%s %s: %d, want %d\n%s", method, path, status, want, text)
		}
	}

	// Configure: a wrong secret first, then the right one; test; read.
	sf := map[string]any{"enabled": true, "instance_url": org.URL(), "client_id": "acme-key", "client_secret": "wrong-" + sfSecret, "object_type": "Task"}
	call("PUT", "/api/v1/integrations/salesforce", "acme", sf, 422)
	sf["client_secret"] = sfSecret
	call("PUT", "/api/v1/integrations/salesforce", "acme", sf, 200)
	call("POST", "/api/v1/integrations/salesforce/test", "acme", nil, 200)
	call("GET", "/api/v1/integrations/salesforce", "acme", nil, 200)
	kt := map[string]any{"enabled": true, "base_url": app.URL(), "app_id": app.ID(), "api_token": "wrong-" + ktToken}
	call("PUT", "/api/v1/integrations/kintone", "beta", kt, 422)
	kt["api_token"] = ktToken
	call("PUT", "/api/v1/integrations/kintone", "beta", kt, 200)
	call("POST", "/api/v1/integrations/kintone/test", "beta", nil, 200)
	call("GET", "/api/v1/integrations/kintone", "beta", nil, 200)

	// Sync, with an expired token and a refused secret along the way.
	enqueue := func(tenant, callID string) {
		t.Helper()
		if _, err := outbox.Enqueue(ctx, s.pool, outbox.Event{TenantID: tenant, CallID: callID, Type: outbox.CallAnalysed,
			Payload: outbox.Payload{StartedAt: time.Now(), DurationSeconds: 30, Summary: "a summary"}}); err != nil {
			t.Fatal(err)
		}
	}
	waitSynced := func(n int) {
		t.Helper()
		pgtest.WaitFor(t, 30*time.Second, "calls to sync", func() bool {
			return pgtest.Count(t, s.pool, "SELECT count(*) FROM sync_records WHERE state = 'synced'") == n
		})
	}
	enqueue("acme", "a-1")
	enqueue("beta", "b-1")
	waitSynced(2)
	org.ExpireTokens()
	enqueue("acme", "a-2")
	waitSynced(3)
	org.SetClientSecret("rotated")
	org.ExpireTokens()
	enqueue("acme", "a-3")
	pgtest.WaitFor(t, 30*time.Second, "the refusal to be noted", func() bool {
		st, err := s.store.Salesforce(ctx, "acme")
		return err == nil && st.Attention != ""
	})
	call("GET", "/api/v1/integrations/salesforce", "acme", nil, 200)
	call("GET", "/api/v1/calls/a-1/sync", "acme", nil, 200)
	call("GET", "/api/v1/calls/a-3/sync", "acme", nil, 200)
	call("GET", "/api/v1/calls/b-1/sync", "beta", nil, 200)
	call("POST", "/api/v1/calls/b-1/resync", "beta", nil, 202)
	scraped := s.scrape(t)
	s.stop(t)

	var stored string
	if err := s.pool.QueryRow(ctx, `SELECT concat_ws(E'\n',
		(SELECT string_agg(args::text || ' ' || coalesce(array_to_string(errors, ' '), '') || ' ' || metadata::text, E'\n') FROM river_job),
		(SELECT string_agg(coalesce(last_error, ''), E'\n') FROM sync_records),
		(SELECT string_agg(coalesce(attention, ''), E'\n') FROM salesforce_settings),
		(SELECT string_agg(payload::text || coalesce(outcome, ''), E'\n') FROM outbox))`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	places := map[string]string{
		"logs":          s.logs.String(),
		"API responses": strings.Join(responses, "\n"),
		"database":      stored,
		"metrics":       scraped,
	}
	secrets := append([]string{sfSecret, ktToken}, s.wire.credentials()...)
	if len(secrets) < 4 {
		t.Fatalf("saw only %d credentials on the wire; the test would prove little", len(secrets))
	}
	for _, secret := range secrets {
		for where, text := range places {
			if strings.Contains(text, secret) {
				t.Errorf("%q appears in the %s", secret, where)
			}
		}
	}
	if !strings.Contains(places["logs"], `"msg":"calls pushed"`) || !strings.Contains(places["logs"], "admin request") ||
		!strings.Contains(scraped, `syncd_calls_synced_total{target="salesforce",tenant="acme"}`) {
		t.Errorf("the logs or metrics do not show the run; the test would prove little")
	}
	// Metrics name no call and carry no call content.
	for _, callID := range []string{"a-1", "a-2", "a-3", "b-1", "a summary"} {
		if strings.Contains(scraped, `"`+callID+`"`) {
			t.Errorf("metrics carry %q", callID)
		}
	}
}
