package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/koeiq/syncd/crm"
)

// APIError is an answer from Salesforce that is not a success: an error from
// the REST API (a body of the form [{"message","errorCode","fields"}]), an
// error from the OAuth token endpoint ({"error","error_description"}), or a
// response the client could not use. It is also returned, with StatusCode 0,
// for a call the client refused to send because Salesforce would certainly
// reject it (a malformed record ID, more than [MaxCollectionSize] records).
//
// Use [errors.As] to get at it and [Classify] to decide what to do; never match
// the error string.
//
// When Salesforce answers several errors at once, ErrorCode and Fields come
// from the first and the others are appended to Message as
// "; CODE: message".
type APIError struct {
	// Op names the operation and object, e.g. "create Task", "query" or "token".
	Op string
	// StatusCode is the HTTP status, or 0 when the call was not sent.
	StatusCode int
	// ErrorCode is Salesforce's errorCode ("STRING_TOO_LONG") or the OAuth
	// error ("invalid_client"). It is "" when the body carried none, for
	// example an HTML page from a proxy.
	ErrorCode string
	// Message is Salesforce's message or the OAuth error_description. It can
	// quote the rejected value, that is call content: store it for the tenant,
	// but do not log it. [APIError.LogValue] leaves it out.
	Message string
	// Fields lists the fields the error is about, when Salesforce says.
	Fields []string
}

// Error includes Message, so that it can be stored per call for the tenant.
// To log an APIError, log the value itself (see [APIError.LogValue]), not this
// string.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(crm.ErrorText("salesforce", e.Op, e.StatusCode, e.ErrorCode, e.Message))
	if len(e.Fields) > 0 {
		b.WriteString(" (fields: ")
		b.WriteString(strings.Join(e.Fields, ", "))
		b.WriteString(")")
	}
	return b.String()
}

// LogValue implements [slog.LogValuer]: op, HTTP status, error code, fields
// and class, but never Message, which can quote call content.
func (e *APIError) LogValue() slog.Value {
	attrs := crm.ErrorAttrs(e.Op, e.StatusCode, e.ErrorCode)
	if len(e.Fields) > 0 {
		attrs = append(attrs, slog.String("fields", strings.Join(e.Fields, ",")))
	}
	attrs = append(attrs, slog.String("class", e.class().String()))
	return slog.GroupValue(attrs...)
}

// Classify returns the class of an error returned by a [Client] method, or 0
// for nil:
//
//   - [crm.ClassRetryable]: network errors, timeouts, 5xx, 429,
//     UNABLE_TO_LOCK_ROW, SERVER_UNAVAILABLE, QUERY_TIMEOUT, an
//     INVALID_SESSION_ID that persisted after a fresh token, a response that
//     could not be read. Retry with backoff.
//   - [crm.ClassRateLimited]: the org's API allocation is spent
//     (REQUEST_LIMIT_EXCEEDED) or the token endpoint refused to log in again
//     (rate_limit_exceeded). Pause all of the tenant's work for a while.
//   - [crm.ClassAuth]: the token endpoint refused the credentials
//     (invalid_client, invalid_grant, ...) or named an instance URL that is
//     not allowed, the org has no API access (API_DISABLED_FOR_ORG), or the
//     org answered with a redirect (its address changed). Every call of the
//     tenant will fail the same way until an admin fixes the settings.
//   - [crm.ClassData]: this record will never be accepted as sent
//     (STRING_TOO_LONG, INVALID_FIELD, REQUIRED_FIELD_MISSING, NOT_FOUND,
//     MULTIPLE_CHOICES, other 4xx, a call refused before sending). Fail it
//     with the message; do not retry.
//
// An [*APIError] is classified by its ErrorCode first and its HTTP status
// second; a [*SaveError] by its first [RecordError] (see [RecordError.Class]).
// Any other error comes from the network, a timeout or the caller's context,
// and is retryable: such a failure says nothing about whether a write
// happened, so retry it with an idempotent operation (see the package
// documentation).
func Classify(err error) crm.Class {
	if err == nil {
		return 0
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.class()
	}
	var se *SaveError
	if errors.As(err, &se) {
		return se.class()
	}
	return crm.ClassRetryable
}

