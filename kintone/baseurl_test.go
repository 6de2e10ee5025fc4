package kintone

import (
	"errors"
	"testing"
)

func TestValidateBaseURL(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		raw      string
		loopback bool
		want     string // normalised URL; "" means refused
	}{
		// Accepted Kintone domains, normalised.
		{"cybozu.com", "https://acme.cybozu.com", false, "https://acme.cybozu.com"},
		{"trailing slash", "https://acme.cybozu.com/", false, "https://acme.cybozu.com"},
		{"upper case", "HTTPS://ACME.Cybozu.COM", false, "https://acme.cybozu.com"},
		{"one trailing dot", "https://acme.cybozu.com.", false, "https://acme.cybozu.com"},
		{"port 443", "https://acme.cybozu.com:443", false, "https://acme.cybozu.com"},
		{"kintone.com", "https://acme.kintone.com", false, "https://acme.kintone.com"},
		{"cybozu.cn", "https://acme.cybozu.cn", false, "https://acme.cybozu.cn"},
		{"secure access", "https://acme.s.cybozu.com", false, "https://acme.s.cybozu.com"},
		{"secure access us", "https://acme.s.kintone.com", false, "https://acme.s.kintone.com"},
		{"hyphen and digits", "https://acme-2024.cybozu.com", false, "https://acme-2024.cybozu.com"},
		{"loopback flag does not change https", "https://acme.cybozu.com", true, "https://acme.cybozu.com"},

		// Other hosts.
		{"other host", "https://example.com", false, ""},
		{"suffix as a label", "https://acme.cybozu.com.evil.example", false, ""},
		{"lookalike domain", "https://acmecybozu.com", false, ""},
		{"bare domain", "https://cybozu.com", false, ""},
		{"two labels", "https://a.b.cybozu.com", false, ""},
		{"secure access with two labels", "https://a.b.s.cybozu.com", false, ""},
		{"bare secure access domain", "https://s.kintone.com.", false, "https://s.kintone.com"},
		{"kintone.com lookalike", "https://acme.kintone.com.cn", false, ""},
		{"login domain of salesforce", "https://login.salesforce.com", false, ""},
		{"two trailing dots", "https://acme.cybozu.com..", false, ""},
		{"leading hyphen", "https://-acme.cybozu.com", false, ""},
		{"trailing hyphen", "https://acme-.cybozu.com", false, ""},
		{"underscore", "https://ac_me.cybozu.com", false, ""},
		{"empty label", "https://.cybozu.com", false, ""},
		{"label too long", "https://" + string(make64('a')) + ".cybozu.com", false, ""},

		// IDNA and Unicode tricks.
		{"punycode label", "https://xn--80ak6aa92e.cybozu.com", false, ""},
		{"fullwidth letters", "https://ａｃｍｅ.cybozu.com", false, ""},
		{"ideographic full stop", "https://acme。cybozu.com", false, ""},
		{"fullwidth full stop", "https://acme．cybozu.com", false, ""},
		{"cyrillic a", "https://аcme.cybozu.com", false, ""},
		{"percent-encoded dot", "https://acme%2ecybozu.com", false, ""},
		{"percent-encoded host", "https://%61cme.cybozu.com", false, ""},

		// IP literals and metadata endpoints.
		{"metadata IP", "https://169.254.169.254", false, ""},
		{"metadata IP with path", "https://169.254.169.254/latest/meta-data", false, ""},
		{"loopback IP over https", "https://127.0.0.1", false, ""},
		{"IPv6", "https://[::1]", false, ""},
		{"IPv6 mapped", "https://[::ffff:169.254.169.254]", false, ""},
		{"decimal IP", "https://2852039166", false, ""},

		// Scheme, user info, ports, paths, queries, fragments.
		{"http", "http://acme.cybozu.com", false, ""},
		{"http with loopback flag", "http://acme.cybozu.com", true, ""},
		{"ftp", "ftp://acme.cybozu.com", false, ""},
		{"no scheme", "acme.cybozu.com", false, ""},
		{"scheme-relative", "//acme.cybozu.com", false, ""},
		{"opaque", "https:acme.cybozu.com", false, ""},
		{"userinfo", "https://user:pass@acme.cybozu.com", false, ""},
		{"userinfo hiding host", "https://acme.cybozu.com@evil.example", false, ""},
		{"empty userinfo", "https://@acme.cybozu.com", false, ""},
		{"odd port", "https://acme.cybozu.com:8443", false, ""},
		{"port 80", "https://acme.cybozu.com:80", false, ""},
		{"empty port", "https://acme.cybozu.com:", false, ""},
		{"path", "https://acme.cybozu.com/k/v1", false, ""},
		{"query", "https://acme.cybozu.com?x=1", false, ""},
		{"empty query", "https://acme.cybozu.com/?", false, ""},
		{"fragment", "https://acme.cybozu.com#frag", false, ""},
		{"backslash", `https://evil.example\@acme.cybozu.com`, false, ""},
		{"space", "https://acme .cybozu.com", false, ""},
		{"newline", "https://acme.cybozu.com\n", false, ""},
		{"empty", "", false, ""},

		// Loopback test servers.
		{"loopback", "http://127.0.0.1:8080", true, "http://127.0.0.1:8080"},
		{"loopback path", "http://127.0.0.1:8080/org/acme/", true, "http://127.0.0.1:8080/org/acme"},
		{"localhost", "http://localhost:9000/org/acme", true, "http://localhost:9000/org/acme"},
		{"localhost upper", "http://LOCALHOST:9000", true, "http://localhost:9000"},
		{"loopback without flag", "http://127.0.0.1:8080", false, ""},
		{"loopback without port", "http://127.0.0.1/org/acme", true, ""},
		{"loopback port 0", "http://127.0.0.1:0", true, ""},
		{"loopback port too big", "http://127.0.0.1:70000", true, ""},
		{"loopback port leading zero", "http://127.0.0.1:08080", true, ""},
		{"other loopback address", "http://127.0.0.2:8080", true, ""},
		{"any address", "http://0.0.0.0:8080", true, ""},
		{"IPv6 loopback", "http://[::1]:8080", true, ""},
		{"metadata over http", "http://169.254.169.254:80", true, ""},
		{"loopback lookalike", "http://localhost.evil.example:8080", true, ""},
		{"loopback userinfo", "http://u:p@127.0.0.1:8080", true, ""},
		{"loopback query", "http://127.0.0.1:8080/org?x=1", true, ""},
		{"loopback dot-dot", "http://127.0.0.1:8080/org/../admin", true, ""},
		{"loopback escaped path", "http://127.0.0.1:8080/org%2Facme", true, ""},
		{"loopback double slash", "http://127.0.0.1:8080//org", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := ValidateBaseURL(tt.raw, tt.loopback)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ValidateBaseURL(%q) = %q, want an error", tt.raw, u)
				}
				if !errors.Is(err, ErrInvalidConfig) {
					t.Errorf("error %v does not wrap ErrInvalidConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ValidateBaseURL(%q): %v", tt.raw, err)
			}
			if got := u.String(); got != tt.want {
				t.Errorf("ValidateBaseURL(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func make64(c byte) []byte {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return b
}
