package kintone

import (
	"errors"
	"log/slog"
	"slices"
	"strings"

	"github.com/koeiq/syncd/crm"
)

// ErrInvalidInput is wrapped by errors the client returns before sending
// anything, because the request could never succeed: an unsupported value
// type, a malformed field code or record ID, more than [MaxBulkRecords]
// records. [Classify] maps it to [crm.ClassData].
var ErrInvalidInput = errors.New("kintone: invalid input")

// APIError is a response from Kintone that was not a success. Kintone
// answers errors with a JSON object {"code", "id", "message", "errors"};
// when the body is not that object (a load balancer's HTML page, say) Code,
// ID and Message are empty and StatusCode still tells what happened.
//
// Message and the per-field messages in Fields can quote the rejected value,
// which is call content: store them for the tenant, but log an APIError
// through its [APIError.LogValue], which leaves them out.
type APIError struct {
	// Op is the client operation: "add", "update", "upsert", "add_many",
	// "query" or "fields".
	Op string

	// StatusCode is the HTTP status. Kintone also uses 520 for some
	// application errors, so decide by Code first.
	StatusCode int

	// Code is Kintone's error code, such as "CB_VA01" or "GAIA_RE01".
	Code string

	// ID identifies the error for Cybozu support.
	ID string

	// Message is Kintone's human-readable message, in the language of the
	// user the request ran as.
	Message string

	// Fields holds the per-field messages of a validation error, keyed as
	// Kintone keys them: "record.call_id.value" for a single record,
	// "records[3].call_id.value" for a bulk request, "query" for a query.
	Fields map[string][]string
}

// Error describes the failure with Kintone's message and per-field messages.
// It never contains the API token: the client scrubs any echo of it.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(crm.ErrorText("kintone", e.Op, e.StatusCode, e.Code, e.Message))
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteString(" (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(k)
			b.WriteString(": ")
			b.WriteString(strings.Join(e.Fields[k], " "))
		}
		b.WriteString(")")
	}
	if e.ID != "" {
		b.WriteString(" [id ")
		b.WriteString(e.ID)
		b.WriteString("]")
	}
	return b.String()
}

// LogValue logs the operation, HTTP status, error code and the codes of the
// fields Kintone complained about, never the messages, which can quote call
// content.
func (e *APIError) LogValue() slog.Value {
	attrs := crm.ErrorAttrs(e.Op, e.StatusCode, e.Code)
	if codes := e.FieldCodes(); len(codes) > 0 {
		attrs = append(attrs, slog.Any("fields", codes))
	}
	return slog.GroupValue(attrs...)
}

// FieldCodes returns the sorted, de-duplicated field codes named by the keys
// of Fields: "records[3].call_id.value" and "record[call_id].value" both
// name "call_id". Keys that name no field, such as "query", are returned as
// they are.
func (e *APIError) FieldCodes() []string {
	var codes []string
	for k := range e.Fields {
		codes = append(codes, fieldCodeOfErrorKey(k))
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

// fieldCodeOfErrorKey extracts the field code from a Kintone error key:
// "record.CODE.value", "record[CODE].value", "records[N].CODE.value",
// "records[N][CODE].value", "record.CODE.values[0].value".
func fieldCodeOfErrorKey(k string) string {
	rest, ok := strings.CutPrefix(k, "records[")
	if ok {
		_, after, found := strings.Cut(rest, "]")
		if !found {
			return k
		}
		rest = after
	} else if rest, ok = strings.CutPrefix(k, "record"); !ok {
		return k
	}
	switch {
	case strings.HasPrefix(rest, "."):
		code, _, _ := strings.Cut(rest[1:], ".")
		return code
	case strings.HasPrefix(rest, "["):
		code, _, found := strings.Cut(rest[1:], "]")
		if found {
			return code
		}
	}
	return k
}

// Error codes observed from Kintone, grouped by what they mean for a caller.
// The package documentation lists where each was confirmed.
var (
	retryableCodes = []string{
		"GAIA_RE18", // the database lock failed; try again later
		"GAIA_DA02", // the database lock failed; try again later
		"GAIA_CO02", // revision conflict: another writer was first
	}
	rateLimitedCodes = []string{
		"GAIA_TO04", // too many concurrent API requests (HTTP 429)
		"GAIA_TM12", // too many cursors (HTTP 429)
	}
	authCodes = []string{
		"CB_AU01",   // not authenticated (no credentials)
		"CB_WA01",   // password authentication failed
		"GAIA_IA02", // the API token does not match a token of the app
		"GAIA_DA03", // the same app's token given twice
		"GAIA_NO01", // this API token may not run this API
		"CB_NO02",   // no privilege to proceed
		"GAIA_AP01", // the app does not exist (wrong app ID)
		"GAIA_AP15", // the API token and the app do not go together
	}
	dataCodes = []string{
		"CB_VA01",   // missing or invalid input, with per-field errors
		"CB_IJ01",   // invalid JSON, such as a list for a text field
		"GAIA_RE01", // the record ID does not exist
		"GAIA_RE20", // no record matches updateKey
		"GAIA_IQ03", // operator not allowed for the field type
		"GAIA_IQ11", // unknown field in a query
		"GAIA_QU01", // query limit over 500
		"GAIA_QU02", // query offset over 10,000
	}
)

// Classify tells a caller what to do about err, as a [crm.Class]. A nil
// error has no class (0).
//
// An [*APIError] is classified by its Kintone code when the code is known,
// else by HTTP status: 429 is rate-limited, 401 and 403 are auth, a 3xx
// (the client never follows redirects) and a 404 without a Kintone code mean
// the base URL does not point at Kintone and are auth, other 4xx are data,
// and 5xx (including Kintone's 520 without a known code) are retryable.
// [ErrInvalidInput] is data; [ErrInvalidConfig] is auth. Anything else — a
// network error, a timeout, a cancelled context, a garbled success response —
// is retryable.
func Classify(err error) crm.Class {
	if err == nil {
		return 0
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return classifyAPIError(apiErr)
	}
	switch {
	case errors.Is(err, ErrInvalidInput):
		return crm.ClassData
	case errors.Is(err, ErrInvalidConfig):
		return crm.ClassAuth
	}
	return crm.ClassRetryable
}

func classifyAPIError(e *APIError) crm.Class {
	switch {
	case slices.Contains(rateLimitedCodes, e.Code):
		return crm.ClassRateLimited
	case slices.Contains(authCodes, e.Code):
		return crm.ClassAuth
	case slices.Contains(dataCodes, e.Code):
		return crm.ClassData
	case slices.Contains(retryableCodes, e.Code):
		return crm.ClassRetryable
	}
	s := e.StatusCode
	switch {
	case s == 429:
		return crm.ClassRateLimited
	case s == 401 || s == 403:
		return crm.ClassAuth
	case s >= 300 && s < 400:
		return crm.ClassAuth
	case s == 404 && e.Code == "":
		return crm.ClassAuth
	case s == 408:
		return crm.ClassRetryable
	case s >= 400 && s < 500:
		return crm.ClassData
	default:
		return crm.ClassRetryable
	}
}

// IsNotFound reports whether err says the record does not exist: Kintone's
// GAIA_RE01 (no record with that ID) or GAIA_RE20 (no record matches the
// updateKey). A caller holding a stored record ID uses it to notice that the
// record was deleted in Kintone and create a new one.
func IsNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && (apiErr.Code == "GAIA_RE01" || apiErr.Code == "GAIA_RE20")
}
