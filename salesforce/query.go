package salesforce

import (
	"context"
	"net/http"
	"net/url"
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
	path := dataPath("query") + "?q=" + url.QueryEscape(soql)
	var records []Fields
	seen := make(map[string]bool)
	for {
		status, body, err := c.do(ctx, call{op: opQuery, name: name, method: http.MethodGet, path: path})
		if err != nil {
			return nil, err
		}
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
		path = next
	}
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
