package salesforce

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// ErrInvalidInstanceURL is wrapped by every error of [ValidateInstanceURL].
var ErrInvalidInstanceURL = errors.New("salesforce: invalid instance URL")

// myDomainHost matches a lower-cased My Domain host:
// NAME[--SANDBOX].[PARTITION.]my.salesforce.com. NAME and SANDBOX are
// letters, digits and single hyphens, so an IDNA "xn--" label can only come
// out as NAME "xn" with a sandbox, which validateMyDomain refuses.
var myDomainHost = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*(?:--[a-z0-9]+(?:-[a-z0-9]+)*)?\.(?:(?:sandbox|develop|scratch|demo|patch|trailblaze)\.)?my\.salesforce\.com$`)

// ValidateInstanceURL checks that raw is the address of a Salesforce org's My
// Domain and returns it normalised, so that the client secret and access
// tokens are only ever sent to Salesforce.
//
// Accepted: https, port empty or 443, no user info, path empty or "/", no
// query or fragment, and a host of the form
//
//	NAME[--SANDBOX].[sandbox.|develop.|scratch.|demo.|patch.|trailblaze.]my.salesforce.com
//
// compared lower-cased with one trailing dot removed. IP literals,
// login.salesforce.com and test.salesforce.com (where the client credentials
// flow does not work), IDNA labels and any character outside printable ASCII
// (or a backslash or percent sign anywhere) are refused. The result is
// "https://HOST" with no port and no path.
//
// With allowInsecureLoopback, for tests and demos, raw may instead be
// http://127.0.0.1:PORT or http://localhost:PORT, optionally followed by a
// path of letters, digits and "-._~/" (one test server can stand in for several
// orgs: http://127.0.0.1:PORT/org/acme). The result keeps the path without a
// trailing slash; every Salesforce path is appended to it.
//
// Errors wrap [ErrInvalidInstanceURL] and never quote raw.
func ValidateInstanceURL(raw string, allowInsecureLoopback bool) (*url.URL, error) {
	invalid := func(reason string) (*url.URL, error) {
		return nil, fmt.Errorf("%w: %s", ErrInvalidInstanceURL, reason)
	}
	if raw == "" {
		return invalid("it is empty")
	}
	if len(raw) > 2048 {
		return invalid("it is too long")
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || c == '\\' || c == '%' {
			return invalid("it contains a character that is not allowed (spaces, non-ASCII, backslash or percent-encoding)")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("it cannot be parsed")
	}
	switch {
	case u.Opaque != "" || u.Host == "":
		return invalid("it must be an absolute URL such as https://mydomain.my.salesforce.com")
	case u.User != nil || strings.Contains(raw, "@"):
		return invalid("it must not contain user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(raw, "?#"):
		return invalid("it must not have a query or fragment")
	case strings.HasSuffix(u.Host, ":"):
		return invalid("it has an empty port")
	case strings.HasPrefix(u.Host, "["):
		return invalid("its host must not be an IP address")
	}

	switch u.Scheme {
	case "https":
		return validateMyDomain(u, invalid)
	case "http":
		if allowInsecureLoopback {
			return validateLoopback(u, invalid)
		}
		return invalid("it must use https")
	}
	return invalid("it must use https")
}

func validateMyDomain(u *url.URL, invalid func(string) (*url.URL, error)) (*url.URL, error) {
	if p := u.Port(); p != "" && p != "443" {
		return invalid("its port must be empty or 443")
	}
	if u.Path != "" && u.Path != "/" {
		return invalid("it must not have a path")
	}
	host := strings.ToLower(u.Hostname())
	host = strings.TrimSuffix(host, ".")
	switch {
	case host == "" || strings.HasSuffix(host, "."):
		return invalid("its host is malformed")
	case net.ParseIP(host) != nil || isAllDigitsAndDots(host):
		return invalid("its host must not be an IP address")
	case host == "login.salesforce.com" || host == "test.salesforce.com":
		return invalid("login.salesforce.com and test.salesforce.com do not support the client credentials flow; use the org's My Domain (NAME.my.salesforce.com)")
	case !myDomainHost.MatchString(host):
		return invalid("its host is not a Salesforce My Domain (NAME.my.salesforce.com, NAME--SANDBOX.sandbox.my.salesforce.com, ...)")
	}
	label, _, _ := strings.Cut(host, ".")
	if len(label) > 63 {
		return invalid("its host is malformed")
	}
	if strings.HasPrefix(label, "xn--") {
		return invalid("its host must not be an internationalised (xn--) name")
	}
	return &url.URL{Scheme: "https", Host: host}, nil
}

func validateLoopback(u *url.URL, invalid func(string) (*url.URL, error)) (*url.URL, error) {
	host := strings.ToLower(u.Hostname())
	if host != "127.0.0.1" && host != "localhost" {
		return invalid("an http URL must be http://127.0.0.1:PORT or http://localhost:PORT")
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port < 1 || port > 65535 || strconv.Itoa(port) != u.Port() {
		return invalid("a loopback URL needs a port between 1 and 65535")
	}
	path := u.Path
	if path != "" {
		for i := 0; i < len(path); i++ {
			c := path[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~/", c) >= 0) {
				return invalid("its path contains a character that is not allowed")
			}
		}
		path = strings.TrimSuffix(path, "/")
		if path != "" {
			for seg := range strings.SplitSeq(path[1:], "/") {
				if seg == "" || seg == "." || seg == ".." {
					return invalid("its path is malformed")
				}
			}
		}
	}
	return &url.URL{Scheme: "http", Host: host + ":" + strconv.Itoa(port), Path: path}, nil
}

// isAllDigitsAndDots catches numeric hosts that some resolvers read as IPv4
// addresses ("2130706433", "127.1").
func isAllDigitsAndDots(host string) bool {
	for i := 0; i < len(host); i++ {
		if c := host[i]; (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}
