// Package admin serves syncd's admin HTTP API (SPEC §6): tenant admins
// configure their CRM integrations ("Admin → Settings → Salesforce
// Integration → Save Salesforce Settings"), test the connection, and look at
// and re-push single calls.
//
// # Who may do what
//
// Every request carries Authorization: Bearer <JWT>, signed HS256 with the
// shared secret (SYNCD_ADMIN_JWT_SECRET), with the claims tenant_id, role,
// sub and exp, and iss and aud when the API is configured to require them
// (Config.JWTIssuer, Config.JWTAudience). A missing or bad token is
// answered 401, a role other than "admin" 403. The tenant is always the token's, never one named in the
// request: no path, query or body names a tenant.
//
// # Routes
//
//	GET  /api/v1/integrations/salesforce        the settings, secret redacted
//	PUT  /api/v1/integrations/salesforce        validate, check with the org, save
//	POST /api/v1/integrations/salesforce/test   token + describe: what would stop a push
//	GET  /api/v1/integrations/kintone           (the same three for Kintone)
//	PUT  /api/v1/integrations/kintone
//	POST /api/v1/integrations/kintone/test
//	GET  /api/v1/calls/{call_id}/sync           per target: state, record ID and link, last error
//	POST /api/v1/calls/{call_id}/resync         push the call again
//	GET  /api/v1/calls?state=&q=&limit=&after=  the sync log, a page at a time
//	POST /api/v1/calls/retry-failed             push every failed call again
//	GET  /api/v1/summary                        the sync log's summary line
//	POST /api/v1/test-call                      send a test call through the outbox
//
// and the Salesforce Integration page at /admin/ (see page.go), which uses
// these routes and no others.
//
// Bodies are one JSON object of at most 64 KiB; anything else is refused
// with 400, and so, with a message naming the field, are unknown fields
// (names match exactly, not case-insensitively as encoding/json would),
// fields given twice and values of the wrong type. Errors are
// {"error": "<code>", "message": "<human text>"}, with "field" or "reason"
// when there is one. Secrets are never returned: the settings say
// "client_secret_set" or "api_token_set" instead.
package admin

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/outbox"
	"github.com/koeiq/syncd/settings"
)

// Config configures the admin API.
type Config struct {
	// Pool is syncd's database, its connections using syncd's schema as
	// search_path. Required.
	Pool *pgxpool.Pool

	// Settings reads and saves tenants' settings. Required.
	Settings *settings.Store

	// Schema is syncd's schema, where "Send a test call" enqueues
	// (SYNCD_SCHEMA). Defaults to "syncd".
	Schema string

	// BudgetHoldShare is the share of an org's daily API requests above
	// which syncd holds its calls back (SYNCD_API_BUDGET_HOLD, as
	// jobs.Config.BudgetHoldShare); the summary says so. Defaults to 0.95.
	BudgetHoldShare float64

	// JWTSecret verifies the HS256 tokens (SYNCD_ADMIN_JWT_SECRET); at least
	// 32 bytes. Required.
	JWTSecret []byte

	// JWTIssuer, when set, is the iss claim every token must carry
	// (SYNCD_ADMIN_JWT_ISSUER); a token from another issuer, or with none,
	// is answered 401. Defaults to empty: iss is not checked.
	JWTIssuer string

	// JWTAudience, when set, must be the token's aud claim, or one of its
	// values when aud is an array (RFC 7519 §4.1.3;
	// SYNCD_ADMIN_JWT_AUDIENCE); a token for another audience, or with
	// none, is answered 401. Defaults to empty: aud is not checked.
	JWTAudience string

	// ClockSkew is how far a token's exp and nbf may be off. Defaults to 30
	// seconds.
	ClockSkew time.Duration

	// MaxBodyBytes bounds request bodies. Defaults to 64 KiB.
	MaxBodyBytes int64

	// Logger receives one line per request: method, route, status, tenant,
	// duration; never bodies or headers. Defaults to discarding.
	Logger *slog.Logger
}

