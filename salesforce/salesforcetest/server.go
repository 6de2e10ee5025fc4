package salesforcetest

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/koeiq/syncd/salesforce"
)

const opToken = "token"

// Server is an in-memory Salesforce that serves any number of orgs, each under
// its own base URL (see [Server.AddOrg]).
type Server struct {
	ts *httptest.Server

	closing   chan struct{} // closed by Close: latencies end at once
	closeOnce sync.Once

	mu   sync.Mutex
	orgs map[string]*Org
}

// NewServer starts a Server on a loopback address (127.0.0.1). Close it when
// done.
func NewServer() *Server {
	s := &Server{closing: make(chan struct{}), orgs: make(map[string]*Org)}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// Close shuts the server down. Requests in flight, including those whose
// client has gone away, are performed at once without the rest of their
// latency, and Close waits for them.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.ts.Close()
}

// URL returns the server's base URL, http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.ts.URL }

var orgName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// AddOrg adds an org, served at URL() + "/org/" + name, and returns it. Name
// must be 1 to 40 lower-case letters, digits and hyphens. AddOrg panics on a
// name that is invalid or taken, or on invalid object definitions.
func (s *Server) AddOrg(name string, cfg OrgConfig) *Org {
	if !orgName.MatchString(name) {
		panic(fmt.Sprintf("salesforcetest: AddOrg: invalid org name %q", name))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.orgs[name]; dup {
		panic(fmt.Sprintf("salesforcetest: AddOrg: org %q exists", name))
	}
	o, err := newOrg(name, s.ts.URL+"/org/"+name, len(s.orgs), s.closing, cfg)
	if err != nil {
		panic("salesforcetest: AddOrg: " + err.Error())
	}
	s.orgs[name] = o
	return o
}

// reply is an answer to write: status and JSON body (none when nil).
type reply struct {
	status int
	body   any
}

type restError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitzero"` // nil: absent; []: "fields":[]
}

func errorReply(e *sfError) reply {
	var body []restError
	for _, e := range e.all() {
		body = append(body, restError{Message: e.msg, ErrorCode: e.code, Fields: e.fields})
	}
	return reply{status: e.status, body: body}
}

func notFound() reply {
	return errorReply(newError(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist"))
}

func writeReply(w http.ResponseWriter, rep reply) {
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	b, err := json.Marshal(rep.body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(rep.status)
	w.Write(b)
}

// drop closes the connection without answering.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// wait sleeps for d, or until the server closes. It does not watch the
// client: like Salesforce, which goes on with a request whose client timed
// out or disconnected, the server performs every request it has read; only
// the answer is lost.
func (o *Org) wait(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-o.closing:
	}
}

// splitPath splits an escaped path into unescaped segments, so that an
// external ID containing "%2F" stays one segment. One trailing slash is
// ignored.
func splitPath(escaped string) ([]string, bool) {
	escaped = strings.TrimPrefix(escaped, "/")
	escaped = strings.TrimSuffix(escaped, "/")
	if escaped == "" {
		return nil, true
	}
	segs := strings.Split(escaped, "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		segs[i] = u
	}
	return segs, true
}

// maxURIAndHeaders is Salesforce's limit for the URI, and for the URI plus
// the headers, of a REST request: 414 or 431 above it. (What the body of
// those answers holds is not documented; they come without one here.)
const maxURIAndHeaders = 16384

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	size := len(r.RequestURI)
	if size > maxURIAndHeaders {
		w.WriteHeader(http.StatusRequestURITooLong)
		return
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			size += len(k) + len(v) + 4 // "k: v\r\n"
		}
	}
	if size > maxURIAndHeaders {
		w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
		return
	}
	segs, ok := splitPath(r.URL.EscapedPath())
	if !ok || len(segs) < 2 || segs[0] != "org" {
		writeReply(w, notFound())
		return
	}
	s.mu.Lock()
	o := s.orgs[segs[1]]
	s.mu.Unlock()
	if o == nil {
		writeReply(w, notFound())
		return
	}
	rest := segs[2:]
	switch {
	case len(rest) == 3 && rest[0] == "services" && rest[1] == "oauth2" && rest[2] == "token":
		o.serveToken(w, r)
	case len(rest) == 2 && rest[0] == "services" && rest[1] == "data":
		o.serveVersions(w, r)
	case len(rest) >= 3 && rest[0] == "services" && rest[1] == "data":
		o.serveAPI(w, r, rest[2], rest[3:])
	case len(rest) == 1 && rest[0] != "services":
		// {instance URL}/{record ID}: the record's page in the browser.
		o.serveRecordPage(w, r, rest[0])
	default:
		writeReply(w, notFound())
	}
}

// serveVersions answers GET /services/data/, which needs no authentication
// and does not count against the limit.
func (o *Org) serveVersions(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.counts["versions"]++
	o.mu.Unlock()
	if r.Method != http.MethodGet {
		writeReply(w, methodNotAllowed(r.Method, "GET"))
		return
	}
	v := strings.TrimPrefix(salesforce.APIVersion, "v")
	writeReply(w, reply{status: http.StatusOK, body: []map[string]string{
		{"label": "Summer '26", "url": "/services/data/" + salesforce.APIVersion, "version": v},
	}})
}

func methodNotAllowed(method, allowed string) reply {
	return errorReply(newError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		fmt.Sprintf("HTTP Method '%s' not allowed. Allowed are %s", method, allowed)))
}

