package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// soqlEscaper escapes the characters that SOQL reserves or that a string
// literal can only hold escaped (SOQL reference, "Quoted String Escape
// Sequences").
var soqlEscaper = strings.NewReplacer(
	`\`, `\\`,
	`'`, `\'`,
	`"`, `\"`,
	"\n", `\n`,
	"\r", `\r`,
	"\t", `\t`,
	"\b", `\b`,
	"\f", `\f`,
)

// QuoteSOQL returns s as a quoted SOQL string literal, escaped so that it
// always means s: QuoteSOQL("it's") is 'it\'s'. It is for comparisons with =,
// != and IN; it does not escape the LIKE wildcards % and _.
func QuoteSOQL(s string) string {
	return "'" + soqlEscaper.Replace(s) + "'"
}

// Query runs a SOQL query with GET /query?q=... and returns all records,
// following nextRecordsUrl page by page (each page is one API request). The
// "attributes" entry Salesforce adds to each record is removed; other values
// are as encoding/json decodes them (string, float64, bool, nil, nested
// Fields for relationships).
//
// Build the query with [QuoteSOQL] for every string value, and check IDs
// against their format instead of quoting them. Salesforce compares strings
// case-insensitively, and long text fields (Description) cannot be filtered.
func (c *Client) Query(ctx context.Context, soql string) ([]Fields, error) {
	const name = "query"
	if strings.TrimSpace(soql) == "" {
		return nil, &APIError{Op: name, ErrorCode: "MALFORMED_QUERY", Message: "the query is empty"}
	}
	status, body, err := c.do(ctx, call{op: opQuery, name: name, method: http.MethodGet, path: queryPath(soql)})
	if err != nil {
		return nil, err
	}
	return c.readPages(ctx, name, status, body)
}

// queryPath returns the path and query string of the query resource for a
// SOQL statement.
func queryPath(soql string) string {
	return dataPath("query") + "?q=" + url.QueryEscape(soql)
}

// readPages reads the records of a query's first page (status and body of
// its answer) and of the pages after it, following nextRecordsUrl with one
// GET (one API request) per page.
func (c *Client) readPages(ctx context.Context, name string, status int, body []byte) ([]Fields, error) {
	var records []Fields
	seen := make(map[string]bool)
	for {
		var page struct {
			Done           bool     `json:"done"`
			NextRecordsURL string   `json:"nextRecordsUrl"`
			Records        []Fields `json:"records"`
		}
		if err := decode(name, status, body, &page); err != nil {
			return nil, err
		}
		for _, r := range page.Records {
			stripAttributes(r)
			records = append(records, r)
		}
		if page.Done || page.NextRecordsURL == "" {
			return records, nil
		}
		next := page.NextRecordsURL
		if !validNextRecordsURL(next) || seen[next] {
			return nil, &APIError{Op: name, StatusCode: status, Message: "the response has an unusable nextRecordsUrl"}
		}
		seen[next] = true
		var err error
		if status, body, err = c.do(ctx, call{op: opQuery, name: name, method: http.MethodGet, path: next}); err != nil {
			return nil, err
		}
	}
}

// MaxQueryMany is the most queries [Client.QueryMany] runs in one request:
// Salesforce allows at most 5 query subrequests in a Composite request.
const MaxQueryMany = 5

