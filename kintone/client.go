package kintone

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
	"strconv"
	"strings"
	"time"

	"github.com/koeiq/syncd/crm"
)

// Config configures a [Client]. The zero value of each optional field is a
// sensible default.
type Config struct {
	// BaseURL is the Kintone environment, such as https://example.cybozu.com.
	// It must pass [ValidateBaseURL]. Required.
	BaseURL string

	// AppID is the Kintone app that records are written to. Required.
	AppID int64

	// APIToken is an API token generated in the app's settings, with the
	// permissions the calls need (view, add, edit). It is only ever sent in
	// the X-Cybozu-API-Token header; printed, marshalled or logged, it is
	// "[REDACTED]". Required.
	APIToken crm.Secret

	// AllowInsecureLoopback lets BaseURL be http://127.0.0.1:PORT[/path] or
	// http://localhost:PORT[/path], for tests and demos against
	// kintonetest. Defaults to false.
	AllowInsecureLoopback bool

	// Timeout bounds each HTTP request, on top of the caller's context.
	// Defaults to 30 seconds.
	Timeout time.Duration

	// Transport sends the requests. Clients that share a Transport share its
	// connection pool, so set it when creating a client per tenant or per
	// job. Defaults to a clone of http.DefaultTransport.
	Transport http.RoundTripper `json:"-"`

	// OnRequest, if set, is called after every HTTP request with the
	// operation ("add", "update", "upsert", "add_many", "query", "fields"),
	// the HTTP status (0 when no response arrived) and the time until the
	// response headers arrived. It runs on the caller's goroutine and must
	// be quick. Defaults to nil.
	OnRequest func(op string, status int, elapsed time.Duration) `json:"-"`

	// Logger receives debug logs of each request: operation, status, elapsed
	// time and, for failures, the error's [APIError.LogValue]. Never the
	// token, record contents or Kintone's messages. Defaults to a logger that
	// discards everything.
	Logger *slog.Logger `json:"-"`
}

// String describes the configuration, the API token redacted.
func (c Config) String() string {
	return fmt.Sprintf("kintone.Config{BaseURL: %q, AppID: %d, APIToken: %q, AllowInsecureLoopback: %t, Timeout: %s}",
		c.BaseURL, c.AppID, c.APIToken, c.AllowInsecureLoopback, c.Timeout)
}

// LogValue logs the configuration without the API token.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.Int64("app_id", c.AppID),
		slog.Bool("api_token_set", c.APIToken != ""),
	)
}

// Client calls the Kintone REST API for one app with an API token. It is
// safe for concurrent use. Create it with [NewClient].
type Client struct {
	base      *url.URL
	appID     int64
	token     string
	http      *http.Client
	timeout   time.Duration
	onRequest func(op string, status int, elapsed time.Duration)
	log       *slog.Logger
}

// NewClient validates cfg, fills in its defaults and returns a client. The
// client's HTTP client never follows redirects: a redirect is returned as an
// [*APIError] rather than sending the token somewhere else.
func NewClient(cfg *Config) (*Client, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: nil Config", ErrInvalidConfig)
	}
	base, err := ValidateBaseURL(cfg.BaseURL, cfg.AllowInsecureLoopback)
	if err != nil {
		return nil, err
	}
	if cfg.AppID <= 0 {
		return nil, fmt.Errorf("%w: AppID must be positive", ErrInvalidConfig)
	}
	if err := validateToken(string(cfg.APIToken)); err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: Timeout must not be negative", ErrInvalidConfig)
	}

	transport := cfg.Transport
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &Client{
		base:  base,
		appID: cfg.AppID,
		token: string(cfg.APIToken),
		http: &http.Client{
			Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		timeout:   cmp.Or(cfg.Timeout, 30*time.Second),
		onRequest: cfg.OnRequest,
		log:       cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
	}, nil
}