// MinSecretLength is the shortest JWT secret accepted.
const MinSecretLength = 32

// server holds the handlers' dependencies.
type server struct {
	cfg    Config
	logger *slog.Logger
	auth   *authenticator
}

// NewHandler returns the admin API.
func NewHandler(cfg *Config) (http.Handler, error) {
	if cfg == nil || cfg.Pool == nil || cfg.Settings == nil {
		return nil, errors.New("admin: Config.Pool and Config.Settings are required")
	}
	if len(cfg.JWTSecret) < MinSecretLength {
		return nil, errors.New("admin: the JWT secret must be at least 32 bytes")
	}
	s := &server{cfg: *cfg}
	s.cfg.ClockSkew = cmp.Or(s.cfg.ClockSkew, 30*time.Second)
	s.cfg.MaxBodyBytes = cmp.Or(s.cfg.MaxBodyBytes, 64<<10)
	s.cfg.Schema = cmp.Or(s.cfg.Schema, outbox.DefaultSchema)
	s.cfg.BudgetHoldShare = cmp.Or(s.cfg.BudgetHoldShare, 0.95)
	s.logger = cmp.Or(s.cfg.Logger, slog.New(slog.DiscardHandler))
	s.auth = newAuthenticator(&s.cfg)

	mux := http.NewServeMux()
	allowed := map[string][]string{} // path -> methods, for 405 answers
	route := func(pattern string, h func(http.ResponseWriter, *http.Request, *Claims) error) {
		mux.Handle(pattern, s.admin(h))
		method, path, _ := strings.Cut(pattern, " ")
		allowed[path] = append(allowed[path], method)
	}
	route("GET /api/v1/integrations/salesforce", s.getSalesforce)
	route("PUT /api/v1/integrations/salesforce", s.putSalesforce)
	route("POST /api/v1/integrations/salesforce/test", s.testSalesforce)
	route("GET /api/v1/integrations/kintone", s.getKintone)
	route("PUT /api/v1/integrations/kintone", s.putKintone)
	route("POST /api/v1/integrations/kintone/test", s.testKintone)
	route("GET /api/v1/calls/{call_id}/sync", s.callSync)
	route("POST /api/v1/calls/{call_id}/resync", s.resync)
	route("GET /api/v1/calls", s.listCalls)
	route("POST /api/v1/calls/retry-failed", s.retryFailed)
	route("GET /api/v1/summary", s.getSummary)
	route("POST /api/v1/test-call", s.testCall)
	for path, methods := range allowed {
		allow := strings.Join(methods, ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, &apiError{status: http.StatusMethodNotAllowed, code: "method_not_allowed", message: "use " + allow})
		})
	}
	mux.Handle("GET /admin/", page())
	mux.Handle("GET /admin", http.RedirectHandler("/admin/", http.StatusMovedPermanently))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, code: "not_found", message: "no such endpoint"})
	})
	return s.logRequests(mux), nil
}

// admin wraps a handler that needs a tenant admin: it authenticates the
// token, requires the admin role, and turns the handler's error into a JSON
// answer.
func (s *server) admin(h func(http.ResponseWriter, *http.Request, *Claims) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, err := s.auth.authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="syncd"`)
			writeError(w, &apiError{status: http.StatusUnauthorized, code: "unauthorized", message: err.Error()})
			return
		}
		if rec, ok := w.(*statusRecorder); ok {
			rec.tenant = claims.TenantID // for the request log
		}
		if claims.Role != RoleAdmin {
			writeError(w, &apiError{status: http.StatusForbidden, code: "forbidden", message: "only a tenant admin may do this"})
			return
		}
		if err := h(w, r, claims); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// statusRecorder remembers the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	tenant string
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// logRequests logs one line per request, without bodies or headers.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(rec, r) // the mux records the route's pattern in r
		s.logger.InfoContext(r.Context(), "admin request",
			"method", r.Method, "route", cmp.Or(r.Pattern, "(none)"), "status", rec.status,
			"tenant", rec.tenant, "duration", time.Since(start))
	})
}
