package syncd_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/kintone"
	"github.com/koeiq/syncd/kintone/kintonetest"
	"github.com/koeiq/syncd/outbox"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
	"github.com/koeiq/syncd/settings"
)

// e2eTenant is a tenant of the end-to-end test and what it should get.
type e2eTenant struct {
	id                    string
	pack, analytics       bool
	timezone              string
	salesforce, kintoneOn bool
	objectType            string
	org                   *salesforcetest.Org
	app                   *kintonetest.App
}

func (s *stack) addE2ETenant(t *testing.T, tn *e2eTenant) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.store.SetTenant(ctx, tn.id, settings.TenantChange{
		AuditExportPack: ptr(true), AnalyticsEnabled: &tn.analytics, Timezone: &tn.timezone,
	}); err != nil {
		t.Fatal(err)
	}
	tn.org = s.sf.AddOrg(tn.id, salesforcetest.OrgConfig{ClientSecret: "sf-secret-" + tn.id,
		Objects: []salesforcetest.ObjectDef{salesforcetest.CustomCallObject("Call_Recording__c")}})
	tn.app = s.kintone.AddApp(tn.id, kintonetest.AppConfig{APIToken: "kintone-token-" + tn.id})
	if tn.kintoneOn {
		if _, err := s.store.SaveKintone(ctx, tn.id, settings.KintoneInput{Enabled: true, BaseURL: tn.app.URL(),
			AppID: tn.app.ID(), APIToken: ptr("kintone-token-" + tn.id)}, "admin@"+tn.id); err != nil {
			t.Fatal(err)
		}
	}
	if tn.salesforce {
		if _, err := s.store.SaveSalesforce(ctx, tn.id, settings.SalesforceInput{Enabled: true, InstanceURL: tn.org.URL(),
			ClientID: tn.id + "-client-id", ClientSecret: ptr("sf-secret-" + tn.id), ObjectType: tn.objectType}, "admin@"+tn.id); err != nil {
			t.Fatal(err)
		}
	}
	if !tn.pack {
		if _, err := s.store.SetTenant(ctx, tn.id, settings.TenantChange{AuditExportPack: ptr(false)}); err != nil {
			t.Fatal(err)
		}
	}
}

