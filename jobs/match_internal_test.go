package jobs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/koeiq/syncd/salesforce"
)

// A batch whose numbers would make a match query longer than Salesforce
// takes is looked up with several, each within maxSOQL, together asking
// for every form; their results merge newest first.
func TestMatchQueriesSplit(t *testing.T) {
	t.Parallel()
	var forms []string
	for i := range 1200 { // 200 numbers, 6 forms each
		forms = append(forms, fmt.Sprintf("+81 3-1234-%04d", i))
	}
	fields := []string{"Phone", "MobilePhone", "A__c", "B__c", "C__c", "D__c", "E__c"}
	queries := matchQueries("Contact", fields, forms, "")
	if len(queries) < 2 {
		t.Fatalf("%d query of %d characters", len(queries), len(queries[0]))
	}
	asked := 0
	for _, q := range queries {
		if len(q) > maxSOQL {
			t.Errorf("a query of %d characters", len(q))
		}
		asked += strings.Count(q, "'+81 3-1234-")
	}
	if asked != len(forms)*len(fields) {
		t.Errorf("the queries ask for %d values, want %d", asked, len(forms)*len(fields))
	}
	if q := matchQueries("Contact", []string{"Phone"}, forms[:3], ""); len(q) != 1 {
		t.Errorf("a small batch takes %d queries", len(q))
	}

	merged := newestFirst([][]salesforce.Fields{
		{{"Id": "003B", "LastModifiedDate": "2026-03-01T00:00:00.000+0000"}, {"Id": "003C", "LastModifiedDate": "2026-01-01T00:00:00.000+0000"}},
		{{"Id": "003A", "LastModifiedDate": "2026-03-01T00:00:00.000+0000"}, {"Id": "003D", "LastModifiedDate": "2026-05-01T00:00:00.000+0000"},
			{"Id": "003C", "LastModifiedDate": "2026-01-01T00:00:00.000+0000"}},
	})
	var ids []string
	for _, r := range merged {
		ids = append(ids, r["Id"].(string))
	}
	if got := strings.Join(ids, " "); got != "003D 003A 003B 003C" {
		t.Errorf("merged: %s", got)
	}
}
