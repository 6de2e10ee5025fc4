package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/outbox"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

// Stop, with pushes in flight to a slow org and a token request hanging at
// another, leaves no goroutine behind: the dispatch loop, the listener,
// River's services, the push jobs with their lease keepers and the
// Salesforce clients' token requests have all returned when Stop does.
//
// goleak looks at every goroutine of the test binary, so this test is not
// parallel: Go runs the parallel tests only once the sequential ones are
// done, and at the start of this one they are all paused in t.Parallel,
// which goleak.IgnoreCurrent then ignores. The test closes everything it
// opened (the test servers first, whose connections the CRM clients keep,
// then the pool) before it looks, so it needs no other ignore.
func TestStopLeavesNoGoroutines(t *testing.T) {
	pgtest.ServerURL(t) // the test binary's PostgreSQL, found once, before the count starts
	ignore := goleak.IgnoreCurrent()

	b := setup(t)
	slow := b.addTenant(t, tenant{id: "slow", pack: true, analytics: true, salesforce: ptr(true)})
	slow.SetLatency(time.Minute)
	hanging := b.addTenant(t, tenant{id: "hanging", pack: true, analytics: true, salesforce: ptr(true)})
	hanging.InjectFault(salesforcetest.Fault{Op: "token", Kind: salesforcetest.FaultLatency, Latency: time.Minute})

	c := b.newUnstarted(t, nil)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		b.enqueue(t, "slow", fmt.Sprint("slow-", i), outbox.CallAnalysed)
	}
	b.enqueue(t, "hanging", "hanging-a", outbox.CallAnalysed)
	pgtest.WaitFor(t, 20*time.Second, "a push in flight and a token request hanging", func() bool {
		return slow.InFlight() > 0 && hanging.Requests("token") > 0
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if c.Running() {
		t.Error("Running after Stop")
	}

	// While the test server still hangs the token request: only what the
	// test opened runs on, with nothing of syncd's on its stacks.
	goleak.VerifyNone(t, ignore,
		goleak.IgnoreAnyFunction("net/http/httptest.(*Server).goServe.func1"), // the servers' accept loops
		goleak.IgnoreAnyFunction("net/http.(*conn).serve"),                    // their handlers
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),          // the Transport's idle connections
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("github.com/jackc/pgx/v5/pgxpool.(*Pool).backgroundHealthCheck"))

	// Then nothing at all, once the test closed what it opened.
	b.sf.Close()
	b.kintone.Close()
	b.pool.Close()
	goleak.VerifyNone(t, ignore)
}