// validateToken checks the token's shape without ever quoting it.
func validateToken(tok string) error {
	if strings.TrimSpace(tok) == "" {
		return fmt.Errorf("%w: APIToken is required", ErrInvalidConfig)
	}
	for i := 0; i < len(tok); i++ {
		// Visible ASCII, plus spaces around the commas of a token list:
		// nothing that could split or corrupt the header.
		if c := tok[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("%w: APIToken contains a character that cannot go in an HTTP header", ErrInvalidConfig)
		}
	}
	return nil
}

// Format prints the client without its API token, whatever the verb. It has
// a value receiver so that a dereferenced Client is covered too.
func (c Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "kintone.Client{BaseURL: %q, AppID: %d, APIToken: %q}", c.base.String(), c.appID, crm.Redacted)
}

// LogValue logs the client's base URL and app, never its token.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.base.String()), slog.Int64("app_id", c.appID))
}

// AppID returns the app the client writes to.
func (c *Client) AppID() int64 { return c.appID }

// RecordURL returns the address of a record in the Kintone web UI, for
// linking to it: BASE/k/APP/show#record=ID. It does not check that the record
// exists.
func (c *Client) RecordURL(id string) string {
	u := c.base.JoinPath("k", strconv.FormatInt(c.appID, 10), "show")
	u.Fragment = "record=" + id
	return u.String()
}

// Add creates one record and returns its ID (POST /k/v1/record.json).
//
// Add is not idempotent: if the response is lost, a retry creates a second
// record. Prefer [Client.Upsert] with a unique key field.
func (c *Client) Add(ctx context.Context, rec Record) (string, error) {
	wr, err := encodeRecord(rec)
	if err != nil {
		return "", err
	}
	return c.addWire(ctx, wr)
}

// Update changes the fields in rec of the record with the given ID, leaving
// the others as they are (PUT /k/v1/record.json). If the record no longer
// exists the error satisfies [IsNotFound].
func (c *Client) Update(ctx context.Context, id string, rec Record) error {
	if !validRecordID(id) {
		return fmt.Errorf("%w: record ID %q is not a positive integer", ErrInvalidInput, id)
	}
	wr, err := encodeRecord(rec)
	if err != nil {
		return err
	}
	body := struct {
		App    int64      `json:"app"`
		ID     string     `json:"id"`
		Record wireRecord `json:"record"`
	}{c.appID, id, wr}
	var resp struct {
		Revision string `json:"revision"`
	}
	return c.do(ctx, "update", http.MethodPut, "k/v1/record.json", nil, body, &resp)
}

// Upsert updates the record whose keyField equals keyValue, or creates it
// with keyField set to keyValue if there is none, in one request: PUT
// /k/v1/records.json with "upsert": true and an updateKey. It returns the
// record ID and whether the record was created. keyField must be a
// SINGLE_LINE_TEXT or NUMBER field with "Prohibit duplicate values" on; if
// rec also holds keyField, its value must equal keyValue (Kintone does not
// let updateKey change the key).
//
// Upsert is idempotent, so it is the safe way to retry a write whose
// response was lost.
//
// If the Kintone environment predates upsert mode (added to Update Records in
// March 2025) it ignores the flag and answers GAIA_RE20 for a missing key.
// Upsert then falls back to Add with the key set, and if that loses a race to
// a concurrent writer (a uniqueness error on keyField), to an update by key.
// The fallback is idempotent too, because keyField is unique.
func (c *Client) Upsert(ctx context.Context, keyField, keyValue string, rec Record) (id string, created bool, err error) {
	if !validFieldCode(keyField) || strings.HasPrefix(keyField, "$") {
		return "", false, fmt.Errorf("%w: key field %q is not a valid Kintone field code", ErrInvalidInput, keyField)
	}
	if keyValue == "" {
		return "", false, fmt.Errorf("%w: empty key value", ErrInvalidInput)
	}
	wr, err := encodeRecord(rec)
	if err != nil {
		return "", false, err
	}
	if v, ok := wr[keyField]; ok {
		if s, _ := v.Value.(string); s != keyValue {
			return "", false, fmt.Errorf("%w: record sets key field %q to a value other than the key", ErrInvalidInput, keyField)
		}
		delete(wr, keyField)
	}

	id, created, err = c.upsert(ctx, keyField, keyValue, wr)
	if err == nil || !isUpdateKeyNotFound(err) {
		return id, created, err
	}

	// Fallback for an environment without upsert mode.
	c.log.DebugContext(ctx, "kintone upsert mode not honoured; falling back to add", slog.String("key_field", keyField))
	withKey := make(wireRecord, len(wr)+1)
	for k, v := range wr {
		withKey[k] = v
	}
	withKey[keyField] = wireValue{Value: keyValue}
	id, err = c.addWire(ctx, withKey)
	if err == nil {
		return id, true, nil
	}
	if !isUniqueViolation(err, keyField) {
		return "", false, err
	}
	id, err = c.updateByKey(ctx, keyField, keyValue, wr)
	return id, false, err
}

