package ops_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/koeiq/syncd/ops"
)

// request is one request to the ops listener; host "" is the test server's
// own address.
type request struct {
	method, path, host, body string
	header                   map[string]string
}

func (b *testBundle) do(t *testing.T, r request) (int, string) {
	t.Helper()
	req, err := http.NewRequest(r.method, b.srv.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.host != "" {
		req.Host = r.host
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := b.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// host is the test server's host:port, the Host its own pages send.
func (b *testBundle) host(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(b.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// jobState is the state of b's job, or "deleted".
func (b *testBundle) jobState(t *testing.T) rivertype.JobState {
	t.Helper()
	job, err := b.client.JobGet(context.Background(), b.jobID)
	if errors.Is(err, river.ErrNotFound) {
		return "deleted"
	}
	if err != nil {
		t.Fatal(err)
	}
	return job.State
}

// The attack of issue 11: another site's page posts text/plain "JSON" to the
// River UI's delete endpoint. The job must survive it.
func TestCrossSiteDeleteRefused(t *testing.T) {
	t.Parallel()
	// A browser sends the basic auth credentials it has cached along.
	const credentials = "Basic b3BzOmh1bnRlcjItbG9uZy1wYXNzd29yZA==" // ops:hunter2-long-password
	for _, cfg := range []*ops.Config{nil, {User: "ops", Password: "hunter2-long-password"}} {
		b := setup(t, cfg)
		ids := fmt.Sprintf(`{"ids":["%d"]}`, b.jobID)
		for _, header := range []map[string]string{
			{"Content-Type": "text/plain", "Origin": "https://evil.example"}, // the attack as reported
			{"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
			{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site"},
			{"Content-Type": "text/plain", "Origin": "null"},
		} {
			header["Authorization"] = credentials
			status, body := b.do(t, request{method: "POST", path: "/riverui/api/jobs/delete", body: ids, header: header})
			if status != http.StatusForbidden || !strings.Contains(body, "cross-site") {
				t.Errorf("cross-site delete with %v: %d %q", header, status, body)
			}
		}
		if state := b.jobState(t); state != rivertype.JobStateScheduled {
			t.Fatalf("job after the attacks (auth %v): %s", cfg != nil, state)
		}
	}
}

// A DNS-rebinding page is same-origin with the listener from the browser's
// view (its name now resolves to 127.0.0.1), so only its Host gives it away.
func TestDNSRebindingRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	_, port, _ := strings.Cut(b.host(t), ":")
	evil := "evil.example:" + port

	status, body := b.do(t, request{method: "GET", path: "/riverui/api/jobs?state=scheduled", host: evil})
	if status != http.StatusMisdirectedRequest || strings.Contains(body, "salesforce_push") {
		t.Errorf("job list for Host %s: %d %q", evil, status, body)
	}
	status, _ = b.do(t, request{method: "POST", path: "/riverui/api/jobs/delete", host: evil,
		body:   fmt.Sprintf(`{"ids":["%d"]}`, b.jobID),
		header: map[string]string{"Content-Type": "application/json", "Origin": "http://" + evil, "Sec-Fetch-Site": "same-origin"}})
	if status != http.StatusMisdirectedRequest {
		t.Errorf("delete for Host %s: %d", evil, status)
	}
	if state := b.jobState(t); state != rivertype.JobStateScheduled {
		t.Fatalf("job after the attack: %s", state)
	}
}

func TestSameOriginWrites(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	origin := "http://" + b.host(t)

	// What a script sends: JSON, with the listener as Origin.
	status, body := b.do(t, request{method: "POST", path: "/riverui/api/jobs/cancel",
		body:   fmt.Sprintf(`{"ids":["%d"]}`, b.jobID),
		header: map[string]string{"Content-Type": "application/json; charset=utf-8", "Origin": origin}})
	if status != http.StatusOK {
		t.Fatalf("same-origin cancel: %d %q", status, body)
	}
	if state := b.jobState(t); state != rivertype.JobStateCancelled {
		t.Fatalf("job after the cancel: %s", state)
	}

	// What the River UI's Delete button sends: fetch's text/plain.
	status, body = b.do(t, request{method: "POST", path: "/riverui/api/jobs/delete",
		body:   fmt.Sprintf(`{"ids":["%d"]}`, b.jobID),
		header: map[string]string{"Content-Type": "text/plain;charset=UTF-8", "Origin": origin, "Sec-Fetch-Site": "same-origin"}})
	if status != http.StatusOK {
		t.Fatalf("same-origin delete from the UI: %d %q", status, body)
	}
	if state := b.jobState(t); state != "deleted" {
		t.Fatalf("job after the delete: %s", state)
	}
}

// Each rule of a write on its own, on an endpoint that changes nothing: the
// River UI answers 404 for an unknown queue once a request passes.
func TestWriteRules(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	host := b.host(t)
	const passed = http.StatusNotFound

	for _, tt := range []struct {
		name   string
		header map[string]string
		body   string
		want   int
	}{
		{"json with Origin", map[string]string{"Origin": "http://" + host, "Content-Type": "application/json"}, "{}", passed},
		{"json with charset", map[string]string{"Origin": "http://" + host, "Content-Type": "application/json; charset=utf-8"}, "{}", passed},
		{"https Origin behind a proxy", map[string]string{"Origin": "https://" + host, "Content-Type": "application/json"}, "{}", passed},
		{"json, Sec-Fetch-Site only", map[string]string{"Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}, "{}", passed},
		{"browser, text/plain", map[string]string{"Origin": "http://" + host, "Sec-Fetch-Site": "same-origin", "Content-Type": "text/plain;charset=UTF-8"}, "{}", passed},
		{"browser, no body", map[string]string{"Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}, "", passed},

		{"no Origin, no Sec-Fetch-Site", map[string]string{"Content-Type": "application/json"}, "{}", 403},
		{"other site", map[string]string{"Origin": "https://evil.example", "Content-Type": "application/json"}, "{}", 403},
		{"other port", map[string]string{"Origin": "http://127.0.0.1:1", "Content-Type": "application/json"}, "{}", 403},
		{"other scheme", map[string]string{"Origin": "ftp://" + host, "Content-Type": "application/json"}, "{}", 403},
		{"Origin null", map[string]string{"Origin": "null", "Content-Type": "application/json"}, "{}", 403},
		{"same site, other origin", map[string]string{"Origin": "http://" + host, "Sec-Fetch-Site": "same-site", "Content-Type": "application/json"}, "{}", 403},
		{"user-initiated", map[string]string{"Sec-Fetch-Site": "none", "Content-Type": "application/json"}, "{}", 403},
		{"form", map[string]string{"Origin": "http://" + host, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/x-www-form-urlencoded"}, "a=b", 403},
		{"multipart", map[string]string{"Origin": "http://" + host, "Content-Type": "multipart/form-data; boundary=x"}, "--x--", 403},
		{"text/plain, not a browser", map[string]string{"Origin": "http://" + host, "Content-Type": "text/plain"}, "{}", 403},
		{"body without a type", map[string]string{"Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}, "{}", 403},
		{"bad type", map[string]string{"Origin": "http://" + host, "Content-Type": "application/json;;"}, "{}", 403},
	} {
		status, body := b.do(t, request{method: "PUT", path: "/riverui/api/queues/no-such-queue/pause", body: tt.body, header: tt.header})
		if status != tt.want {
			t.Errorf("%s: %d %q, want %d", tt.name, status, body, tt.want)
		}
		if status == 403 && !strings.HasPrefix(body, "forbidden: ") {
			t.Errorf("%s: refusal says %q", tt.name, body)
		}
	}
	// An OPTIONS preflight from another site is a write like any other.
	status, _ := b.do(t, request{method: "OPTIONS", path: "/riverui/api/jobs/delete",
		header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}})
	if status != 403 {
		t.Errorf("cross-site preflight: %d", status)
	}
}

func TestHosts(t *testing.T) {
	t.Parallel()
	b := setup(t, &ops.Config{
		Addr:         "syncd-ops:9090",
		AllowedHosts: []string{"ops.example.com", " metrics.internal:9100 ", "[fd00::7]:9090"},
	})
	_, port, _ := strings.Cut(b.host(t), ":")

	for _, tt := range []struct {
		host string
		want int
	}{
		{b.host(t), 200}, // the address the connection reached
		{"localhost:" + port, 200},
		{"LOCALHOST:" + port, 200},
		{"localhost", 200},
		{"127.0.0.1:" + port, 200},
		{"[::1]:" + port, 200},
		{"syncd-ops:9090", 200}, // Config.Addr
		{"ops.example.com", 200},
		{"ops.example.com:8443", 200},
		{"metrics.internal:9100", 200},
		{"[fd00::7]:9090", 200},

		{"evil.example:" + port, 421},
		{"evil.example", 421},
		{"localhost:1", 421},
		{"127.0.0.1:1", 421},
		{"127.0.0.2:" + port, 421},
		{"syncd-ops:9091", 421},
		{"metrics.internal", 421},
		{"metrics.internal:9101", 421},
		{"ops.example.com.evil.example", 421},
		{"[fd00::7]:9091", 421},
	} {
		status, body := b.do(t, request{method: "GET", path: "/metrics", host: tt.host})
		if status != tt.want {
			t.Errorf("Host %q: %d %.100q, want %d", tt.host, status, body, tt.want)
		}
		if status == 421 && !strings.Contains(body, "SYNCD_OPS_ALLOWED_HOSTS") {
			t.Errorf("Host %q: refusal says %q", tt.host, body)
		}
	}
}

// Probes address the pod or node by IP: GET and HEAD of /healthz and /readyz
// answer any Host, and nothing else does.
func TestProbesAnyHost(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	const podIP = "10.1.2.3:9090"
	for _, r := range []request{
		{method: "GET", path: "/healthz"},
		{method: "HEAD", path: "/healthz"},
		{method: "GET", path: "/readyz"},
		{method: "HEAD", path: "/readyz"},
	} {
		r.host = podIP
		if status, _ := b.do(t, r); status != 200 {
			t.Errorf("%s %s for Host %s: %d", r.method, r.path, r.host, status)
		}
	}
	for _, r := range []request{
		{method: "GET", path: "/metrics"},
		{method: "GET", path: "/riverui/"},
		{method: "GET", path: "/healthz/x"},
		{method: "POST", path: "/healthz", header: map[string]string{"Content-Type": "application/json"}},
	} {
		r.host = podIP
		if status, _ := b.do(t, r); status != 421 {
			t.Errorf("%s %s for Host %s: %d", r.method, r.path, r.host, status)
		}
	}
}

func TestValidateHost(t *testing.T) {
	t.Parallel()
	for _, good := range []string{
		"ops.example.com", "ops.example.com:9090", "OPS.Example.com", " ops ", "syncd_ops:9090",
		"10.0.0.7", "10.0.0.7:9090", "[fd00::7]", "[fd00::7]:9090", "localhost:65535",
	} {
		if err := ops.ValidateHost(good); err != nil {
			t.Errorf("ValidateHost(%q): %v", good, err)
		}
	}
	for _, bad := range []string{
		"", " ", "http://ops.example.com", "ops.example.com/", "ops.example.com:", "ops.example.com:0",
		"ops.example.com:65536", "ops.example.com:+80", "ops.example.com:http", "fd00::7", "[fd00::7",
		"[ops.example.com]:9090", "[zz::1]:9090", "*.example.com", "ops..example.com", ".example.com",
		"ops example.com", "user@ops.example.com",
	} {
		if err := ops.ValidateHost(bad); err == nil {
			t.Errorf("ValidateHost(%q) accepted it", bad)
		}
	}

	b := setup(t, nil)
	for _, bad := range []ops.Config{{AllowedHosts: []string{"ops", "http://ops"}}, {Addr: "no-port"}} {
		cfg := b.cfg // valid but for the bad field
		cfg.AllowedHosts, cfg.Addr = bad.AllowedHosts, bad.Addr
		if _, err := ops.NewHandler(context.Background(), &cfg); err == nil || !strings.Contains(err.Error(), `"`) {
			t.Errorf("NewHandler with AllowedHosts %q, Addr %q: %v", cfg.AllowedHosts, cfg.Addr, err)
		}
	}
}
