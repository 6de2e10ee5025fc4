package kintonetest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/koeiq/syncd/kintone"
)

// Server is an in-memory Kintone: one HTTP server hosting any number of
// Kintone domains ("bases"), each with any number of apps. It is safe for
// concurrent use.
type Server struct {
	srv      *httptest.Server
	closing  chan struct{}
	inFlight atomic.Int64

	mu      sync.Mutex
	domains map[string]map[int64]*App // base -> app ID -> app
	closed  bool
}

// NewServer starts a server on a loopback port. Close it when done.
func NewServer() *Server {
	s := &Server{
		closing: make(chan struct{}),
		domains: make(map[string]map[int64]*App),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/org/{base}/k/v1/{api...}", s.serve)
	s.srv = httptest.NewServer(mux)
	return s
}

// URL returns the server's root, http://127.0.0.1:PORT. Kintone domains live
// under it at /org/{base}; see [App.URL].
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server, cutting short any injected latency.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	s.srv.Close()
}

// AppConfig configures a test app.
type AppConfig struct {
	// AppID is the app's ID, unique within its base. Defaults to the next
	// free ID in the base, starting at 1.
	AppID int64

	// APIToken is the app's API token. It has every permission. Required.
	APIToken string

	// Fields is the app's form. Defaults to CallApp().
	Fields []FieldDef

	// Latency delays every response of the app. Defaults to none.
	Latency time.Duration

	// NoUpsertMode makes Update Records ignore "upsert": true, like a Kintone
	// from before upsert mode existed. Defaults to false.
	NoUpsertMode bool
}

var baseRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// AddApp creates an app in the Kintone domain named base (lower-case letters,
// digits and hyphens), which the server serves under /org/{base}: its base
// URL, for kintone.Config.BaseURL with AllowInsecureLoopback, is
// [App.URL]. Apps added with the same base share a domain, so one app's
// token is "a token of another app" to the other. AddApp panics on an
// invalid configuration.
func (s *Server) AddApp(base string, cfg AppConfig) *App {
	if !baseRE.MatchString(base) {
		panic(fmt.Sprintf("kintonetest: invalid base %q", base))
	}
	if cfg.APIToken == "" {
		panic("kintonetest: AppConfig.APIToken is required")
	}
	fields := cfg.Fields
	if fields == nil {
		fields = CallApp()
	}
	checkFields(fields)

	s.mu.Lock()
	defer s.mu.Unlock()
	apps := s.domains[base]
	if apps == nil {
		apps = make(map[int64]*App)
		s.domains[base] = apps
	}
	id := cfg.AppID
	if id == 0 {
		id = 1
		for apps[id] != nil {
			id++
		}
	}
	if id < 0 || apps[id] != nil {
		panic(fmt.Sprintf("kintonetest: app %d already exists in %q or is invalid", id, base))
	}
	a := &App{
		s:        s,
		base:     base,
		id:       id,
		token:    cfg.APIToken,
		fields:   slices.Clone(fields),
		byCode:   make(map[string]FieldDef, len(fields)),
		latency:  cfg.Latency,
		noUpsert: cfg.NoUpsertMode,
		records:  make(map[int64]*storedRecord),
		nextID:   1,
		requests: make(map[string]int),
	}
	for i := range a.fields {
		if a.fields[i].Label == "" {
			a.fields[i].Label = a.fields[i].Code
		}
		a.byCode[a.fields[i].Code] = a.fields[i]
	}
	apps[id] = a
	return a
}

// App is one Kintone app on a [Server].
type App struct {
	s        *Server
	base     string
	id       int64
	latency  time.Duration
	noUpsert bool
	fields   []FieldDef
	byCode   map[string]FieldDef

	// Guarded by s.mu.
	token    string
	records  map[int64]*storedRecord
	nextID   int64
	faults   []*Fault
	requests map[string]int
}

type storedRecord struct {
	id       int64
	revision int64
	values   map[string]any // string, or []string for CHECK_BOX and MULTI_SELECT
}

func (r *storedRecord) clone() *storedRecord {
	c := *r
	c.values = make(map[string]any, len(r.values))
	for k, v := range r.values {
		if l, ok := v.([]string); ok {
			v = slices.Clone(l)
		}
		c.values[k] = v
	}
	return &c
}

// URL returns the base URL of the app's Kintone domain,
// http://127.0.0.1:PORT/org/{base}.
func (a *App) URL() string { return a.s.srv.URL + "/org/" + a.base }

// ID returns the app ID.
func (a *App) ID() int64 { return a.id }

// Records returns all records, ordered by record ID. Each holds every field
// of the form with its value as Kintone stores it (a string, "" when unset,
// or a []string for check box and multi-select fields; dates and datetimes
// normalised) plus "$id" and "$revision" as strings.
func (a *App) Records() []kintone.Record {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	ids := slices.Sorted(maps.Keys(a.records))
	out := make([]kintone.Record, 0, len(ids))
	for _, id := range ids {
		out = append(out, a.records[id].export(a.fields))
	}
	return out
}