type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// serveToken is the OAuth 2.0 client credentials token endpoint.
func (o *Org) serveToken(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.counts[opToken]++
	fault, faulted := o.takeFault(opToken)
	o.mu.Unlock()

	formErr := r.ParseForm()
	if faulted {
		o.wait(fault.Latency)
	}
	oauthFail := func(code, desc string) {
		writeReply(w, reply{status: http.StatusBadRequest, body: oauthError{code, desc}})
	}
	if faulted {
		switch fault.Kind {
		case Fault503:
			writeReply(w, errorReply(newError(http.StatusServiceUnavailable, "SERVER_UNAVAILABLE", "Server temporarily unavailable")))
			return
		case FaultRequestLimit:
			oauthFail("rate_limit_exceeded", "rate limit exceeded")
			return
		}
	}
	if r.Method != http.MethodPost {
		oauthFail("invalid_request", "must use HTTP POST")
		return
	}
	if formErr != nil {
		oauthFail("invalid_request", "malformed request body")
		return
	}
	form := r.PostForm
	if form.Get("grant_type") != "client_credentials" {
		oauthFail("unsupported_grant_type", "grant type not supported")
		return
	}
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1: form-encoded before Basic encoding.
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(p)
	}

	o.mu.Lock()
	var fail *oauthError
	switch {
	case id != o.clientID:
		fail = &oauthError{"invalid_client_id", "client identifier invalid"}
	case subtle.ConstantTimeCompare([]byte(secret), []byte(o.clientSecret)) != 1:
		fail = &oauthError{"invalid_client", "invalid client credentials"}
	case o.tokenError != "":
		fail = &oauthError{o.tokenError, o.tokenErrorDesc}
	}
	var body map[string]string
	if fail == nil {
		token := o.orgID[:15] + "!" + randomString(40)
		o.tokens[token] = true
		issuedAt := strconv.FormatInt(time.Now().UnixMilli(), 10)
		identity := "https://login.salesforce.com/id/" + o.orgID + "/" + o.userID
		mac := hmac.New(sha256.New, []byte(o.clientSecret))
		mac.Write([]byte(identity + issuedAt))
		body = map[string]string{
			"access_token": token,
			"signature":    base64.StdEncoding.EncodeToString(mac.Sum(nil)),
			"scope":        "api",
			"instance_url": o.url,
			"id":           identity,
			"token_type":   "Bearer",
			"issued_at":    issuedAt,
		}
	}
	o.mu.Unlock()

	if fail != nil {
		oauthFail(fail.Error, fail.ErrorDescription)
		return
	}
	if faulted && fault.Kind == FaultDropAfterCommit {
		drop(w)
		return
	}
	writeReply(w, reply{status: http.StatusOK, body: body})
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// serveAPI handles a request under /services/data/{version}/: it counts it,
// authenticates it, charges it to the daily limit, applies latency and
// faults, and hands it to the operation. Once its body is read, a request is
// performed in full even if its client goes away.
func (o *Org) serveAPI(w http.ResponseWriter, r *http.Request, version string, rest []string) {
	op, handle := o.route(r.Method, version, rest)
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return
	}

	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "OAuth "); ok {
		token = t
	}
	o.mu.Lock()
	o.counts[op]++
	authed := token != "" && o.tokens[token]
	overLimit := false
	var fault Fault
	faulted := false
	if authed {
		o.inFlight++
		o.peakInFlight = max(o.peakInFlight, o.inFlight)
		if o.used >= o.limit {
			overLimit = true
		} else {
			o.used++
			fault, faulted = o.takeFault(op)
		}
	}
	latency := o.latency
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", o.used, o.limit))
	o.mu.Unlock()

	if !authed {
		writeReply(w, errorReply(newError(http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")))
		return
	}
	rep, dropConn := o.perform(r, body, handle, overLimit, latency, fault, faulted)
	// The request stops counting as in flight before its answer is written,
	// so that a client holding its answer sees it counted out.
	o.mu.Lock()
	o.inFlight--
	o.mu.Unlock()
	if dropConn {
		drop(w)
		return
	}
	writeReply(w, rep)
}

// perform serves an authenticated API request: the daily limit, latency,
// faults, then the operation. It returns the answer, or true to drop the
// connection instead.
func (o *Org) perform(r *http.Request, body []byte, handle handler, overLimit bool, latency time.Duration, fault Fault, faulted bool) (reply, bool) {
	if overLimit {
		return errorReply(newError(http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")), false
	}
	if faulted {
		latency += fault.Latency
	}
	o.wait(latency)
	if faulted {
		switch fault.Kind {
		case Fault503:
			return errorReply(newError(http.StatusServiceUnavailable, "SERVER_UNAVAILABLE", "Server temporarily unavailable")), false
		case FaultLockRow:
			return errorReply(newError(http.StatusBadRequest, "UNABLE_TO_LOCK_ROW",
				"unable to obtain exclusive access to this record or 1 records")), false
		case FaultRequestLimit:
			return errorReply(newError(http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")), false
		case FaultInvalidSession:
			return errorReply(newError(http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")), false
		case FaultError:
			return errorReply(newError(cmp.Or(fault.Status, http.StatusBadRequest), cmp.Or(fault.ErrorCode, "UNKNOWN_EXCEPTION"),
				"injected fault")), false
		}
	}
	rep := handle(r, body)
	return rep, faulted && fault.Kind == FaultDropAfterCommit
}
