// Package mapping turns a call, as the pipeline described it in its outbox
// payload, into the CRM record syncd writes: Salesforce Task fields
// (SPEC §5.2), the fields of a custom object (SPEC §5.3), or a Kintone
// record.
//
// Mapping never fails and never exceeds a field's length: text is cut to the
// CRM's limit, counted in UTF-16 units as Salesforce counts it, and never in
// the middle of a character. Absent optional values are left out, never
// sent as empty strings.
package mapping

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/koeiq/syncd/outbox"
)

// Field lengths, in UTF-16 units, of the fields syncd writes.
const (
	SubjectLength     = 255
	DispositionLength = 255
	DescriptionLength = 32000
	NameLength        = 80
	SummaryLength     = 131072
	URLLength         = 255
	KintoneTextLength = 64000 // SINGLE_LINE_TEXT and MULTI_LINE_TEXT cap
)

// Subject is the Task Subject, and the custom object Name before it is cut
// to 80: "KoeIQ Call — {call_id}" with an em dash.
func Subject(callID string) string {
	return "KoeIQ Call \u2014 " + callID
}

// IsCustomObject reports whether objectType names a custom object
// (Call_Recording__c) rather than Task.
func IsCustomObject(objectType string) bool {
	return strings.HasSuffix(objectType, "__c")
}

// DefaultExternalIDField is the external ID field of custom objects when the
// settings name none.
const DefaultExternalIDField = "call_id__c"

// ExternalIDField returns the field that identifies a call's record in
// objectType: the configured one, else call_id__c for custom objects, else
// none ("") for Task.
func ExternalIDField(objectType, configured string) string {
	if configured != "" {
		return configured
	}
	if IsCustomObject(objectType) {
		return DefaultExternalIDField
	}
	return ""
}

// LookupField is the field a call's record can be found by when there is no
// external ID: Subject for Task, call_id__c for custom objects; LookupValue
// is the value to look for.
func LookupField(objectType string) string {
	if IsCustomObject(objectType) {
		return DefaultExternalIDField
	}
	return "Subject"
}

// LookupValue is the value of LookupField for the call.
func LookupValue(objectType, callID string) string {
	if IsCustomObject(objectType) {
		return callID
	}
	return cut(Subject(callID), SubjectLength)
}

// TaskSubtype is the Task field that makes a Task a call in Salesforce's
// activity timeline. Salesforce takes it on create only: syncd sends it
// (as TaskSubtypeCall) when it creates a Task, never in an update.
const (
	TaskSubtype     = "TaskSubtype"
	TaskSubtypeCall = "Call"
)

// CallObjectLength is the length of Task.CallObject.
const CallObjectLength = 255

// callTypes maps a payload's direction to Task.CallType; other directions
// leave CallType out.
var callTypes = map[string]string{"inbound": "Inbound", "outbound": "Outbound", "internal": "Internal"}

// SalesforceFields lists every field Salesforce may receive for objectType
// (with extIDField, when set): what "Test connection" checks exists and is
// writable.
func SalesforceFields(objectType, extIDField string) []string {
	var fields []string
	if IsCustomObject(objectType) {
		fields = []string{"Name", DefaultExternalIDField, "call_date__c", "call_duration_seconds__c", "primary_intent__c",
			"summary__c", "quality_score__c", "transcript_url__c", "description__c"}
	} else {
		fields = []string{"Subject", "Status", "ActivityDate", "CallDurationInSeconds", "CallDisposition", "Description",
			"CallType", "CallObject", TaskSubtype}
	}
	if extIDField != "" && !slices.Contains(fields, extIDField) {
		fields = append(fields, extIDField)
	}
	return fields
}

