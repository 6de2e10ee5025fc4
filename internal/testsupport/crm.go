package testsupport

import (
	"errors"
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
