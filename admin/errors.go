package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/koeiq/syncd/settings"
)

// apiError is an error answered as {"error", "message", ...}.
type apiError struct {
	status  int
	code    string
	message string
	field   *string // the request field at fault, if any ("" is a key too)
	reason  string  // why a check failed, if it did
}

func (e *apiError) Error() string { return e.message }

// badRequest is a 400 about the body as a whole.
func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "invalid_request", message: fmt.Sprintf(format, args...)}
}

// badField is a 400 about one field of the body.
func badField(field, format string, args ...any) *apiError {
	ae := badRequest(format, args...)
	ae.field = &field
	return ae
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
		ae = badField(ve.Field, "%s %s", ve.Field, ve.Message)
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
		Error   string  `json:"error"`
		Message string  `json:"message"`
		Field   *string `json:"field,omitempty"`
		Reason  string  `json:"reason,omitempty"`
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

// decode reads the request's JSON body into v, a pointer to a struct
// whose json tags name the fields the body may have. It refuses bodies over
// the limit and anything but one JSON object; then, naming the field, a key
// that is not one of the fields (names are case-sensitive, unlike
// encoding/json's), a key given twice (RFC 8259 §4: what a second value
// means is up to each reader) and a value of the wrong type.
func (s *server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return badRequest("the request body is larger than %d bytes", tooBig.Limit)
	case err != nil:
		return badRequest("the request body could not be read")
	}
	if err := checkObject(body, jsonFields(v)); err != nil {
		return err
	}
	err = json.Unmarshal(body, v)
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typ) && typ.Field != "":
		return badField(typ.Field, "%s must be %s, not a JSON %s", typ.Field, jsonKind(typ.Type), typ.Value)
	}
	return badRequest("the request body could not be read")
}

// checkObject checks that body is one JSON object whose keys are fields,
// each given once. A problem with the body as a whole is reported before
// one with a key.
func checkObject(body []byte, fields []string) error {
	notJSON := badRequest("the request body is not valid JSON")
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("the request body is empty; send a JSON object")
	case err != nil:
		return notJSON
	case tok != json.Delim('{'):
		return badRequest("the request body must be a JSON object")
	}
	var keyErr error
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return notJSON
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return notJSON
		}
		switch {
		case keyErr != nil:
		case !slices.Contains(fields, key):
			keyErr = badField(key, "unknown field %q", key)
		case seen[key]:
			keyErr = badField(key, "%s is given more than once", key)
		}
		seen[key] = true
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return notJSON
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("the request body must hold one JSON object")
	}
	return keyErr
}

// jsonFields returns the JSON names of the fields of the struct v points to.
func jsonFields(v any) []string {
	t := reflect.TypeOf(v).Elem()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
	}
	return names
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
