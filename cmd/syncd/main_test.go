package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/secrets"
)

// When SYNCD_TEST_MAIN is set the test binary is syncd itself, so tests can
// send it real signals.
func TestMain(m *testing.M) {
	if os.Getenv("SYNCD_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

type result struct {
	code           int
	stdout, stderr string
}

// syncd runs the command line in-process with the given environment.
func syncd(t *testing.T, ctx context.Context, environ map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr testsupport.SyncBuffer
	code := run(ctx, args, func(k string) string { return environ[k] }, strings.NewReader(stdin), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args           []string
		code           int
		stdout, stderr string // what they must hold
	}{
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"--help"}, 0, "syncd migrate", ""},
		{[]string{"run", "extra"}, 2, "", ""},
	} {
		r := syncd(t, context.Background(), nil, "", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stdout, tt.stdout) || !strings.Contains(r.stderr, tt.stderr) {
			t.Errorf("syncd %s: %+v; want exit %d", strings.Join(tt.args, " "), r, tt.code)
		}
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{map[string]string{"SYNCD_SCHEMA": "Bad-Schema"}, "SYNCD_SCHEMA"},
		{map[string]string{"SYNCD_PUSH_TIMEOUT": "soon"}, "SYNCD_PUSH_TIMEOUT"},
		{map[string]string{"SYNCD_REQUEST_TIMEOUT": "-1s"}, "SYNCD_REQUEST_TIMEOUT"},
		{map[string]string{"SYNCD_IN_DOUBT_WAIT": "10"}, "SYNCD_IN_DOUBT_WAIT"},
		{map[string]string{"SYNCD_TENANT_CONCURRENCY": "many"}, "SYNCD_TENANT_CONCURRENCY"},
		{map[string]string{"DATABASE_URL": "postgres://u:s3cret@[::1"}, "DATABASE_URL"},
		{map[string]string{"SYNCD_OPS_ALLOWED_HOSTS": "https://ops.example.com"}, "SYNCD_OPS_ALLOWED_HOSTS"},
		{map[string]string{"SYNCD_OPS_ALLOWED_HOSTS": "ops.example.com:99999"}, "SYNCD_OPS_ALLOWED_HOSTS"},
		{map[string]string{"SYNCD_OPS_ALLOWED_HOSTS": "ops.example.com,,10.0.0.7"}, "SYNCD_OPS_ALLOWED_HOSTS"},
	} {
		r := syncd(t, ctx, tt.env, "", "run")
		wantOneLineError(t, fmt.Sprintf("env %v", tt.env), r, tt.want)
		if strings.Contains(r.stderr, "s3cret") {
			t.Errorf("env %v: stderr %q quotes the password", tt.env, r.stderr)
		}
	}
}

func TestRunUnreachableDatabase(t *testing.T) {
	t.Parallel()
	r := syncd(t, context.Background(), map[string]string{"DATABASE_URL": "postgres://syncd:pw@127.0.0.1:1/x?connect_timeout=2"}, "", "run")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "syncd run: cannot reach the database") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want 1 and one line", r.code, r.stderr)
	}
}

func TestRunUnmigrated(t *testing.T) {
	t.Parallel()
	r := syncd(t, context.Background(), map[string]string{"DATABASE_URL": pgtest.EmptyConnString(t)}, "", "run")
	wantOneLineError(t, "run on an unmigrated database", r, "not migrated", "syncd migrate")
}

