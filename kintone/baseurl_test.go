package kintone_test

import (
	"strings"
	"testing"

	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/kintone"
)

func TestValidateBaseURL(t *testing.T) {
	t.Parallel()
	testsupport.CheckURLValidator(t, "ValidateBaseURL", kintone.ValidateBaseURL, kintone.ErrInvalidConfig, []testsupport.URLCase{
		// Accepted Kintone domains, normalised.
		{Name: "cybozu.com", Raw: "https://acme.cybozu.com", Want: "https://acme.cybozu.com"},
		{Name: "trailing slash", Raw: "https://acme.cybozu.com/", Want: "https://acme.cybozu.com"},
		{Name: "upper case", Raw: "HTTPS://ACME.Cybozu.COM", Want: "https://acme.cybozu.com"},
		{Name: "one trailing dot", Raw: "https://acme.cybozu.com.", Want: "https://acme.cybozu.com"},
		{Name: "port 443", Raw: "https://acme.cybozu.com:443", Want: "https://acme.cybozu.com"},
		{Name: "kintone.com", Raw: "https://acme.kintone.com", Want: "https://acme.kintone.com"},
		{Name: "cybozu.cn", Raw: "https://acme.cybozu.cn", Want: "https://acme.cybozu.cn"},
		{Name: "secure access", Raw: "https://acme.s.cybozu.com", Want: "https://acme.s.cybozu.com"},
		{Name: "secure access us", Raw: "https://acme.s.kintone.com", Want: "https://acme.s.kintone.com"},
		{Name: "hyphen and digits", Raw: "https://acme-2024.cybozu.com", Want: "https://acme-2024.cybozu.com"},
		{Name: "loopback flag does not change https", Raw: "https://acme.cybozu.com", Loopback: true, Want: "https://acme.cybozu.com"},

		// Other hosts.
		{Name: "other host", Raw: "https://example.com"},
		{Name: "suffix as a label", Raw: "https://acme.cybozu.com.evil.example"},
		{Name: "lookalike domain", Raw: "https://acmecybozu.com"},
		{Name: "bare domain", Raw: "https://cybozu.com"},
		{Name: "two labels", Raw: "https://a.b.cybozu.com"},
		{Name: "secure access with two labels", Raw: "https://a.b.s.cybozu.com"},
		{Name: "bare secure access domain", Raw: "https://s.kintone.com.", Want: "https://s.kintone.com"},
		{Name: "kintone.com lookalike", Raw: "https://acme.kintone.com.cn"},
		{Name: "login domain of salesforce", Raw: "https://login.salesforce.com"},
		{Name: "two trailing dots", Raw: "https://acme.cybozu.com.."},
		{Name: "leading hyphen", Raw: "https://-acme.cybozu.com"},
		{Name: "trailing hyphen", Raw: "https://acme-.cybozu.com"},
		{Name: "underscore", Raw: "https://ac_me.cybozu.com"},
		{Name: "empty label", Raw: "https://.cybozu.com"},
		{Name: "label too long", Raw: "https://" + strings.Repeat("a", 64) + ".cybozu.com"},

		// IDNA and Unicode tricks.
		{Name: "punycode label", Raw: "https://xn--80ak6aa92e.cybozu.com"},
		{Name: "fullwidth letters", Raw: "https://ａｃｍｅ.cybozu.com"},
		{Name: "ideographic full stop", Raw: "https://acme。cybozu.com"},
		{Name: "fullwidth full stop", Raw: "https://acme．cybozu.com"},
		{Name: "cyrillic a", Raw: "https://аcme.cybozu.com"},
		{Name: "percent-encoded dot", Raw: "https://acme%2ecybozu.com"},
		{Name: "percent-encoded host", Raw: "https://%61cme.cybozu.com"},

		// IP literals and metadata endpoints.
		{Name: "metadata IP", Raw: "https://169.254.169.254"},
		{Name: "metadata IP with path", Raw: "https://169.254.169.254/latest/meta-data"},
		{Name: "loopback IP over https", Raw: "https://127.0.0.1"},
		{Name: "IPv6", Raw: "https://[::1]"},
		{Name: "IPv6 mapped", Raw: "https://[::ffff:169.254.169.254]"},
		{Name: "decimal IP", Raw: "https://2852039166"},

		// Scheme, user info, ports, paths, queries, fragments.
		{Name: "http", Raw: "http://acme.cybozu.com"},
		{Name: "http with loopback flag", Raw: "http://acme.cybozu.com", Loopback: true},
		{Name: "ftp", Raw: "ftp://acme.cybozu.com"},
		{Name: "no scheme", Raw: "acme.cybozu.com"},
		{Name: "scheme-relative", Raw: "//acme.cybozu.com"},
		{Name: "opaque", Raw: "https:acme.cybozu.com"},
		{Name: "userinfo", Raw: "https://user:pass@acme.cybozu.com"},
		{Name: "userinfo hiding host", Raw: "https://acme.cybozu.com@evil.example"},
		{Name: "empty userinfo", Raw: "https://@acme.cybozu.com"},
		{Name: "odd port", Raw: "https://acme.cybozu.com:8443"},
		{Name: "port 80", Raw: "https://acme.cybozu.com:80"},
		{Name: "empty port", Raw: "https://acme.cybozu.com:"},
		{Name: "path", Raw: "https://acme.cybozu.com/k/v1"},
		{Name: "query", Raw: "https://acme.cybozu.com?x=1"},
		{Name: "empty query", Raw: "https://acme.cybozu.com/?"},
		{Name: "fragment", Raw: "https://acme.cybozu.com#frag"},
		{Name: "backslash", Raw: `https://evil.example\@acme.cybozu.com`},
		{Name: "space", Raw: "https://acme .cybozu.com"},
		{Name: "newline", Raw: "https://acme.cybozu.com\n"},
		{Name: "empty", Raw: ""},

		// Loopback test servers.
		{Name: "loopback", Raw: "http://127.0.0.1:8080", Loopback: true, Want: "http://127.0.0.1:8080"},
		{Name: "loopback path", Raw: "http://127.0.0.1:8080/org/acme/", Loopback: true, Want: "http://127.0.0.1:8080/org/acme"},
		{Name: "localhost", Raw: "http://localhost:9000/org/acme", Loopback: true, Want: "http://localhost:9000/org/acme"},
		{Name: "localhost upper", Raw: "http://LOCALHOST:9000", Loopback: true, Want: "http://localhost:9000"},
		{Name: "loopback without flag", Raw: "http://127.0.0.1:8080"},
		{Name: "loopback without port", Raw: "http://127.0.0.1/org/acme", Loopback: true},
		{Name: "loopback port 0", Raw: "http://127.0.0.1:0", Loopback: true},
		{Name: "loopback port too big", Raw: "http://127.0.0.1:70000", Loopback: true},
		{Name: "loopback port leading zero", Raw: "http://127.0.0.1:08080", Loopback: true},
		{Name: "other loopback address", Raw: "http://127.0.0.2:8080", Loopback: true},
		{Name: "any address", Raw: "http://0.0.0.0:8080", Loopback: true},
		{Name: "IPv6 loopback", Raw: "http://[::1]:8080", Loopback: true},
		{Name: "metadata over http", Raw: "http://169.254.169.254:80", Loopback: true},
		{Name: "loopback lookalike", Raw: "http://localhost.evil.example:8080", Loopback: true},
		{Name: "loopback userinfo", Raw: "http://u:p@127.0.0.1:8080", Loopback: true},
		{Name: "loopback query", Raw: "http://127.0.0.1:8080/org?x=1", Loopback: true},
		{Name: "loopback dot-dot", Raw: "http://127.0.0.1:8080/org/../admin", Loopback: true},
		{Name: "loopback escaped path", Raw: "http://127.0.0.1:8080/org%2Facme", Loopback: true},
		{Name: "loopback double slash", Raw: "http://127.0.0.1:8080//org", Loopback: true},
	})
}
