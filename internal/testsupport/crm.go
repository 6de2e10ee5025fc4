package testsupport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// ErrorAs returns the error of type E that [errors.As] finds in err's tree,
// or fails the test. The CRM clients' tests use it to get at an *APIError.
func ErrorAs[E error](t testing.TB, err error) E {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T) is not a %T", err, err, target)
	}
	return target
}

// URLCase is one case of a table test of a CRM address validator, such as
// kintone.ValidateBaseURL or salesforce.ValidateInstanceURL.
type URLCase struct {
	Name     string
	Raw      string // the address given
	Loopback bool   // the allowInsecureLoopback argument
	Want     string // the normalised URL; "" means refused
}

// CommonURLCases returns the cases that hold for every CRM address
// validator whose accepted hosts include acme.DOMAIN, such as
// CommonURLCases("cybozu.com"): an https address of one label and the
// domain is accepted and normalised; another scheme, user info, a port but
// 443, a query, an IP literal, a malformed or look-alike host, is refused;
// and with the loopback flag, and only then, http://127.0.0.1:PORT[/path]
// is accepted. Each validator's test adds the cases of its own domain.
func CommonURLCases(domain string) []URLCase {
	host := "acme." + domain
	https := "https://" + host
	return []URLCase{
		// Accepted, normalised.
		{Name: "one label", Raw: https, Want: https},
		{Name: "trailing slash", Raw: https + "/", Want: https},
		{Name: "one trailing dot", Raw: https + ".", Want: https},
		{Name: "port 443", Raw: https + ":443", Want: https},
		{Name: "loopback flag does not change https", Raw: https, Loopback: true, Want: https},

		// Other hosts.
		{Name: "empty", Raw: ""},
		{Name: "bare domain", Raw: "https://" + domain},
		{Name: "domain then another", Raw: https + ".evil.example"},
		{Name: "two labels", Raw: "https://a.b." + domain},
		{Name: "two trailing dots", Raw: https + ".."},
		{Name: "leading hyphen", Raw: "https://-" + host},
		{Name: "trailing hyphen", Raw: "https://acme-." + domain},
		{Name: "underscore", Raw: "https://ac_me." + domain},
		{Name: "label too long", Raw: "https://" + strings.Repeat("a", 64) + "." + domain},

		// IDNA and Unicode tricks.
		{Name: "fullwidth letters", Raw: "https://ａｃｍｅ." + domain},
		{Name: "ideographic full stop", Raw: "https://acme。" + domain},
		{Name: "fullwidth full stop", Raw: "https://acme．" + domain},
		{Name: "cyrillic a", Raw: "https://аcme." + domain},
		{Name: "percent-encoded dot", Raw: "https://acme%2e" + domain},
		{Name: "percent-encoded host", Raw: "https://%61cme." + domain},

		// IP literals and metadata addresses.
		{Name: "metadata IP", Raw: "https://169.254.169.254"},
		{Name: "IPv6", Raw: "https://[::1]"},

		// Scheme, user info, ports, queries.
		{Name: "http", Raw: "http://" + host},
		{Name: "http with loopback flag", Raw: "http://" + host, Loopback: true},
		{Name: "ftp", Raw: "ftp://" + host},
		{Name: "no scheme", Raw: host},
		{Name: "scheme-relative", Raw: "//" + host},
		{Name: "opaque", Raw: "https:" + host},
		{Name: "userinfo", Raw: "https://user:pass@" + host},
		{Name: "userinfo hiding host", Raw: https + "@evil.example"},
		{Name: "odd port", Raw: https + ":8443"},
		{Name: "port 80", Raw: https + ":80"},
		{Name: "empty port", Raw: https + ":"},
		{Name: "query", Raw: https + "?x=1"},
		{Name: "backslash", Raw: `https://evil.example\@` + host},
		{Name: "newline", Raw: https + "\n"},

		// Loopback test servers.
		{Name: "loopback", Raw: "http://127.0.0.1:8080", Loopback: true, Want: "http://127.0.0.1:8080"},
		{Name: "loopback path", Raw: "http://127.0.0.1:8080/org/acme", Loopback: true, Want: "http://127.0.0.1:8080/org/acme"},
		{Name: "loopback path trailing slash", Raw: "http://127.0.0.1:8080/org/acme/", Loopback: true, Want: "http://127.0.0.1:8080/org/acme"},
		{Name: "loopback without flag", Raw: "http://127.0.0.1:8080"},
		{Name: "loopback port 0", Raw: "http://127.0.0.1:0", Loopback: true},
		{Name: "other loopback address", Raw: "http://127.0.0.2:8080", Loopback: true},
		{Name: "IPv6 loopback", Raw: "http://[::1]:8080", Loopback: true},
		{Name: "loopback escaped path", Raw: "http://127.0.0.1:8080/org%2Facme", Loopback: true},
	}
}

// CheckURLValidator runs each case in a parallel subtest of t. An accepted
// address must come back from validate normalised to Want. A refused one
// must return an error that wraps invalid and does not quote the address
// given, which can carry a password. name is validate's name, for messages.
func CheckURLValidator(t *testing.T, name string, validate func(raw string, allowInsecureLoopback bool) (*url.URL, error), invalid error, cases []URLCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			got, err := validate(tt.Raw, tt.Loopback)
			if tt.Want == "" {
				if err == nil {
					t.Fatalf("%s(%q, %t) = %v, want an error", name, tt.Raw, tt.Loopback, got)
				}
				if !errors.Is(err, invalid) {
					t.Errorf("error %v does not wrap %v", err, invalid)
				}
				if tt.Raw != "" && strings.Contains(err.Error(), tt.Raw) {
					t.Errorf("error %q quotes the input", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s(%q, %t): %v", name, tt.Raw, tt.Loopback, err)
			}
			if got.String() != tt.Want {
				t.Errorf("%s(%q, %t) = %q, want %q", name, tt.Raw, tt.Loopback, got, tt.Want)
			}
		})
	}
}

// Renderings returns every way the tests know of for values to leave the
// process as text: each printed with each fmt verb that prints a struct,
// marshalled as JSON, and logged by slog's JSON and text handlers. A test of
// a secret checks that none of them contains it. A value that cannot be
// marshalled as JSON fails the test.
func Renderings(t testing.TB, values ...any) []string {
	t.Helper()
	var out []string
	var logged bytes.Buffer
	jsonLog := slog.New(slog.NewJSONHandler(&logged, nil))
	textLog := slog.New(slog.NewTextHandler(&logged, nil))
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%T): %v", v, err)
		}
		out = append(out, string(b))
		jsonLog.Info("value", "v", v)
		textLog.Info("value", "v", v)
	}
	return append(out, logged.String())
}

// RequestLog records what a CRM client reports to its Config.OnRequest. It
// is safe for concurrent use; the zero value is ready.
type RequestLog struct {
	mu    sync.Mutex
	calls []string
}

// Record is a Config.OnRequest: it records op and status as "op status". It
// panics on a negative elapsed time, which no client may report.
func (l *RequestLog) Record(op string, status int, elapsed time.Duration) {
	if elapsed < 0 {
		panic("negative elapsed time")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, fmt.Sprintf("%s %d", op, status))
}

// Calls returns the calls recorded so far, such as "add 200" or "token 0"
// (0 when no answer arrived).
func (l *RequestLog) Calls() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}
