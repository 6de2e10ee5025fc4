package salesforce_test

import (
	"strings"
	"testing"

	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/salesforce"
)

func TestValidateInstanceURL(t *testing.T) {
	t.Parallel()
	testsupport.CheckURLValidator(t, "ValidateInstanceURL", salesforce.ValidateInstanceURL, salesforce.ErrInvalidInstanceURL, append(testsupport.CommonURLCases("my.salesforce.com"), []testsupport.URLCase{
		// Accepted My Domain hosts.
		{Name: "uppercase normalised", Raw: "HTTPS://ACME.My.SalesForce.COM", Want: "https://acme.my.salesforce.com"},
		{Name: "trailing dot and slash", Raw: "https://Acme.my.salesforce.com./", Want: "https://acme.my.salesforce.com"},
		{Name: "sandbox", Raw: "https://acme--uat.sandbox.my.salesforce.com", Want: "https://acme--uat.sandbox.my.salesforce.com"},
		{Name: "legacy sandbox", Raw: "https://acme--uat.my.salesforce.com", Want: "https://acme--uat.my.salesforce.com"},
		{Name: "developer edition", Raw: "https://acme-dev-ed.develop.my.salesforce.com", Want: "https://acme-dev-ed.develop.my.salesforce.com"},
		{Name: "scratch", Raw: "https://ability-force-1234.scratch.my.salesforce.com", Want: "https://ability-force-1234.scratch.my.salesforce.com"},
		{Name: "demo", Raw: "https://acme.demo.my.salesforce.com", Want: "https://acme.demo.my.salesforce.com"},
		{Name: "patch", Raw: "https://acme.patch.my.salesforce.com", Want: "https://acme.patch.my.salesforce.com"},
		{Name: "trailblaze", Raw: "https://acme.trailblaze.my.salesforce.com", Want: "https://acme.trailblaze.my.salesforce.com"},
		{Name: "digits", Raw: "https://00d123.my.salesforce.com", Want: "https://00d123.my.salesforce.com"},

		// Other hosts.
		{Name: "login", Raw: "https://login.salesforce.com"},
		{Name: "test", Raw: "https://test.salesforce.com"},
		{Name: "salesforce.com", Raw: "https://salesforce.com"},
		{Name: "instance host", Raw: "https://na1.salesforce.com"},
		{Name: "lightning host", Raw: "https://acme.lightning.force.com"},
		{Name: "setup domain", Raw: "https://acme.my.salesforce-setup.com"},
		{Name: "site", Raw: "https://acme.my.site.com"},
		{Name: "suffix of another host", Raw: "https://salesforce.com.evil.example"},
		{Name: "evil prefix without dot", Raw: "https://evilmy.salesforce.com"},
		{Name: "evil host with my domain path", Raw: "https://evil.example/acme.my.salesforce.com"},
		{Name: "unknown partition", Raw: "https://acme.evil.my.salesforce.com"},
		{Name: "leading dot", Raw: "https://.acme.my.salesforce.com"},
		{Name: "triple hyphen", Raw: "https://acme---x.my.salesforce.com"},
		{Name: "two sandboxes", Raw: "https://a--b--c.sandbox.my.salesforce.com"},

		// Schemes, ports, user info, paths, queries.
		{Name: "empty host", Raw: "https:///acme.my.salesforce.com"},
		{Name: "port 0443", Raw: "https://acme.my.salesforce.com:0443"},
		{Name: "user info", Raw: "https://evil@acme.my.salesforce.com"},
		{Name: "at in path", Raw: "https://acme.my.salesforce.com/@evil.example"},
		{Name: "path", Raw: "https://acme.my.salesforce.com/services"},
		{Name: "empty query", Raw: "https://acme.my.salesforce.com?"},
		{Name: "fragment", Raw: "https://acme.my.salesforce.com#x"},
		{Name: "fragment with at", Raw: "https://evil.example#@acme.my.salesforce.com"},
		{Name: "backslash path", Raw: `https://acme.my.salesforce.com\evil`},
		{Name: "encoded slash in path", Raw: "https://acme.my.salesforce.com/%2F"},
		{Name: "space", Raw: "https://acme.my.salesforce.com "},
		{Name: "leading space", Raw: " https://acme.my.salesforce.com"},
		{Name: "tab", Raw: "https://acme.my.sales\tforce.com"},
		{Name: "nul", Raw: "https://acme.my.salesforce.com\x00.evil.example"},

		// IP literals and metadata addresses.
		{Name: "ipv4", Raw: "https://10.0.0.1"},
		{Name: "metadata http", Raw: "http://169.254.169.254", Loopback: true},
		{Name: "metadata port", Raw: "http://169.254.169.254:80/latest/meta-data", Loopback: true},
		{Name: "ipv6 port", Raw: "https://[2001:db8::1]:443"},
		{Name: "decimal ip", Raw: "http://2130706433", Loopback: true},
		{Name: "decimal ip https", Raw: "https://2130706433"},
		{Name: "short ip", Raw: "http://127.1:8080", Loopback: true},
		{Name: "hex ip", Raw: "http://0x7f.0.0.1:8080", Loopback: true},
		{Name: "octal ip", Raw: "http://0177.0.0.1:8080", Loopback: true},

		// IDNA and Unicode tricks.
		{Name: "punycode label", Raw: "https://xn--acm-xxa.my.salesforce.com"},
		{Name: "punycode sandbox", Raw: "https://xn--80ak6aa92e.sandbox.my.salesforce.com"},
		{Name: "punycode as sandbox", Raw: "https://acme--xn--80ak6aa92e.my.salesforce.com"},
		{Name: "unicode host", Raw: "https://ünicode.my.salesforce.com"},
		{Name: "zero-width space", Raw: "https://acme\u200b.my.salesforce.com"},

		// Loopback.
		{Name: "localhost with flag", Raw: "http://localhost:8080", Loopback: true, Want: "http://localhost:8080"},
		{Name: "LOCALHOST with flag", Raw: "http://LOCALHOST:8080/", Loopback: true, Want: "http://localhost:8080"},
		{Name: "localhost without flag", Raw: "http://localhost:8080"},
		{Name: "loopback path without flag", Raw: "http://127.0.0.1:8080/org/acme"},
		{Name: "https loopback", Raw: "https://127.0.0.1:8443", Loopback: true},
		{Name: "https localhost", Raw: "https://localhost:8443", Loopback: true},
		{Name: "loopback without port", Raw: "http://127.0.0.1", Loopback: true},
		{Name: "loopback port too big", Raw: "http://127.0.0.1:99999", Loopback: true},
		{Name: "loopback port leading zero", Raw: "http://127.0.0.1:080", Loopback: true},
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
		{Name: "loopback backslash", Raw: `http://127.0.0.1:8080\@evil.example`, Loopback: true},
		{Name: "loopback colon in path", Raw: "http://127.0.0.1:8080/a:b", Loopback: true},
	}...))
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
