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

func TestCreateMany(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	orgTest(t, "mixed good and bad records", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		records := []salesforce.Fields{
			task("good-1"),
			{"Subject": strings.Repeat("x", 256)},
			{"Subject": "bad picklist", "CallType": "Sideways"},
			{"Subject": "read-only", "IsClosed": true},
			task("good-2"),
		}
		results, err := b.client.CreateMany(ctx, "Task", records)
		if err != nil {
			t.Fatalf("CreateMany: %v", err)
		}
		if len(results) != len(records) {
			t.Fatalf("%d results for %d records", len(results), len(records))
		}
		wantCodes := []string{"", "STRING_TOO_LONG", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "INVALID_FIELD_FOR_INSERT_UPDATE", ""}
		for i, r := range results {
			if want := wantCodes[i]; want == "" {
				if !r.Success || len(r.ID) != 18 || len(r.Errors) != 0 {
					t.Errorf("result %d = %+v, want success", i, r)
				}
				if rec, ok := b.org.Record("Task", r.ID); !ok || rec["Subject"] != records[i]["Subject"] {
					t.Errorf("result %d: record %s = %v", i, r.ID, rec)
				}
			} else if r.Success || r.ID != "" || len(r.Errors) != 1 || r.Errors[0].StatusCode != want || r.Errors[0].Class() != crm.ClassData {
				t.Errorf("result %d = %+v, want failure %s (data)", i, r, want)
			}
		}
		if f := results[1].Errors[0].Fields; !slices.Equal(f, []string{"Subject"}) {
			t.Errorf("STRING_TOO_LONG fields = %q, want [Subject]", f)
		}
		if got := len(b.org.Records("Task")); got != 2 {
			t.Errorf("records = %d, want 2", got)
		}
		wantRequests(t, b, "collection_create", 1)
		wantAPIUsage(t, b, 1) // one for the whole batch
	})

	t.Run("deserialization error fails the whole request", func(t *testing.T) {
		t.Parallel()
		tests := []badFieldCase{
			{"unknown field", salesforce.Fields{"Subject": "x", "Foo__c": 1}, "INVALID_FIELD"},
			{"bad date", salesforce.Fields{"ActivityDate": "tomorrow"}, "JSON_PARSER_ERROR"},
			{"wrong JSON type", salesforce.Fields{"CallDurationInSeconds": "long"}, "JSON_PARSER_ERROR"},
			{"object for a string", salesforce.Fields{"Subject": map[string]any{"a": 1}}, "JSON_PARSER_ERROR"},
		}
		for _, tt := range tests {
			orgTest(t, tt.name, salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
				_, err := b.client.CreateMany(ctx, "Task", []salesforce.Fields{task("good-1"), tt.bad, task("good-2")})
				ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
				if ae.StatusCode != http.StatusBadRequest || ae.ErrorCode != tt.wantCode || salesforce.Classify(err) != crm.ClassData {
					t.Errorf("error = %v, want 400 %s, data", ae, tt.wantCode)
				}
				if got := len(b.org.Records("Task")); got != 0 {
					t.Errorf("records = %d, want 0", got)
				}
			})
		}
	})

	orgTest(t, "sizes", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		results, err := b.client.CreateMany(ctx, "Task", nil)
		if err != nil || results != nil {
			t.Errorf("CreateMany(nil) = %v, %v; want nil, nil", results, err)
		}
		many := make([]salesforce.Fields, salesforce.MaxCollectionSize+1)
		for i := range many {
			many[i] = task(fmt.Sprint("c-", i))
		}
		_, err = b.client.CreateMany(ctx, "Task", many)
		if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); ae.StatusCode != 0 || ae.ErrorCode != "EXCEEDED_ID_LIMIT" {
			t.Errorf("201 records: error = %v, want EXCEEDED_ID_LIMIT not sent", ae)
		}
		wantRequests(t, b, "token", 0)
		results, err = b.client.CreateMany(ctx, "Task", many[:salesforce.MaxCollectionSize])
		if err != nil || len(results) != salesforce.MaxCollectionSize {
			t.Fatalf("200 records: %d results, %v", len(results), err)
		}
		if got := len(b.org.Records("Task")); got != salesforce.MaxCollectionSize {
			t.Errorf("records = %d, want %d", got, salesforce.MaxCollectionSize)
		}
	})

	orgTest(t, "does not modify the caller's records", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		rec := task("c-1")
		if _, err := b.client.CreateMany(ctx, "Task", []salesforce.Fields{rec}); err != nil {
			t.Fatalf("CreateMany: %v", err)
		}
		if _, ok := rec["attributes"]; ok {
			t.Error("CreateMany added attributes to the caller's map")
		}
	})
}

