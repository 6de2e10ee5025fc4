package salesforce_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/internal/testsupport"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

func TestUpdate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	orgTest(t, "updates the record", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		id := createTask(t, ctx, b, "c-1")
		if err := b.client.Update(ctx, "Task", id, salesforce.Fields{"CallDisposition": "Qualified", "Description": nil}); err != nil {
			t.Fatalf("Update: %v", err)
		}
		rec, _ := b.org.Record("Task", id)
		if rec["CallDisposition"] != "Qualified" || rec["Subject"] != "c-1" {
			t.Errorf("record = %v, want CallDisposition updated and Subject kept", rec)
		}
		// A 15-character ID addresses the same record.
		if err := b.client.Update(ctx, "Task", id[:15], salesforce.Fields{"CallDisposition": "Lost"}); err != nil {
			t.Fatalf("Update by 15-character ID: %v", err)
		}
		if rec, _ := b.org.Record("Task", id); rec["CallDisposition"] != "Lost" {
			t.Errorf("CallDisposition = %v, want Lost", rec["CallDisposition"])
		}
	})

	orgTest(t, "deleted and purged records", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		id := createTask(t, ctx, b, "c-1")
		b.org.DeleteRecord("Task", id)
		err := b.client.Update(ctx, "Task", id, salesforce.Fields{"Subject": "x"})
		if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); ae.StatusCode != http.StatusNotFound || ae.ErrorCode != "ENTITY_IS_DELETED" {
			t.Errorf("error = %v, want 404 ENTITY_IS_DELETED", ae)
		}
		if !salesforce.IsDeleted(err) || salesforce.Classify(err) != crm.ClassData {
			t.Errorf("IsDeleted = %t, Classify = %v; want true, data", salesforce.IsDeleted(err), salesforce.Classify(err))
		}

		b.org.EmptyRecycleBin()
		err = b.client.Update(ctx, "Task", id, salesforce.Fields{"Subject": "x"})
		if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); ae.StatusCode != http.StatusNotFound || ae.ErrorCode != "NOT_FOUND" {
			t.Errorf("error = %v, want 404 NOT_FOUND", ae)
		}
		if !salesforce.IsDeleted(err) {
			t.Error("IsDeleted = false for a purged record")
		}
	})

	orgTest(t, "malformed ID is refused without a request", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		for _, id := range []string{"", "abc", "00T000000000001AA", "00T000000000001AAA/x", "../../query", "00T0000000000-1AAA"} {
			err := b.client.Update(ctx, "Task", id, salesforce.Fields{"Subject": "x"})
			ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
			if ae.StatusCode != 0 || ae.ErrorCode != "MALFORMED_ID" || salesforce.Classify(err) != crm.ClassData {
				t.Errorf("Update(%q) error = %v, want MALFORMED_ID, not sent, data", id, ae)
			}
			if salesforce.IsDeleted(err) {
				t.Errorf("IsDeleted(%v) = true", err)
			}
		}
		if got := b.org.Requests("token") + b.org.Requests("update"); got != 0 {
			t.Errorf("requests = %d, want 0", got)
		}
	})

	orgTest(t, "create-only field", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		id := createTask(t, ctx, b, "c-1")
		err := b.client.Update(ctx, "Task", id, salesforce.Fields{"TaskSubtype": "Task"})
		if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); ae.ErrorCode != "INVALID_FIELD_FOR_INSERT_UPDATE" || !slices.Equal(ae.Fields, []string{"TaskSubtype"}) {
			t.Errorf("error = %v, want INVALID_FIELD_FOR_INSERT_UPDATE on TaskSubtype", ae)
		}
	})
}