func (e *APIError) class() crm.Class {
	if c, ok := classOfCode(e.ErrorCode); ok {
		return c
	}
	switch {
	case e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500:
		return crm.ClassRetryable
	case e.Op == opToken:
		return crm.ClassAuth // the token endpoint refused, or answered something unusable
	case e.StatusCode == 0:
		return crm.ClassData // refused before sending: it cannot succeed as is
	case e.StatusCode >= 200 && e.StatusCode < 300:
		return crm.ClassRetryable // a success we could not read; the write may have happened
	case e.StatusCode == http.StatusUnauthorized:
		return crm.ClassRetryable
	case e.StatusCode >= 300 && e.StatusCode < 400:
		return crm.ClassAuth // a redirect: the org's address changed
	}
	return crm.ClassData
}

// Class returns the class of a per-record error of an sObject Collections
// request, by its status code: UNABLE_TO_LOCK_ROW and
// ALL_OR_NONE_OPERATION_ROLLED_BACK are retryable, REQUEST_LIMIT_EXCEEDED is
// rate-limited, everything else is data.
func (e RecordError) Class() crm.Class {
	if c, ok := classOfCode(e.StatusCode); ok {
		return c
	}
	return crm.ClassData
}

func classOfCode(code string) (crm.Class, bool) {
	switch code {
	case "":
		return 0, false
	case "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "INVALID_SESSION_ID",
		"QUERY_TIMEOUT", "ALL_OR_NONE_OPERATION_ROLLED_BACK":
		return crm.ClassRetryable, true
	case "REQUEST_LIMIT_EXCEEDED", "rate_limit_exceeded":
		return crm.ClassRateLimited, true
	case "invalid_client", "invalid_client_id", "invalid_grant", "invalid_app_access",
		"unauthorized_client", "unsupported_grant_type", "inactive_user", "inactive_org",
		"API_DISABLED_FOR_ORG":
		return crm.ClassAuth, true
	case "MULTIPLE_CHOICES":
		return crm.ClassData, true
	}
	return 0, false
}

// IsDeleted reports whether err says that the record addressed by ID does not
// exist any more: ENTITY_IS_DELETED (in the recycle bin) or NOT_FOUND (purged,
// or never there). Use it on the error of [Client.Update], whose object type
// is known to exist, to decide to create the record again.
func IsDeleted(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.ErrorCode == "ENTITY_IS_DELETED" ||
		(ae.ErrorCode == "NOT_FOUND" && ae.StatusCode == http.StatusNotFound)
}

// parseAPIError builds the APIError for a non-2xx answer from its body, which
// may be a Salesforce error array, a single error object, an OAuth error, the
// list of matching records of a 300, or anything else (HTML from a proxy).
func parseAPIError(op string, status int, body []byte) *APIError {
	ae := &APIError{Op: op, StatusCode: status}

	if status == http.StatusMultipleChoices {
		ae.ErrorCode = "MULTIPLE_CHOICES"
		var urls []string
		if json.Unmarshal(body, &urls) == nil && len(urls) > 0 {
			ids := make([]string, len(urls))
			for i, u := range urls {
				ids[i] = u[strings.LastIndexByte(u, '/')+1:]
			}
			ae.Message = fmt.Sprintf("the external ID matches %d records: %s", len(ids), strings.Join(ids, ", "))
		} else {
			ae.Message = "the external ID matches more than one record"
		}
		return ae
	}

	type sfError struct {
		Message   string   `json:"message"`
		ErrorCode string   `json:"errorCode"`
		Fields    []string `json:"fields"`
	}
	var list []sfError
	if json.Unmarshal(body, &list) == nil && len(list) > 0 {
		ae.ErrorCode = list[0].ErrorCode
		ae.Fields = list[0].Fields
		msg := list[0].Message
		for _, e := range list[1:] {
			msg += "; " + e.ErrorCode + ": " + e.Message
		}
		ae.Message = msg
		return ae
	}
	var one struct {
		sfError
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(body, &one) == nil {
		switch {
		case one.ErrorCode != "":
			ae.ErrorCode, ae.Message, ae.Fields = one.ErrorCode, one.Message, one.Fields
			return ae
		case one.Error != "":
			ae.ErrorCode, ae.Message = one.Error, one.ErrorDescription
			return ae
		}
	}

	ae.Message = http.StatusText(status)
	if status >= 300 && status < 400 {
		ae.Message += "; redirects are not followed"
	}
	if s := snippet(body); s != "" {
		ae.Message += ": " + s
	}
	return ae
}

// snippet returns a short, printable excerpt of a body that is not JSON.
func snippet(body []byte) string {
	const max = 200
	var b strings.Builder
	space := false
	for len(body) > 0 && b.Len() < max {
		r, size := utf8.DecodeRune(body)
		body = body[size:]
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if len(body) > 0 {
		b.WriteString("…")
	}
	return b.String()
}
