package salesforce_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

// ids returns the Id of each record.
func ids(records []salesforce.Fields) []string {
	var out []string
	for _, r := range records {
		id, _ := r["Id"].(string)
		out = append(out, id)
	}
	return out
}

func TestQueryMany(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	t.Run("three queries in one request", func(t *testing.T) {
		t.Parallel()
		contact := salesforcetest.ContactObject()
		contact.Fields = append(contact.Fields, salesforcetest.FieldDef{Name: "Direct_Line__c", Label: "Direct Line", Type: "phone"})
		b := setup(t, salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{contact}})
		older := b.org.PutRecord("Contact", salesforce.Fields{"LastName": "Older", "Phone": "+81312345678", "LastModifiedDate": "2021-01-15T10:00:00.000+0000"})
		newer := b.org.PutRecord("Contact", salesforce.Fields{"LastName": "Newer", "Direct_Line__c": "03-1234-5678", "LastModifiedDate": "2021-02-15T10:00:00.000+0000"})
		lead := b.org.PutRecord("Lead", salesforce.Fields{"LastName": "Hopper", "Company": "Navy", "MobilePhone": "+81312345678"})
		b.org.PutRecord("Lead", salesforce.Fields{"LastName": "Converted", "Company": "Navy", "Phone": "+81312345678", "IsConverted": true})
		agent := b.org.PutRecord("User", salesforce.Fields{"Username": "a@x.com.acme", "LastName": "Agent", "Email": "a@x.com"})

		phones := "(" + salesforce.QuoteSOQL("+81312345678") + "," + salesforce.QuoteSOQL("03-1234-5678") + ")"
		results, err := b.client.QueryMany(ctx,
			"SELECT Id, LastModifiedDate, Phone, MobilePhone, Direct_Line__c FROM Contact WHERE Phone IN "+phones+
				" OR MobilePhone IN "+phones+" OR Direct_Line__c IN "+phones+" ORDER BY LastModifiedDate DESC, Id",
			"SELECT Id, LastModifiedDate, Phone, MobilePhone FROM Lead WHERE IsConverted = false AND (Phone IN "+phones+
				" OR MobilePhone IN "+phones+") ORDER BY LastModifiedDate DESC, Id",
			"SELECT Id, Email, IsActive FROM User WHERE Email IN ('A@X.COM', 'b@x.com')",
		)
		if err != nil {
			t.Fatalf("QueryMany: %v", err)
		}
		if len(results) != 3 {
			t.Fatalf("%d results, want 3", len(results))
		}
		if got := ids(results[0]); !slices.Equal(got, []string{newer, older}) {
			t.Errorf("contacts = %v, want %v", got, []string{newer, older})
		}
		if c := results[0][0]; c["LastModifiedDate"] != "2021-02-15T10:00:00.000+0000" || c["Direct_Line__c"] != "03-1234-5678" || c["Phone"] != nil {
			t.Errorf("contact = %v", c)
		}
		if _, ok := results[0][0]["attributes"]; ok {
			t.Errorf("contact still has attributes: %v", results[0][0])
		}
		if got := ids(results[1]); !slices.Equal(got, []string{lead}) {
			t.Errorf("leads = %v, want %v", got, []string{lead})
		}
		if len(results[2]) != 1 || results[2][0]["Id"] != agent || results[2][0]["IsActive"] != true || results[2][0]["Email"] != "a@x.com" {
			t.Errorf("users = %v", results[2])
		}

		// One API request: one composite, no query, usage counted once.
		if got, want := b.org.RequestCounts(), map[string]int{"token": 1, "composite": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("RequestCounts = %v, want %v", got, want)
		}
		if got, want := b.ops.Calls(), []string{"token 200", "composite 200"}; !slices.Equal(got, want) {
			t.Errorf("OnRequest saw %q, want %q", got, want)
		}
		if u, ok := b.client.APIUsage(); !ok || u.Used != 1 {
			t.Errorf("APIUsage = %+v, %t; want 1 used", u, ok)
		}
		if used, _ := b.org.APIUsage(); used != 1 {
			t.Errorf("the org counted %d API requests, want 1", used)
		}
	})

	orgTest(t, "a query that fails", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		tests := []struct {
			bad      string
			wantCode string
		}{
			{"SELECT Id FROM Lead WHERE IsConverted = false AND Phone = 'x' OR MobilePhone = 'x'", "MALFORMED_QUERY"},
			{"SELECT Nope__c FROM Contact", "INVALID_FIELD"},
			{"SELECT Id FROM Nope__c", "INVALID_TYPE"},
		}
		for _, tt := range tests {
			results, err := b.client.QueryMany(ctx, "SELECT Id FROM Contact", tt.bad, "SELECT Id FROM User")
			ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
			if results != nil || ae.Op != "query many" || ae.StatusCode != http.StatusBadRequest || ae.ErrorCode != tt.wantCode ||
				!strings.HasPrefix(ae.Message, "query 2 of 3: ") || salesforce.Classify(err) != crm.ClassData {
				t.Errorf("QueryMany(..., %q, ...) = %v, %v; want query 2's %s, data", tt.bad, results, ae, tt.wantCode)
			}
		}
		wantRequests(t, b, "composite", len(tests))
	})

	orgTest(t, "pages of a big result", salesforcetest.OrgConfig{QueryBatchSize: 3}, func(t *testing.T, b *testBundle) {
		for i := range 8 {
			b.org.PutRecord("Task", salesforce.Fields{"Subject": fmt.Sprintf("s-%d", i), "CallDurationInSeconds": i})
		}
		contacts := []string{
			b.org.PutRecord("Contact", salesforce.Fields{"LastName": "a"}),
			b.org.PutRecord("Contact", salesforce.Fields{"LastName": "b"}),
		}
		results, err := b.client.QueryMany(ctx,
			"SELECT Id, Subject FROM Task ORDER BY CallDurationInSeconds DESC",
			"SELECT Id FROM Contact ORDER BY LastName",
			"SELECT Id FROM Lead",
		)
		if err != nil {
			t.Fatalf("QueryMany: %v", err)
		}
		if len(results[0]) != 8 {
			t.Fatalf("%d Tasks, want 8", len(results[0]))
		}
		for i, r := range results[0] {
			if want := fmt.Sprintf("s-%d", 7-i); r["Subject"] != want {
				t.Errorf("Task %d = %v, want %s", i, r, want)
			}
		}
		if got := ids(results[1]); !slices.Equal(got, contacts) {
			t.Errorf("contacts = %v, want %v", got, contacts)
		}
		if len(results[2]) != 0 {
			t.Errorf("leads = %v, want none", results[2])
		}
		// The composite, then the Tasks' pages 2 and 3 as ordinary queries.
		if got, want := b.ops.Calls(), []string{"token 200", "composite 200", "query 200", "query 200"}; !slices.Equal(got, want) {
			t.Errorf("OnRequest saw %q, want %q", got, want)
		}
		wantAPIUsage(t, b, 3)
	})

	orgTest(t, "refused without a request", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		if results, err := b.client.QueryMany(ctx); results != nil || err != nil {
			t.Errorf("QueryMany() = %v, %v; want nothing", results, err)
		}
		six := slices.Repeat([]string{"SELECT Id FROM Task"}, salesforce.MaxQueryMany+1)
		_, err := b.client.QueryMany(ctx, six...)
		if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); ae.ErrorCode != "LIMIT_EXCEEDED" || ae.StatusCode != 0 || salesforce.Classify(err) != crm.ClassData {
			t.Errorf("6 queries: %v", ae)
		}
		_, err = b.client.QueryMany(ctx, "SELECT Id FROM Task", " ")
		if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); ae.ErrorCode != "MALFORMED_QUERY" || ae.StatusCode != 0 {
			t.Errorf("an empty query: %v", ae)
		}
		if got := b.ops.Calls(); len(got) != 0 {
			t.Errorf("requests were sent: %q", got)
		}
		if results, err := b.client.QueryMany(ctx, six[:salesforce.MaxQueryMany]...); err != nil || len(results) != salesforce.MaxQueryMany {
			t.Errorf("5 queries: %d results, %v", len(results), err)
		}
	})

	orgTest(t, "a query longer than a URL", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		id := b.org.PutRecord("Contact", salesforce.Fields{"LastName": "Lovelace", "Phone": "+81312345678"})
		phones := make([]string, 2000) // about 30,000 characters: a 414 as a GET
		for i := range phones {
			phones[i] = salesforce.QuoteSOQL(fmt.Sprintf("+8131234%04d", i+1))
		}
		phones[1000] = salesforce.QuoteSOQL("+81312345678")
		results, err := b.client.QueryMany(ctx, "SELECT Id FROM Contact WHERE Phone IN ("+strings.Join(phones, ",")+")")
		if err != nil || len(results) != 1 || !slices.Equal(ids(results[0]), []string{id}) {
			t.Errorf("QueryMany = %v, %v; want %s", results, err, id)
		}
	})
}

