package salesforce

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/koeiq/syncd/crm"
)

// APIVersion is the Salesforce REST API version used for every call
// (Summer '26).
const APIVersion = "v67.0"

const (
	defaultTimeout   = 30 * time.Second
	maxResponseBytes = 64 << 20
)

// Operation names, as passed to Config.OnRequest.
const (
	opToken            = "token"
	opCreate           = "create"
	opUpdate           = "update"
	opUpsert           = "upsert"
	opQuery            = "query"
	opDescribe         = "describe"
	opCollectionCreate = "collection_create"
	opCollectionUpdate = "collection_update"
	opCollectionUpsert = "collection_upsert"
	opComposite        = "composite"
)

// Config configures a [Client]: one org, one set of client credentials.
type Config struct {
	// InstanceURL is the org's My Domain URL, such as
	// https://acme.my.salesforce.com. It is checked with
	// [ValidateInstanceURL].
	InstanceURL string

	// ClientID is the External Client App's consumer key.
	ClientID string

	// ClientSecret is the External Client App's consumer secret. It is sent
	// only to InstanceURL's token endpoint and never appears in logs, errors
	// or the formatting of a Config or Client: printed, marshalled or
	// logged, it is "[REDACTED]".
	ClientSecret crm.Secret

	// AllowInsecureLoopback permits http://127.0.0.1:PORT[/path] and
	// http://localhost:PORT[/path] as InstanceURL and as the instance_url of
	// the token response (tests, demos). Defaults to false.
	AllowInsecureLoopback bool

	// Timeout bounds each HTTP request, token requests included, from
	// sending it to reading the whole response. Defaults to 30 seconds.
	Timeout time.Duration

	// Transport is the base RoundTripper. Defaults to a clone of
	// http.DefaultTransport.
	Transport http.RoundTripper `json:"-"`

	// OnRequest, when set, is called after every HTTP request with the
	// operation ("token", "create", "update", "upsert", "query", "describe",
	// "collection_create", "collection_update", "collection_upsert",
	// "composite"), the HTTP status (0 for a network error) and the time
	// until the response headers arrived. It is meant for metrics, is called from the goroutine
	// making the request and must not block. Defaults to nil.
	OnRequest func(op string, status int, elapsed time.Duration) `json:"-"`

	// Logger receives a debug line per request, an info line when a session
	// expired and a warning when a token request fails: operation, status,
	// error code and fields, never secrets, tokens or Salesforce's messages.
	// Defaults to discarding.
	Logger *slog.Logger `json:"-"`
}

// String describes the Config, the secret redacted.
func (c Config) String() string {
	return fmt.Sprintf("salesforce.Config{InstanceURL: %q, ClientID: %q, ClientSecret: %q, AllowInsecureLoopback: %t, Timeout: %s}",
		c.InstanceURL, c.ClientID, c.ClientSecret, c.AllowInsecureLoopback, c.Timeout)
}

// LogValue implements [slog.LogValuer] without the secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("instance_url", c.InstanceURL),
		slog.String("client_id", c.ClientID),
		slog.Bool("client_secret_set", c.ClientSecret != ""),
	)
}

// Client calls one org's REST API. It is safe for concurrent use. Make one per
// tenant and keep it: it caches its access token.
type Client struct {
	instance  *url.URL // validated InstanceURL
	allowLoop bool
	creds     *clientcredentials.Config // a pointer, so that even formatting a Client value cannot print the secret
	timeout   time.Duration
	hc        *http.Client
	onRequest func(op string, status int, elapsed time.Duration)
	logger    *slog.Logger

	ownTransport *http.Transport // the clone of http.DefaultTransport NewClient made, if it made one

	mu     sync.Mutex
	sess   *session    // the cached token; nil when none
	fetch  *tokenFetch // the token request under way; nil when none
	closed bool        // Close was called

	usageMu   sync.Mutex
	usage     Usage
	haveUsage bool
}