func TestMigrateThenRun(t *testing.T) {
	t.Parallel()
	jwtSecret := "a-jwt-secret-for-the-admin-api-tests"
	environ := map[string]string{"DATABASE_URL": pgtest.EmptyConnString(t), "SYNCD_SCHEMA": "crm", "LOG_FORMAT": "json",
		"SYNCD_SECRET_KEY": secrets.GenerateKey(), "SYNCD_ADMIN_JWT_SECRET": jwtSecret, "SYNCD_LISTEN": "127.0.0.1:0",
		"SYNCD_OPS_LISTEN": "127.0.0.1:0", "SYNCD_OPS_ALLOWED_HOSTS": "ops.example.com, 10.0.0.7:9090", "SYNCD_ADMIN_JWT_ISSUER": "https://id.koeiq.example", "SYNCD_ADMIN_JWT_AUDIENCE": "syncd"}

	r := syncd(t, context.Background(), environ, "", "migrate")
	if r.code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	// Every log line is JSON.
	for line := range strings.Lines(r.stderr) {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("log line %q is not JSON: %v", line, err)
		}
	}
	if r := syncd(t, context.Background(), environ, "", "migrate"); r.code != 0 {
		t.Fatalf("second migrate: %+v", r)
	}

	d := startDaemon(t, environ)

	// The admin API answers on its listener, to a token minted by syncd
	// with the iss and aud it requires, and to no other.
	addr := logged(t, d.stderr.String(), "admin API listening", "addr")
	for args, want := range map[string]int{"": http.StatusOK, "--audience=": http.StatusUnauthorized, "--issuer=other": http.StatusUnauthorized} {
		tok := syncd(t, context.Background(), environ, "", append([]string{"admin-token", "--tenant", "t1", "--sub", "me"}, strings.Fields(args)...)...)
		if tok.code != 0 {
			t.Fatalf("admin-token %s: %+v", args, tok)
		}
		if status, _ := httpGet(t, "http://"+addr+"/api/v1/integrations/salesforce", bearer(strings.TrimSpace(tok.stdout))); status != want {
			t.Errorf("admin API, token of admin-token %s: %d, want %d", args, status, want)
		}
	}
	// The ops listener: ready, metrics, the River UI.
	opsAddr := logged(t, d.stderr.String(), "ops listener (River UI, metrics, health) listening", "addr")
	for path, want := range map[string]string{"/readyz": "ok", "/metrics": "syncd_outbox_waiting 0", "/riverui/": "<html"} {
		if status, body := httpGet(t, "http://"+opsAddr+path, nil); status != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d %.200s", path, status, body)
		}
	}
	// It answers its own Host and SYNCD_OPS_ALLOWED_HOSTS, and no other.
	for host, want := range map[string]int{opsAddr: 200, "ops.example.com": 200, "10.0.0.7:9090": 200, "evil.example": 421} {
		if status, _ := httpGet(t, "http://"+opsAddr+"/metrics", func(req *http.Request) { req.Host = host }); status != want {
			t.Errorf("GET /metrics for Host %s: %d, want %d", host, status, want)
		}
	}
	d.stop(t, 30*time.Second)
	if !strings.Contains(d.stderr.String(), "syncd stopped") {
		t.Errorf("no stop message in %s", d.stderr.String())
	}
}

func TestRunStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	connString := pgtest.ConnString(t)

	cmd := exec.Command(os.Args[0], "run")
	cmd.Env = append(os.Environ(), "SYNCD_TEST_MAIN=1", "DATABASE_URL="+connString, "LOG_FORMAT=text", "SYNCD_SECRET_KEY="+secrets.GenerateKey(), "SYNCD_OPS_LISTEN=127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	timeout := time.After(30 * time.Second)
	waitLine := func(want string) {
		t.Helper()
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("syncd exited before logging %q", want)
				}
				if strings.Contains(line, want) {
					return
				}
			case <-timeout:
				_ = cmd.Process.Kill()
				t.Fatalf("timed out waiting for %q", want)
			}
		}
	}
	waitLine("syncd running")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLine("syncd stopped")
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("syncd exited with %v after SIGTERM, want status 0", err)
	}
}

// logged returns attribute key of the first JSON log line whose message is
// msg.
func logged(t *testing.T, logs, msg, key string) string {
	t.Helper()
	for line := range strings.Lines(logs) {
		var v map[string]any
		if json.Unmarshal([]byte(line), &v) == nil && v["msg"] == msg {
			if s, ok := v[key].(string); ok {
				return s
			}
		}
	}
	t.Fatalf("no log line %q with %s in:\n%s", msg, key, logs)
	return ""
}

func TestOpsListenerNeedsAuthOffLoopback(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SYNCD_OPS_LISTEN": "0.0.0.0:9090", "SYNCD_SECRET_KEY": secrets.GenerateKey()}
	r := syncd(t, context.Background(), env, "", "run")
	if r.code != 1 || !strings.Contains(r.stderr, "SYNCD_OPS_USER") {
		t.Fatalf("non-loopback ops listener without auth: %+v", r)
	}
	for addr, want := range map[string]bool{"127.0.0.1:9090": true, "localhost:1": true, "[::1]:9090": true,
		":9090": false, "0.0.0.0:9090": false, "10.0.0.5:9090": false, "nonsense": false} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
