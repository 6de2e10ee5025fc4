package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/secrets"
	"github.com/koeiq/syncd/settings"
)

// storeWithKey returns a settings store on pool sealing under the key
// encoded.
func storeWithKey(t *testing.T, pool *pgxpool.Pool, encoded string) *settings.Store {
	t.Helper()
	key, err := secrets.ParseKey(encoded)
	if err != nil {
		t.Fatal(err)
	}
	store, err := settings.NewStore(pool, &settings.Config{Key: key, AllowInsecureURLs: true})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func TestRotateSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	connString, pool, newKey, current := newDatabase(t)
	oldKey, lostKey := secrets.GenerateKey(), secrets.GenerateKey()
	old, lost := storeWithKey(t, pool, oldKey), storeWithKey(t, pool, lostKey)

	// Tenant a's secrets are under the old key, b's under the new one, and
	// c's Kintone token under a key nobody has any more.
	plain := map[string]string{"a-sf": "a-sf-secret-71c2", "a-kt": "a-kt-token-9d0e", "b-sf": "b-sf-secret-3f5a", "c-kt": "c-kt-token-44b1"}
	for _, s := range []struct {
		store  *settings.Store
		tenant string
	}{{old, "a"}, {current, "b"}, {lost, "c"}} {
		if _, err := s.store.SetTenant(ctx, s.tenant, settings.TenantChange{}); err != nil {
			t.Fatal(err)
		}
		if v, ok := plain[s.tenant+"-sf"]; ok {
			if _, err := s.store.SaveSalesforce(ctx, s.tenant, settings.SalesforceInput{InstanceURL: "https://" + s.tenant + ".my.salesforce.com",
				ClientID: s.tenant + "-key", ClientSecret: &v}, "test"); err != nil {
				t.Fatal(err)
			}
		}
		if v, ok := plain[s.tenant+"-kt"]; ok {
			if _, err := s.store.SaveKintone(ctx, s.tenant, settings.KintoneInput{BaseURL: "https://" + s.tenant + ".cybozu.com", AppID: 1,
				APIToken: &v}, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	environ := map[string]string{"DATABASE_URL": connString, "LOG_FORMAT": "json",
		"SYNCD_SECRET_KEY": newKey, "SYNCD_SECRET_KEY_PREVIOUS": oldKey}
	// noLeak fails the test when the output holds a secret or a key.
	noLeak := func(what string, r result) {
		t.Helper()
		for _, s := range append([]string{oldKey, newKey, lostKey}, plain["a-sf"], plain["a-kt"], plain["b-sf"], plain["c-kt"]) {
			if strings.Contains(r.stdout+r.stderr, s) {
				t.Errorf("%s: the output holds the secret or key %q:\n%s%s", what, s, r.stdout, r.stderr)
			}
		}
	}
	r := syncd(t, ctx, environ, "", "rotate-secrets")
	noLeak("first run", r)
	wantOneLineError(t, "first run", r, "stored secrets that open with no key: 1", "kintone api token of tenant c", "SYNCD_SECRET_KEY_PREVIOUS")
	if !strings.Contains(r.stdout, "re-sealed under SYNCD_SECRET_KEY: 2; already sealed under it: 1") {
		t.Errorf("first run: stdout %q", r.stdout)
	}
	// a's secrets open with the new key alone; c's token was left alone.
	_, sf, err := current.SalesforceConfig(ctx, "a")
	if err != nil || string(sf.ClientSecret) != plain["a-sf"] {
		t.Errorf("a's client secret with the new key: %v", err)
	}
	_, kt, err := current.KintoneConfig(ctx, "a")
	if err != nil || string(kt.APIToken) != plain["a-kt"] {
		t.Errorf("a's API token with the new key: %v", err)
	}
	if _, kt, err := lost.KintoneConfig(ctx, "c"); err != nil || string(kt.APIToken) != plain["c-kt"] {
		t.Errorf("c's token, sealed under a lost key, was changed: %v", err)
	}

	r = syncd(t, ctx, environ, "", "rotate-secrets")
	noLeak("second run", r)
	wantOneLineError(t, "second run", r, "stored secrets that open with no key: 1")
	if !strings.Contains(r.stdout, "re-sealed under SYNCD_SECRET_KEY: 0; already sealed under it: 3") {
		t.Errorf("second run: stdout %q", r.stdout)
	}

	// Once c's token is saved again, everything opens with the new key
	// alone, and the previous key can go.
	if _, err := current.SaveKintone(ctx, "c", settings.KintoneInput{BaseURL: "https://c.cybozu.com", AppID: 1,
		APIToken: ptr(plain["c-kt"])}, "test"); err != nil {
		t.Fatal(err)
	}
	delete(environ, "SYNCD_SECRET_KEY_PREVIOUS")
	r = syncd(t, ctx, environ, "", "rotate-secrets")
	noLeak("without the previous key", r)
	if r.code != 0 || !strings.Contains(r.stdout, "re-sealed under SYNCD_SECRET_KEY: 0; already sealed under it: 4") {
		t.Errorf("without the previous key: %+v", r)
	}
	if r := syncd(t, ctx, environ, "", "rotate-secrets", "extra"); r.code != 2 {
		t.Errorf("rotate-secrets extra: %+v", r)
	}
}

// A bad SYNCD_SECRET_KEY_PREVIOUS stops syncd at start with one line that
// quotes neither key.
func TestSecretKeyPreviousValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	connString := pgtest.ConnString(t)
	current := secrets.GenerateKey()
	short := secrets.GenerateKey()[:20]
	for name, tc := range map[string]struct {
		current, previous, want string
	}{
		"not base64":      {current, "not base64 !!", "SYNCD_SECRET_KEY_PREVIOUS: secrets: the key is not valid base64"},
		"too short":       {current, short, "SYNCD_SECRET_KEY_PREVIOUS: secrets: the key is"},
		"the current key": {current, " " + current + "\n", "SYNCD_SECRET_KEY_PREVIOUS is SYNCD_SECRET_KEY itself"},
		"no current key":  {"", current, "SYNCD_SECRET_KEY (SYNCD_SECRET_KEY_PREVIOUS is set): secrets: no key"},
	} {
		environ := map[string]string{"DATABASE_URL": connString, "LOG_FORMAT": "json", "SYNCD_OPS_LISTEN": "127.0.0.1:0",
			"SYNCD_SECRET_KEY": tc.current, "SYNCD_SECRET_KEY_PREVIOUS": tc.previous}
		for _, cmd := range []string{"run", "rotate-secrets"} {
			r := syncd(t, ctx, environ, "", cmd)
			wantOneLineError(t, name+", syncd "+cmd, r, tc.want)
			if strings.Contains(r.stderr, current) || strings.Contains(r.stderr, short) || strings.Contains(r.stderr, "not base64 !!") {
				t.Errorf("%s, syncd %s: the error quotes a key: %q", name, cmd, r.stderr)
			}
		}
	}
}

// A daemon deployed with the new key and the previous one pushes for a
// tenant whose secret is under the previous key, and keeps pushing while
// and after rotate-secrets re-seals it, with the client (and token) it had:
// re-sealing is not a change of settings.
func TestRotateSecretsWhileRunning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	connString, pool, newKey, _ := newDatabase(t)
	oldKey := secrets.GenerateKey()
	old := storeWithKey(t, pool, oldKey)
	org := addSalesforceTenant(t, old, newSimulator(t), "t1", "Task")

	environ := daemonEnv(connString, newKey)
	environ["SYNCD_SECRET_KEY_PREVIOUS"] = oldKey
	d := startDaemon(t, environ)
	push := func(callID string, want int) {
		t.Helper()
		pgtest.Exec(t, pool, `SELECT enqueue('t1', $1, 'call.analysed',
			jsonb_build_object('call_id', $1::text, 'started_at', '2026-05-01T09:00:00Z', 'duration_seconds', 5))`, callID)
		pgtest.WaitFor(t, 20*time.Second, callID+" to be synced", func() bool {
			return pgtest.Count(t, pool, "SELECT count(*) FROM sync_records WHERE state = 'synced'") == want
		})
	}
	push("c-1", 1)
	tokens := org.Requests("token")

	if r := syncd(t, ctx, environ, "", "rotate-secrets"); r.code != 0 || !strings.Contains(r.stdout, "re-sealed under SYNCD_SECRET_KEY: 1;") {
		t.Fatalf("rotate-secrets: %+v", r)
	}
	push("c-2", 2)
	if n := len(org.Records("Task")); n != 2 {
		t.Errorf("%d Tasks, want 2", n)
	}
	if n := org.Requests("token"); n != tokens {
		t.Errorf("%d token requests after re-sealing, %d before: the daemon rebuilt the tenant's client", n, tokens)
	}
	if strings.Contains(d.stderr.String(), "settings unusable") {
		t.Errorf("the daemon could not open the settings:\n%s", d.stderr.String())
	}
	// The stored secret opens with the new key alone.
	if _, cfg, err := storeWithKey(t, pool, newKey).SalesforceConfig(ctx, "t1"); err != nil || cfg.ClientSecret != "t1-secret" {
		t.Errorf("after rotation, with the new key alone: %v", err)
	}
	if _, _, err := old.SalesforceConfig(ctx, "t1"); !errors.Is(err, secrets.ErrCannotOpen) {
		t.Errorf("after rotation, with the old key: %v; want ErrCannotOpen", err)
	}
	d.stop(t, 30*time.Second)
}