// NewClient validates cfg and returns a Client. It makes no request; see
// [Client.CheckCredentials].
//
// The Client's http.Client is built here, once, and never follows redirects:
// a redirect is answered as an [*APIError], so neither the secret nor a token
// can be sent to another host.
func NewClient(cfg *Config) (*Client, error) {
	if cfg == nil {
		return nil, errors.New("salesforce: nil Config")
	}
	instance, err := ValidateInstanceURL(cfg.InstanceURL, cfg.AllowInsecureLoopback)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.ClientID == "":
		return nil, errors.New("salesforce: Config.ClientID is empty")
	case cfg.ClientSecret == "":
		return nil, errors.New("salesforce: Config.ClientSecret is empty")
	case cfg.Timeout < 0:
		return nil, errors.New("salesforce: Config.Timeout is negative")
	}

	base := cfg.Transport
	var own *http.Transport
	if base == nil {
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			own = t.Clone()
			base = own
		} else {
			base = http.DefaultTransport
		}
	}
	c := &Client{
		instance:  instance,
		allowLoop: cfg.AllowInsecureLoopback,
		creds: &clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: string(cfg.ClientSecret),
			TokenURL:     instance.String() + "/services/oauth2/token",
			AuthStyle:    oauth2.AuthStyleInParams,
		},
		timeout:   cmp.Or(cfg.Timeout, defaultTimeout),
		onRequest: cfg.OnRequest,
		logger:    cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),

		ownTransport: own,
	}
	c.hc = &http.Client{
		Transport: &transport{base: base, c: c},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: c.timeout,
	}
	return c, nil
}

// ErrClosed is returned by the calls of a [Client] that was closed.
var ErrClosed = errors.New("salesforce: client closed")

// Close stops the Client's background work and waits for it: a token
// request under way, which runs on a goroutine of the Client so that a
// caller giving up does not fail the others waiting for it, is cancelled
// (its waiters get an error) and has returned when Close returns. Close
// also closes the idle connections of the Transport NewClient made; a
// [Config.Transport] belongs to whoever passed it and is left alone.
//
// After Close every call fails with [ErrClosed]. Requests that callers
// already sent run on the callers' goroutines and end with their contexts
// (or the Timeout). Close may be called more than once, and concurrently
// with other methods.
func (c *Client) Close() {
	c.mu.Lock()
	c.closed = true
	c.sess = nil
	f := c.fetch
	c.mu.Unlock()
	if f != nil {
		f.cancel()
		<-f.done
	}
	if c.ownTransport != nil {
		c.ownTransport.CloseIdleConnections()
	}
}

// String describes the Client without its secret or token.
func (c *Client) String() string {
	return fmt.Sprintf("salesforce.Client{InstanceURL: %q, ClientID: %q}", c.instance.String(), c.creds.ClientID)
}

// GoString is like String, for %#v.
func (c *Client) GoString() string { return c.String() }

// InstanceURL returns the URL that API calls go to: the instance_url of the
// current token, or the configured one before the first token. Use it to link
// to records.
func (c *Client) InstanceURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != nil {
		return c.sess.base
	}
	return c.instance.String()
}

// APIUsage returns the org's API usage from the last Sforce-Limit-Info header
// this Client saw, on any response, errors included. It reports false before
// the first such response.
func (c *Client) APIUsage() (Usage, bool) {
	c.usageMu.Lock()
	defer c.usageMu.Unlock()
	return c.usage, c.haveUsage
}

func (c *Client) setUsage(u Usage) {
	c.usageMu.Lock()
	defer c.usageMu.Unlock()
	c.usage, c.haveUsage = u, true
}

// call describes one REST request.
type call struct {
	op     string // metrics name, e.g. "create"
	name   string // APIError.Op, e.g. "create Task"
	method string
	path   string // escaped, appended to the instance URL, may carry a query
	body   []byte // JSON, or nil
}

// do sends rc with the cached token and returns the status and body of a 2xx
// answer. A 401 gets a fresh token and one more try. Any other answer becomes
// an *APIError.
func (c *Client) do(ctx context.Context, rc call) (int, []byte, error) {
	status, body, _, err := c.doSession(ctx, rc)
	return status, body, err
}

// doSession is do, also returning the session the answer came with, to
// scrub messages found inside a 2xx answer (a composite's subrequests).
func (c *Client) doSession(ctx context.Context, rc call) (int, []byte, *session, error) {
	for attempt := 0; ; attempt++ {
		sess, err := c.session(ctx)
		if err != nil {
			return 0, nil, nil, err
		}
		status, body, err := c.send(ctx, rc, sess)
		if err != nil {
			return 0, nil, nil, err
		}
		if status == http.StatusUnauthorized && attempt == 0 {
			c.invalidate(sess)
			c.logger.InfoContext(ctx, "salesforce: session expired or invalid; getting a new token", slog.String("op", rc.op))
			continue
		}
		if status >= 200 && status < 300 {
			return status, body, sess, nil
		}
		ae := parseAPIError(rc.name, status, body)
		ae.Message = c.scrub(ae.Message, sess)
		return 0, nil, nil, ae
	}
}

