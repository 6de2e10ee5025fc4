package kintone_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/kintone"
	"github.com/koeiq/syncd/kintone/kintonetest"
)

func newHTTPServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestAPITokenNeverLeaks drives every failure path with debug logging on and
// checks that the token appears in no error string, log line or printed
// value.
func TestAPITokenNeverLeaks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var texts []string // everything that must not contain the token

	// A hostile or broken server that echoes the token back everywhere it
	// can: message, error keys and messages, error ID, headers.
	echo := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("X-Cybozu-API-Token")
		w.Header().Set("X-Cybozu-Error", "E_"+tok)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{
			"code":    "CB_VA01",
			"id":      "id-" + tok,
			"message": "bad token " + tok,
			"errors":  map[string]any{"record." + tok + ".value": map[string]any{"messages": []string{"got " + tok}}},
		})
	}))
	b := setup(t)
	hostile := b.newClient(t, func(c *kintone.Config) { c.BaseURL = echo })
	_, err := hostile.Add(ctx, kintone.Record{"call_id": "c-1"})
	if err == nil {
		t.Fatal("hostile server: want an error")
	}
	texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("echoed token was not visibly redacted: %s", err)
	}

	// Every failure the test server can produce.
	b.app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultUnavailable})
	b.app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultRateLimit})
	b.app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultDatabaseLock})
	b.app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultDropAfterCommit})
	for range 4 {
		_, err := b.client.Add(ctx, callRecord("c-1"))
		texts = append(texts, fmt.Sprint(err))
	}
	wrong := b.newClient(t, func(c *kintone.Config) { c.APIToken = testToken + "x" })
	_, err = wrong.Add(ctx, callRecord("c-2"))
	texts = append(texts, fmt.Sprint(err))
	_, err = b.client.Add(ctx, kintone.Record{"call_id": "c-1", "duration_seconds": "x"})
	texts = append(texts, fmt.Sprint(err))
	slow := b.newClient(t, func(c *kintone.Config) { c.Timeout = 20 * time.Millisecond })
	b.app.InjectFault(kintonetest.Fault{Kind: kintonetest.FaultLatency, Latency: time.Minute})
	_, err = slow.Add(ctx, callRecord("c-3"))
	texts = append(texts, fmt.Sprint(err))
	_, err = kintone.NewClient(&kintone.Config{BaseURL: "https://evil.example", AppID: 1, APIToken: testToken})
	texts = append(texts, fmt.Sprint(err))

	// Printed and logged configuration and client.
	cfg := kintone.Config{BaseURL: "https://acme.cybozu.com", AppID: 1, APIToken: testToken}
	texts = append(texts, testsupport.Renderings(t, cfg, &cfg, b.client, *b.client)...)
	texts = append(texts, cfg.String(), b.logs.String())

	for _, s := range texts {
		if strings.Contains(s, testToken) {
			t.Errorf("token leaked in %q", s)
		}
	}
	if !strings.Contains(b.logs.String(), `"op":"add"`) {
		t.Errorf("debug log looks empty: %q", b.logs.String())
	}
	if !strings.Contains(fmt.Sprint(cfg), "[REDACTED]") {
		t.Errorf("Config prints as %v, want the token visibly redacted", cfg)
	}
}

// TestLogsLeaveOutCallContent checks that a validation failure is logged by
// code and field, without Kintone's message, which quotes the value.
func TestLogsLeaveOutCallContent(t *testing.T) {
	t.Parallel()
	b := setup(t)

	_, err := b.client.Add(context.Background(), kintone.Record{"call_id": "c-1", "direction": "secret-direction-value"})
	if err == nil {
		t.Fatal("want a validation error")
	}
	if !strings.Contains(err.Error(), "secret-direction-value") {
		t.Errorf("error %q should carry Kintone's message for the tenant", err)
	}
	logs := b.logs.String()
	if strings.Contains(logs, "secret-direction-value") {
		t.Errorf("log quotes call content: %s", logs)
	}
	if !strings.Contains(logs, `"code":"CB_VA01"`) || !strings.Contains(logs, `"fields":["direction"]`) {
		t.Errorf("log lacks the code or field: %s", logs)
	}
}
