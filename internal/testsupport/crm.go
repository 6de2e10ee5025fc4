package testsupport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

// ErrorAs returns the error of type E that [errors.As] finds in err's tree,
// or fails the test. The CRM clients' tests use it to get at an *APIError.
func ErrorAs[E error](t testing.TB, err error) E {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T) is not a %T", err, err, target)
	}
	return target
}

// URLCase is one case of a table test of a CRM address validator, such as
// kintone.ValidateBaseURL or salesforce.ValidateInstanceURL.
type URLCase struct {
	Name     string
	Raw      string // the address given
	Loopback bool   // the allowInsecureLoopback argument
	Want     string // the normalised URL; "" means refused
}

// CheckURLValidator runs each case in a parallel subtest of t. An accepted
// address must come back from validate normalised to Want. A refused one
// must return an error that wraps invalid and does not quote the address
// given, which can carry a password. name is validate's name, for messages.
func CheckURLValidator(t *testing.T, name string, validate func(raw string, allowInsecureLoopback bool) (*url.URL, error), invalid error, cases []URLCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			got, err := validate(tt.Raw, tt.Loopback)
			if tt.Want == "" {
				if err == nil {
					t.Fatalf("%s(%q, %t) = %v, want an error", name, tt.Raw, tt.Loopback, got)
				}
				if !errors.Is(err, invalid) {
					t.Errorf("error %v does not wrap %v", err, invalid)
				}
				if tt.Raw != "" && strings.Contains(err.Error(), tt.Raw) {
					t.Errorf("error %q quotes the input", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s(%q, %t): %v", name, tt.Raw, tt.Loopback, err)
			}
			if got.String() != tt.Want {
				t.Errorf("%s(%q, %t) = %q, want %q", name, tt.Raw, tt.Loopback, got, tt.Want)
			}
		})
	}
}

// Renderings returns every way the tests know of for values to leave the
// process as text: each printed with each fmt verb that prints a struct,
// marshalled as JSON, and logged by slog's JSON and text handlers. A test of
// a secret checks that none of them contains it. A value that cannot be
// marshalled as JSON fails the test.
func Renderings(t testing.TB, values ...any) []string {
	t.Helper()
	var out []string
	var logged bytes.Buffer
	jsonLog := slog.New(slog.NewJSONHandler(&logged, nil))
	textLog := slog.New(slog.NewTextHandler(&logged, nil))
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%T): %v", v, err)
		}
		out = append(out, string(b))
		jsonLog.Info("value", "v", v)
		textLog.Info("value", "v", v)
	}
	return append(out, logged.String())
}