func (c *Client) send(ctx context.Context, rc call, sess *session) (int, []byte, error) {
	reqCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	reqCtx = withRequestInfo(reqCtx, &requestInfo{op: rc.op})

	req, err := crm.NewJSONRequest(reqCtx, rc.method, sess.base+rc.path, rc.body)
	if err != nil {
		return 0, nil, &APIError{Op: rc.name, Message: "cannot build the request: " + err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+sess.accessToken)

	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, c.networkError(ctx, rc.name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return 0, nil, c.networkError(ctx, rc.name, err)
	}
	if len(data) > maxResponseBytes {
		return 0, nil, &APIError{Op: rc.name, StatusCode: resp.StatusCode, Message: "response body too large"}
	}
	return resp.StatusCode, data, nil
}

// networkError wraps an error of the transport without the request URL
// (which carries queries) and says whether it was a timeout.
func (c *Client) networkError(ctx context.Context, name string, err error) error {
	var ue *url.Error
	timeout := false
	if errors.As(err, &ue) {
		timeout = ue.Timeout()
		err = ue.Err
	}
	if ctx.Err() == nil && (timeout || errors.Is(err, context.DeadlineExceeded)) {
		return fmt.Errorf("salesforce: %s: request timed out after %s: %w", name, c.timeout, err)
	}
	return fmt.Errorf("salesforce: %s: %w", name, err)
}

// scrub removes the secret and the access token from a message that came
// from the other side, in case a misbehaving server echoes them.
func (c *Client) scrub(msg string, sess *session) string {
	if s := c.creds.ClientSecret; s != "" {
		msg = strings.ReplaceAll(msg, s, crm.Redacted)
	}
	if sess != nil && sess.accessToken != "" {
		msg = strings.ReplaceAll(msg, sess.accessToken, crm.Redacted)
	}
	return msg
}

// dataPath returns the path of a REST resource: /services/data/vXX.X/a/b.
func dataPath(parts ...string) string {
	return "/services/data/" + APIVersion + "/" + strings.Join(parts, "/")
}

// decode unmarshals the body of a 2xx answer, turning a body it cannot read
// into an *APIError (retryable: the request may have taken effect).
func decode(name string, status int, body []byte, out any) error {
	if err := json.Unmarshal(body, out); err != nil {
		return &APIError{Op: name, StatusCode: status, Message: "cannot read the response: " + snippet(body)}
	}
	return nil
}

// requestInfo travels in a request's context to the transport, which fills in
// what the caller cannot see when the request goes through the oauth2 package.
type requestInfo struct {
	op      string
	status  int
	bodyErr error
}

type requestInfoKey struct{}

func withRequestInfo(ctx context.Context, ri *requestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, ri)
}

// transport reports every round trip to OnRequest and the logger and records
// Sforce-Limit-Info.
type transport struct {
	base http.RoundTripper
	c    *Client
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ri, _ := req.Context().Value(requestInfoKey{}).(*requestInfo)
	if ri == nil {
		ri = &requestInfo{op: "unknown"}
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	elapsed := time.Since(start)

	status := 0
	if err == nil {
		status = resp.StatusCode
		if u, ok := ParseLimitInfo(resp.Header.Get("Sforce-Limit-Info")); ok {
			u.At = time.Now()
			t.c.setUsage(u)
		}
		resp.Body = &recordingBody{ReadCloser: resp.Body, ri: ri}
	}
	ri.status = status
	if t.c.onRequest != nil {
		t.c.onRequest(ri.op, status, elapsed)
	}
	t.c.logger.DebugContext(req.Context(), "salesforce: request",
		slog.String("op", ri.op), slog.Int("status", status), slog.Duration("elapsed", elapsed))
	return resp, err
}

// recordingBody remembers a read error, so that a token request that failed
// while reading the body is known to be a network error.
type recordingBody struct {
	io.ReadCloser
	ri *requestInfo
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.ri.bodyErr = err
	}
	return n, err
}

// errAttr returns a log attribute for an error of this package that never
// carries Salesforce's message.
func errAttr(err error) slog.Attr {
	var ae *APIError
	if errors.As(err, &ae) {
		return slog.Any("error", ae)
	}
	return slog.String("error", err.Error())
}
