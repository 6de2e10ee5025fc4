package kintone

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/koeiq/syncd/crm"
)

func TestEncodeValue(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		in      any
		want    any
		wantErr bool
	}{
		{"string", "hello", "hello", false},
		{"empty string", "", "", false},
		{"nil clears", nil, nil, false},
		{"int", 312, "312", false},
		{"negative int64", int64(-7), "-7", false},
		{"uint8", uint8(200), "200", false},
		{"uint64 max", uint64(math.MaxUint64), "18446744073709551615", false},
		{"float64", 87.5, "87.5", false},
		{"float64 whole", 100.0, "100", false},
		{"float32", float32(0.25), "0.25", false},
		{"tiny float is not exponent", 1e-7, "0.0000001", false},
		{"json.Number", json.Number("42.10"), "42.10", false},
		{"time in UTC", time.Date(2025, 4, 1, 18, 30, 5, 0, time.FixedZone("JST", 9*3600)), "2025-04-01T09:30:05Z", false},
		{"string list", []string{"a", "b"}, []string{"a", "b"}, false},
		{"nil string list", []string(nil), []string{}, false},
		{"NaN", math.NaN(), nil, true},
		{"infinity", math.Inf(1), nil, true},
		{"bad json.Number", json.Number("12abc"), nil, true},
		{"zero time", time.Time{}, nil, true},
		{"bool", true, nil, true},
		{"map", map[string]any{"value": "x"}, nil, true},
		{"any list", []any{"a"}, nil, true},
		{"pointer", new(string), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := encodeValue(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("encodeValue(%#v) = %#v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("encodeValue(%#v): %v", tt.in, err)
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tt.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("encodeValue(%#v) = %s, want %s", tt.in, gotJSON, wantJSON)
			}
		})
	}
}

func TestEncodeRecordRefusesBadInput(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		rec  Record
	}{
		{"bad value type", Record{"call_id": struct{}{}}},
		{"field code with space", Record{"call id": "x"}},
		{"field code with quote", Record{`a"b`: "x"}},
		{"field code starting with a digit", Record{"1st": "x"}},
		{"empty field code", Record{"": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := encodeRecord(tt.rec)
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("encodeRecord() error = %v, want ErrInvalidInput", err)
			}
			if Classify(err) != crm.ClassData {
				t.Errorf("Classify() = %v, want data", Classify(err))
			}
		})
	}
}

func TestValidFieldCode(t *testing.T) {
	t.Parallel()

	tests := []struct {
		code string
		want bool
	}{
		{"call_id", true},
		{"$id", true},
		{"顧客名", true},
		{"フィールド・コード", true},
		{"field2", true},
		{"Record_number", true},
		{"", false},
		{"2field", false},
		{"call id", false},
		{"call-id", false},
		{`call"id`, false},
		{"a=b", false},
		{"a)or(b", false},
		{"a\nb", false},
		{string(make([]rune, 129)), false},
	}
	for _, tt := range tests {
		if got := validFieldCode(tt.code); got != tt.want {
			t.Errorf("validFieldCode(%q) = %t, want %t", tt.code, got, tt.want)
		}
	}
}

func TestQuoteQueryString(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in, want string
	}{
		{"c-123", `"c-123"`},
		{"", `""`},
		{`say "hi"`, `"say \"hi\""`},
		{`back\slash`, `"back\\slash"`},
		{`\"`, `"\\\""`},
		{`x" or call_id != "`, `"x\" or call_id != \""`},
		{"日本語", `"日本語"`},
	}
	for _, tt := range tests {
		if got := quoteQueryString(tt.in); got != tt.want {
			t.Errorf("quoteQueryString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestValidRecordID(t *testing.T) {
	t.Parallel()

	for id, want := range map[string]bool{
		"1": true, "42": true, "9223372036854775807": true,
		"": false, "0": false, "01": false, "-1": false, "1.0": false, "1 or 1": false, "abc": false,
		"99999999999999999999": false,
	} {
		if got := validRecordID(id); got != want {
			t.Errorf("validRecordID(%q) = %t, want %t", id, got, want)
		}
	}
}