// keyedRecord is one record of Update Records found by a key field's value.
type keyedRecord struct {
	UpdateKey struct {
		Field string `json:"field"`
		Value string `json:"value"`
	} `json:"updateKey"`
	Record wireRecord `json:"record"`
}

func byKey(keyField, keyValue string, wr wireRecord) keyedRecord {
	r := keyedRecord{Record: wr}
	r.UpdateKey.Field, r.UpdateKey.Value = keyField, keyValue
	return r
}

func (c *Client) upsert(ctx context.Context, keyField, keyValue string, wr wireRecord) (string, bool, error) {
	body := struct {
		App     int64         `json:"app"`
		Upsert  bool          `json:"upsert"`
		Records []keyedRecord `json:"records"`
	}{c.appID, true, []keyedRecord{byKey(keyField, keyValue, wr)}}
	var resp struct {
		Records []struct {
			ID        string `json:"id"`
			Revision  string `json:"revision"`
			Operation string `json:"operation"`
		} `json:"records"`
	}
	if err := c.do(ctx, "upsert", http.MethodPut, "k/v1/records.json", nil, body, &resp); err != nil {
		return "", false, err
	}
	if len(resp.Records) != 1 || resp.Records[0].ID == "" {
		return "", false, fmt.Errorf("kintone: upsert: response has %d records, want 1", len(resp.Records))
	}
	r := resp.Records[0]
	return r.ID, r.Operation == "INSERT", nil
}

func (c *Client) addWire(ctx context.Context, wr wireRecord) (string, error) {
	body := struct {
		App    int64      `json:"app"`
		Record wireRecord `json:"record"`
	}{c.appID, wr}
	var resp struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, "add", http.MethodPost, "k/v1/record.json", nil, body, &resp); err != nil {
		return "", err
	}
	if resp.ID == "" {
		return "", fmt.Errorf("kintone: add: response has no record ID")
	}
	return resp.ID, nil
}

// updateByKey updates the record whose keyField is keyValue and returns its
// ID, which Update Record does not report, from Update Records.
func (c *Client) updateByKey(ctx context.Context, keyField, keyValue string, wr wireRecord) (string, error) {
	body := struct {
		App     int64         `json:"app"`
		Records []keyedRecord `json:"records"`
	}{c.appID, []keyedRecord{byKey(keyField, keyValue, wr)}}
	var resp struct {
		Records []struct {
			ID string `json:"id"`
		} `json:"records"`
	}
	if err := c.do(ctx, "update", http.MethodPut, "k/v1/records.json", nil, body, &resp); err != nil {
		return "", err
	}
	if len(resp.Records) != 1 || resp.Records[0].ID == "" {
		return "", fmt.Errorf("kintone: update: response has %d records, want 1", len(resp.Records))
	}
	return resp.Records[0].ID, nil
}

func isUpdateKeyNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Code == "GAIA_RE20"
}

// isUniqueViolation reports whether err is a validation error on field,
// which for a unique field after a missed upsert means another writer
// created the record first.
func isUniqueViolation(err error, field string) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "CB_VA01" {
		return false
	}
	for _, code := range apiErr.FieldCodes() {
		if code == field {
			return true
		}
	}
	return false
}

