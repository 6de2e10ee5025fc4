package kintonetest

import (
	"fmt"

	"github.com/koeiq/syncd/kintone"
)

// FieldDef defines one field of a test app's form. It is the [kintone.Field]
// that the client's [kintone.Client.Fields] reads back, so a test states a
// form once, in the terms it expects the client to see.
//
// Code and Type are required. The supported types are SINGLE_LINE_TEXT,
// MULTI_LINE_TEXT, NUMBER, DATE, DATETIME, DROP_DOWN, RADIO_BUTTON,
// CHECK_BOX, MULTI_SELECT and LINK. Label defaults to Code. Unique is
// available for SINGLE_LINE_TEXT, NUMBER, DATE, DATETIME and LINK fields.
// MaxLength limits SINGLE_LINE_TEXT and LINK values, counted in UTF-16 code
// units; 0 is no limit. Options, in display order, are required for and only
// for DROP_DOWN, RADIO_BUTTON, CHECK_BOX and MULTI_SELECT. [Server.AddApp]
// panics on a form that breaks these rules, as a real app could not have it.
type FieldDef = kintone.Field

// CallApp returns the form that syncd writes analysed calls to:
//
//	call_id           SINGLE_LINE_TEXT  required, unique, max 200
//	call_date         DATE
//	started_at        DATETIME
//	duration_seconds  NUMBER
//	direction         DROP_DOWN         inbound, outbound, internal
//	primary_intent    SINGLE_LINE_TEXT  max 255
//	summary           MULTI_LINE_TEXT
//	quality_score     NUMBER
//	transcript_url    LINK
//	subject           SINGLE_LINE_TEXT  max 255
func CallApp() []FieldDef {
	return []FieldDef{
		{Code: "call_id", Type: "SINGLE_LINE_TEXT", Label: "Call ID", Required: true, Unique: true, MaxLength: 200},
		{Code: "call_date", Type: "DATE", Label: "Call date"},
		{Code: "started_at", Type: "DATETIME", Label: "Started at"},
		{Code: "duration_seconds", Type: "NUMBER", Label: "Duration (seconds)"},
		{Code: "direction", Type: "DROP_DOWN", Label: "Direction", Options: []string{"inbound", "outbound", "internal"}},
		{Code: "primary_intent", Type: "SINGLE_LINE_TEXT", Label: "Primary intent", MaxLength: 255},
		{Code: "summary", Type: "MULTI_LINE_TEXT", Label: "Summary"},
		{Code: "quality_score", Type: "NUMBER", Label: "Quality score"},
		{Code: "transcript_url", Type: "LINK", Label: "Transcript"},
		{Code: "subject", Type: "SINGLE_LINE_TEXT", Label: "Subject", MaxLength: 255},
	}
}

var (
	supportedTypes = map[string]bool{
		"SINGLE_LINE_TEXT": true, "MULTI_LINE_TEXT": true, "NUMBER": true,
		"DATE": true, "DATETIME": true, "DROP_DOWN": true, "RADIO_BUTTON": true,
		"CHECK_BOX": true, "MULTI_SELECT": true, "LINK": true,
	}
	uniqueTypes  = map[string]bool{"SINGLE_LINE_TEXT": true, "NUMBER": true, "DATE": true, "DATETIME": true, "LINK": true}
	optionTypes  = map[string]bool{"DROP_DOWN": true, "RADIO_BUTTON": true, "CHECK_BOX": true, "MULTI_SELECT": true}
	multiTypes   = map[string]bool{"CHECK_BOX": true, "MULTI_SELECT": true}
	lengthTypes  = map[string]bool{"SINGLE_LINE_TEXT": true, "LINK": true}
	updateKeyOK  = map[string]bool{"SINGLE_LINE_TEXT": true, "NUMBER": true}
	recordNumber = "Record_number" // the RECORD_NUMBER system field's code
)

// checkFields panics on a form a real Kintone app could not have.
func checkFields(defs []FieldDef) {
	seen := map[string]bool{recordNumber: true}
	for _, f := range defs {
		switch {
		case f.Code == "" || f.Code[0] == '$':
			panic(fmt.Sprintf("kintonetest: invalid field code %q", f.Code))
		case seen[f.Code]:
			panic(fmt.Sprintf("kintonetest: duplicate field code %q", f.Code))
		case !supportedTypes[f.Type]:
			panic(fmt.Sprintf("kintonetest: field %q: unsupported type %q", f.Code, f.Type))
		case f.Unique && !uniqueTypes[f.Type]:
			panic(fmt.Sprintf("kintonetest: field %q: type %s cannot be unique", f.Code, f.Type))
		case optionTypes[f.Type] != (len(f.Options) > 0):
			panic(fmt.Sprintf("kintonetest: field %q: options are required for and only for choice fields", f.Code))
		case f.MaxLength != 0 && (!lengthTypes[f.Type] || f.MaxLength < 0):
			panic(fmt.Sprintf("kintonetest: field %q: MaxLength applies to SINGLE_LINE_TEXT and LINK only", f.Code))
		}
		seen[f.Code] = true
	}
}