// Salesforce returns the fields of the call's record in objectType (Task or
// a custom object), dated in loc (the tenant's time zone). With extIDField
// set, the record also carries the call ID in that field.
func Salesforce(p outbox.Payload, objectType, extIDField string, loc *time.Location) map[string]any {
	if loc == nil {
		loc = time.UTC
	}
	date := p.StartedAt.In(loc).Format(time.DateOnly)
	description := Description(p)

	f := map[string]any{}
	put := func(name string, v any) {
		if s, ok := v.(string); ok && s == "" {
			return
		}
		f[name] = v
	}
	if IsCustomObject(objectType) {
		put("Name", cut(Subject(p.CallID), NameLength))
		put(DefaultExternalIDField, p.CallID)
		put("call_date__c", date)
		put("call_duration_seconds__c", p.DurationSeconds)
		put("primary_intent__c", cut(p.PrimaryIntent, DispositionLength))
		put("summary__c", cut(p.Summary, SummaryLength))
		if p.QualityScore != nil {
			put("quality_score__c", *p.QualityScore)
		}
		// A cut link would lead nowhere; a long one is in the description.
		if utf16Len(p.TranscriptURL) <= URLLength {
			put("transcript_url__c", cut(p.TranscriptURL, URLLength))
		}
		put("description__c", description)
	} else {
		put("Subject", cut(Subject(p.CallID), SubjectLength))
		put("Status", "Completed")
		put("ActivityDate", date)
		put("CallDurationInSeconds", p.DurationSeconds)
		put("CallDisposition", cut(p.PrimaryIntent, DispositionLength))
		put("Description", description)
		put("CallType", callTypes[p.Direction])
		put("CallObject", cut(p.CallID, CallObjectLength))
	}
	if extIDField != "" {
		put(extIDField, p.CallID)
	}
	return f
}

// Description is the readable text of the AI summary, the quality score and
// the transcript link, at most 32,000 UTF-16 units; the summary gives way
// when it is too long. It is "" when there is nothing to say.
func Description(p outbox.Payload) string {
	var tail []string
	if p.QualityScore != nil {
		tail = append(tail, "Quality score: "+strconv.FormatFloat(*p.QualityScore, 'f', -1, 64)+" / 100")
	}
	if p.TranscriptURL != "" {
		tail = append(tail, "Transcript: "+p.TranscriptURL)
	}
	footer := cut(strings.Join(tail, "\n"), DescriptionLength)
	summary := strings.TrimSpace(p.Summary)
	if summary == "" {
		return footer
	}
	if footer == "" {
		return cutWithEllipsis(summary, DescriptionLength)
	}
	room := DescriptionLength - utf16Len(footer) - 2 // the blank line
	if room <= 0 {
		return footer
	}
	return cutWithEllipsis(summary, room) + "\n\n" + footer
}

// KintoneKeyField is the Kintone field that identifies a call's record: a
// SINGLE_LINE_TEXT field with "Prohibit duplicate values" on.
const KintoneKeyField = "call_id"

// KintoneFields lists the field codes a Kintone app must have for syncd.
func KintoneFields() []string {
	return []string{KintoneKeyField, "subject", "call_date", "started_at", "duration_seconds", "direction",
		"primary_intent", "summary", "quality_score", "transcript_url"}
}

// Kintone returns the fields of the call's record in a Kintone app laid out
// as kintonetest.CallApp describes (call_id, subject, call_date, ...).
func Kintone(p outbox.Payload, loc *time.Location) map[string]any {
	if loc == nil {
		loc = time.UTC
	}
	f := map[string]any{
		KintoneKeyField:    p.CallID,
		"subject":          cut(Subject(p.CallID), SubjectLength),
		"call_date":        p.StartedAt.In(loc).Format(time.DateOnly),
		"started_at":       p.StartedAt.UTC().Format(time.RFC3339),
		"duration_seconds": p.DurationSeconds,
	}
	put := func(name, v string, limit int) {
		if v != "" {
			f[name] = cut(v, limit)
		}
	}
	put("direction", p.Direction, KintoneTextLength)
	put("primary_intent", p.PrimaryIntent, DispositionLength)
	put("summary", p.Summary, KintoneTextLength)
	put("transcript_url", p.TranscriptURL, KintoneTextLength)
	if p.QualityScore != nil {
		f["quality_score"] = *p.QualityScore
	}
	return f
}

// cut returns the longest prefix of s that fits in limit UTF-16 units and
// ends on a character boundary. Invalid UTF-8 becomes U+FFFD first, so the
// result is always valid.
func cut(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= limit { // bytes >= UTF-16 units
		return s
	}
	units := 0
	for i, r := range s {
		n := utf16.RuneLen(r)
		if n < 0 {
			n = 1
		}
		if units+n > limit {
			return s[:i]
		}
		units += n
	}
	return s
}

// cutWithEllipsis is cut, ending with "…" when something was cut.
func cutWithEllipsis(s string, limit int) string {
	if c := cut(s, limit); c != strings.ToValidUTF8(s, "\uFFFD") {
		return cut(s, limit-1) + "\u2026"
	}
	return cut(s, limit)
}

// utf16Len is the length of s in UTF-16 units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}