// AddMany creates up to [MaxBulkRecords] records in one request (POST
// /k/v1/records.json) and returns their IDs in the order of recs. Kintone
// applies the request all or nothing: if any record is rejected none is
// added, and the error's Fields keys name the culprit as
// "records[INDEX].FIELD.value". Like [Client.Add] it is not idempotent.
func (c *Client) AddMany(ctx context.Context, recs []Record) ([]string, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	if len(recs) > MaxBulkRecords {
		return nil, fmt.Errorf("%w: %d records; Kintone takes at most %d per request", ErrInvalidInput, len(recs), MaxBulkRecords)
	}
	wrs := make([]wireRecord, len(recs))
	for i, rec := range recs {
		wr, err := encodeRecord(rec)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		wrs[i] = wr
	}
	body := struct {
		App     int64        `json:"app"`
		Records []wireRecord `json:"records"`
	}{c.appID, wrs}
	var resp struct {
		IDs       []string `json:"ids"`
		Revisions []string `json:"revisions"`
	}
	if err := c.do(ctx, "add_many", http.MethodPost, "k/v1/records.json", nil, body, &resp); err != nil {
		return nil, err
	}
	if len(resp.IDs) != len(recs) {
		return nil, fmt.Errorf("kintone: add_many: response has %d IDs for %d records", len(resp.IDs), len(recs))
	}
	return resp.IDs, nil
}

// queryPageSize is the most records Get Records returns in one response.
const queryPageSize = 500

// FindIDs returns the IDs, in ascending order, of the records whose field
// equals value: GET /k/v1/records.json with the query `field = "value"`,
// value escaped. field must be a field that supports "=" in queries
// (SINGLE_LINE_TEXT, NUMBER, LINK, DATE, DATETIME, or "$id"). It pages
// through any number of matches by record ID rather than offset, which
// Kintone caps at 10,000.
func (c *Client) FindIDs(ctx context.Context, field, value string) ([]string, error) {
	if !validFieldCode(field) {
		return nil, fmt.Errorf("%w: field code %q is not a valid Kintone field code", ErrInvalidInput, field)
	}
	if !utf8ValidNoNUL(value) {
		return nil, fmt.Errorf("%w: query value is not valid UTF-8 text", ErrInvalidInput)
	}
	cond := field + " = " + quoteQueryString(value)
	var ids []string
	last := ""
	var prev int64
	for {
		q := cond
		if last != "" {
			q = "(" + cond + ") and $id > " + last
		}
		q += " order by $id asc limit " + strconv.Itoa(queryPageSize)
		params := url.Values{
			"app":       {strconv.FormatInt(c.appID, 10)},
			"query":     {q},
			"fields[0]": {"$id"},
		}
		var resp struct {
			Records []map[string]struct {
				Value json.RawMessage `json:"value"`
			} `json:"records"`
		}
		if err := c.do(ctx, "query", http.MethodGet, "k/v1/records.json", params, nil, &resp); err != nil {
			return nil, err
		}
		for _, r := range resp.Records {
			var id string
			if err := json.Unmarshal(r["$id"].Value, &id); err != nil || !validRecordID(id) {
				return nil, fmt.Errorf("kintone: query: record without a valid $id")
			}
			// Each page must continue after the last, or a server that
			// ignored the "$id >" condition would keep this loop going.
			n, _ := strconv.ParseInt(id, 10, 64)
			if n <= prev {
				return nil, fmt.Errorf("kintone: query: records are not in ascending $id order")
			}
			prev = n
			ids = append(ids, id)
		}
		if len(resp.Records) < queryPageSize {
			return ids, nil
		}
		if len(ids) >= maxQueryResults {
			return nil, fmt.Errorf("%w: more than %d records match %s", ErrInvalidInput, maxQueryResults, field)
		}
		last = ids[len(ids)-1]
	}
}

// maxQueryResults bounds FindIDs. Kintone itself stops filtering when a query
// matches 100,000 records or more.
const maxQueryResults = 100_000

func utf8ValidNoNUL(s string) bool {
	return !strings.ContainsRune(s, 0) && strings.ToValidUTF8(s, "\uFFFD") == s
}

