package mapping

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/koeiq/syncd/outbox"
)

func ptr[T any](v T) *T { return &v }

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

func fullPayload() outbox.Payload {
	return outbox.Payload{
		CallID:          "c-123",
		StartedAt:       time.Date(2026, 5, 1, 23, 30, 0, 0, time.UTC),
		DurationSeconds: 312,
		Direction:       "inbound",
		PrimaryIntent:   "quote request",
		Summary:         "Customer asked for a quote.",
		QualityScore:    ptr(87.5),
		TranscriptURL:   "https://app.koeiq.example/calls/c-123",
	}
}

func TestTaskFields(t *testing.T) {
	t.Parallel()
	got := Salesforce(fullPayload(), "Task", "", tokyo)
	want := map[string]any{
		"Subject":               "KoeIQ Call — c-123",
		"Status":                "Completed",
		"ActivityDate":          "2026-05-02", // 23:30 UTC is the next morning in Tokyo
		"CallDurationInSeconds": 312,
		"CallDisposition":       "quote request",
		"Description":           "Customer asked for a quote.\n\nQuality score: 87.5 / 100\nTranscript: https://app.koeiq.example/calls/c-123",
		"CallType":              "Inbound",
		"CallObject":            "c-123",
	}
	assertFields(t, got, want)
	for direction, want := range map[string]any{"outbound": "Outbound", "internal": "Internal", "": nil, "sideways": nil} {
		p := fullPayload()
		p.Direction = direction
		if got := Salesforce(p, "Task", "", tokyo)["CallType"]; got != want {
			t.Errorf("direction %q: CallType = %v, want %v", direction, got, want)
		}
	}
	if !strings.Contains(got["Subject"].(string), " \u2014 ") {
		t.Error("Subject lacks the em dash with a space each side")
	}

	// In UTC the same call is on the 1st.
	if d := Salesforce(fullPayload(), "Task", "", time.UTC)["ActivityDate"]; d != "2026-05-01" {
		t.Errorf("ActivityDate in UTC = %v", d)
	}
	// An offset in the payload does not matter, the tenant's zone does.
	p := fullPayload()
	p.StartedAt = time.Date(2026, 5, 1, 8, 0, 0, 0, time.FixedZone("", -7*3600)) // 15:00 UTC
	if d := Salesforce(p, "Task", "", tokyo)["ActivityDate"]; d != "2026-05-02" {
		t.Errorf("ActivityDate = %v, want 2026-05-02 (00:00 in Tokyo)", d)
	}
}

func TestAbsentValuesAreLeftOut(t *testing.T) {
	t.Parallel()
	p := outbox.Payload{CallID: "c1", StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	assertFields(t, Salesforce(p, "Task", "", time.UTC), map[string]any{
		"Subject":               "KoeIQ Call — c1",
		"Status":                "Completed",
		"ActivityDate":          "2026-01-02",
		"CallDurationInSeconds": 0,
		"CallObject":            "c1",
	})
	assertFields(t, Salesforce(p, "Call_Recording__c", "", time.UTC), map[string]any{
		"Name":                     "KoeIQ Call — c1",
		"call_id__c":               "c1",
		"call_date__c":             "2026-01-02",
		"call_duration_seconds__c": 0,
	})
	// Score alone still makes a description; a zero score is a score.
	p.QualityScore = ptr(0.0)
	if d := Salesforce(p, "Task", "", time.UTC)["Description"]; d != "Quality score: 0 / 100" {
		t.Errorf("Description = %q", d)
	}
}

func TestCustomObjectFields(t *testing.T) {
	t.Parallel()
	got := Salesforce(fullPayload(), "Call_Recording__c", "", tokyo)
	assertFields(t, got, map[string]any{
		"Name":                     "KoeIQ Call — c-123",
		"call_id__c":               "c-123",
		"call_date__c":             "2026-05-02",
		"call_duration_seconds__c": 312,
		"primary_intent__c":        "quote request",
		"summary__c":               "Customer asked for a quote.",
		"quality_score__c":         87.5,
		"transcript_url__c":        "https://app.koeiq.example/calls/c-123",
		"description__c":           "Customer asked for a quote.\n\nQuality score: 87.5 / 100\nTranscript: https://app.koeiq.example/calls/c-123",
	})

	long := fullPayload()
	long.CallID = strings.Repeat("x", 200)
	if name := Salesforce(long, "Call_Recording__c", "", tokyo)["Name"].(string); utf16Len(name) != NameLength {
		t.Errorf("Name is %d units, want it cut to %d", utf16Len(name), NameLength)
	}
}

func TestExternalIDField(t *testing.T) {
	t.Parallel()
	got := Salesforce(fullPayload(), "Task", "KoeIQ_Call_Id__c", tokyo)
	if got["KoeIQ_Call_Id__c"] != "c-123" {
		t.Errorf("external ID field = %v", got["KoeIQ_Call_Id__c"])
	}
	for _, tt := range []struct{ object, configured, want string }{
		{"Task", "", ""},
		{"Task", "Ext__c", "Ext__c"},
		{"Call_Recording__c", "", "call_id__c"},
		{"Call_Recording__c", "Other__c", "Other__c"},
	} {
		if got := ExternalIDField(tt.object, tt.configured); got != tt.want {
			t.Errorf("ExternalIDField(%q, %q) = %q, want %q", tt.object, tt.configured, got, tt.want)
		}
	}
	if LookupField("Task") != "Subject" || LookupValue("Task", "c1") != "KoeIQ Call — c1" ||
		LookupField("X__c") != "call_id__c" || LookupValue("X__c", "c1") != "c1" {
		t.Error("lookup field or value wrong")
	}
}

func TestCallDispositionCut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, intent string
		wantUnits    int
	}{
		{"ascii", strings.Repeat("a", 300), 255},
		{"exactly 255", strings.Repeat("a", 255), 255},
		// 127 emoji are 254 units; the 128th would make 256, so it goes.
		{"emoji", strings.Repeat("😀", 200), 254},
		{"emoji after odd prefix", "a" + strings.Repeat("😀", 200), 255},
		{"japanese", strings.Repeat("日本", 200), 255},
		{"invalid utf-8 becomes one replacement character", strings.Repeat("\xff", 300), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fullPayload()
			p.PrimaryIntent = tt.intent
			got := Salesforce(p, "Task", "", time.UTC)["CallDisposition"].(string)
			if !utf8.ValidString(got) {
				t.Fatalf("cut produced invalid UTF-8")
			}
			if n := utf16Len(got); n != tt.wantUnits {
				t.Errorf("%d UTF-16 units, want %d", n, tt.wantUnits)
			}
			if strings.ContainsRune(got, utf8.RuneError) && !strings.HasPrefix(tt.name, "invalid") {
				t.Errorf("a character was split")
			}
		})
	}
}

