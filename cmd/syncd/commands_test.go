package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/secrets"
)

func TestDemo(t *testing.T) {
	t.Parallel()
	environ := map[string]string{"DATABASE_URL": pgtest.EmptyConnString(t), "LOG_FORMAT": "json"}
	r := syncd(t, context.Background(), environ, "", "demo", "--calls", "12", "--latency", "5ms")
	if r.code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"OK: every analysed call", "c-007", "synced", "River UI", "refused: syncd.enqueue: payload.started_at"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	// Running it again starts over cleanly.
	if r := syncd(t, context.Background(), environ, "", "demo", "--calls", "8", "--latency", "0s"); r.code != 0 {
		t.Fatalf("second demo exited %d: %s", r.code, r.stdout+r.stderr)
	}
}

func TestTenantAndSettingsCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim := salesforcetest.NewServer()
	t.Cleanup(sim.Close)
	const secret = "consumer-secret-from-stdin"
	org := sim.AddOrg("acme", salesforcetest.OrgConfig{ClientID: "acme-key", ClientSecret: secret})
	environ := map[string]string{
		"DATABASE_URL":                 pgtest.ConnString(t),
		"SYNCD_SECRET_KEY":             secrets.GenerateKey(),
		"SYNCD_INSECURE_INSTANCE_URLS": "1",
		"LOG_FORMAT":                   "json",
	}

	r := syncd(t, ctx, environ, "", "tenant", "set", "--id", "acme", "--name", "Acme", "--pack=true", "--timezone", "Asia/Tokyo")
	if r.code != 0 {
		t.Fatalf("tenant set: %+v", r)
	}
	var tn map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &tn); err != nil || tn["timezone"] != "Asia/Tokyo" || tn["audit_export_pack"] != true || tn["analytics_enabled"] != true {
		t.Fatalf("tenant = %s (%v)", r.stdout, err)
	}
	// Only the given flags change.
	r = syncd(t, ctx, environ, "", "tenant", "set", "--id", "acme", "--analytics=false")
	if err := json.Unmarshal([]byte(r.stdout), &tn); err != nil || tn["timezone"] != "Asia/Tokyo" || tn["name"] != "Acme" || tn["analytics_enabled"] != false {
		t.Fatalf("tenant after change = %s", r.stdout)
	}
	if r := syncd(t, ctx, environ, "", "tenant", "set", "--id", "acme", "--timezone", "Nowhere/Else"); r.code != 1 || !strings.Contains(r.stderr, "--timezone") {
		t.Errorf("bad timezone: %+v", r)
	}

	args := []string{"settings", "salesforce", "--tenant", "acme", "--enabled=true", "--instance-url", org.URL(), "--client-id", "acme-key", "--object-type", "Task"}
	r = syncd(t, ctx, environ, "wrong-secret\n", args...)
	if r.code != 1 || !strings.Contains(r.stderr, "wrong_secret") || strings.Contains(r.stderr, "wrong-secret") {
		t.Errorf("wrong secret: %+v", r)
	}
	r = syncd(t, ctx, environ, secret+"\n", args...)
	if r.code != 0 {
		t.Fatalf("settings salesforce: %+v", r)
	}
	if strings.Contains(r.stdout+r.stderr, secret) || !strings.Contains(r.stdout, `"client_secret_set": true`) || !strings.Contains(r.stdout, `"updated_by": "cli"`) {
		t.Errorf("settings output = %s", r.stdout)
	}
	// Nothing on standard input keeps the stored secret.
	if r := syncd(t, ctx, environ, "", args...); r.code != 0 {
		t.Errorf("settings without a new secret: %+v", r)
	}
	r = syncd(t, ctx, environ, secret, "settings", "salesforce", "--tenant", "acme", "--enabled=true", "--instance-url", "https://login.salesforce.com", "--client-id", "acme-key")
	if r.code != 1 || !strings.Contains(r.stderr, "--instance-url") {
		t.Errorf("login.salesforce.com: %+v", r)
	}
	if r := syncd(t, ctx, environ, "", "settings", "salesforce", "--enabled=true"); r.code != 2 {
		t.Errorf("no tenant: %+v", r)
	}
	delete(environ, "SYNCD_SECRET_KEY")
	if r := syncd(t, ctx, environ, secret, args...); r.code != 1 || !strings.Contains(r.stderr, "SYNCD_SECRET_KEY") {
		t.Errorf("no key: %+v", r)
	}
}
