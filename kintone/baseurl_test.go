package kintone_test

import (
	"testing"

	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/kintone"
)

func TestValidateBaseURL(t *testing.T) {
	t.Parallel()
	testsupport.CheckURLValidator(t, "ValidateBaseURL", kintone.ValidateBaseURL, kintone.ErrInvalidConfig, append(testsupport.CommonURLCases("cybozu.com"), []testsupport.URLCase{
		// Accepted Kintone domains, normalised.
		{Name: "upper case", Raw: "HTTPS://ACME.Cybozu.COM", Want: "https://acme.cybozu.com"},
		{Name: "kintone.com", Raw: "https://acme.kintone.com", Want: "https://acme.kintone.com"},
		{Name: "cybozu.cn", Raw: "https://acme.cybozu.cn", Want: "https://acme.cybozu.cn"},
		{Name: "secure access", Raw: "https://acme.s.cybozu.com", Want: "https://acme.s.cybozu.com"},
		{Name: "secure access us", Raw: "https://acme.s.kintone.com", Want: "https://acme.s.kintone.com"},
		{Name: "hyphen and digits", Raw: "https://acme-2024.cybozu.com", Want: "https://acme-2024.cybozu.com"},

		// Other hosts.
		{Name: "other host", Raw: "https://example.com"},
		{Name: "lookalike domain", Raw: "https://acmecybozu.com"},
		{Name: "secure access with two labels", Raw: "https://a.b.s.cybozu.com"},
		{Name: "bare secure access domain", Raw: "https://s.kintone.com.", Want: "https://s.kintone.com"},
		{Name: "kintone.com lookalike", Raw: "https://acme.kintone.com.cn"},
		{Name: "login domain of salesforce", Raw: "https://login.salesforce.com"},
		{Name: "empty label", Raw: "https://.cybozu.com"},

		// IDNA and Unicode tricks.
		{Name: "punycode label", Raw: "https://xn--80ak6aa92e.cybozu.com"},

		// IP literals and metadata endpoints.
		{Name: "metadata IP with path", Raw: "https://169.254.169.254/latest/meta-data"},
		{Name: "loopback IP over https", Raw: "https://127.0.0.1"},
		{Name: "IPv6 mapped", Raw: "https://[::ffff:169.254.169.254]"},
		{Name: "decimal IP", Raw: "https://2852039166"},

		// Scheme, user info, ports, paths, queries, fragments.
		{Name: "empty userinfo", Raw: "https://@acme.cybozu.com"},
		{Name: "path", Raw: "https://acme.cybozu.com/k/v1"},
		{Name: "empty query", Raw: "https://acme.cybozu.com/?"},
		{Name: "fragment", Raw: "https://acme.cybozu.com#frag"},
		{Name: "space", Raw: "https://acme .cybozu.com"},

		// Loopback test servers.
		{Name: "localhost", Raw: "http://localhost:9000/org/acme", Loopback: true, Want: "http://localhost:9000/org/acme"},
		{Name: "localhost upper", Raw: "http://LOCALHOST:9000", Loopback: true, Want: "http://localhost:9000"},
		{Name: "loopback without port", Raw: "http://127.0.0.1/org/acme", Loopback: true},
		{Name: "loopback port too big", Raw: "http://127.0.0.1:70000", Loopback: true},
		{Name: "loopback port leading zero", Raw: "http://127.0.0.1:08080", Loopback: true},
		{Name: "any address", Raw: "http://0.0.0.0:8080", Loopback: true},
		{Name: "metadata over http", Raw: "http://169.254.169.254:80", Loopback: true},
		{Name: "loopback lookalike", Raw: "http://localhost.evil.example:8080", Loopback: true},
		{Name: "loopback userinfo", Raw: "http://u:p@127.0.0.1:8080", Loopback: true},
		{Name: "loopback query", Raw: "http://127.0.0.1:8080/org?x=1", Loopback: true},
		{Name: "loopback dot-dot", Raw: "http://127.0.0.1:8080/org/../admin", Loopback: true},
		{Name: "loopback double slash", Raw: "http://127.0.0.1:8080//org", Loopback: true},
	}...))
}
