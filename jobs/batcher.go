package jobs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/settings"
)

// sfBatcher serves one tenant's Salesforce pushes (one settings version's):
// the push jobs hand it their calls, it gathers them for a short window (or
// until a batch is full) and pushes them together with sObject Collections
// requests, at most TenantConcurrency batches at once, one at a time when the
// org's API budget runs low. Each call's result goes back to its own job.
type sfBatcher struct {
	t        *salesforceTarget
	tenantID string
	client   *salesforce.Client
	settings *settings.Salesforce

	in   chan *sfItem
	quit chan struct{} // closed when the batcher stopped for lack of work

	mu       sync.Mutex
	cond     *sync.Cond
	inFlight int
}

// batcherIdle is how long a batcher waits for work before it stops.
const batcherIdle = 5 * time.Minute

func newSFBatcher(t *salesforceTarget, tenantID string, client *salesforce.Client, st *settings.Salesforce) *sfBatcher {
	b := &sfBatcher{
		t: t, tenantID: tenantID, client: client, settings: st,
		in:   make(chan *sfItem, t.c.cfg.BatchSize),
		quit: make(chan struct{}),
	}
	b.cond = sync.NewCond(&b.mu)
	go b.run()
	return b
}

var errBatcherStopped = errors.New("jobs: the tenant's batcher stopped; try again")

// submit hands the batcher a call and waits until it is pushed or ctx ends.
func (b *sfBatcher) submit(ctx context.Context, it *sfItem) error {
	select {
	case b.in <- it:
	case <-b.quit:
		return errBatcherStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-it.done:
		return nil
	case <-ctx.Done():
		// The batch goes on; if it creates the record, the next attempt
		// finds it (the call was leased before).
		return ctx.Err()
	}
}

func (b *sfBatcher) run() {
	cfg := b.t.c.cfg
	idle := time.NewTimer(batcherIdle)
	defer idle.Stop()
	for {
		var first *sfItem
		select {
		case first = <-b.in:
		case <-idle.C:
			if b.stop() {
				// A call handed over just before the stop goes back to its
				// job, which tries again with a new batcher.
				for {
					select {
					case it := <-b.in:
						it.fail(errBatcherStopped)
						close(it.done)
					default:
						return
					}
				}
			}
			idle.Reset(batcherIdle)
			continue
		}

		slow := b.t.c.slow(b.t.usage(b.tenantID))
		window := cfg.BatchWindow
		if slow {
			window = cfg.SlowBatchWindow // fewer, fuller requests
		}
		batch := []*sfItem{first}
		timer := time.NewTimer(window)
	gather:
		for len(batch) < cfg.BatchSize {
			select {
			case it := <-b.in:
				batch = append(batch, it)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()

		limit := cfg.TenantConcurrency
		if slow {
			limit = 1
		}
		b.mu.Lock()
		for b.inFlight >= limit {
			b.cond.Wait()
		}
		b.inFlight++
		b.mu.Unlock()
		go b.push(batch)
		idle.Reset(batcherIdle)
	}
}

// push pushes one batch and hands back each call's result.
func (b *sfBatcher) push(batch []*sfItem) {
	defer func() {
		b.mu.Lock()
		b.inFlight--
		b.cond.Broadcast()
		b.mu.Unlock()
	}()
	// Not a job's context: a job that gives up does not cancel the others'
	// calls. Each request is bounded by the client's timeout.
	pushSalesforce(context.Background(), b.client, b.settings, batch)
	b.t.observeUsage(b.tenantID, b.client)
	for _, it := range batch {
		close(it.done)
	}
}

// stop ends an idle batcher, unless work arrived meanwhile; it reports
// whether it stopped.
func (b *sfBatcher) stop() bool {
	b.t.mu.Lock()
	defer b.t.mu.Unlock()
	if len(b.in) > 0 {
		return false
	}
	if tn := b.t.tenants[b.tenantID]; tn != nil && tn.batcher == b {
		tn.batcher = nil
	}
	close(b.quit)
	return true
}
