package salesforce_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

// orgTest runs body as a parallel subtest of t named name, with its own
// test server, an org configured by orgCfg and a client for it (see setup).
func orgTest(t *testing.T, name string, orgCfg salesforcetest.OrgConfig, body func(t *testing.T, b *testBundle)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		body(t, setup(t, orgCfg))
	})
}

// createTask creates a Task with the given subject through the client and
// returns its ID, failing the test if Create fails.
func createTask(t *testing.T, ctx context.Context, b *testBundle, subject string) string {
	t.Helper()
	id, err := b.client.Create(ctx, "Task", task(subject))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return id
}

// createConcurrently creates n Tasks (subjects c-0 … c-n-1) from n
// goroutines at once and reports every error.
func createConcurrently(t *testing.T, ctx context.Context, b *testBundle, n int) {
	t.Helper()
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := b.client.Create(ctx, "Task", task(fmt.Sprint("c-", i)))
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("Create: %v", err)
		}
	}
}

// wantRequests checks that the org saw want requests of kind op.
func wantRequests(t *testing.T, b *testBundle, op string, want int) {
	t.Helper()
	if got := b.org.Requests(op); got != want {
		t.Errorf("%s requests = %d, want %d", op, got, want)
	}
}

// wantAPIUsage checks that the client last read want requests used of the
// org's daily API limit.
func wantAPIUsage(t *testing.T, b *testBundle, want int) {
	t.Helper()
	if u, _ := b.client.APIUsage(); u.Used != want {
		t.Errorf("API usage = %d, want %d", u.Used, want)
	}
}

// badFieldCase is one record that makes a whole collection request fail.
type badFieldCase struct {
	name     string
	bad      salesforce.Fields
	wantCode string
}
