package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/mapping"
	"github.com/koeiq/syncd/outbox"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/settings"
)

// matchingTenant creates a tenant in region JP on Task with call matching
// on, and returns its org.
func (b *testBundle) matchingTenant(t *testing.T, id string, phoneFields ...string) *salesforcetest.Org {
	t.Helper()
	ctx := context.Background()
	if _, err := b.store.SetTenant(ctx, id, settings.TenantChange{AuditExportPack: ptr(true), DefaultRegion: ptr("JP")}); err != nil {
		t.Fatal(err)
	}
	contact := salesforcetest.ContactObject()
	contact.Fields = append(contact.Fields, salesforcetest.FieldDef{Name: "Direct_Line__c", Type: "phone", Length: 40})
	org := b.sf.AddOrg(id, salesforcetest.OrgConfig{ClientSecret: "secret-" + id, Objects: []salesforcetest.ObjectDef{contact}})
	if _, err := b.store.SaveSalesforce(ctx, id, settings.SalesforceInput{
		Enabled: true, InstanceURL: org.URL(), ClientID: id + "-client-id", ClientSecret: ptr("secret-" + id),
		LinkWho: ptr(true), AssignOwner: ptr(true), PhoneFields: &phoneFields,
	}, "test"); err != nil {
		t.Fatal(err)
	}
	return org
}

// link is a call's match as sync_records holds it.
type link struct{ match, whoID, whoType, ownerID, ownerNote string }

func (b *testBundle) link(t *testing.T, tenantID, callID string) link {
	t.Helper()
	var l link
	if err := b.pool.QueryRow(context.Background(), `
		SELECT coalesce(match, ''), coalesce(who_id, ''), coalesce(who_type, ''), coalesce(owner_id, ''), coalesce(owner_note, '')
		FROM sync_records WHERE tenant_id = $1 AND call_id = $2`, tenantID, callID).
		Scan(&l.match, &l.whoID, &l.whoType, &l.ownerID, &l.ownerNote); err != nil {
		t.Fatal(err)
	}
	return l
}

func call(phone, agent string) outbox.Payload {
	return outbox.Payload{StartedAt: time.Now(), DurationSeconds: 60, Direction: "inbound", CustomerPhone: phone, AgentEmail: agent}
}

