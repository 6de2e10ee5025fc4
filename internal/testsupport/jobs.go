package testsupport

import (
	"context"
	"testing"
	"time"
)

// StopAtCleanup calls stop (a started jobs.Client's Stop, say) when the
// test ends, giving it ten seconds, and fails the test if it returns an
// error.
func StopAtCleanup(t testing.TB, stop func(context.Context) error) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
}
