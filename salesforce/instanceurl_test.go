package salesforce_test

import (
	"strings"
	"testing"

	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/salesforce"
)

func TestValidateInstanceURL(t *testing.T) {
	t.Parallel()
	testsupport.CheckURLValidator(t, "ValidateInstanceURL", salesforce.ValidateInstanceURL, salesforce.ErrInvalidInstanceURL, []testsupport.URLCase{
		// Accepted My Domain hosts.
		{Name: "production", Raw: "https://acme.my.salesforce.com", Want: "https://acme.my.salesforce.com"},
		{Name: "trailing slash", Raw: "https://acme.my.salesforce.com/", Want: "https://acme.my.salesforce.com"},
		{Name: "port 443", Raw: "https://acme.my.salesforce.com:443", Want: "https://acme.my.salesforce.com"},
		{Name: "uppercase normalised", Raw: "HTTPS://ACME.My.SalesForce.COM", Want: "https://acme.my.salesforce.com"},
		{Name: "one trailing dot", Raw: "https://acme.my.salesforce.com.", Want: "https://acme.my.salesforce.com"},
		{Name: "trailing dot and slash", Raw: "https://Acme.my.salesforce.com./", Want: "https://acme.my.salesforce.com"},
		{Name: "sandbox", Raw: "https://acme--uat.sandbox.my.salesforce.com", Want: "https://acme--uat.sandbox.my.salesforce.com"},
		{Name: "legacy sandbox", Raw: "https://acme--uat.my.salesforce.com", Want: "https://acme--uat.my.salesforce.com"},
		{Name: "developer edition", Raw: "https://acme-dev-ed.develop.my.salesforce.com", Want: "https://acme-dev-ed.develop.my.salesforce.com"},
		{Name: "scratch", Raw: "https://ability-force-1234.scratch.my.salesforce.com", Want: "https://ability-force-1234.scratch.my.salesforce.com"},
		{Name: "demo", Raw: "https://acme.demo.my.salesforce.com", Want: "https://acme.demo.my.salesforce.com"},
		{Name: "patch", Raw: "https://acme.patch.my.salesforce.com", Want: "https://acme.patch.my.salesforce.com"},
		{Name: "trailblaze", Raw: "https://acme.trailblaze.my.salesforce.com", Want: "https://acme.trailblaze.my.salesforce.com"},
		{Name: "digits", Raw: "https://00d123.my.salesforce.com", Want: "https://00d123.my.salesforce.com"},
		{Name: "my domain with loopback flag", Raw: "https://acme.my.salesforce.com", Loopback: true, Want: "https://acme.my.salesforce.com"},

		// Other hosts.
		{Name: "empty", Raw: ""},
		{Name: "login", Raw: "https://login.salesforce.com"},
		{Name: "test", Raw: "https://test.salesforce.com"},
		{Name: "bare my domain suffix", Raw: "https://my.salesforce.com"},
		{Name: "salesforce.com", Raw: "https://salesforce.com"},
		{Name: "instance host", Raw: "https://na1.salesforce.com"},
		{Name: "lightning host", Raw: "https://acme.lightning.force.com"},
		{Name: "setup domain", Raw: "https://acme.my.salesforce-setup.com"},
		{Name: "site", Raw: "https://acme.my.site.com"},
		{Name: "suffix of another host", Raw: "https://salesforce.com.evil.example"},
		{Name: "my domain then evil", Raw: "https://acme.my.salesforce.com.evil.example"},
		{Name: "evil prefix without dot", Raw: "https://evilmy.salesforce.com"},
		{Name: "evil host with my domain path", Raw: "https://evil.example/acme.my.salesforce.com"},
		{Name: "unknown partition", Raw: "https://acme.evil.my.salesforce.com"},
		{Name: "two labels", Raw: "https://a.b.my.salesforce.com"},
		{Name: "double trailing dot", Raw: "https://acme.my.salesforce.com.."},
		{Name: "leading dot", Raw: "https://.acme.my.salesforce.com"},
		{Name: "leading hyphen", Raw: "https://-acme.my.salesforce.com"},
		{Name: "trailing hyphen", Raw: "https://acme-.my.salesforce.com"},
		{Name: "triple hyphen", Raw: "https://acme---x.my.salesforce.com"},
		{Name: "two sandboxes", Raw: "https://a--b--c.sandbox.my.salesforce.com"},
		{Name: "underscore", Raw: "https://ac_me.my.salesforce.com"},
		{Name: "label too long", Raw: "https://" + strings.Repeat("a", 64) + ".my.salesforce.com"},

		// Schemes, ports, user info, paths, queries.
		{Name: "http", Raw: "http://acme.my.salesforce.com"},
		{Name: "http with loopback flag", Raw: "http://acme.my.salesforce.com", Loopback: true},
		{Name: "ftp", Raw: "ftp://acme.my.salesforce.com"},
		{Name: "no scheme", Raw: "acme.my.salesforce.com"},
		{Name: "scheme-relative", Raw: "//acme.my.salesforce.com"},
		{Name: "opaque", Raw: "https:acme.my.salesforce.com"},
		{Name: "empty host", Raw: "https:///acme.my.salesforce.com"},
		{Name: "port 8443", Raw: "https://acme.my.salesforce.com:8443"},
		{Name: "port 0443", Raw: "https://acme.my.salesforce.com:0443"},
		{Name: "empty port", Raw: "https://acme.my.salesforce.com:"},
		{Name: "port 80", Raw: "https://acme.my.salesforce.com:80"},
		{Name: "user info", Raw: "https://evil@acme.my.salesforce.com"},
		{Name: "user and password", Raw: "https://user:pass@acme.my.salesforce.com"},
		{Name: "evil after at", Raw: "https://acme.my.salesforce.com@evil.example"},
		{Name: "at in path", Raw: "https://acme.my.salesforce.com/@evil.example"},
		{Name: "path", Raw: "https://acme.my.salesforce.com/services"},
		{Name: "query", Raw: "https://acme.my.salesforce.com?x=1"},
		{Name: "empty query", Raw: "https://acme.my.salesforce.com?"},
		{Name: "fragment", Raw: "https://acme.my.salesforce.com#x"},
		{Name: "fragment with at", Raw: "https://evil.example#@acme.my.salesforce.com"},
		{Name: "backslash", Raw: `https://evil.example\@acme.my.salesforce.com`},
		{Name: "backslash path", Raw: `https://acme.my.salesforce.com\evil`},
		{Name: "percent-encoded dot", Raw: "https://acme%2emy.salesforce.com"},
		{Name: "percent-encoded host", Raw: "https://%61cme.my.salesforce.com"},
		{Name: "encoded slash in path", Raw: "https://acme.my.salesforce.com/%2F"},
		{Name: "space", Raw: "https://acme.my.salesforce.com "},
		{Name: "leading space", Raw: " https://acme.my.salesforce.com"},
		{Name: "tab", Raw: "https://acme.my.sales\tforce.com"},
		{Name: "newline", Raw: "https://acme.my.salesforce.com\n"},
		{Name: "nul", Raw: "https://acme.my.salesforce.com\x00.evil.example"},

		// IP literals and metadata addresses.
		{Name: "ipv4", Raw: "https://10.0.0.1"},
		{Name: "metadata", Raw: "https://169.254.169.254"},
		{Name: "metadata http", Raw: "http://169.254.169.254", Loopback: true},
		{Name: "metadata port", Raw: "http://169.254.169.254:80/latest/meta-data", Loopback: true},
		{Name: "ipv6", Raw: "https://[::1]"},
		{Name: "ipv6 port", Raw: "https://[2001:db8::1]:443"},
		{Name: "ipv6 loopback http", Raw: "http://[::1]:8080", Loopback: true},
		{Name: "decimal ip", Raw: "http://2130706433", Loopback: true},
		{Name: "decimal ip https", Raw: "https://2130706433"},
		{Name: "short ip", Raw: "http://127.1:8080", Loopback: true},
		{Name: "hex ip", Raw: "http://0x7f.0.0.1:8080", Loopback: true},
		{Name: "octal ip", Raw: "http://0177.0.0.1:8080", Loopback: true},

		// IDNA and Unicode tricks.
		{Name: "punycode label", Raw: "https://xn--acm-xxa.my.salesforce.com"},
		{Name: "punycode sandbox", Raw: "https://xn--80ak6aa92e.sandbox.my.salesforce.com"},
		{Name: "punycode as sandbox", Raw: "https://acme--xn--80ak6aa92e.my.salesforce.com"},
		{Name: "cyrillic a", Raw: "https://аcme.my.salesforce.com"},
		{Name: "fullwidth dot", Raw: "https://acme．my.salesforce.com"},
		{Name: "ideographic dot", Raw: "https://acme。my.salesforce.com"},
		{Name: "unicode host", Raw: "https://ünicode.my.salesforce.com"},
		{Name: "zero-width space", Raw: "https://acme\u200b.my.salesforce.com"},
		{Name: "fullwidth letters", Raw: "https://ａｃｍｅ.my.salesforce.com"},

		// Loopback.
		{Name: "127.0.0.1 with flag", Raw: "http://127.0.0.1:8080", Loopback: true, Want: "http://127.0.0.1:8080"},
		{Name: "localhost with flag", Raw: "http://localhost:8080", Loopback: true, Want: "http://localhost:8080"},
		{Name: "LOCALHOST with flag", Raw: "http://LOCALHOST:8080/", Loopback: true, Want: "http://localhost:8080"},
		{Name: "loopback path", Raw: "http://127.0.0.1:8080/org/acme", Loopback: true, Want: "http://127.0.0.1:8080/org/acme"},
		{Name: "loopback path trailing slash", Raw: "http://127.0.0.1:8080/org/acme/", Loopback: true, Want: "http://127.0.0.1:8080/org/acme"},
		{Name: "127.0.0.1 without flag", Raw: "http://127.0.0.1:8080"},
		{Name: "localhost without flag", Raw: "http://localhost:8080"},
		{Name: "loopback path without flag", Raw: "http://127.0.0.1:8080/org/acme"},
		{Name: "https loopback", Raw: "https://127.0.0.1:8443", Loopback: true},
		{Name: "https localhost", Raw: "https://localhost:8443", Loopback: true},
		{Name: "loopback without port", Raw: "http://127.0.0.1", Loopback: true},
		{Name: "loopback port 0", Raw: "http://127.0.0.1:0", Loopback: true},
		{Name: "loopback port too big", Raw: "http://127.0.0.1:99999", Loopback: true},
		{Name: "loopback port leading zero", Raw: "http://127.0.0.1:080", Loopback: true},
		{Name: "other loopback address", Raw: "http://127.0.0.2:8080", Loopback: true},
		{Name: "localhost subdomain", Raw: "http://localhost.evil.com:80", Loopback: true},
		{Name: "evil localhost", Raw: "http://evil.localhost:80", Loopback: true},
		{Name: "localhost trailing dot", Raw: "http://localhost.:80", Loopback: true},
		{Name: "loopback nip.io", Raw: "http://127.0.0.1.nip.io:80", Loopback: true},
		{Name: "loopback user info", Raw: "http://user@127.0.0.1:8080", Loopback: true},
		{Name: "loopback at in path", Raw: "http://127.0.0.1:8080/@evil.example", Loopback: true},
		{Name: "loopback dotdot", Raw: "http://127.0.0.1:8080/org/../x", Loopback: true},
		{Name: "loopback dot", Raw: "http://127.0.0.1:8080/./x", Loopback: true},
		{Name: "loopback double slash", Raw: "http://127.0.0.1:8080//evil.example", Loopback: true},
		{Name: "loopback query", Raw: "http://127.0.0.1:8080/org?x", Loopback: true},
		{Name: "loopback fragment", Raw: "http://127.0.0.1:8080/org#x", Loopback: true},
		{Name: "loopback encoded path", Raw: "http://127.0.0.1:8080/org%2Facme", Loopback: true},
		{Name: "loopback backslash", Raw: `http://127.0.0.1:8080\@evil.example`, Loopback: true},
		{Name: "loopback colon in path", Raw: "http://127.0.0.1:8080/a:b", Loopback: true},
	})
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
