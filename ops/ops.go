// Package ops serves what operators watch syncd with, on its own listener
// (SYNCD_OPS_LISTEN, 127.0.0.1:9090 by default):
//
//	/riverui/   the River UI: jobs by state, their args and errors; retry, cancel
//	/metrics    Prometheus metrics (package metrics)
//	/healthz    200 while the process is up
//	/readyz     200 when the database answers, the schema is migrated and River runs
//
// With a user and password configured, /riverui/ and /metrics require HTTP
// basic auth; /healthz and /readyz stay open for probes and say nothing but
// "ok" or what is not ready.
//
// # Other sites
//
// A browser that has the River UI open, or that merely reaches the listener
// (loopback, a port-forward), must not let another site's page drive it.
// Every request is checked before it reaches the River UI or the basic auth:
//
//   - Its Host must be this listener's: the configured address, the address
//     the connection reached, localhost, 127.0.0.1 or [::1] on the
//     listener's port, or one of [Config.AllowedHosts]. Anything else, such
//     as a DNS-rebinding page's own name, is answered 421 Misdirected
//     Request. GET and HEAD of /healthz and /readyz answer any Host:
//     probes address the pod or node by whatever IP they see.
//   - A request other than GET and HEAD must come from this listener's own
//     origin: its Origin must be the Host's (http or https), or, without an
//     Origin, Sec-Fetch-Site must say same-origin. Its body must be JSON
//     declared as application/json; from a browser page of the same origin
//     (Sec-Fetch-Site: same-origin) text/plain or no body is accepted too,
//     which is what the River UI's own buttons send. Anything else is
//     answered 403 Forbidden.
package ops

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/koeiq/syncd/metrics"
)

// Config configures the ops handler.
type Config struct {
	// River is the daemon's River client, whose jobs the UI shows.
	// Required.
	River *river.Client[pgx.Tx]

	// Metrics is what /metrics serves. Required.
	Metrics *metrics.Metrics

	// Ready reports why syncd is not ready, or nil. Required.
	Ready func(context.Context) error

	// User and Password, when both set, protect /riverui/ and /metrics with
	// basic auth (SYNCD_OPS_USER, SYNCD_OPS_PASSWORD). Default: no auth.
	User, Password string

	// Addr is the address the listener was told to listen on
	// (SYNCD_OPS_LISTEN), such as "127.0.0.1:9090". A request's Host may
	// name it, and its port is the listener's port when the connection does
	// not tell. Defaults to none: only the address each connection reached
	// and loopback names are accepted.
	Addr string

	// AllowedHosts are further Host values the listener answers, each a
	// host, which matches on any port, or a host:port (IPv6 in brackets)
	// (SYNCD_OPS_ALLOWED_HOSTS): the name an operator's browser or a
	// Prometheus elsewhere reaches the listener by. See [ValidateHost].
	// Defaults to none.
	AllowedHosts []string

	// Logger receives the River UI's errors and, at debug level, refused
	// requests. Defaults to discarding.
	Logger *slog.Logger
}

// NewHandler returns the ops handler. The River UI's background work runs
// until ctx ends.
func NewHandler(ctx context.Context, cfg *Config) (http.Handler, error) {
	if cfg == nil || cfg.River == nil || cfg.Metrics == nil || cfg.Ready == nil {
		return nil, errors.New("ops: Config.River, Metrics and Ready are required")
	}
	if (cfg.User == "") != (cfg.Password == "") {
		return nil, errors.New("ops: set both the user and the password, or neither")
	}
	logger := cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	g, err := newGuard(cfg.Addr, cfg.AllowedHosts, logger)
	if err != nil {
		return nil, err
	}

	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(cfg.River, nil),
		Logger:    logger.With("component", "riverui"),
		Prefix:    "/riverui",
	})
	if err != nil {
		return nil, err
	}
	if err := ui.Start(ctx); err != nil {
		return nil, err
	}

	protect := func(h http.Handler) http.Handler { return h }
	if cfg.User != "" {
		protect = func(h http.Handler) http.Handler { return basicAuth(cfg.User, cfg.Password, h) }
	}

	mux := http.NewServeMux()
	mux.Handle("/riverui/", protect(ui))
	mux.Handle("GET /metrics", protect(promhttp.HandlerFor(cfg.Metrics.Registry(), promhttp.HandlerOpts{})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := cfg.Ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + err.Error() + "\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /{$}", http.RedirectHandler("/riverui/", http.StatusFound))
	return g.wrap(mux), nil
}

// basicAuth requires user and password, compared in constant time.
func basicAuth(user, password string, next http.Handler) http.Handler {
	wantUser, wantPassword := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(password))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		gotUser, gotPassword := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
		userOK := subtle.ConstantTimeCompare(gotUser[:], wantUser[:]) == 1
		passwordOK := subtle.ConstantTimeCompare(gotPassword[:], wantPassword[:]) == 1
		if !ok || !userOK || !passwordOK {
			w.Header().Set("WWW-Authenticate", `Basic realm="syncd ops", charset="UTF-8"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