// do sends one request and decodes a 2xx JSON response into out. Any other
// response becomes an *APIError.
func (c *Client) do(ctx context.Context, op, method, path string, params url.Values, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	u := c.base.JoinPath(path)
	if params != nil {
		u.RawQuery = params.Encode()
	}
	var reqBody []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("kintone: %s: encode request: %w", op, err)
		}
		reqBody = b
	}
	req, err := crm.NewJSONRequest(ctx, method, u.String(), reqBody)
	if err != nil {
		return fmt.Errorf("kintone: %s: %w", op, err)
	}
	req.Header.Set("X-Cybozu-API-Token", c.token)

	start := time.Now()
	resp, err := c.http.Do(req)
	elapsed := time.Since(start) // until the response headers arrived, as Salesforce's
	if err != nil {
		c.finish(ctx, op, 0, elapsed, err)
		return fmt.Errorf("kintone: %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		err = fmt.Errorf("kintone: %s: read response: %w", op, err)
		c.finish(ctx, op, resp.StatusCode, elapsed, err)
		return err
	}
	if len(data) > maxResponseBytes {
		err = fmt.Errorf("kintone: %s: response larger than %d bytes", op, maxResponseBytes)
		c.finish(ctx, op, resp.StatusCode, elapsed, err)
		return err
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := c.apiError(op, resp, data)
		c.finish(ctx, op, resp.StatusCode, elapsed, apiErr)
		return apiErr
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			err = fmt.Errorf("kintone: %s: decode response: %w", op, err)
			c.finish(ctx, op, resp.StatusCode, elapsed, err)
			return err
		}
	}
	c.finish(ctx, op, resp.StatusCode, elapsed, nil)
	return nil
}

// maxResponseBytes caps how much of a response the client reads.
const maxResponseBytes = 8 << 20

func (c *Client) finish(ctx context.Context, op string, status int, elapsed time.Duration, err error) {
	if c.onRequest != nil {
		c.onRequest(op, status, elapsed)
	}
	attrs := []slog.Attr{
		slog.String("op", op),
		slog.Int64("app_id", c.appID),
		slog.Int("status", status),
		slog.Duration("elapsed", elapsed),
	}
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			attrs = append(attrs, slog.Any("error", apiErr))
		} else {
			// A *url.Error quotes the request URL, whose query can hold a
			// searched value; log only what went wrong.
			msg := err.Error()
			var urlErr *url.Error
			if errors.As(err, &urlErr) {
				msg = urlErr.Err.Error()
			}
			attrs = append(attrs, slog.String("error", msg))
		}
		attrs = append(attrs, slog.String("class", Classify(err).String()))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "kintone request", attrs...)
}

// apiError builds the *APIError for a non-2xx response, scrubbing any echo of
// the API token from the texts.
func (c *Client) apiError(op string, resp *http.Response, data []byte) *APIError {
	e := &APIError{Op: op, StatusCode: resp.StatusCode}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.Message = "unexpected redirect; check the base URL"
		return e
	}
	var body struct {
		Code    string `json:"code"`
		ID      string `json:"id"`
		Message string `json:"message"`
		Errors  map[string]struct {
			Messages []string `json:"messages"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(data, &body); err == nil {
		e.Code = c.scrub(body.Code)
		e.ID = c.scrub(body.ID)
		e.Message = c.scrub(body.Message)
		if len(body.Errors) > 0 {
			e.Fields = make(map[string][]string, len(body.Errors))
			for k, v := range body.Errors {
				msgs := make([]string, len(v.Messages))
				for i, m := range v.Messages {
					msgs[i] = c.scrub(m)
				}
				e.Fields[c.scrub(k)] = msgs
			}
		}
	}
	if e.Code == "" {
		e.Code = c.scrub(resp.Header.Get("X-Cybozu-Error"))
	}
	return e
}

// scrub removes the API token, and each token of a comma-separated list, from
// s.
func (c *Client) scrub(s string) string {
	for _, tok := range strings.Split(c.token, ",") {
		if tok = strings.TrimSpace(tok); tok != "" {
			s = strings.ReplaceAll(s, tok, crm.Redacted)
		}
	}
	return s
}
