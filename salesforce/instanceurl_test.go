package salesforce_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/koeiq/syncd/salesforce"
)

func TestValidateInstanceURL(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		raw      string
		loopback bool   // allowInsecureLoopback
		want     string // normalised URL; "" means refused
	}{
		// Accepted My Domain hosts.
		{name: "production", raw: "https://acme.my.salesforce.com", want: "https://acme.my.salesforce.com"},
		{name: "trailing slash", raw: "https://acme.my.salesforce.com/", want: "https://acme.my.salesforce.com"},
		{name: "port 443", raw: "https://acme.my.salesforce.com:443", want: "https://acme.my.salesforce.com"},
		{name: "uppercase normalised", raw: "HTTPS://ACME.My.SalesForce.COM", want: "https://acme.my.salesforce.com"},
		{name: "one trailing dot", raw: "https://acme.my.salesforce.com.", want: "https://acme.my.salesforce.com"},
		{name: "trailing dot and slash", raw: "https://Acme.my.salesforce.com./", want: "https://acme.my.salesforce.com"},
		{name: "sandbox", raw: "https://acme--uat.sandbox.my.salesforce.com", want: "https://acme--uat.sandbox.my.salesforce.com"},
		{name: "legacy sandbox", raw: "https://acme--uat.my.salesforce.com", want: "https://acme--uat.my.salesforce.com"},
		{name: "developer edition", raw: "https://acme-dev-ed.develop.my.salesforce.com", want: "https://acme-dev-ed.develop.my.salesforce.com"},
		{name: "scratch", raw: "https://ability-force-1234.scratch.my.salesforce.com", want: "https://ability-force-1234.scratch.my.salesforce.com"},
		{name: "demo", raw: "https://acme.demo.my.salesforce.com", want: "https://acme.demo.my.salesforce.com"},
		{name: "patch", raw: "https://acme.patch.my.salesforce.com", want: "https://acme.patch.my.salesforce.com"},
		{name: "trailblaze", raw: "https://acme.trailblaze.my.salesforce.com", want: "https://acme.trailblaze.my.salesforce.com"},
		{name: "digits", raw: "https://00d123.my.salesforce.com", want: "https://00d123.my.salesforce.com"},
		{name: "my domain with loopback flag", raw: "https://acme.my.salesforce.com", loopback: true, want: "https://acme.my.salesforce.com"},

		// Other hosts.
		{name: "empty", raw: ""},
		{name: "login", raw: "https://login.salesforce.com"},
		{name: "test", raw: "https://test.salesforce.com"},
		{name: "bare my domain suffix", raw: "https://my.salesforce.com"},
		{name: "salesforce.com", raw: "https://salesforce.com"},
		{name: "instance host", raw: "https://na1.salesforce.com"},
		{name: "lightning host", raw: "https://acme.lightning.force.com"},
		{name: "setup domain", raw: "https://acme.my.salesforce-setup.com"},
		{name: "site", raw: "https://acme.my.site.com"},
		{name: "suffix of another host", raw: "https://salesforce.com.evil.example"},
		{name: "my domain then evil", raw: "https://acme.my.salesforce.com.evil.example"},
		{name: "evil prefix without dot", raw: "https://evilmy.salesforce.com"},
		{name: "evil host with my domain path", raw: "https://evil.example/acme.my.salesforce.com"},
		{name: "unknown partition", raw: "https://acme.evil.my.salesforce.com"},
		{name: "two labels", raw: "https://a.b.my.salesforce.com"},
		{name: "double trailing dot", raw: "https://acme.my.salesforce.com.."},
		{name: "leading dot", raw: "https://.acme.my.salesforce.com"},
		{name: "leading hyphen", raw: "https://-acme.my.salesforce.com"},
		{name: "trailing hyphen", raw: "https://acme-.my.salesforce.com"},
		{name: "triple hyphen", raw: "https://acme---x.my.salesforce.com"},
		{name: "two sandboxes", raw: "https://a--b--c.sandbox.my.salesforce.com"},
		{name: "underscore", raw: "https://ac_me.my.salesforce.com"},
		{name: "label too long", raw: "https://" + strings.Repeat("a", 64) + ".my.salesforce.com"},

		// Schemes, ports, user info, paths, queries.
		{name: "http", raw: "http://acme.my.salesforce.com"},
		{name: "http with loopback flag", raw: "http://acme.my.salesforce.com", loopback: true},
		{name: "ftp", raw: "ftp://acme.my.salesforce.com"},
		{name: "no scheme", raw: "acme.my.salesforce.com"},
		{name: "scheme-relative", raw: "//acme.my.salesforce.com"},
		{name: "opaque", raw: "https:acme.my.salesforce.com"},
		{name: "empty host", raw: "https:///acme.my.salesforce.com"},
		{name: "port 8443", raw: "https://acme.my.salesforce.com:8443"},
		{name: "port 0443", raw: "https://acme.my.salesforce.com:0443"},
		{name: "empty port", raw: "https://acme.my.salesforce.com:"},
		{name: "port 80", raw: "https://acme.my.salesforce.com:80"},
		{name: "user info", raw: "https://evil@acme.my.salesforce.com"},
		{name: "user and password", raw: "https://user:pass@acme.my.salesforce.com"},
		{name: "evil after at", raw: "https://acme.my.salesforce.com@evil.example"},
		{name: "at in path", raw: "https://acme.my.salesforce.com/@evil.example"},
		{name: "path", raw: "https://acme.my.salesforce.com/services"},
		{name: "query", raw: "https://acme.my.salesforce.com?x=1"},
		{name: "empty query", raw: "https://acme.my.salesforce.com?"},
		{name: "fragment", raw: "https://acme.my.salesforce.com#x"},
		{name: "fragment with at", raw: "https://evil.example#@acme.my.salesforce.com"},
		{name: "backslash", raw: `https://evil.example\@acme.my.salesforce.com`},
		{name: "backslash path", raw: `https://acme.my.salesforce.com\evil`},
		{name: "percent-encoded dot", raw: "https://acme%2emy.salesforce.com"},
		{name: "percent-encoded host", raw: "https://%61cme.my.salesforce.com"},
		{name: "encoded slash in path", raw: "https://acme.my.salesforce.com/%2F"},
		{name: "space", raw: "https://acme.my.salesforce.com "},
		{name: "leading space", raw: " https://acme.my.salesforce.com"},
		{name: "tab", raw: "https://acme.my.sales\tforce.com"},
		{name: "newline", raw: "https://acme.my.salesforce.com\n"},
		{name: "nul", raw: "https://acme.my.salesforce.com\x00.evil.example"},

		// IP literals and metadata addresses.
		{name: "ipv4", raw: "https://10.0.0.1"},
		{name: "metadata", raw: "https://169.254.169.254"},
		{name: "metadata http", raw: "http://169.254.169.254", loopback: true},
		{name: "metadata port", raw: "http://169.254.169.254:80/latest/meta-data", loopback: true},
		{name: "ipv6", raw: "https://[::1]"},
		{name: "ipv6 port", raw: "https://[2001:db8::1]:443"},
		{name: "ipv6 loopback http", raw: "http://[::1]:8080", loopback: true},
		{name: "decimal ip", raw: "http://2130706433", loopback: true},
		{name: "decimal ip https", raw: "https://2130706433"},
		{name: "short ip", raw: "http://127.1:8080", loopback: true},
		{name: "hex ip", raw: "http://0x7f.0.0.1:8080", loopback: true},
		{name: "octal ip", raw: "http://0177.0.0.1:8080", loopback: true},

		// IDNA and Unicode tricks.
		{name: "punycode label", raw: "https://xn--acm-xxa.my.salesforce.com"},
		{name: "punycode sandbox", raw: "https://xn--80ak6aa92e.sandbox.my.salesforce.com"},
		{name: "punycode as sandbox", raw: "https://acme--xn--80ak6aa92e.my.salesforce.com"},
		{name: "cyrillic a", raw: "https://аcme.my.salesforce.com"},
		{name: "fullwidth dot", raw: "https://acme．my.salesforce.com"},
		{name: "ideographic dot", raw: "https://acme。my.salesforce.com"},
		{name: "unicode host", raw: "https://ünicode.my.salesforce.com"},
		{name: "zero-width space", raw: "https://acme\u200b.my.salesforce.com"},
		{name: "fullwidth letters", raw: "https://ａｃｍｅ.my.salesforce.com"},

		// Loopback.
		{name: "127.0.0.1 with flag", raw: "http://127.0.0.1:8080", loopback: true, want: "http://127.0.0.1:8080"},
		{name: "localhost with flag", raw: "http://localhost:8080", loopback: true, want: "http://localhost:8080"},
		{name: "LOCALHOST with flag", raw: "http://LOCALHOST:8080/", loopback: true, want: "http://localhost:8080"},
		{name: "loopback path", raw: "http://127.0.0.1:8080/org/acme", loopback: true, want: "http://127.0.0.1:8080/org/acme"},
		{name: "loopback path trailing slash", raw: "http://127.0.0.1:8080/org/acme/", loopback: true, want: "http://127.0.0.1:8080/org/acme"},
		{name: "127.0.0.1 without flag", raw: "http://127.0.0.1:8080"},
		{name: "localhost without flag", raw: "http://localhost:8080"},
		{name: "loopback path without flag", raw: "http://127.0.0.1:8080/org/acme"},
		{name: "https loopback", raw: "https://127.0.0.1:8443", loopback: true},
		{name: "https localhost", raw: "https://localhost:8443", loopback: true},
		{name: "loopback without port", raw: "http://127.0.0.1", loopback: true},
		{name: "loopback port 0", raw: "http://127.0.0.1:0", loopback: true},
		{name: "loopback port too big", raw: "http://127.0.0.1:99999", loopback: true},
		{name: "loopback port leading zero", raw: "http://127.0.0.1:080", loopback: true},
		{name: "other loopback address", raw: "http://127.0.0.2:8080", loopback: true},
		{name: "localhost subdomain", raw: "http://localhost.evil.com:80", loopback: true},
		{name: "evil localhost", raw: "http://evil.localhost:80", loopback: true},
		{name: "localhost trailing dot", raw: "http://localhost.:80", loopback: true},
		{name: "loopback nip.io", raw: "http://127.0.0.1.nip.io:80", loopback: true},
		{name: "loopback user info", raw: "http://user@127.0.0.1:8080", loopback: true},
		{name: "loopback at in path", raw: "http://127.0.0.1:8080/@evil.example", loopback: true},
		{name: "loopback dotdot", raw: "http://127.0.0.1:8080/org/../x", loopback: true},
		{name: "loopback dot", raw: "http://127.0.0.1:8080/./x", loopback: true},
		{name: "loopback double slash", raw: "http://127.0.0.1:8080//evil.example", loopback: true},
		{name: "loopback query", raw: "http://127.0.0.1:8080/org?x", loopback: true},
		{name: "loopback fragment", raw: "http://127.0.0.1:8080/org#x", loopback: true},
		{name: "loopback encoded path", raw: "http://127.0.0.1:8080/org%2Facme", loopback: true},
		{name: "loopback backslash", raw: `http://127.0.0.1:8080\@evil.example`, loopback: true},
		{name: "loopback colon in path", raw: "http://127.0.0.1:8080/a:b", loopback: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := salesforce.ValidateInstanceURL(tt.raw, tt.loopback)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ValidateInstanceURL(%q, %t) = %v, want an error", tt.raw, tt.loopback, got)
				}
				if !errors.Is(err, salesforce.ErrInvalidInstanceURL) {
					t.Errorf("error %v does not wrap ErrInvalidInstanceURL", err)
				}
				if tt.raw != "" && strings.Contains(err.Error(), tt.raw) {
					t.Errorf("error %q quotes the input", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ValidateInstanceURL(%q, %t): %v", tt.raw, tt.loopback, err)
			}
			if got.String() != tt.want {
				t.Errorf("ValidateInstanceURL(%q, %t) = %q, want %q", tt.raw, tt.loopback, got, tt.want)
			}
		})
	}
}

func TestValidateInstanceURLErrorDoesNotLeakUserInfo(t *testing.T) {
	t.Parallel()
	_, err := salesforce.ValidateInstanceURL("https://admin:hunter2@acme.my.salesforce.com", false)
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q contains the password", err)
	}
}