func TestUpsertMany(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}})

	existing, err := b.client.Upsert(ctx, "Call_Recording__c", "call_id__c", "c-1", salesforce.Fields{"Name": "one"})
	if err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	records := []salesforce.Fields{
		{"call_id__c": "c-1", "Name": "one again", "call_duration_seconds__c": 60},
		{"call_id__c": "c-2", "Name": "two", "call_date__c": "2026-01-15"},
		{"Name": "no call id"},
		{"call_id__c": "c-3", "Name": "twice"},
		{"call_id__c": "c-3", "Name": "twice"},
		{"call_id__c": "c-4"}, // Name missing
	}
	results, err := b.client.UpsertMany(ctx, "Call_Recording__c", "call_id__c", records)
	if err != nil {
		t.Fatalf("UpsertMany: %v", err)
	}
	if len(results) != len(records) {
		t.Fatalf("%d results for %d records", len(results), len(records))
	}
	if r := results[0]; !r.Success || r.Created || r.ID != existing.ID {
		t.Errorf("result 0 = %+v, want updated %s", r, existing.ID)
	}
	if r := results[1]; !r.Success || !r.Created || r.ID == "" {
		t.Errorf("result 1 = %+v, want created", r)
	}
	for i, want := range map[int]string{2: "MISSING_ARGUMENT", 3: "DUPLICATE_EXTERNAL_ID", 4: "DUPLICATE_EXTERNAL_ID", 5: "REQUIRED_FIELD_MISSING"} {
		if r := results[i]; r.Success || len(r.Errors) == 0 || r.Errors[0].StatusCode != want {
			t.Errorf("result %d = %+v, want %s", i, r, want)
		}
	}
	recs := b.org.Records("Call_Recording__c")
	if len(recs) != 2 || recs[0]["Name"] != "one again" || recs[0]["call_duration_seconds__c"] != 60.0 {
		t.Errorf("records = %v, want c-1 updated and c-2 created", recs)
	}
	wantRequests(t, b, "collection_upsert", 1)

	_, err = b.client.UpsertMany(ctx, "Call_Recording__c", "Name", records[:1])
	if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); ae.StatusCode != http.StatusBadRequest || ae.ErrorCode != "INVALID_FIELD" {
		t.Errorf("UpsertMany by a field that is no external ID: error = %v, want 400 INVALID_FIELD", ae)
	}
}

