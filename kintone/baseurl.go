package kintone

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ErrInvalidConfig is wrapped by every error that [NewClient] and
// [ValidateBaseURL] return. [Classify] maps it to [crm.ClassAuth]: the tenant's
// integration needs an administrator, not a retry.
var ErrInvalidConfig = errors.New("kintone: invalid configuration")

// kintoneSuffixes are the registrable domains under which cybozu.com hosts
// Kintone: {subdomain}.cybozu.com (Japan), {subdomain}.kintone.com (the US
// service) and {subdomain}.cybozu.cn (China). Each also has a Secure Access
// (client certificate) variant that inserts ".s": {subdomain}.s.cybozu.com.
// See the package documentation for the sources.
var kintoneSuffixes = []string{
	"s.cybozu.com",
	"cybozu.com",
	"s.kintone.com",
	"kintone.com",
	"s.cybozu.cn",
	"cybozu.cn",
}

// ValidateBaseURL checks that raw is the base URL of a Kintone environment and
// returns it normalised: scheme "https", host lower-cased without a trailing
// dot or ":443", and an empty path. It exists so that an API token is never
// sent to a server that is not Kintone.
//
// The host must be exactly one subdomain label followed by one of the Kintone
// domains: cybozu.com, kintone.com, cybozu.cn, or their Secure Access forms
// s.cybozu.com, s.kintone.com and s.cybozu.cn. The label is ASCII letters,
// digits and hyphens (no IDNA "xn--" labels). IP literals, user info, ports
// other than 443, paths other than "/", queries and fragments are refused.
//
// With allowInsecureLoopback, http://127.0.0.1:PORT and http://localhost:PORT
// are also accepted, optionally followed by a path (one test server can stand
// in for several Kintone domains, for example http://127.0.0.1:8080/org/acme);
// the path is kept without its trailing slash and every API path is appended
// to it. This is for tests and demos only.
func ValidateBaseURL(raw string, allowInsecureLoopback bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the input, which is fine: a base URL is not a
		// secret. Keep the message short all the same.
		return nil, fmt.Errorf("%w: base URL does not parse", ErrInvalidConfig)
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, fmt.Errorf("%w: base URL must be absolute, like https://example.cybozu.com", ErrInvalidConfig)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: base URL must not contain user info", ErrInvalidConfig)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawFragment != "" || strings.ContainsAny(raw, "?#") {
		return nil, fmt.Errorf("%w: base URL must not have a query or fragment", ErrInvalidConfig)
	}
	if strings.ContainsAny(u.Host, "%\\") {
		return nil, fmt.Errorf("%w: base URL host must not be escaped", ErrInvalidConfig)
	}

	host := strings.ToLower(u.Hostname())
	host = strings.TrimSuffix(host, ".")
	port := u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("%w: base URL has an empty port", ErrInvalidConfig)
	}

	switch strings.ToLower(u.Scheme) {
	case "https":
		if !isKintoneHost(host) {
			return nil, fmt.Errorf("%w: base URL host %q is not a Kintone domain (NAME.cybozu.com, NAME.kintone.com, NAME.cybozu.cn or their .s. forms)", ErrInvalidConfig, host)
		}
		if port != "" && port != "443" {
			return nil, fmt.Errorf("%w: base URL port must be empty or 443", ErrInvalidConfig)
		}
		if u.Path != "" && u.Path != "/" {
			return nil, fmt.Errorf("%w: base URL must not have a path", ErrInvalidConfig)
		}
		return &url.URL{Scheme: "https", Host: host}, nil

	case "http":
		if !allowInsecureLoopback {
			return nil, fmt.Errorf("%w: base URL must use https", ErrInvalidConfig)
		}
		if host != "127.0.0.1" && host != "localhost" {
			return nil, fmt.Errorf("%w: insecure base URL must be http://127.0.0.1:PORT or http://localhost:PORT", ErrInvalidConfig)
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return nil, fmt.Errorf("%w: insecure base URL needs an explicit port", ErrInvalidConfig)
		}
		path := strings.TrimSuffix(u.Path, "/")
		if u.RawPath != "" || !cleanPath(path) {
			return nil, fmt.Errorf("%w: insecure base URL path must be plain segments like /org/acme", ErrInvalidConfig)
		}
		return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: path}, nil

	default:
		return nil, fmt.Errorf("%w: base URL must use https", ErrInvalidConfig)
	}
}

// isKintoneHost reports whether host (lower-cased, no trailing dot) is one
// subdomain label followed by a Kintone domain.
func isKintoneHost(host string) bool {
	if net.ParseIP(host) != nil {
		return false
	}
	for _, suffix := range kintoneSuffixes {
		label, ok := strings.CutSuffix(host, "."+suffix)
		if !ok {
			continue
		}
		// The longer Secure Access suffixes come first, so "acme.s.cybozu.com"
		// matched "s.cybozu.com" with label "acme"; a label still containing a
		// dot has extra levels and is refused.
		return isSubdomainLabel(label)
	}
	return false
}

// isSubdomainLabel reports whether s is a plain ASCII DNS label: letters,
// digits and inner hyphens, at most 63 characters, not an IDNA A-label.
func isSubdomainLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	if strings.HasPrefix(s, "xn--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// cleanPath reports whether p is empty or a sequence of "/segment" parts made
// of unreserved characters, with no "." or ".." segments.
func cleanPath(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != '/' {
		return false
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
				return false
			}
		}
	}
	return true
}