func TestDescriptionLimit(t *testing.T) {
	t.Parallel()
	p := fullPayload()
	p.Summary = strings.Repeat("😀", 20000) // 40,000 units
	d := Description(p)
	if n := utf16Len(d); n > DescriptionLength {
		t.Fatalf("Description is %d units", n)
	}
	if !strings.HasSuffix(d, "Transcript: "+p.TranscriptURL) || !strings.Contains(d, "\u2026\n\nQuality score: 87.5 / 100") {
		t.Errorf("the score and link must survive a long summary; tail %q", d[len(d)-120:])
	}
}

func TestKintoneFields(t *testing.T) {
	t.Parallel()
	assertFields(t, Kintone(fullPayload(), tokyo), map[string]any{
		"call_id":          "c-123",
		"subject":          "KoeIQ Call — c-123",
		"call_date":        "2026-05-02",
		"started_at":       "2026-05-01T23:30:00Z",
		"duration_seconds": 312,
		"direction":        "inbound",
		"primary_intent":   "quote request",
		"summary":          "Customer asked for a quote.",
		"quality_score":    87.5,
		"transcript_url":   "https://app.koeiq.example/calls/c-123",
	})
}

func assertFields(t *testing.T, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %#v, want %#v", k, got[k], w)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected field %s = %#v", k, v)
		}
	}
}

// FuzzSalesforce checks that no payload makes the mappers panic, exceed a
// field's length or send invalid UTF-8.
func FuzzSalesforce(f *testing.F) {
	f.Add("c-1", "quote request", "summary", "https://x.example/t", int64(0), 312, 87.5, "Asia/Tokyo")
	f.Add(strings.Repeat("😀", 100), strings.Repeat("\u0301", 300), strings.Repeat("a\xff", 40000), "", int64(-62135596800), 0, -1.0, "")
	limits := map[string]int{
		"Subject": SubjectLength, "CallDisposition": DispositionLength, "Description": DescriptionLength,
		"Name": NameLength, "primary_intent__c": DispositionLength, "summary__c": SummaryLength,
		"transcript_url__c": URLLength, "description__c": DescriptionLength, "call_id__c": 255,
	}
	f.Fuzz(func(t *testing.T, callID, intent, summary, url string, unix int64, duration int, score float64, zone string) {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			loc = time.UTC
		}
		p := outbox.Payload{
			CallID: callID, StartedAt: time.Unix(unix, 0), DurationSeconds: duration,
			PrimaryIntent: intent, Summary: summary, TranscriptURL: url, QualityScore: &score,
		}
		if len(callID) > 200 {
			return // enqueue rejects longer call IDs
		}
		for _, object := range []string{"Task", "Call_Recording__c"} {
			for name, v := range Salesforce(p, object, "", loc) {
				s, ok := v.(string)
				if !ok {
					continue
				}
				// The call ID is sent as written: PostgreSQL text is valid UTF-8.
				if !utf8.ValidString(s) && name != "call_id__c" {
					t.Errorf("%s %s is invalid UTF-8", object, name)
				}
				if limit, ok := limits[name]; ok && utf16Len(s) > limit {
					t.Errorf("%s %s is %d units, limit %d", object, name, utf16Len(s), limit)
				}
			}
		}
		for name, v := range Kintone(p, loc) {
			if s, ok := v.(string); ok && utf16Len(s) > KintoneTextLength {
				t.Errorf("kintone %s is %d units", name, utf16Len(s))
			}
		}
	})
}

// Every field the mappers write is one SalesforceFields names, so Test
// connection checks them all.
func TestSalesforceFieldsCoverTheMapping(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ object, ext string }{{"Task", ""}, {"Task", "Ext__c"}, {"Call_Recording__c", ""}, {"Call_Recording__c", "Other__c"}} {
		known := SalesforceFields(tt.object, tt.ext)
		for name := range Salesforce(fullPayload(), tt.object, tt.ext, time.UTC) {
			if !slices.Contains(known, name) {
				t.Errorf("%s: mapping writes %s, which SalesforceFields(%q, %q) does not list", tt.object, name, tt.object, tt.ext)
			}
		}
	}
}

func TestKintoneFieldsCoverTheMapping(t *testing.T) {
	t.Parallel()
	for name := range Kintone(fullPayload(), time.UTC) {
		if !slices.Contains(KintoneFields(), name) {
			t.Errorf("mapping writes %s, which KintoneFields does not list", name)
		}
	}
}
