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

	// Logger receives the River UI's errors. Defaults to discarding.
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
	return mux, nil
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