// Record returns the record with the given ID, as [App.Records] does.
func (a *App) Record(id string) (kintone.Record, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, false
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	r, ok := a.records[n]
	if !ok {
		return nil, false
	}
	return r.export(a.fields), true
}

func (r *storedRecord) export(fields []FieldDef) kintone.Record {
	rec := make(kintone.Record, len(fields)+2)
	values := r.clone().values
	for _, f := range fields {
		v, ok := values[f.Code]
		switch {
		case ok:
			rec[f.Code] = v
		case multiTypes[f.Type]:
			rec[f.Code] = []string{}
		default:
			rec[f.Code] = ""
		}
	}
	rec["$id"] = strconv.FormatInt(r.id, 10)
	rec["$revision"] = strconv.FormatInt(r.revision, 10)
	return rec
}

// DeleteRecord deletes a record, as a user might in the Kintone UI. Deleting a
// missing record does nothing.
func (a *App) DeleteRecord(id string) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	delete(a.records, n)
}

// SetAPIToken replaces the app's API token, as regenerating it in the app's
// settings would; the old token stops working.
func (a *App) SetAPIToken(tok string) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	a.token = tok
}

// Requests returns how many requests of a kind reached the app, whatever
// their outcome: "add" (POST record.json), "add_many" (POST records.json),
// "update" (PUT record.json, or PUT records.json without upsert), "upsert"
// (PUT records.json with "upsert": true), "get" (GET record.json), "query"
// (GET records.json) or "fields" (GET app/form/fields.json). An empty op
// counts every request.
func (a *App) Requests(op string) int {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	if op == "" {
		n := 0
		for _, c := range a.requests {
			n += c
		}
		return n
	}
	return a.requests[op]
}

// FaultKind is a kind of injected failure.
type FaultKind int

const (
	// FaultUnavailable answers 503 with an HTML page, as a load balancer in
	// front of Kintone would, without processing the request.
	FaultUnavailable FaultKind = iota + 1

	// FaultRateLimit answers 429 with code GAIA_TO04 ("the number of
	// concurrent API requests exceeds the limit") and the
	// X-ConcurrencyLimit-* headers, without processing the request.
	FaultRateLimit

	// FaultDatabaseLock answers 520 with code GAIA_RE18 ("the database lock
	// failed; try again later"), without processing the request.
	FaultDatabaseLock

	// FaultDropAfterCommit processes the request, commits any write, then
	// closes the connection without a response: the client cannot know
	// whether its write happened. A request that fails is answered as
	// usual. Use it on writes: Go's HTTP client may resend a GET whose
	// connection dropped.
	FaultDropAfterCommit

	// FaultLatency delays the response by Fault.Latency, then processes the
	// request normally.
	FaultLatency
)

// Fault is a failure injected into an app's responses with
// [App.InjectFault].
type Fault struct {
	// Kind is what goes wrong.
	Kind FaultKind

	// Op restricts the fault to one kind of request, named as in
	// [App.Requests]. Defaults to every kind.
	Op string

	// Times is how many matching requests the fault affects. Defaults to 1;
	// a negative value means every matching request until [App.ClearFaults].
	Times int

	// Latency is the delay of a FaultLatency.
	Latency time.Duration
}

// InjectFault queues a fault. Each request takes the first queued fault that
// matches its kind and has uses left.
func (a *App) InjectFault(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	a.faults = append(a.faults, &f)
}

// ClearFaults removes every queued fault.
func (a *App) ClearFaults() {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	a.faults = nil
}

// takeFault returns the fault for a request of kind op, consuming one use.
// The caller holds s.mu.
func (a *App) takeFault(op string) *Fault {
	for i, f := range a.faults {
		if f.Op != "" && f.Op != op {
			continue
		}
		got := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				a.faults = slices.Delete(a.faults, i, i+1)
			}
		}
		return &got
	}
	return nil
}

// apiError is Kintone's error response body.
type apiError struct {
	status  int
	Code    string                    `json:"code"`
	ID      string                    `json:"id"`
	Message string                    `json:"message"`
	Errors  map[string]fieldErrorList `json:"errors,omitempty"`
}

type fieldErrorList struct {
	Messages []string `json:"messages"`
}

func newError(status int, code, message string) *apiError {
	return &apiError{status: status, Code: code, ID: errorID(), Message: message}
}

// errorID returns a random error ID like Kintone's.
func errorID() string { return rand.Text()[:20] }

// validationError is CB_VA01 with per-field messages.
func validationError(errs map[string][]string) *apiError {
	e := newError(http.StatusBadRequest, "CB_VA01", "Missing or invalid input.")
	e.Errors = make(map[string]fieldErrorList, len(errs))
	for k, v := range errs {
		e.Errors[k] = fieldErrorList{Messages: v}
	}
	return e
}

var errInvalidJSON = newError(http.StatusBadRequest, "CB_IJ01", "Invalid JSON string.")

