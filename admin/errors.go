package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/koeiq/syncd/settings"
)

// apiError is an error answered as {"error", "message", ...}.
type apiError struct {
	status  int
	code    string
	message string
	field   string // the request field at fault, if any
	reason  string // why a check failed, if it did
}

func (e *apiError) Error() string { return e.message }

func badRequest(field, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "invalid_request", field: field, message: fmt.Sprintf(format, args...)}
}

// writeError answers err, translating the settings package's errors; an
// unexpected error is logged and answered 500 without details.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var ve *settings.ValidationError
	var ce *settings.CheckError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &ve):
		ae = &apiError{status: http.StatusBadRequest, code: "invalid_request", field: ve.Field, message: ve.Field + " " + ve.Message}
	case errors.As(err, &ce):
		ae = &apiError{status: http.StatusUnprocessableEntity, code: "connection_check_failed", reason: ce.Reason, message: ce.Message}
	case errors.Is(err, settings.ErrPackRequired):
		ae = &apiError{status: http.StatusForbidden, code: "audit_export_pack_required",
			message: "The Audit & Export Pack is required to enable a CRM integration. Ask KoeIQ to add it to your plan."}
	case errors.Is(err, settings.ErrNotFound):
		ae = &apiError{status: http.StatusNotFound, code: "not_found", message: "the tenant is not set up in syncd"}
	default:
		s.logger.ErrorContext(r.Context(), "admin request failed", "method", r.Method, "route", r.Pattern, "error", err)
		ae = &apiError{status: http.StatusInternalServerError, code: "internal", message: "something went wrong; try again later"}
	}
	writeError(w, ae)
}

func writeError(w http.ResponseWriter, ae *apiError) {
	writeJSON(w, ae.status, struct {
		Error   string `json:"error"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
		Reason  string `json:"reason,omitempty"`
	}{ae.code, ae.message, ae.field, ae.reason})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decode reads the request's JSON body into v, refusing unknown fields,
// wrong types, a second value and bodies over the limit, with a message
// naming the field.
func (s *server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.Decode(&struct{}{}) != io.EOF {
			return badRequest("", "the request body must hold one JSON object")
		}
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return badRequest("", "the request body is larger than %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return badRequest("", "the request body is empty; send a JSON object")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "the request body is not valid JSON")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("", "the request body must be a JSON object")
		}
		return badRequest(typ.Field, "%s must be %s, not a JSON %s", typ.Field, jsonKind(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(field, "unknown field %q", field)
	}
	return badRequest("", "the request body could not be read")
}

// jsonKind names the JSON kind of a Go type.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	}
	return "a " + t.Kind().String()
}