func TestCallMatching(t *testing.T) {
	t.Parallel()
	b := setup(t)
	org := b.matchingTenant(t, "m", "Contact.Direct_Line__c")
	old, newer := "2026-01-10T09:00:00.000+0000", "2026-06-10T09:00:00.000+0000"
	tokyo := org.PutRecord("Contact", salesforce.Fields{"LastName": "Sato", "Phone": "03-1234-5678"})
	mobile := org.PutRecord("Contact", salesforce.Fields{"LastName": "Ito", "MobilePhone": "+81 90-1111-2222"})
	us := org.PutRecord("Contact", salesforce.Fields{"LastName": "Smith", "Phone": "(415) 555-2671"})
	org.PutRecord("Lead", salesforce.Fields{"LastName": "Lead", "Company": "X", "Phone": "0312345678"}) // loses to the Contact
	olderTwin := org.PutRecord("Contact", salesforce.Fields{"LastName": "Old", "Phone": "06-6111-2222", "LastModifiedDate": old})
	newerTwin := org.PutRecord("Contact", salesforce.Fields{"LastName": "New", "Phone": "+81 6-6111-2222", "LastModifiedDate": newer})
	_ = olderTwin
	lead := org.PutRecord("Lead", salesforce.Fields{"LastName": "Open", "Company": "Y", "MobilePhone": "080-3333-4444"})
	org.PutRecord("Lead", salesforce.Fields{"LastName": "Done", "Company": "Z", "Phone": "045-555-6666", "IsConverted": true})
	custom := org.PutRecord("Contact", salesforce.Fields{"LastName": "Direct", "Direct_Line__c": "052-777-8888"})
	agent := org.PutRecord("User", salesforce.Fields{"LastName": "Agent", "Username": "agent@m.example", "Email": "Agent@M.example", "IsActive": true})
	org.PutRecord("User", salesforce.Fields{"LastName": "Gone", "Username": "gone@m.example", "Email": "gone@m.example", "IsActive": false})

	want := map[string]link{
		"tokyo-e164":     {match: "matched", whoID: tokyo, whoType: "Contact", ownerID: agent},
		"tokyo-national": {match: "matched", whoID: tokyo, whoType: "Contact", ownerID: agent},
		"mobile-spaced":  {match: "matched", whoID: mobile, whoType: "Contact", ownerNote: "inactive_user"},
		"us":             {match: "matched", whoID: us, whoType: "Contact", ownerNote: "no_user"},
		"twins":          {match: "ambiguous:2", whoID: newerTwin, whoType: "Contact", ownerNote: "no_agent_email"},
		"lead":           {match: "matched", whoID: lead, whoType: "Lead", ownerID: agent},
		"converted":      {match: "none", ownerID: agent},
		"invalid":        {match: "invalid_number", ownerID: agent},
		"no-phone":       {match: "none", ownerID: agent},
		"direct":         {match: "matched", whoID: custom, whoType: "Contact", ownerID: agent},
	}
	payloads := map[string]outbox.Payload{
		"tokyo-e164":     call("+81312345678", "agent@m.example"),
		"tokyo-national": call("03 1234 5678", "AGENT@m.example"),
		"mobile-spaced":  call("090 1111 2222", "gone@m.example"),
		"us":             call("+1 415-555-2671", "nobody@m.example"),
		"twins":          call("0661112222", ""),
		"lead":           call("+818033334444", "agent@m.example"),
		"converted":      call("045-555-6666", "agent@m.example"),
		"invalid":        call("12", "agent@m.example"),
		"no-phone":       call("", "agent@m.example"),
		"direct":         call("052 777 8888", "agent@m.example"),
	}
	tx, err := b.pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for id, p := range payloads {
		if _, err := outbox.Enqueue(context.Background(), tx, outbox.Event{TenantID: "m", CallID: id, Type: outbox.CallAnalysed, Payload: p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.newClient(t, nil)
	pgtest.WaitFor(t, 30*time.Second, "every call to sync", func() bool {
		return b.count(t, "SELECT count(*) FROM sync_records WHERE tenant_id = 'm' AND state = 'synced'") == len(want)
	})

	for id, w := range want {
		if got := b.link(t, "m", id); got != w {
			t.Errorf("%s: %+v, want %+v", id, got, w)
		}
		task := tasks(org, "Task", "Subject", mapping.Subject(id))
		if len(task) != 1 {
			t.Fatalf("%s: %d Tasks", id, len(task))
		}
		owner := w.ownerID
		if owner == "" {
			owner = org.UserID() // the integration's default owner
		}
		if task[0]["WhoId"] != nilIfEmpty(w.whoID) || task[0]["OwnerId"] != owner || task[0]["TaskSubtype"] != "Call" ||
			task[0]["CallObject"] != id || task[0]["CallType"] != "Inbound" {
			t.Errorf("%s: Task %v", id, task[0])
		}
	}
	// One request for the matches of the whole batch, besides the creates.
	if n := org.Requests("composite"); n != 1 {
		t.Errorf("%d composite requests for one batch (%v), want 1", n, org.RequestCounts())
	}
	if n := org.Requests("query"); n != 0 {
		t.Errorf("%d queries outside the composite (%v)", n, org.RequestCounts())
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestReanalysisKeepsPeoplesChanges: an update never overwrites a WhoId or
// an owner a person changed in Salesforce, but links a call that had no
// match before and has one now.
func TestReanalysisKeepsPeoplesChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	org := b.matchingTenant(t, "r")
	sato := org.PutRecord("Contact", salesforce.Fields{"LastName": "Sato", "Phone": "03-1234-5678"})
	other := org.PutRecord("Contact", salesforce.Fields{"LastName": "Other", "Phone": "03-9999-0000"})
	agent := org.PutRecord("User", salesforce.Fields{"LastName": "Agent", "Username": "a@r.example", "Email": "a@r.example", "IsActive": true})
	boss := org.PutRecord("User", salesforce.Fields{"LastName": "Boss", "Username": "b@r.example", "Email": "b@r.example", "IsActive": true})
	b.newClient(t, nil)

	b.enqueuePayload(t, "r", "kept", outbox.CallAnalysed, call("03-1234-5678", "a@r.example"))
	b.enqueuePayload(t, "r", "late", outbox.CallAnalysed, call("03-5555-6666", "a@r.example"))
	kept := b.waitState(t, "r", "kept", "salesforce", "synced")
	late := b.waitState(t, "r", "late", "salesforce", "synced")
	if l := b.link(t, "r", "late"); l.match != "none" || l.whoID != "" {
		t.Fatalf("late before its Contact exists: %+v", l)
	}

	// Someone relinks the Task and gives it to their boss; the caller of
	// "late" becomes a Contact.
	person, err := salesforce.NewClient(&salesforce.Config{InstanceURL: org.URL(), ClientID: "r-client-id",
		ClientSecret: "secret-r", AllowInsecureLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := person.Update(context.Background(), "Task", kept.recordID, salesforce.Fields{"WhoId": other, "OwnerId": boss}); err != nil {
		t.Fatal(err)
	}
	lateContact := org.PutRecord("Contact", salesforce.Fields{"LastName": "Late", "Phone": "03-5555-6666"})

	// Both calls are analysed again.
	b.enqueuePayload(t, "r", "kept", outbox.CallAnalysed, call("03-1234-5678", "a@r.example"))
	b.enqueuePayload(t, "r", "late", outbox.CallAnalysed, call("03-5555-6666", "a@r.example"))
	pgtest.WaitFor(t, 30*time.Second, "the re-analyses to sync", func() bool {
		return b.count(t, "SELECT count(*) FROM sync_records WHERE tenant_id = 'r' AND state = 'synced' AND attempts = 2") == 2
	})
	if task, _ := org.Record("Task", kept.recordID); task["WhoId"] != other || task["OwnerId"] != boss {
		t.Errorf("the re-analysis overwrote a person's change: %v (sato %s, agent %s)", task, sato, agent)
	}
	if task, _ := org.Record("Task", late.recordID); task["WhoId"] != lateContact || task["OwnerId"] != agent {
		t.Errorf("late after its Contact exists: %v", task)
	}
	if l := b.link(t, "r", "late"); l.match != "matched" || l.whoID != lateContact {
		t.Errorf("late's link: %+v", l)
	}
}

// TestBatchMatchingCost: 200 calls of a backlog with both settings on cost
// one Composite request for their matches, besides the create.
func TestBatchMatchingCost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	org := b.matchingTenant(t, "big")
	for i := range 50 {
		org.PutRecord("Contact", salesforce.Fields{"LastName": fmt.Sprint("C", i), "Phone": fmt.Sprintf("03-1234-%04d", i)})
	}
	org.PutRecord("User", salesforce.Fields{"LastName": "Agent", "Username": "a@big.example", "Email": "a@big.example", "IsActive": true})
	tx, err := b.pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		p := call(fmt.Sprintf("+81 3 1234 %04d", i), "a@big.example")
		if _, err := outbox.Enqueue(context.Background(), tx, outbox.Event{TenantID: "big", CallID: fmt.Sprint("c-", i), Type: outbox.CallAnalysed, Payload: p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.newClient(t, nil)
	pgtest.WaitFor(t, 30*time.Second, "the batch to sync", func() bool {
		return b.count(t, "SELECT count(*) FROM sync_records WHERE tenant_id = 'big' AND state = 'synced'") == 200
	})
	if n := b.count(t, "SELECT count(*) FROM sync_records WHERE tenant_id = 'big' AND match = 'matched' AND owner_id IS NOT NULL"); n != 50 {
		t.Errorf("%d calls matched with an owner, want 50", n)
	}
	counts := org.RequestCounts()
	if counts["query"] != 0 || counts["composite"] > counts["collection_create"] {
		t.Errorf("requests for 200 calls: %v; want one composite per batch and no other query", counts)
	}
}

// TestCustomObjectMatching: a custom object takes the match and the owner
// in the lookup fields the Admin names, and nowhere when they are unset.
func TestCustomObjectMatching(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	for _, id := range []string{"named", "unnamed"} {
		if _, err := b.store.SetTenant(ctx, id, settings.TenantChange{AuditExportPack: ptr(true), DefaultRegion: ptr("JP")}); err != nil {
			t.Fatal(err)
		}
		custom := salesforcetest.CustomCallObject("Call_Recording__c")
		custom.Fields = append(custom.Fields,
			salesforcetest.FieldDef{Name: "Caller__c", Type: "reference", ReferenceTo: []string{"Contact", "Lead"}},
			salesforcetest.FieldDef{Name: "Agent__c", Type: "reference", ReferenceTo: []string{"User"}})
		org := b.sf.AddOrg(id, salesforcetest.OrgConfig{ClientSecret: "secret-" + id, Objects: []salesforcetest.ObjectDef{custom}})
		in := settings.SalesforceInput{Enabled: true, InstanceURL: org.URL(), ClientID: id + "-client-id", ClientSecret: ptr("secret-" + id),
			ObjectType: "Call_Recording__c", LinkWho: ptr(true), AssignOwner: ptr(true)}
		if id == "named" {
			in.WhoField, in.OwnerField = ptr("Caller__c"), ptr("Agent__c")
		}
		if _, err := b.store.SaveSalesforce(ctx, id, in, "test"); err != nil {
			t.Fatal(err)
		}
		contact := org.PutRecord("Contact", salesforce.Fields{"LastName": "Sato", "Phone": "03-1234-5678"})
		agent := org.PutRecord("User", salesforce.Fields{"LastName": "A", "Username": "a@" + id, "Email": "a@x.example", "IsActive": true})
		b.enqueuePayload(t, id, "c-1", outbox.CallAnalysed, call("03-1234-5678", "a@x.example"))
		b.newClient(t, nil)
		r := b.waitState(t, id, "c-1", "salesforce", "synced")
		rec, _ := org.Record("Call_Recording__c", r.recordID)
		l := b.link(t, id, "c-1")
		switch id {
		case "named":
			if rec["Caller__c"] != contact || rec["Agent__c"] != agent || l.match != "matched" || l.whoID != contact || l.ownerID != agent {
				t.Errorf("named fields: record %v, link %+v", rec, l)
			}
		default:
			if rec["Caller__c"] != nil || rec["Agent__c"] != nil || l.match != "off" || l.whoID != "" || l.ownerID != "" {
				t.Errorf("unnamed fields: record %v, link %+v", rec, l)
			}
		}
	}
}
