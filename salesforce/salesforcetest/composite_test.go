package salesforcetest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

type subResult struct {
	Body           json.RawMessage   `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    *string           `json:"referenceId"`
}

// sub is a composite subrequest: GET url as referenceId ref.
type sub struct{ method, url, ref string }

func queryURL(soql string) string {
	return "/services/data/" + salesforce.APIVersion + "/query?q=" + url.QueryEscape(soql)
}

func compositeBody(t *testing.T, allOrNone bool, subs ...sub) string {
	t.Helper()
	var reqs []map[string]string
	for _, s := range subs {
		reqs = append(reqs, map[string]string{"method": s.method, "url": s.url, "referenceId": s.ref})
	}
	b, err := json.Marshal(map[string]any{"allOrNone": allOrNone, "compositeRequest": reqs})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// composite sends a Composite request and returns its results, failing the
// test unless it answers 200.
func composite(t *testing.T, org *salesforcetest.Org, token string, allOrNone bool, subs ...sub) []subResult {
	t.Helper()
	r := api(t, org, token, http.MethodPost, "/composite", compositeBody(t, allOrNone, subs...))
	var resp struct {
		CompositeResponse []subResult `json:"compositeResponse"`
	}
	r.json(t, &resp)
	if r.status != http.StatusOK {
		t.Fatalf("composite: %d %s", r.status, r.body)
	}
	return resp.CompositeResponse
}

func TestComposite(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{QueryBatchSize: 2})
	token := getToken(t, org)
	contact := org.PutRecord("Contact", salesforce.Fields{"LastName": "Lovelace", "Phone": "+81312345678"})
	lead := org.PutRecord("Lead", salesforce.Fields{"LastName": "Hopper", "Company": "Navy", "Phone": "+81312345678"})
	for i := range 3 {
		org.PutRecord("Task", salesforce.Fields{"Subject": fmt.Sprintf("t%d", i)})
	}
	countsBefore := org.RequestCounts()
	usedBefore, _ := org.APIUsage()

	results := composite(t, org, token, false,
		sub{"GET", queryURL("SELECT Id FROM Contact WHERE Phone IN ('+81312345678')"), "contacts"},
		sub{"GET", queryURL("SELECT Id FROM Lead WHERE IsConverted = false AND (Phone IN ('+81312345678') OR MobilePhone IN ('x'))"), "leads"},
		sub{"GET", "/services/data/" + salesforce.APIVersion + "/query/?q=" + url.QueryEscape("SELECT Id, IsActive FROM User"), "users"},
		sub{"GET", queryURL("SELECT Id FROM Task ORDER BY Subject"), "tasks"},
		sub{"get", "/services/data/" + salesforce.APIVersion + "/sobjects/Contact/" + contact, "retrieve"},
		sub{"GET", "/services/data/" + salesforce.APIVersion + "/sobjects/Lead/describe", "describe"},
	)
	if len(results) != 6 {
		t.Fatalf("%d results, want 6", len(results))
	}
	for i, want := range []struct {
		ref, body string
	}{
		{"contacts", `"totalSize":1`},
		{"leads", `"Id":"` + lead + `"`},
		{"users", `"Id":"` + org.UserID() + `","IsActive":true`},
		{"tasks", `"done":false`},
		{"retrieve", `"LastName":"Lovelace"`},
		{"describe", `"keyPrefix":"00Q"`},
	} {
		got := results[i]
		if got.ReferenceID == nil || *got.ReferenceID != want.ref || got.HTTPStatusCode != http.StatusOK ||
			got.HTTPHeaders == nil || !strings.Contains(string(got.Body), want.body) {
			t.Errorf("result %d = %s %d %s, want %s with %s", i, deref(got.ReferenceID), got.HTTPStatusCode, got.Body, want.ref, want.body)
		}
	}

	// One API request, counted once as "composite".
	counts := org.RequestCounts()
	if counts["composite"] != countsBefore["composite"]+1 || counts["query"] != countsBefore["query"] ||
		counts["retrieve"] != countsBefore["retrieve"] || counts["describe"] != countsBefore["describe"] {
		t.Errorf("request counts %v, before %v: want one more composite only", counts, countsBefore)
	}
	wantAPIUsage(t, org, usedBefore+1)

	// A query's next page, in a composite or not.
	var page struct {
		NextRecordsURL string `json:"nextRecordsUrl"`
	}
	json.Unmarshal(results[3].Body, &page)
	results = composite(t, org, token, false, sub{"GET", page.NextRecordsURL, "more"})
	if results[0].HTTPStatusCode != http.StatusOK || !strings.Contains(string(results[0].Body), `"done":true`) ||
		!strings.Contains(string(results[0].Body), `"totalSize":3`) ||
		strings.Count(string(results[0].Body), `"Id":`) != 1 {
		t.Errorf("next page: %d %s", results[0].HTTPStatusCode, results[0].Body)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestCompositeErrors(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{})
	token := getToken(t, org)
	v := "/services/data/" + salesforce.APIVersion

	// A failing subrequest has its error; the others still answer.
	results := composite(t, org, token, false,
		sub{"GET", queryURL("SELECT Id FROM Contact"), "ok"},
		sub{"GET", queryURL("SELECT Id FROM Lead WHERE IsConverted = false AND Phone = 'x' OR Phone = 'y'"), "mixed"},
		sub{"GET", queryURL("SELECT Nope__c FROM Contact"), "field"},
		sub{"GET", queryURL("SELECT Id FROM Contact WHERE LastName IN ('" + strings.Repeat("x", 100_000) + "')"), "long"},
		sub{"GET", v + "/sobjects/Nope__c/describe", "object"},
		sub{"GET", "/services/data/v58.0/sobjects/Task/describe", "version"},
		sub{"GET", v + "/composite/sobjects", "method"},
		sub{"GET", queryURL("SELECT Id FROM User WHERE Email IN ('" + strings.Repeat("y", 20_000) + "')"), "longer_than_a_uri"},
	)
	for i, want := range []struct {
		status int
		code   string
	}{
		{200, ""}, {400, "MALFORMED_QUERY"}, {400, "INVALID_FIELD"}, {400, "MALFORMED_QUERY"}, {404, "NOT_FOUND"},
		{404, "NOT_FOUND"}, {405, "METHOD_NOT_ALLOWED"}, {200, ""},
	} {
		got := results[i]
		if got.HTTPStatusCode != want.status || want.code != "" && !strings.Contains(string(got.Body), `"errorCode":"`+want.code+`"`) {
			t.Errorf("%s: %d %.300s, want %d %s", deref(got.ReferenceID), got.HTTPStatusCode, got.Body, want.status, want.code)
		}
	}
	if !strings.Contains(string(results[3].Body), "SOQL statements can not be longer than 100000 characters.") {
		t.Errorf("long: %s", results[3].Body)
	}

	// allOrNone: the others are halted.
	results = composite(t, org, token, true,
		sub{"GET", queryURL("SELECT Id FROM Contact"), "ok"},
		sub{"GET", queryURL("SELECT Nope__c FROM Contact"), "bad"},
	)
	if results[0].HTTPStatusCode != 400 || !strings.Contains(string(results[0].Body), "PROCESSING_HALTED") ||
		results[1].HTTPStatusCode != 400 || !strings.Contains(string(results[1].Body), "INVALID_FIELD") {
		t.Errorf("allOrNone: %+v", results)
	}

	// Limits: 25 subrequests, 5 queries.
	var many []sub
	for i := range 26 {
		many = append(many, sub{"GET", v + "/sobjects/Task/describe", fmt.Sprintf("d%d", i)})
	}
	results = composite(t, org, token, false, many...)
	if len(results) != 1 || results[0].HTTPStatusCode != 400 || results[0].ReferenceID != nil ||
		!strings.Contains(string(results[0].Body), `"errorCode":"LIMIT_EXCEEDED"`) || !strings.Contains(string(results[0].Body), "more than 25 operations") {
		t.Errorf("26 subrequests: %+v", results)
	}
	if results := composite(t, org, token, false, many[:25]...); len(results) != 25 {
		t.Errorf("25 subrequests: %d results", len(results))
	}
	var queries []sub
	for i := range 6 {
		queries = append(queries, sub{"GET", queryURL("SELECT Id FROM Task"), fmt.Sprintf("q%d", i)})
	}
	results = composite(t, org, token, false, queries...)
	if len(results) != 1 || results[0].HTTPStatusCode != 400 || !strings.Contains(string(results[0].Body), `"errorCode":"LIMIT_EXCEEDED"`) {
		t.Errorf("6 queries: %+v", results)
	}
	if results := composite(t, org, token, false, append(queries[:5], many[:20]...)...); len(results) != 25 || results[4].HTTPStatusCode != 200 {
		t.Errorf("5 queries and 20 describes: %d results", len(results))
	}

	// Requests Salesforce or the simulator refuses whole.
	for name, body := range map[string]string{
		"not JSON":         `{"compositeRequest":`,
		"no subrequests":   `{"compositeRequest":[]}`,
		"no referenceId":   compositeBody(t, false, sub{"GET", queryURL("SELECT Id FROM Task"), ""}),
		"no url":           compositeBody(t, false, sub{"GET", "", "r"}),
		"bad referenceId":  compositeBody(t, false, sub{"GET", queryURL("SELECT Id FROM Task"), "a-b"}),
		"same referenceId": compositeBody(t, false, sub{"GET", queryURL("SELECT Id FROM Task"), "r"}, sub{"GET", queryURL("SELECT Id FROM Task"), "r"}),
		"a POST":           compositeBody(t, false, sub{"POST", v + "/sobjects/Task", "r"}),
		"a reference":      compositeBody(t, false, sub{"GET", v + "/sobjects/Task/@{r0.id}", "r"}),
	} {
		r := api(t, org, token, http.MethodPost, "/composite", body)
		if r.status != http.StatusBadRequest || errorCode(t, r) == "" {
			t.Errorf("%s: %d %s, want 400", name, r.status, r.body)
		}
	}
	if r := api(t, org, token, http.MethodGet, "/composite", ""); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET /composite: %d %s", r.status, r.body)
	}
	if n := len(org.Records("Task")); n != 0 {
		t.Errorf("%d Tasks: a refused composite wrote", n)
	}
}

func TestCompositeFaultsAndLatency(t *testing.T) {
	t.Parallel()
	org := newOrg(t, salesforcetest.OrgConfig{})
	token := getToken(t, org)
	body := compositeBody(t, false, sub{"GET", queryURL("SELECT Id FROM Task"), "a"}, sub{"GET", queryURL("SELECT Id FROM Contact"), "b"})

	// A fault of the composite applies to it whole; a query fault does not
	// reach its subrequests.
	org.InjectFault(salesforcetest.Fault{Op: "query", Kind: salesforcetest.Fault503})
	org.InjectFault(salesforcetest.Fault{Op: "composite", Kind: salesforcetest.FaultError, ErrorCode: "UNABLE_TO_LOCK_ROW"})
	if r := api(t, org, token, http.MethodPost, "/composite", body); r.status != http.StatusBadRequest || errorCode(t, r) != "UNABLE_TO_LOCK_ROW" {
		t.Errorf("faulted composite: %d %s", r.status, r.body)
	}
	if r := api(t, org, token, http.MethodPost, "/composite", body); r.status != http.StatusOK || strings.Contains(r.body, "SERVER_UNAVAILABLE") {
		t.Errorf("composite after its fault: %d %s", r.status, r.body)
	}
	if r := api(t, org, token, http.MethodGet, "/query?q="+url.QueryEscape("SELECT Id FROM Task"), ""); r.status != http.StatusServiceUnavailable {
		t.Errorf("the query fault should still be queued: %d %s", r.status, r.body)
	}

	// Latency applies once, to the whole request.
	org.SetLatency(150 * time.Millisecond)
	start := time.Now()
	many := make([]sub, 10)
	for i := range many {
		many[i] = sub{"GET", "/services/data/" + salesforce.APIVersion + "/sobjects/Task/describe", fmt.Sprintf("d%d", i)}
	}
	composite(t, org, token, false, many...)
	if d := time.Since(start); d < 150*time.Millisecond || d > 1400*time.Millisecond {
		t.Errorf("a composite of 10 took %s with 150ms of latency", d)
	}

	// Over the daily limit, refused whole.
	used, _ := org.APIUsage()
	org.SetDailyAPILimit(used)
	if r := api(t, org, token, http.MethodPost, "/composite", body); r.status != http.StatusForbidden || errorCode(t, r) != "REQUEST_LIMIT_EXCEEDED" {
		t.Errorf("over the limit: %d %s", r.status, r.body)
	}
	counts := org.RequestCounts()
	if counts["composite"] != 4 || counts["describe"] != 0 {
		t.Errorf("RequestCounts = %v", counts)
	}
}