// maxRequestBytes caps request bodies.
const maxRequestBytes = 16 << 20

// serve handles /org/{base}/k/v1/{api...}.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	w.Header().Set("X-ConcurrencyLimit-Limit", "100")
	w.Header().Set("X-ConcurrencyLimit-Running", strconv.FormatInt(s.inFlight.Load(), 10))

	op, ok := opOf(r.Method, r.PathValue("api"))
	if !ok {
		http.NotFound(w, r)
		return
	}

	var body []byte
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, maxRequestBytes))
		if err != nil {
			return
		}
	}
	var payload map[string]json.RawMessage
	if body != nil {
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &payload) != nil || payload == nil {
			s.writeError(w, errInvalidJSON)
			return
		}
		if op == "update_many" {
			op = "update"
			var upsert bool
			if json.Unmarshal(payload["upsert"], &upsert) == nil && upsert {
				op = "upsert"
			}
		}
	}

	appID, aerr := appParam(r, payload)
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}

	s.mu.Lock()
	apps, ok := s.domains[r.PathValue("base")]
	if !ok {
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	app := apps[appID]
	if app == nil {
		s.mu.Unlock()
		s.writeError(w, newError(http.StatusNotFound, "GAIA_AP01", fmt.Sprintf("The app (ID: %d) not found. The app may have been deleted.", appID)))
		return
	}
	app.requests[op]++
	fault := app.takeFault(op)
	s.mu.Unlock()

	delay := app.latency
	if fault != nil && fault.Kind == FaultLatency {
		delay += fault.Latency
	}
	if delay > 0 && !s.sleep(r.Context(), delay) {
		return
	}

	if fault != nil {
		switch fault.Kind {
		case FaultUnavailable:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n")
			return
		case FaultRateLimit:
			w.Header().Set("X-Cybozu-Error", "GAIA_TO04")
			w.Header().Set("X-ConcurrencyLimit-Running", "101")
			s.writeError(w, newError(http.StatusTooManyRequests, "GAIA_TO04", "The number of concurrent API requests exceeds the limit."))
			return
		case FaultDatabaseLock:
			s.writeError(w, newError(520, "GAIA_RE18", "Failed to lock the database. Changes were not saved. Please try again later."))
			return
		}
	}

	s.mu.Lock()
	resp, herr := app.handle(r, op, payload)
	s.mu.Unlock()
	if herr != nil {
		s.writeError(w, herr)
		return
	}

	if fault != nil && fault.Kind == FaultDropAfterCommit {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	s.writeJSON(w, http.StatusOK, resp)
}

// sleep waits for d, returning false if the request or the server ends
// first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// opOf names the request kind of a method and API path; update_many is
// refined to "update" or "upsert" once the body is read.
func opOf(method, api string) (string, bool) {
	switch method + " " + api {
	case "POST record.json":
		return "add", true
	case "PUT record.json":
		return "update", true
	case "GET record.json":
		return "get", true
	case "POST records.json":
		return "add_many", true
	case "PUT records.json":
		return "update_many", true
	case "GET records.json":
		return "query", true
	case "GET app/form/fields.json":
		return "fields", true
	}
	return "", false
}

// appParam reads the app ID from the query string (GET) or the JSON body.
func appParam(r *http.Request, payload map[string]json.RawMessage) (int64, *apiError) {
	var raw string
	if payload != nil {
		var v any
		if err := json.Unmarshal(payload["app"], &v); err == nil {
			switch v := v.(type) {
			case float64:
				raw = strconv.FormatFloat(v, 'f', -1, 64)
			case string:
				raw = v
			}
		}
	} else {
		raw = r.URL.Query().Get("app")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, validationError(map[string][]string{"app": {"Required."}})
	}
	return id, nil
}

// authenticate checks X-Cybozu-API-Token against the app's domain. The
// caller holds s.mu.
func (a *App) authenticate(r *http.Request) *apiError {
	header := r.Header.Get("X-Cybozu-API-Token")
	if strings.TrimSpace(header) == "" {
		return newError(http.StatusUnauthorized, "CB_AU01", "Please login.")
	}
	seen := make(map[int64]bool)
	matched := false
	for _, tok := range strings.Split(header, ",") {
		tok = strings.TrimSpace(tok)
		var owner *App
		for _, other := range a.s.domains[a.base] {
			if tok != "" && other.token == tok {
				owner = other
			}
		}
		if owner == nil {
			return newError(http.StatusBadRequest, "GAIA_IA02", "The specified API token does not match the API token generated via an app.")
		}
		if seen[owner.id] {
			return newError(http.StatusBadRequest, "GAIA_DA03", "You cannot specify a duplicate API token for the same app.")
		}
		seen[owner.id] = true
		matched = matched || owner == a
	}
	if !matched {
		return newError(http.StatusBadRequest, "GAIA_IA02", "The specified API token does not match the API token generated via an app.")
	}
	return nil
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	s.writeJSON(w, e.status, e)
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}