func TestUpsert(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	orgTest(t, "created then updated", salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}}, func(t *testing.T, b *testBundle) {
		// A value that needs escaping in a path survives as one segment.
		const callID = "c/1 ü?#%&+é.x"
		r1, err := b.client.Upsert(ctx, "Call_Recording__c", "call_id__c", callID, salesforce.Fields{"Name": "KoeIQ Call — c/1", "quality_score__c": 87.5})
		if err != nil {
			t.Fatalf("Upsert: %v", err)
		}
		if !r1.Created || len(r1.ID) != 18 || !strings.HasPrefix(r1.ID, "a0") {
			t.Errorf("first Upsert = %+v, want created with an a0 ID", r1)
		}
		r2, err := b.client.Upsert(ctx, "Call_Recording__c", "call_id__c", callID, salesforce.Fields{"Name": "KoeIQ Call — c/1", "quality_score__c": 90})
		if err != nil {
			t.Fatalf("second Upsert: %v", err)
		}
		if r2.Created || r2.ID != r1.ID {
			t.Errorf("second Upsert = %+v, want updated %s", r2, r1.ID)
		}
		recs := b.org.Records("Call_Recording__c")
		if len(recs) != 1 || recs[0]["call_id__c"] != callID || recs[0]["quality_score__c"] != 90.0 {
			t.Errorf("records = %v, want one with call_id__c %q and score 90", recs, callID)
		}
		if got := b.ops.Calls(); !slices.Equal(got, []string{"token 200", "upsert 201", "upsert 200"}) {
			t.Errorf("OnRequest saw %q", got)
		}
	})

	t.Run("more than one match", func(t *testing.T) {
		t.Parallel()
		taskDef := salesforcetest.TaskObject()
		taskDef.Fields = append(taskDef.Fields, salesforcetest.FieldDef{Name: "KoeIQ_Call_Id__c", Type: "string", ExternalID: true})
		b := setup(t, salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{taskDef}})
		id1 := b.org.PutRecord("Task", salesforce.Fields{"Subject": "a", "KoeIQ_Call_Id__c": "c-1"})
		id2 := b.org.PutRecord("Task", salesforce.Fields{"Subject": "b", "KoeIQ_Call_Id__c": "c-1"})

		_, err := b.client.Upsert(ctx, "Task", "KoeIQ_Call_Id__c", "c-1", salesforce.Fields{"Subject": "c"})
		ae := testsupport.ErrorAs[*salesforce.APIError](t, err)
		if ae.StatusCode != http.StatusMultipleChoices || ae.ErrorCode != "MULTIPLE_CHOICES" || salesforce.Classify(err) != crm.ClassData {
			t.Errorf("error = %v, want 300 MULTIPLE_CHOICES, data", ae)
		}
		if !strings.Contains(ae.Message, id1) || !strings.Contains(ae.Message, id2) {
			t.Errorf("Message %q does not list %s and %s", ae.Message, id1, id2)
		}
		for _, r := range b.org.Records("Task") {
			if r["Subject"] == "c" {
				t.Error("a record was changed despite the 300")
			}
		}
	})

	orgTest(t, "field is not an external ID", salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}}, func(t *testing.T, b *testBundle) {
		for _, field := range []string{"Name", "No_Such__c"} {
			_, err := b.client.Upsert(ctx, "Call_Recording__c", field, "c-1", salesforce.Fields{"Name": "x"})
			if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); ae.StatusCode != http.StatusNotFound || ae.ErrorCode != "NOT_FOUND" || salesforce.Classify(err) != crm.ClassData {
				t.Errorf("Upsert by %s: error = %v, want 404 NOT_FOUND, data", field, ae)
			}
		}
	})

	orgTest(t, "refused without a request", salesforcetest.OrgConfig{}, func(t *testing.T, b *testBundle) {
		for _, tc := range []struct{ sobject, field, value, code string }{
			{"Task", "call_id__c", "", "MISSING_ARGUMENT"},
			{"Task", "call_id__c/../x", "c-1", "INVALID_FIELD"},
			{"Task/../Account", "call_id__c", "c-1", "INVALID_TYPE"},
			{"", "call_id__c", "c-1", "INVALID_TYPE"},
		} {
			_, err := b.client.Upsert(ctx, tc.sobject, tc.field, tc.value, nil)
			if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); ae.StatusCode != 0 || ae.ErrorCode != tc.code {
				t.Errorf("Upsert(%q, %q, %q) error = %v, want %s not sent", tc.sobject, tc.field, tc.value, ae, tc.code)
			}
		}
		wantRequests(t, b, "token", 0)
	})
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, salesforcetest.OrgConfig{Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}})

	d, err := b.client.Describe(ctx, "Task")
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if d.Name != "Task" || d.KeyPrefix != "00T" || !d.Createable {
		t.Errorf("describe = %s %s createable=%t", d.Name, d.KeyPrefix, d.Createable)
	}
	tests := []struct {
		name  string
		check func(salesforce.FieldDescribe) bool
	}{
		{"subject", func(f salesforce.FieldDescribe) bool {
			return f.Name == "Subject" && f.Length == 255 && f.Createable && f.Updateable && f.Nillable
		}},
		{"Description", func(f salesforce.FieldDescribe) bool { return f.Type == "textarea" && f.Length == 32000 }},
		{"CallDisposition", func(f salesforce.FieldDescribe) bool { return f.Length == 255 && f.Label == "Call Result" }},
		{"TaskSubtype", func(f salesforce.FieldDescribe) bool {
			return f.Createable && !f.Updateable && f.RestrictedPicklist && slices.Contains(f.PicklistValues, "Call")
		}},
		{"CallType", func(f salesforce.FieldDescribe) bool {
			return slices.Equal(f.PicklistValues, []string{"Inbound", "Internal", "Outbound"}) && f.RestrictedPicklist
		}},
		{"Status", func(f salesforce.FieldDescribe) bool {
			return !f.Nillable && f.DefaultedOnCreate && slices.Contains(f.PicklistValues, "Completed")
		}},
		{"ActivityDate", func(f salesforce.FieldDescribe) bool { return f.Type == "date" }},
		{"CallDurationInSeconds", func(f salesforce.FieldDescribe) bool { return f.Type == "int" }},
		{"Id", func(f salesforce.FieldDescribe) bool { return !f.Createable && !f.Updateable }},
		{"OwnerId", func(f salesforce.FieldDescribe) bool { return f.Createable && f.DefaultedOnCreate }},
	}
	for _, tt := range tests {
		f, ok := d.Field(tt.name)
		if !ok {
			t.Errorf("Field(%q) not found", tt.name)
			continue
		}
		if !tt.check(f) {
			t.Errorf("Field(%q) = %+v", tt.name, f)
		}
	}
	if _, ok := d.Field("NoSuchField"); ok {
		t.Error("Field(NoSuchField) found")
	}

	c, err := b.client.Describe(ctx, "Call_Recording__c")
	if err != nil {
		t.Fatalf("Describe custom object: %v", err)
	}
	if f, ok := c.Field("call_id__c"); !ok || !f.ExternalID || !f.Unique {
		t.Errorf("call_id__c = %+v, %t; want an external, unique field", f, ok)
	}
	if f, ok := c.Field("Name"); !ok || f.Nillable || f.DefaultedOnCreate || f.Length != 80 {
		t.Errorf("Name = %+v, want required, 80", f)
	}
	if !strings.HasPrefix(c.KeyPrefix, "a0") {
		t.Errorf("KeyPrefix = %q, want a0x", c.KeyPrefix)
	}

	_, err = b.client.Describe(ctx, "Nope__c")
	if ae := testsupport.ErrorAs[*salesforce.APIError](t, err); ae.StatusCode != http.StatusNotFound || ae.ErrorCode != "NOT_FOUND" || ae.Op != "describe Nope__c" {
		t.Errorf("error = %v, want describe Nope__c 404 NOT_FOUND", ae)
	}
	wantRequests(t, b, "describe", 3)
}
