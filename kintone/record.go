package kintone

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxBulkRecords is the most records Kintone accepts in one bulk request
// (Add Records, Update Records).
const MaxBulkRecords = 100

// Record is a Kintone record to write: field code to value. The client wraps
// each value as {"value": ...} on the wire.
//
// Values may be:
//   - string, for text, link, drop-down, radio button, date ("YYYY-MM-DD"),
//     datetime and number fields;
//   - any Go integer or float, or a json.Number, sent as a decimal string
//     (Kintone's documented form for NUMBER fields);
//   - time.Time, sent as a UTC datetime "YYYY-MM-DDTHH:MM:SSZ" for DATETIME
//     fields (Kintone ignores the seconds); format a DATE field yourself;
//   - []string, for check box and multi-select fields;
//   - nil, which clears the field.
//
// Any other type is refused with [ErrInvalidInput] before anything is sent.
// Kintone silently ignores field codes the app does not have, so check them
// with [Client.Fields] when a form may have changed.
type Record map[string]any

// wireRecord is the JSON form of a Record: {"code": {"value": v}}.
type wireRecord map[string]wireValue

type wireValue struct {
	Value any `json:"value"`
}

// encodeRecord converts rec to its wire form, checking field codes and value
// types.
func encodeRecord(rec Record) (wireRecord, error) {
	out := make(wireRecord, len(rec))
	for code, v := range rec {
		if !validFieldCode(code) {
			return nil, fmt.Errorf("%w: field code %q is not a valid Kintone field code", ErrInvalidInput, code)
		}
		wv, err := encodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("%w: field %q: %v", ErrInvalidInput, code, err)
		}
		out[code] = wireValue{Value: wv}
	}
	return out, nil
}

func encodeValue(v any) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return v, nil
	case []string:
		if v == nil {
			return []string{}, nil
		}
		return v, nil
	case json.Number:
		if _, err := strconv.ParseFloat(string(v), 64); err != nil {
			return nil, fmt.Errorf("json.Number %q is not a number", string(v))
		}
		return string(v), nil
	case int, int8, int16, int32, int64:
		return strconv.FormatInt(reflect.ValueOf(v).Int(), 10), nil
	case uint, uint8, uint16, uint32, uint64:
		return strconv.FormatUint(reflect.ValueOf(v).Uint(), 10), nil
	case float32:
		return formatFloat(float64(v), 32)
	case float64:
		return formatFloat(v, 64)
	case time.Time:
		if v.IsZero() {
			return nil, fmt.Errorf("zero time.Time")
		}
		return v.UTC().Format("2006-01-02T15:04:05Z"), nil
	default:
		return nil, fmt.Errorf("unsupported value type %T", v)
	}
}

func formatFloat(f float64, bits int) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("%v is not a finite number", f)
	}
	return strconv.FormatFloat(f, 'f', -1, bits), nil
}

// validFieldCode reports whether s can be a Kintone field code: at most 128
// characters of letters, digits and the symbols Kintone allows (_ ＿ ・ ･ $
// ＄ ￥), not starting with a digit. "$id" (the record ID in queries)
// passes. Refusing everything else keeps quotes, spaces and operators out of
// queries, where field codes are not quoted.
func validFieldCode(s string) bool {
	n := utf8.RuneCountInString(s)
	if n == 0 || n > 128 || !utf8.ValidString(s) {
		return false
	}
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if i == 0 {
				return false
			}
		case unicode.IsLetter(r), unicode.IsDigit(r) && i > 0:
		case strings.ContainsRune("_＿・･$＄￥", r):
		default:
			return false
		}
	}
	return true
}

// quoteQueryString returns s as a Kintone query string literal: in double
// quotes, with backslashes and double quotes escaped by a backslash.
func quoteQueryString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// validRecordID reports whether s looks like a Kintone record ID: a positive
// decimal integer.
func validRecordID(s string) bool {
	if s == "" || len(s) > 19 || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
