package ops

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// guard refuses requests for another Host (421) and requests from other
// sites that would change something (403), before they reach the River UI,
// the metrics or the basic auth. The package doc says what passes.
type guard struct {
	addr    hostPort   // Config.Addr; host "" when it names none (":9090")
	allowed []hostPort // Config.AllowedHosts; port "" matches any port
	logger  *slog.Logger
}

// hostPort is a Host value split and normalized: host in lower case, an IPv6
// address without brackets; port "" when absent.
type hostPort struct{ host, port string }

func newGuard(addr string, allowed []string, logger *slog.Logger) (*guard, error) {
	g := &guard{logger: logger}
	if addr != "" {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("ops: Config.Addr %q: %w", addr, err)
		}
		g.addr = hostPort{strings.ToLower(host), port}
	}
	for _, a := range allowed {
		if err := ValidateHost(a); err != nil {
			return nil, fmt.Errorf("ops: Config.AllowedHosts: %w", err)
		}
		hp, _ := splitHost(strings.TrimSpace(a))
		g.allowed = append(g.allowed, hp)
	}
	return g, nil
}

// wrap returns next behind the guard.
func (g *guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		safe := r.Method == http.MethodGet || r.Method == http.MethodHead
		probe := safe && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz")
		if !probe && !g.hostAllowed(r) {
			g.refuse(w, r, http.StatusMisdirectedRequest,
				fmt.Sprintf("misdirected request: this listener does not answer Host %q (see SYNCD_OPS_ALLOWED_HOSTS)", r.Host))
			return
		}
		if !safe {
			if msg := crossSite(r); msg != "" {
				g.refuse(w, r, http.StatusForbidden, msg)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (g *guard) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	g.logger.DebugContext(r.Context(), "ops listener refused a request", "status", status,
		"method", r.Method, "path", r.URL.Path, "host", r.Host,
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	http.Error(w, msg, status)
}

// hostAllowed reports whether r's Host names this listener: the address the
// connection reached, Config.Addr, a loopback name on the listener's port, or
// an allowed host.
func (g *guard) hostAllowed(r *http.Request) bool {
	hp, ok := splitHost(r.Host)
	if !ok {
		return false
	}
	port := g.addr.port
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if local, ok := splitHost(la.String()); ok {
			if hp == local {
				return true
			}
			port = local.port
		}
	}
	if g.addr.host != "" && hp == g.addr {
		return true
	}
	switch hp.host {
	case "localhost", "127.0.0.1", "::1":
		if hp.port == "" || hp.port == port {
			return true
		}
	}
	for _, a := range g.allowed {
		if a.host == hp.host && (a.port == "" || a.port == hp.port) {
			return true
		}
	}
	return false
}

// crossSite says why r, a request that may change something, is refused, or
// returns "" when it comes from this listener's own origin with a JSON body.
func crossSite(r *http.Request) string {
	site, origin := r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Origin")
	switch {
	case site != "" && site != "same-origin":
		return "forbidden: cross-site request (Sec-Fetch-Site: " + site + ")"
	case origin != "" && !sameOrigin(origin, r.Host):
		return "forbidden: cross-site request (Origin is not this listener)"
	case origin == "" && site == "":
		return "forbidden: no Origin; send Origin: http://" + r.Host
	}
	// Browsers cannot forge Sec-Fetch-Site; the River UI's own fetches send
	// their JSON as text/plain (fetch's default for a string), or no body.
	browser := site == "same-origin"
	ct := r.Header.Get("Content-Type")
	if ct == "" && browser && r.ContentLength == 0 {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || browser && mt == "text/plain") {
		return ""
	}
	return "forbidden: send JSON with Content-Type: application/json"
}

// sameOrigin reports whether origin (an Origin header) is http or https on
// host (the request's Host).
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Opaque == "" && u.User == nil &&
		u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.Host != "" && strings.EqualFold(u.Host, host)
}

// splitHost splits a Host value: "name", "name:port", "192.0.2.1:9090",
// "[::1]" or "[::1]:9090".
func splitHost(s string) (hostPort, bool) {
	var host, port string
	if h, p, err := net.SplitHostPort(s); err == nil {
		if p == "" {
			return hostPort{}, false
		}
		host, port = h, p
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	} else if !strings.Contains(s, ":") {
		host = s
	} else {
		return hostPort{}, false
	}
	if host == "" || strings.HasPrefix(s, "[") != strings.Contains(host, ":") {
		return hostPort{}, false // IPv6 in brackets, and only IPv6
	}
	return hostPort{strings.ToLower(host), port}, true
}

// ValidateHost reports whether s is a valid allowed host of the ops
// listener ([Config.AllowedHosts], SYNCD_OPS_ALLOWED_HOSTS): a host name or
// IP address, which matches on any port, or host:port, with an IPv6 address
// in brackets ("ops.example.com", "ops.example.com:9090", "10.0.0.7:9090",
// "[fd00::7]:9090"). Surrounding spaces are ignored.
func ValidateHost(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New("empty host")
	}
	if strings.Contains(s, "/") {
		return fmt.Errorf("%q: a host or host:port, not a URL", s)
	}
	hp, ok := splitHost(s)
	if !ok {
		if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
			return fmt.Errorf("%q: write an IPv6 address in brackets, such as [%s]", s, s)
		}
		return fmt.Errorf("%q: not a host or host:port", s)
	}
	if hp.port != "" {
		n, err := strconv.Atoi(hp.port)
		if err != nil || n < 1 || n > 65535 || strings.TrimLeft(hp.port, "0123456789") != "" {
			return fmt.Errorf("%q: port %q is not a number from 1 to 65535", s, hp.port)
		}
	}
	if strings.Contains(hp.host, ":") {
		if net.ParseIP(hp.host) == nil {
			return fmt.Errorf("%q: %q is not an IPv6 address", s, hp.host)
		}
		return nil
	}
	if len(hp.host) > 253 {
		return fmt.Errorf("%q: host name too long", s)
	}
	for _, label := range strings.Split(hp.host, ".") {
		if label == "" || len(label) > 63 || strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return fmt.Errorf("%q: %q is not a host name or IP address", s, hp.host)
		}
	}
	return nil
}
