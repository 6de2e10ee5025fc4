package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/secrets"
	"github.com/koeiq/syncd/settings"
)

// background is a syncd command line running in-process until its context
// ends.
type background struct {
	name           string // the command, for messages
	stdout, stderr testsupport.SyncBuffer
	cancel         context.CancelFunc
	done           chan struct{} // closed when run returned
	code           int           // run's exit status, once done is closed
}

// start runs the command line in the background with the given
// environment and nothing on standard input. When the test ends it is
// stopped, if it still runs, and waited for.
func start(t *testing.T, environ map[string]string, args ...string) *background {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{name: args[0], cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.code = run(ctx, args, func(k string) string { return environ[k] }, strings.NewReader(""), &b.stdout, &b.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		<-b.done
	})
	return b
}

// startDaemon starts `syncd run` in the background and waits until it runs.
func startDaemon(t *testing.T, environ map[string]string) *background {
	t.Helper()
	d := start(t, environ, "run")
	pgtest.WaitFor(t, 20*time.Second, "syncd running", func() bool { return strings.Contains(d.stderr.String(), "syncd running") })
	return d
}

// stop ends the command's context and fails the test unless the command
// then exits 0 within timeout.
func (b *background) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	b.cancel()
	select {
	case <-b.done:
		if b.code != 0 {
			t.Fatalf("%s exited %d after the stop: %s", b.name, b.code, b.stderr.String())
		}
	case <-time.After(timeout):
		t.Fatalf("%s did not stop", b.name)
	}
}

// daemonEnv returns the environment of a `syncd run` on connString sealing
// with secretKey: JSON logs, the ops listener on a free port, and the
// Salesforce test server's addresses accepted.
func daemonEnv(connString, secretKey string) map[string]string {
	return map[string]string{"DATABASE_URL": connString, "SYNCD_SECRET_KEY": secretKey, "LOG_FORMAT": "json",
		"SYNCD_OPS_LISTEN": "127.0.0.1:0", "SYNCD_INSECURE_INSTANCE_URLS": "1"}
}

// wantOneLineError fails the test unless the command exited 1 with one
// line on stderr that holds each of want.
func wantOneLineError(t *testing.T, what string, r result, want ...string) {
	t.Helper()
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("%s: exit %d, stderr %q; want exit 1 and one line", what, r.code, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("%s: stderr %q lacks %q", what, r.stderr, w)
		}
	}
}

// newDatabase returns a migrated database of the test's own, a pool on it,
// a secret key for SYNCD_SECRET_KEY and a settings store sealing with it.
func newDatabase(t *testing.T) (connString string, pool *pgxpool.Pool, secretKey string, store *settings.Store) {
	t.Helper()
	connString = pgtest.ConnString(t)
	pool = pgtest.NewPool(t, connString)
	secretKey = secrets.GenerateKey()
	return connString, pool, secretKey, storeWithKey(t, pool, secretKey)
}

// newSimulator returns a Salesforce test server, closed when the test ends.
func newSimulator(t *testing.T) *salesforcetest.Server {
	t.Helper()
	sim := salesforcetest.NewServer()
	t.Cleanup(sim.Close)
	return sim
}

// addSalesforceTenant adds tenant id, with the Audit & Export Pack, and its
// org on sim (credentials id-key and id-secret, a Call_Recording__c object
// besides Task), with Salesforce enabled for objectType; it returns the org.
func addSalesforceTenant(t *testing.T, store *settings.Store, sim *salesforcetest.Server, id, objectType string) *salesforcetest.Org {
	t.Helper()
	ctx := context.Background()
	org := sim.AddOrg(id, salesforcetest.OrgConfig{ClientID: id + "-key", ClientSecret: id + "-secret",
		Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}})
	if _, err := store.SetTenant(ctx, id, settings.TenantChange{AuditExportPack: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SaveSalesforce(ctx, id, settings.SalesforceInput{Enabled: true, InstanceURL: org.URL(),
		ClientID: id + "-key", ClientSecret: ptr(id + "-secret"), ObjectType: objectType}, "test"); err != nil {
		t.Fatal(err)
	}
	return org
}

// httpGet sends a GET to url, after prepare (when not nil) has set what the
// test needs on the request, and returns the status code and the body.
func httpGet(t *testing.T, url string, prepare func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(req)
	}
	resp, body := testsupport.Do(t, req)
	return resp.StatusCode, string(body)
}

// bearer returns a prepare function for httpGet that sends token.
func bearer(token string) func(*http.Request) {
	return func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+token) }
}