// analyse is the pipeline: it marks the call analysed (or transcribed) and
// enqueues the event in the same transaction.
func (s *stack) analyse(t *testing.T, tenantID, callID string, event outbox.EventType, p outbox.Payload) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO public.calls (tenant_id, id, state) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, id) DO UPDATE SET state = excluded.state`, tenantID, callID, string(event)); err != nil {
			return err
		}
		_, err := outbox.Enqueue(ctx, tx, outbox.Event{TenantID: tenantID, CallID: callID, Type: event, Payload: p})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t)

	tenants := []*e2eTenant{
		{id: "task", pack: true, analytics: true, timezone: "Asia/Tokyo", salesforce: true, objectType: "Task"},
		{id: "custom", pack: true, analytics: true, timezone: "America/New_York", salesforce: true, objectType: "Call_Recording__c"},
		{id: "transcripts", pack: true, analytics: false, timezone: "UTC", salesforce: true, objectType: "Task"},
		{id: "nopack", pack: false, analytics: true, timezone: "UTC", salesforce: true, objectType: "Task"},
		{id: "both", pack: true, analytics: true, timezone: "UTC", salesforce: true, kintoneOn: true, objectType: "Task"},
		{id: "kintone", pack: true, analytics: true, timezone: "Asia/Tokyo", kintoneOn: true},
	}
	score := 73.5
	started := time.Date(2026, 5, 1, 23, 30, 0, 0, time.UTC)
	payload := func(callID string, i int) outbox.Payload {
		return outbox.Payload{StartedAt: started, DurationSeconds: 100 + i, Direction: "outbound",
			PrimaryIntent: "intent " + callID, Summary: "Summary of " + callID, QualityScore: &score,
			TranscriptURL: "https://app.koeiq.example/calls/" + callID}
	}
	for _, tn := range tenants {
		s.addE2ETenant(t, tn)
		for i := range 3 {
			callID := fmt.Sprintf("%s-%d", tn.id, i)
			s.analyse(t, tn.id, callID, outbox.CallTranscribed, payload(callID, i))
			s.analyse(t, tn.id, callID, outbox.CallAnalysed, payload(callID, i))
		}
	}

	pgtest.WaitFor(t, 30*time.Second, "every push to finish", func() bool {
		return pgtest.Count(t, s.pool, "SELECT count(*) FROM outbox WHERE dispatched_at IS NULL") == 0 &&
			pgtest.Count(t, s.pool, "SELECT count(*) FROM sync_records WHERE state <> 'synced'") == 0 &&
			pgtest.Count(t, s.pool, "SELECT count(*) FROM sync_records") == 15
	})

	stored := func(tenantID, callID, target string) (recordID, objectType string) {
		t.Helper()
		err := s.pool.QueryRow(ctx, "SELECT record_id, object_type FROM sync_records WHERE tenant_id = $1 AND call_id = $2 AND target = $3",
			tenantID, callID, target).Scan(&recordID, &objectType)
		if err != nil {
			t.Fatalf("%s %s %s: %v", tenantID, callID, target, err)
		}
		return recordID, objectType
	}
	byID := func(records []salesforce.Fields) map[string]salesforce.Fields {
		m := map[string]salesforce.Fields{}
		for _, r := range records {
			m[r["Id"].(string)] = r
		}
		return m
	}
	// checkRecord fails the test unless the tenant's call has a Salesforce
	// record of objectType, among records, that holds want.
	checkRecord := func(tenantID, callID, objectType string, records map[string]salesforce.Fields, want map[string]any) {
		t.Helper()
		id, object := stored(tenantID, callID, "salesforce")
		if object != objectType {
			t.Errorf("%s: object type %s", callID, object)
		}
		for k, v := range want {
			if got := records[id][k]; got != v {
				t.Errorf("%s: %s = %#v, want %#v", callID, k, got, v)
			}
		}
	}

	for _, tn := range tenants {
		tasks := byID(tn.org.Records("Task"))
		custom := byID(tn.org.Records("Call_Recording__c"))
		kintoneRecords := tn.app.Records()
		switch tn.id {
		case "task", "both":
			if len(tasks) != 3 || len(custom) != 0 || len(kintoneRecords) != 0 {
				t.Errorf("%s: %d Tasks, %d custom, %d Kintone records; want 3 Tasks only", tn.id, len(tasks), len(custom), len(kintoneRecords))
			}
			date := map[string]string{"task": "2026-05-02", "both": "2026-05-01"}[tn.id] // Tokyo vs UTC
			for i := range 3 {
				callID := fmt.Sprintf("%s-%d", tn.id, i)
				checkRecord(tn.id, callID, "Task", tasks, map[string]any{
					"Subject": "KoeIQ Call — " + callID, "Status": "Completed", "ActivityDate": date,
					"CallDurationInSeconds": float64(100 + i), "CallDisposition": "intent " + callID,
					"Description": "Summary of " + callID + "\n\nQuality score: 73.5 / 100\nTranscript: https://app.koeiq.example/calls/" + callID,
				})
			}
		case "custom":
			if len(custom) != 3 || len(tasks) != 0 {
				t.Errorf("custom: %d custom records, %d Tasks; want 3 custom", len(custom), len(tasks))
			}
			for i := range 3 {
				callID := fmt.Sprintf("custom-%d", i)
				checkRecord("custom", callID, "Call_Recording__c", custom, map[string]any{
					"Name": "KoeIQ Call — " + callID, "call_id__c": callID, "call_date__c": "2026-05-01", // New York
					"call_duration_seconds__c": float64(100 + i), "primary_intent__c": "intent " + callID,
					"summary__c": "Summary of " + callID, "quality_score__c": 73.5,
					"transcript_url__c": "https://app.koeiq.example/calls/" + callID,
				})
			}
		case "transcripts":
			// Without analytics the transcription creates the record and
			// the analysis, arriving later, updates it.
			if len(tasks) != 3 {
				t.Errorf("transcripts: %d Tasks, want 3", len(tasks))
			}
			if n := pgtest.Count(t, s.pool, "SELECT count(*) FROM outbox WHERE tenant_id = 'transcripts' AND event = 'call.analysed' AND outcome = 'ignored'"); n != 3 {
				t.Errorf("transcripts: %d analyses ignored, want 3", n)
			}
		case "nopack":
			if len(tasks) != 0 {
				t.Errorf("nopack: %d Tasks pushed", len(tasks))
			}
			if n := pgtest.Count(t, s.pool, "SELECT count(*) FROM outbox WHERE tenant_id = 'nopack' AND outcome LIKE 'skipped: %'"); n != 3 {
				t.Errorf("nopack: %d rows skipped, want 3", n)
			}
		case "kintone":
			if len(kintoneRecords) != 3 || len(tasks) != 0 {
				t.Errorf("kintone: %d Kintone records, %d Tasks", len(kintoneRecords), len(tasks))
			}
			for i := range 3 {
				callID := fmt.Sprintf("kintone-%d", i)
				id, object := stored("kintone", callID, "kintone")
				rec, ok := tn.app.Record(id)
				if !ok || object != fmt.Sprintf("app:%d", tn.app.ID()) {
					t.Errorf("%s: stored %s (%s), not in the app", callID, id, object)
					continue
				}
				want := kintone.Record{"call_id": callID, "call_date": "2026-05-02", "primary_intent": "intent " + callID,
					"summary": "Summary of " + callID, "transcript_url": "https://app.koeiq.example/calls/" + callID}
				for k, v := range want {
					if rec[k] != v {
						t.Errorf("%s: Kintone %s = %#v, want %#v", callID, k, rec[k], v)
					}
				}
			}
		}
	}
	if n := pgtest.Count(t, s.pool, "SELECT count(*) FROM public.calls WHERE state = 'call.analysed'"); n != 18 {
		t.Errorf("%d calls marked analysed, want 18", n)
	}
}

// Salesforce wins over Kintone whatever order the settings are saved in.
func TestSalesforceWinsWhateverTheOrder(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	first := &e2eTenant{id: "sf-first", pack: true, analytics: true, timezone: "UTC", salesforce: true, kintoneOn: true, objectType: "Task"}
	s.addE2ETenant(t, first) // saves Kintone, then Salesforce
	second := &e2eTenant{id: "kt-last", pack: true, analytics: true, timezone: "UTC", kintoneOn: true}
	s.addE2ETenant(t, second)
	if _, err := s.store.SaveSalesforce(context.Background(), "kt-last", settings.SalesforceInput{Enabled: true,
		InstanceURL: second.org.URL(), ClientID: "kt-last-client-id", ClientSecret: ptr("sf-secret-kt-last")}, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.SaveKintone(context.Background(), "kt-last", settings.KintoneInput{Enabled: true,
		BaseURL: second.app.URL(), AppID: second.app.ID(), APIToken: ptr("kintone-token-kt-last")}, "admin"); err != nil {
		t.Fatal(err)
	}
	for _, tn := range []*e2eTenant{first, second} {
		s.analyse(t, tn.id, tn.id+"-c", outbox.CallAnalysed, outbox.Payload{StartedAt: time.Now(), DurationSeconds: 9})
	}
	pgtest.WaitFor(t, 20*time.Second, "both calls synced", func() bool {
		return pgtest.Count(t, s.pool, "SELECT count(*) FROM sync_records WHERE state = 'synced' AND target = 'salesforce'") == 2
	})
	for _, tn := range []*e2eTenant{first, second} {
		if len(tn.org.Records("Task")) != 1 || len(tn.app.Records()) != 0 {
			t.Errorf("%s: %d Tasks, %d Kintone records; want the Task only", tn.id, len(tn.org.Records("Task")), len(tn.app.Records()))
		}
	}
	if n := pgtest.Count(t, s.pool, "SELECT count(*) FROM sync_records WHERE target = 'kintone'"); n != 0 {
		t.Errorf("%d Kintone sync records", n)
	}
}

// A tenant that loses the Audit & Export Pack stops syncing (its rows are
// skipped) and resumes when it gets the pack back.
func TestPackLostAndRegained(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t)
	tn := &e2eTenant{id: "t", pack: true, analytics: true, timezone: "UTC", salesforce: true, objectType: "Task"}
	s.addE2ETenant(t, tn)
	payload := outbox.Payload{StartedAt: time.Now(), DurationSeconds: 9}

	s.analyse(t, "t", "before", outbox.CallAnalysed, payload)
	pgtest.WaitFor(t, 20*time.Second, "the first call", func() bool {
		return pgtest.Count(t, s.pool, "SELECT count(*) FROM sync_records WHERE state = 'synced'") == 1
	})
	if _, err := s.store.SetTenant(ctx, "t", settings.TenantChange{AuditExportPack: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	s.analyse(t, "t", "during", outbox.CallAnalysed, payload)
	pgtest.WaitFor(t, 20*time.Second, "the call without the pack to be skipped", func() bool {
		return pgtest.Count(t, s.pool, "SELECT count(*) FROM outbox WHERE call_id = 'during' AND outcome LIKE 'skipped: %'") == 1
	})
	if _, err := s.store.SetTenant(ctx, "t", settings.TenantChange{AuditExportPack: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	s.analyse(t, "t", "after", outbox.CallAnalysed, payload)
	pgtest.WaitFor(t, 20*time.Second, "the call after the pack returned", func() bool {
		return pgtest.Count(t, s.pool, "SELECT count(*) FROM sync_records WHERE call_id = 'after' AND state = 'synced'") == 1
	})
	if n := len(tn.org.Records("Task")); n != 2 {
		t.Errorf("%d Tasks, want 2 (the skipped call waits for a backfill)", n)
	}
}

// TestTestCallStaysOutOfMetrics sends a test call through the admin API:
// it reaches Salesforce like any call, but the call counters and the push
// latency count only the real call that follows it.
func TestTestCallStaysOutOfMetrics(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	tn := &e2eTenant{id: "probe", pack: true, analytics: true, timezone: "UTC", salesforce: true, objectType: "Task"}
	s.addE2ETenant(t, tn)

	status, body := s.adminCall(t, "POST", "/api/v1/test-call", "probe", nil)
	if status != 202 || !strings.Contains(body, `"call_id": "test-`) {
		t.Fatalf("test call: %d %s", status, body)
	}
	pgtest.WaitFor(t, 30*time.Second, "the test call to sync", func() bool {
		return pgtest.Count(t, s.pool, "SELECT count(*) FROM sync_records WHERE tenant_id = 'probe' AND state = 'synced'") == 1
	})
	if n := len(tn.org.Records("Task")); n != 1 {
		t.Fatalf("%d Tasks after the test call, want 1", n)
	}
	scraped := s.scrape(t)
	if strings.Contains(scraped, `syncd_calls_synced_total{target="salesforce",tenant="probe"}`) ||
		strings.Contains(scraped, `syncd_push_latency_seconds_count{target="salesforce"}`) {
		t.Errorf("the test call is counted:\n%s", scraped)
	}

	s.analyse(t, "probe", "real-1", outbox.CallAnalysed, outbox.Payload{StartedAt: time.Now(), DurationSeconds: 30})
	pgtest.WaitFor(t, 30*time.Second, "the real call to sync", func() bool {
		return pgtest.Count(t, s.pool, "SELECT count(*) FROM sync_records WHERE tenant_id = 'probe' AND state = 'synced'") == 2
	})
	// The counters move just after the record's transaction commits, so
	// wait for them; a counted test call would show as 2, never 1.
	want := []string{`syncd_calls_synced_total{target="salesforce",tenant="probe"} 1`,
		`syncd_push_latency_seconds_count{target="salesforce"} 1`}
	pgtest.WaitFor(t, 30*time.Second, "the real call in the metrics", func() bool {
		scraped = s.scrape(t)
		return strings.Contains(scraped, want[0]) && strings.Contains(scraped, want[1])
	})
}
