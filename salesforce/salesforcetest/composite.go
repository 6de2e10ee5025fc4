package salesforcetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Salesforce's limits on a Composite request (REST API Developer Guide,
// "Composite"): at most 25 subrequests, at most 5 of them queries.
const (
	maxCompositeSubrequests = 25
	maxCompositeQueries     = 5
)

// referenceID is what a composite subrequest's referenceId may hold:
// letters, digits and underscores.
var referenceID = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

type compositeSubrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        json.RawMessage   `json:"body"`
	HTTPHeaders map[string]string `json:"httpHeaders"`
}

type compositeResult struct {
	Body           any               `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    *string           `json:"referenceId"`
}

// composite answers POST /composite: its GET subrequests, each served as if
// it were a request of its own but without counting, charging, latency or
// faults of its own (the composite request has those, once), in order, each
// result with its status and body.
func (o *Org) composite(_ *http.Request, body []byte) reply {
	var req struct {
		AllOrNone        bool                  `json:"allOrNone"`
		CompositeRequest []compositeSubrequest `json:"compositeRequest"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errorReply(newError(http.StatusBadRequest, "JSON_PARSER_ERROR", "Unexpected character in JSON: "+err.Error()))
	}
	invalid := func(format string, args ...any) reply {
		// Salesforce refuses a request it cannot read before running any
		// subrequest; the error code here is a guess.
		return errorReply(newError(http.StatusBadRequest, "INVALID_INPUT", fmt.Sprintf(format, args...)))
	}
	subs := req.CompositeRequest
	if len(subs) == 0 {
		return invalid("compositeRequest: at least one subrequest is required")
	}
	limited := func(msg string) reply {
		return reply{status: http.StatusOK, body: map[string]any{"compositeResponse": []compositeResult{{
			Body:           []restError{{Message: msg, ErrorCode: "LIMIT_EXCEEDED"}},
			HTTPHeaders:    map[string]string{},
			HTTPStatusCode: http.StatusBadRequest,
		}}}}
	}
	if len(subs) > maxCompositeSubrequests {
		return limited(fmt.Sprintf("The request can’t contain more than %d operations.", maxCompositeSubrequests))
	}
	seen := make(map[string]bool)
	queries := 0
	for i, sub := range subs {
		switch {
		case sub.Method == "" || sub.URL == "" || sub.ReferenceID == "":
			return invalid("compositeRequest[%d]: method, url and referenceId are required", i)
		case !referenceID.MatchString(sub.ReferenceID):
			return invalid("compositeRequest[%d]: a referenceId holds only letters, numbers and underscores: %s", i, sub.ReferenceID)
		case seen[sub.ReferenceID]:
			return invalid("compositeRequest[%d]: duplicate referenceId: %s", i, sub.ReferenceID)
		case !strings.EqualFold(sub.Method, http.MethodGet):
			return invalid("salesforcetest: only GET subrequests are simulated in a composite request, not %s (%s)", sub.Method, sub.ReferenceID)
		case strings.Contains(sub.URL, "@{"):
			return invalid("salesforcetest: references to other subrequests (@{...}) are not simulated (%s)", sub.ReferenceID)
		}
		seen[sub.ReferenceID] = true
		if isQueryURL(sub.URL) {
			queries++
		}
	}
	if queries > maxCompositeQueries {
		return limited(fmt.Sprintf("The request can’t contain more than %d query operations.", maxCompositeQueries))
	}

	results := make([]compositeResult, len(subs))
	failed := false
	for i, sub := range subs {
		rep := o.subrequest(http.MethodGet, sub.URL)
		results[i] = compositeResult{Body: rep.body, HTTPHeaders: map[string]string{}, HTTPStatusCode: rep.status, ReferenceID: &sub.ReferenceID}
		failed = failed || rep.status >= 400
	}
	if req.AllOrNone && failed {
		for i := range results {
			if results[i].HTTPStatusCode < 400 {
				results[i].HTTPStatusCode = http.StatusBadRequest
				results[i].Body = []restError{{
					Message:   "The transaction was rolled back since another operation in the same transaction failed.",
					ErrorCode: "PROCESSING_HALTED",
				}}
			}
		}
	}
	return reply{status: http.StatusOK, body: map[string]any{"compositeResponse": results}}
}

// isQueryURL reports whether a subrequest's URL is of the query resource
// (a query or the next page of one), which Salesforce counts against the
// composite's 5 queries.
func isQueryURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	segs, ok := splitPath(u.EscapedPath())
	return ok && len(segs) >= 4 && segs[0] == "services" && segs[1] == "data" && (segs[3] == "query" || segs[3] == "queryAll")
}

// subrequest serves one subrequest of a composite request: a URL under
// /services/data/{version}/, routed as a request of its own.
func (o *Org) subrequest(method, raw string) reply {
	u, err := url.Parse(raw)
	if err != nil || u.IsAbs() || u.Host != "" {
		return notFound()
	}
	segs, ok := splitPath(u.EscapedPath())
	if !ok || len(segs) < 3 || segs[0] != "services" || segs[1] != "data" {
		return notFound()
	}
	_, handle := o.route(method, segs[2], segs[3:])
	return handle(&http.Request{Method: method, URL: u, Header: http.Header{}}, nil)
}
