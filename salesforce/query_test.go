package salesforce_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

func TestQuoteSOQL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", `''`},
		{"plain", `'plain'`},
		{"it's", `'it\'s'`},
		{`a'b\c`, `'a\'b\\c'`},
		{`say "hi"`, `'say \"hi\"'`},
		{"line\nbreak\r\ttab", `'line\nbreak\r\ttab'`},
		{"\b\f", `'\b\f'`},
		{`\'`, `'\\\''`},
		{`' OR Name != '`, `'\' OR Name != \''`},
		{"100%_done", `'100%_done'`},
		{"KoeIQ Call — c-1 😀", `'KoeIQ Call — c-1 😀'`},
	}
	for _, tt := range tests {
		if got := salesforce.QuoteSOQL(tt.in); got != tt.want {
			t.Errorf("QuoteSOQL(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	orgTest(t, "hostile strings round-trip", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		hostile := []string{
			`a'b\c`,
			`it's "quoted"`,
			"line\nbreak\ttab\r",
			`back\\slash\`,
			`\'`,
			`' OR Subject != '`,
			`%_wild`,
			"KoeIQ Call — c-1 😀",
			"\b\f",
		}
		ids := make(map[string]string)
		for _, s := range hostile {
			id, err := b.client.Create(ctx, "Task", task(s))
			if err != nil {
				t.Fatalf("Create(%q): %v", s, err)
			}
			ids[s] = id
		}
		for _, s := range hostile {
			recs, err := b.client.Query(ctx, "SELECT Id, Subject FROM Task WHERE Subject = "+salesforce.QuoteSOQL(s))
			if err != nil {
				t.Fatalf("Query for %q: %v", s, err)
			}
			if len(recs) != 1 || recs[0]["Id"] != ids[s] || recs[0]["Subject"] != s {
				t.Errorf("Query for %q = %v, want the one record %s", s, recs, ids[s])
			}
			if len(recs) == 1 {
				if _, ok := recs[0]["attributes"]; ok {
					t.Errorf("record %v still has attributes", recs[0])
				}
			}
		}

		quoted := make([]string, 0, 3)
		for _, s := range hostile[:3] {
			quoted = append(quoted, salesforce.QuoteSOQL(s))
		}
		recs, err := b.client.Query(ctx, "SELECT Id FROM Task WHERE Subject IN ("+strings.Join(quoted, ", ")+") ORDER BY Subject LIMIT 10")
		if err != nil {
			t.Fatalf("IN query: %v", err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r["Id"].(string))
		}
		want := []string{ids[hostile[0]], ids[hostile[1]], ids[hostile[2]]}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("IN query = %v, want %v", got, want)
		}
	})

	orgTest(t, "follows nextRecordsUrl", salesforcetest.OrgConfig{QueryBatchSize: 3}, func(t *testing.T, b *testBundle) {
		for i := range 8 {
			b.org.PutRecord("Task", salesforce.Fields{"Subject": fmt.Sprintf("s-%d", i), "CallDurationInSeconds": i})
		}
		recs, err := b.client.Query(ctx, "SELECT Id, Subject, CallDurationInSeconds FROM Task ORDER BY CallDurationInSeconds DESC")
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		if len(recs) != 8 {
			t.Fatalf("Query returned %d records, want 8", len(recs))
		}
		for i, r := range recs {
			if want := fmt.Sprintf("s-%d", 7-i); r["Subject"] != want || r["CallDurationInSeconds"] != float64(7-i) {
				t.Errorf("record %d = %v, want %s", i, r, want)
			}
		}
		wantRequests(t, b, "query", 3) // one a page
		wantAPIUsage(t, b, 3)
	})

	orgTest(t, "no match", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		recs, err := b.client.Query(ctx, "SELECT Id FROM Task WHERE Subject = 'nothing' LIMIT 1")
		if err != nil || len(recs) != 0 {
			t.Errorf("Query = %v, %v; want no records", recs, err)
		}
	})

	orgTest(t, "errors", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		tests := []struct {
			soql     string
			wantCode string
			sent     bool
		}{
			{"", "MALFORMED_QUERY", false},
			{"SELECT FROM Task", "MALFORMED_QUERY", true},
			{"SELECT Id FROM Task WHERE Subject = 'unterminated", "MALFORMED_QUERY", true},
			{`SELECT Id FROM Task WHERE Subject = 'bad \q escape'`, "MALFORMED_QUERY", true},
			{"SELECT Id FROM Task WHERE Subject LIKE 'x%'", "MALFORMED_QUERY", true},
			{"SELECT Id FROM Task; DELETE", "MALFORMED_QUERY", true},
			{"SELECT Id FROM Nope__c", "INVALID_TYPE", true},
			{"SELECT Nope__c FROM Task", "INVALID_FIELD", true},
			{"SELECT Id FROM Task WHERE Description = 'x'", "INVALID_FIELD", true},
			{"SELECT Id FROM Task WHERE Subject = 42", "INVALID_QUERY_FILTER_OPERATOR", true},
			{"SELECT Id FROM Task WHERE ActivityDate = '2026-01-15'", "INVALID_QUERY_FILTER_OPERATOR", true},
		}
		for _, tt := range tests {
			_, err := b.client.Query(ctx, tt.soql)
			ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
			if ae.ErrorCode != tt.wantCode || (ae.StatusCode == http.StatusBadRequest) != tt.sent || salesforce.Classify(err) != crm.ClassData {
				t.Errorf("Query(%q) error = %v, want %s (sent: %t), data", tt.soql, ae, tt.wantCode, tt.sent)
			}
		}
	})

	orgTest(t, "dates, numbers and IDs", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		id := createTask(t, ctx, b, "c-1")
		for _, q := range []string{
			"SELECT Id FROM Task WHERE ActivityDate = 2026-01-15",
			"SELECT Id FROM Task WHERE CallDurationInSeconds = 312 AND Status = 'completed'",
			"SELECT Id FROM Task WHERE Id = '" + id[:15] + "'",
			"select id from task where id in ('" + strings.ToLower(id) + "')",
			"SELECT Id FROM Task WHERE WhoId = null AND Subject != 'c-2'",
		} {
			recs, err := b.client.Query(ctx, q)
			if err != nil {
				t.Fatalf("Query(%q): %v", q, err)
			}
			if len(recs) != 1 || recs[0]["Id"] != id {
				t.Errorf("Query(%q) = %v, want %s", q, recs, id)
			}
		}
	})
}
