package crm_test

import (
	"testing"

	"github.com/koeiq/syncd/crm"
)

func TestClassString(t *testing.T) {
	t.Parallel()
	for c, want := range map[crm.Class]string{
		0: "none", crm.ClassRetryable: "retryable", crm.ClassRateLimited: "rate_limited",
		crm.ClassAuth: "auth", crm.ClassData: "data", 5: "Class(5)",
	} {
		if got := c.String(); got != want {
			t.Errorf("Class(%d).String() = %q, want %q", int(c), got, want)
		}
	}
}