// QueryMany runs up to [MaxQueryMany] SOQL queries in one Composite request
// (POST /composite, allOrNone=false), which Salesforce counts as one API
// request, and returns the records of each query, in the order of soql.
// Records are as [Client.Query] returns them. A query whose result does not
// fit in one page is completed by following its nextRecordsUrl with ordinary
// GET requests, one API request per further page, as Query does.
//
// It fails as any call does when the Composite request fails (the network,
// a timeout, REQUEST_LIMIT_EXCEEDED, ...: see [Classify]), and with an
// [*APIError] when any query fails: the error of the first failing query,
// with Salesforce's status and errorCode (MALFORMED_QUERY, INVALID_FIELD,
// ...), Op "query many" and a Message starting "query N of M: ". Either way
// no records are returned.
//
// No queries means no request. More than MaxQueryMany queries
// (LIMIT_EXCEEDED) and an empty query (MALFORMED_QUERY) are refused without
// a request. Build the queries as for Query, with [QuoteSOQL]; a query sent
// this way travels in the request body, so it may be longer than a URL
// allows, up to SOQL's 100,000 characters.
func (c *Client) QueryMany(ctx context.Context, soql ...string) ([][]Fields, error) {
	const name = "query many"
	n := len(soql)
	if n == 0 {
		return nil, nil
	}
	if n > MaxQueryMany {
		return nil, &APIError{Op: name, ErrorCode: "LIMIT_EXCEEDED",
			Message: fmt.Sprintf("%d queries; at most %d can be sent in one request", n, MaxQueryMany)}
	}
	type subrequest struct {
		Method      string `json:"method"`
		URL         string `json:"url"`
		ReferenceID string `json:"referenceId"`
	}
	req := struct {
		AllOrNone        bool         `json:"allOrNone"`
		CompositeRequest []subrequest `json:"compositeRequest"`
	}{CompositeRequest: make([]subrequest, n)}
	for i, q := range soql {
		if strings.TrimSpace(q) == "" {
			return nil, &APIError{Op: name, ErrorCode: "MALFORMED_QUERY", Message: fmt.Sprintf("query %d of %d is empty", i+1, n)}
		}
		req.CompositeRequest[i] = subrequest{Method: http.MethodGet, URL: queryPath(q), ReferenceID: "q" + strconv.Itoa(i)}
	}
	body, err := encodeFields(name, req)
	if err != nil {
		return nil, err
	}
	status, resp, sess, err := c.doSession(ctx, call{op: opComposite, name: name, method: http.MethodPost, path: dataPath("composite"), body: body})
	if err != nil {
		return nil, err
	}
	var composite struct {
		CompositeResponse []struct {
			Body           json.RawMessage `json:"body"`
			HTTPStatusCode int             `json:"httpStatusCode"`
			ReferenceID    *string         `json:"referenceId"`
		} `json:"compositeResponse"`
	}
	if err := decode(name, status, resp, &composite); err != nil {
		return nil, err
	}
	failed := func(i, subStatus int, subBody []byte) error {
		ae := parseAPIError(name, subStatus, subBody)
		ae.Message = c.scrub(ae.Message, sess)
		if i >= 0 {
			ae.Message = fmt.Sprintf("query %d of %d: %s", i+1, n, ae.Message)
		}
		return ae
	}
	// Results by referenceId; an error that belongs to no query (Salesforce
	// answers its limits with referenceId null) fails them all.
	refs := make(map[string]int, n)
	found := make([]int, n) // index in CompositeResponse, -1: none
	for i := range n {
		refs[req.CompositeRequest[i].ReferenceID] = i
		found[i] = -1
	}
	for j, r := range composite.CompositeResponse {
		i, ok := -1, false
		if r.ReferenceID != nil {
			i, ok = refs[*r.ReferenceID]
		}
		switch {
		case !ok && (r.HTTPStatusCode < 200 || r.HTTPStatusCode > 299):
			return nil, failed(-1, r.HTTPStatusCode, r.Body)
		case ok && found[i] < 0:
			found[i] = j
		}
	}
	for i, j := range found {
		if j < 0 {
			return nil, &APIError{Op: name, StatusCode: status, Message: fmt.Sprintf("the response has no result for query %d of %d", i+1, n)}
		}
		if r := composite.CompositeResponse[j]; r.HTTPStatusCode < 200 || r.HTTPStatusCode > 299 {
			return nil, failed(i, r.HTTPStatusCode, r.Body)
		}
	}
	out := make([][]Fields, n)
	for i, j := range found {
		r := composite.CompositeResponse[j]
		if out[i], err = c.readPages(ctx, name, r.HTTPStatusCode, r.Body); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// validNextRecordsURL accepts only a plain path under /services/data/, so that
// the token is never sent anywhere else.
func validNextRecordsURL(p string) bool {
	if !strings.HasPrefix(p, "/services/data/") || strings.Contains(p, "//") || strings.Contains(p, "..") {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("/._-", c) >= 0) {
			return false
		}
	}
	return true
}

// stripAttributes removes "attributes" from a record and from the records
// nested in it (relationship fields).
func stripAttributes(r map[string]any) {
	delete(r, "attributes")
	for k, v := range r {
		if m, ok := v.(map[string]any); ok {
			stripAttributes(m)
			r[k] = Fields(m)
		}
	}
}