func TestQueryManyMachinery(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	orgTest(t, "an expired session is renewed once", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		if _, err := b.client.QueryMany(ctx, "SELECT Id FROM Task"); err != nil {
			t.Fatalf("QueryMany: %v", err)
		}
		b.org.ExpireTokens()
		if _, err := b.client.QueryMany(ctx, "SELECT Id FROM Task", "SELECT Id FROM User"); err != nil {
			t.Fatalf("QueryMany after the session expired: %v", err)
		}
		want := []string{"token 200", "composite 200", "composite 401", "token 200", "composite 200"}
		if got := b.ops.Calls(); !slices.Equal(got, want) {
			t.Errorf("OnRequest saw %q, want %q", got, want)
		}
	})

	orgTest(t, "faults of the composite", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		for _, tt := range []struct {
			fault     salesforcetest.Fault
			wantCode  string
			wantClass crm.Class
		}{
			{salesforcetest.Fault{Op: "composite", Kind: salesforcetest.Fault503}, "SERVER_UNAVAILABLE", crm.ClassRetryable},
			{salesforcetest.Fault{Op: "composite", Kind: salesforcetest.FaultRequestLimit}, "REQUEST_LIMIT_EXCEEDED", crm.ClassRateLimited},
			{salesforcetest.Fault{Op: "composite", Kind: salesforcetest.FaultLockRow}, "UNABLE_TO_LOCK_ROW", crm.ClassRetryable},
		} {
			b.org.InjectFault(tt.fault)
			_, err := b.client.QueryMany(ctx, "SELECT Id FROM Task")
			if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); ae.Op != "query many" || ae.ErrorCode != tt.wantCode || salesforce.Classify(err) != tt.wantClass {
				t.Errorf("%v: %v, want %s %s", tt.fault.Kind, ae, tt.wantCode, tt.wantClass)
			}
		}
	})

	t.Run("the request timeout", func(t *testing.T) {
		t.Parallel()
		b := setup(t, salesforcetest.OrgConfig{}, func(c *salesforce.Config) { c.Timeout = 100 * time.Millisecond })
		if err := b.client.CheckCredentials(ctx); err != nil {
			t.Fatal(err)
		}
		b.org.InjectFault(salesforcetest.Fault{Op: "composite", Kind: salesforcetest.FaultLatency, Latency: 2 * time.Second})
		start := time.Now()
		_, err := b.client.QueryMany(ctx, "SELECT Id FROM Task")
		var ae *salesforce.APIError
		if err == nil || errors.As(err, &ae) || !strings.Contains(err.Error(), "timed out") || salesforce.Classify(err) != crm.ClassRetryable {
			t.Errorf("QueryMany = %v, want a timeout", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("QueryMany took %s with a 100ms timeout", d)
		}
	})

	orgTest(t, "a canceled context", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := b.client.QueryMany(ctx, "SELECT Id FROM Task"); !errors.Is(err, context.Canceled) {
			t.Errorf("QueryMany = %v, want context.Canceled", err)
		}
	})

	orgTest(t, "an echoed secret is scrubbed", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		// Salesforce quotes a bad ID value in its message.
		_, err := b.client.QueryMany(ctx, "SELECT Id FROM Task", "SELECT Id FROM Task WHERE Id = "+salesforce.QuoteSOQL(testClientSecret))
		ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
		if ae.ErrorCode != "INVALID_QUERY_FILTER_OPERATOR" || strings.Contains(err.Error(), testClientSecret) || !strings.Contains(ae.Message, "[REDACTED]") {
			t.Errorf("QueryMany = %v, want the secret redacted", err)
		}
	})

	t.Run("answers the client cannot use", func(t *testing.T) {
		t.Parallel()
		limit := `{"compositeResponse":[{"body":[{"errorCode":"LIMIT_EXCEEDED","message":"The request can’t contain more than 25 operations."}],"httpHeaders":{},"httpStatusCode":400,"referenceId":null}]}`
		for _, tt := range []struct {
			name, body string
			wantCode   string
			wantClass  crm.Class
		}{
			{"an error of no subrequest", limit, "LIMIT_EXCEEDED", crm.ClassData},
			{"a result missing", `{"compositeResponse":[{"body":{"done":true,"records":[]},"httpHeaders":{},"httpStatusCode":200,"referenceId":"q0"}]}`, "", crm.ClassRetryable},
			{"not JSON", `<html>`, "", crm.ClassRetryable},
		} {
			fake := fakeSalesforce(t, nil, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/composite") {
					http.NotFound(w, r)
					return
				}
				var req struct {
					CompositeRequest []struct {
						Method, URL, ReferenceID string
					} `json:"compositeRequest"`
				}
				if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.CompositeRequest) != 2 || req.CompositeRequest[1].Method != "GET" {
					http.Error(w, "bad request", http.StatusBadRequest)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(tt.body))
			})
			_, err := fakeClient(t, fake.URL).QueryMany(ctx, "SELECT Id FROM Task", "SELECT Id FROM Lead")
			if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); ae.ErrorCode != tt.wantCode || salesforce.Classify(err) != tt.wantClass {
				t.Errorf("%s: %v (%s), want %q %s", tt.name, ae, salesforce.Classify(err), tt.wantCode, tt.wantClass)
			}
		}
	})
}