func TestUpdateMany(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	// create makes n Tasks and returns their IDs.
	create := func(t *testing.T, b *testBundle, n int) []string {
		t.Helper()
		records := make([]salesforce.Fields, n)
		for i := range records {
			records[i] = task(fmt.Sprint("c-", i))
		}
		results, err := b.client.CreateMany(ctx, "Task", records)
		if err != nil {
			t.Fatalf("CreateMany: %v", err)
		}
		ids := make([]string, n)
		for i, r := range results {
			if !r.Success {
				t.Fatalf("CreateMany result %d = %+v", i, r)
			}
			ids[i] = r.ID
		}
		return ids
	}

	orgTest(t, "mixed success, deleted and errors", salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}}, func(t *testing.T, b *testBundle) {
		ids := create(t, b, 6)
		b.org.DeleteRecord("Task", ids[2])
		b.org.EmptyRecycleBin() // ids[2] is purged
		b.org.DeleteRecord("Task", ids[1])
		other := b.org.PutRecord("Call_Recording__c", salesforce.Fields{"Name": "x"})

		sent := []string{ids[0], ids[1], ids[2], ids[3], ids[4], other, ids[5][:15]}
		records := []salesforce.Fields{
			{"CallDisposition": "Qualified", "Description": nil},
			{"CallDisposition": "deleted"},
			{"CallDisposition": "purged"},
			{"CallDisposition": strings.Repeat("x", 256)},
			{"TaskSubtype": "Task"}, // create only
			{"CallDisposition": "another object's ID"},
			{"CallDisposition": "by 15-character ID"},
		}
		results, err := b.client.UpdateMany(ctx, "Task", sent, records)
		if err != nil {
			t.Fatalf("UpdateMany: %v", err)
		}
		if len(results) != len(records) {
			t.Fatalf("%d results for %d records", len(results), len(records))
		}
		tests := []struct {
			wantID      string // for a success
			wantCode    string // for a failure
			wantDeleted bool
		}{
			{wantID: ids[0]},
			{wantCode: "ENTITY_IS_DELETED", wantDeleted: true},
			{wantCode: "INVALID_CROSS_REFERENCE_KEY", wantDeleted: true},
			{wantCode: "STRING_TOO_LONG"},
			{wantCode: "INVALID_FIELD_FOR_INSERT_UPDATE"},
			{wantCode: "MALFORMED_ID"},
			{wantID: ids[5]},
		}
		for i, tt := range tests {
			r := results[i]
			if r.Deleted() != tt.wantDeleted {
				t.Errorf("result %d: Deleted() = %t, want %t (%+v)", i, r.Deleted(), tt.wantDeleted, r)
			}
			if tt.wantCode == "" {
				if !r.Success || r.ID != tt.wantID || r.Created || len(r.Errors) != 0 {
					t.Errorf("result %d = %+v, want success for %s", i, r, tt.wantID)
				}
				continue
			}
			if r.Success || r.ID != "" || len(r.Errors) != 1 || r.Errors[0].StatusCode != tt.wantCode || r.Errors[0].Class() != crm.ClassData {
				t.Errorf("result %d = %+v, want failure %s (data)", i, r, tt.wantCode)
			}
		}
		if f := results[5].Errors[0].Fields; !slices.Equal(f, []string{"Id"}) {
			t.Errorf("MALFORMED_ID fields = %q, want [Id]", f)
		}

		for i, want := range map[int]any{0: "Qualified", 3: nil, 4: nil} {
			rec, _ := b.org.Record("Task", ids[i])
			if rec["CallDisposition"] != want || rec["Subject"] != fmt.Sprint("c-", i) {
				t.Errorf("record %d = %v, want CallDisposition %v and Subject kept", i, rec, want)
			}
		}
		if rec, _ := b.org.Record("Task", ids[0]); rec["Description"] != nil {
			t.Errorf("Description = %v, want cleared by null", rec["Description"])
		}
		if rec, _ := b.org.Record("Task", ids[4]); rec["TaskSubtype"] != "Call" {
			t.Errorf("TaskSubtype = %v, want Call unchanged", rec["TaskSubtype"])
		}
		if rec, _ := b.org.Record("Task", ids[5]); rec["CallDisposition"] != "by 15-character ID" {
			t.Errorf("record 5 CallDisposition = %v", rec["CallDisposition"])
		}
		if rec, _ := b.org.Record("Call_Recording__c", other); rec["Name"] != "x" {
			t.Errorf("the other object's record changed: %v", rec)
		}
		wantRequests(t, b, "collection_update", 1)
		if got := b.ops.Calls(); !slices.Contains(got, "collection_update 200") {
			t.Errorf("OnRequest saw %q, want collection_update 200", got)
		}
		wantAPIUsage(t, b, 2) // one create, one update batch
	})

	t.Run("deserialization error fails the whole request", func(t *testing.T) {
		t.Parallel()
		tests := []badFieldCase{
			{"unknown field", salesforce.Fields{"Foo__c": 1}, "INVALID_FIELD"},
			{"bad date", salesforce.Fields{"ActivityDate": "tomorrow"}, "JSON_PARSER_ERROR"},
			{"wrong JSON type", salesforce.Fields{"CallDurationInSeconds": "long"}, "JSON_PARSER_ERROR"},
		}
		for _, tt := range tests {
			orgTest(t, tt.name, salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
				ids := create(t, b, 3)
				_, err := b.client.UpdateMany(ctx, "Task", ids,
					[]salesforce.Fields{{"CallDisposition": "changed"}, tt.bad, {"CallDisposition": "changed"}})
				ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
				if ae.StatusCode != http.StatusBadRequest || ae.ErrorCode != tt.wantCode || ae.Op != "update many Task" || salesforce.Classify(err) != crm.ClassData {
					t.Errorf("error = %v, want 400 %s, data", ae, tt.wantCode)
				}
				for _, rec := range b.org.Records("Task") {
					if rec["CallDisposition"] != nil {
						t.Errorf("record %v changed by a refused request", rec["Id"])
					}
				}
			})
		}
	})

	orgTest(t, "refused without a request", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		const id = "00T000000000001AAA"
		many := make([]salesforce.Fields, salesforce.MaxCollectionSize+1)
		manyIDs := make([]string, len(many))
		for i := range many {
			many[i], manyIDs[i] = salesforce.Fields{"CallDisposition": "x"}, id
		}
		tests := []struct {
			name     string
			ids      []string
			records  []salesforce.Fields
			wantCode string
		}{
			{"201 records", manyIDs, many, "EXCEEDED_ID_LIMIT"},
			{"fewer IDs than records", []string{id}, []salesforce.Fields{{}, {}}, ""},
			{"malformed ID", []string{id, "00T-bad"}, []salesforce.Fields{{}, {}}, "MALFORMED_ID"},
			{"Id in the fields", []string{id}, []salesforce.Fields{{"Id": id}}, "INVALID_FIELD"},
			{"bad object name", []string{id}, []salesforce.Fields{{}}, "INVALID_TYPE"},
		}
		for _, tt := range tests {
			sobject := "Task"
			if tt.name == "bad object name" {
				sobject = "Task/../query"
			}
			_, err := b.client.UpdateMany(ctx, sobject, tt.ids, tt.records)
			ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
			if ae.StatusCode != 0 || ae.ErrorCode != tt.wantCode || salesforce.Classify(err) != crm.ClassData {
				t.Errorf("%s: error = %v, want %q not sent, data", tt.name, ae, tt.wantCode)
			}
		}
		results, err := b.client.UpdateMany(ctx, "Task", nil, nil)
		if err != nil || results != nil {
			t.Errorf("UpdateMany(nil) = %v, %v; want nil, nil", results, err)
		}
		if got := b.org.RequestCounts(); len(got) != 0 {
			t.Errorf("requests made: %v", got)
		}
	})

	orgTest(t, "200 records", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		ids := create(t, b, salesforce.MaxCollectionSize)
		records := make([]salesforce.Fields, len(ids))
		for i := range records {
			records[i] = salesforce.Fields{"CallDisposition": fmt.Sprint("d-", i)}
		}
		results, err := b.client.UpdateMany(ctx, "Task", ids, records)
		if err != nil || len(results) != len(ids) {
			t.Fatalf("UpdateMany: %d results, %v", len(results), err)
		}
		for i, rec := range b.org.Records("Task") {
			if !results[i].Success || rec["CallDisposition"] != fmt.Sprint("d-", i) {
				t.Fatalf("record %d = %v, result %+v", i, rec, results[i])
			}
		}
	})

	orgTest(t, "does not modify the caller's records", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		ids := create(t, b, 1)
		rec := salesforce.Fields{"CallDisposition": "x"}
		if _, err := b.client.UpdateMany(ctx, "Task", ids, []salesforce.Fields{rec}); err != nil {
			t.Fatalf("UpdateMany: %v", err)
		}
		if len(rec) != 1 {
			t.Errorf("UpdateMany changed the caller's map: %v", rec)
		}
	})
}
