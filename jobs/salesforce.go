package jobs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/secrets"
	"github.com/koeiq/syncd/settings"
)

// SalesforcePushWorker works SalesforcePushArgs: it pushes a batch of the
// tenant's pending calls to its org and stores their record IDs (SPEC §5.4).
type SalesforcePushWorker struct {
	river.WorkerDefaults[SalesforcePushArgs]
	client *Client
}

// Work pushes a batch.
func (w *SalesforcePushWorker) Work(ctx context.Context, job *river.Job[SalesforcePushArgs]) error {
	return work(ctx, w.client, w.client.salesforce, job)
}

// Timeout bounds one push job.
func (w *SalesforcePushWorker) Timeout(*river.Job[SalesforcePushArgs]) time.Duration {
	return w.client.cfg.PushTimeout
}

// salesforceTarget pushes calls to Salesforce with one client (and so one
// cached token) per tenant and settings version. Everything else that
// replicas must agree on (request slots, pauses, budgets, parked
// credentials) lives in PostgreSQL.
//
// The target owns its clients and their background token requests: it
// closes a client once newer settings replaced it and no job uses it any
// more, and all of them when the Client stops.
type salesforceTarget struct {
	c *Client

	mu      sync.Mutex
	clients map[string]*sfClient // by tenant
	closed  bool                 // close was called: open fails
}

// sfClient is a tenant's client, built from the settings of one version.
type sfClient struct {
	version time.Time // the settings' UpdatedAt
	client  *salesforce.Client
	// refused says why, once the org refused these settings' credentials,
	// so that pushes already under way in this process do not each ask for
	// a token again. Guarded by salesforceTarget.mu.
	refused error
	// users are the org's users found by email, for owners.
	users userCache
	// uses counts the conns open on the client, and dropped is set once the
	// cache no longer holds it: the last conn released closes it. Guarded
	// by salesforceTarget.mu.
	uses    int
	dropped bool
}

func newSalesforceTarget(c *Client) *salesforceTarget {
	return &salesforceTarget{c: c, clients: map[string]*sfClient{}}
}

func (t *salesforceTarget) name() string { return "salesforce" }

func (t *salesforceTarget) open(ctx context.Context, tenantID string) (tenantConn, gate, error) {
	st, cfg, err := t.c.cfg.Settings.SalesforceConfig(ctx, tenantID)
	var enabled bool
	var attention string
	if err == nil {
		enabled, attention = st.Enabled, st.Attention
	}
	if g, err := t.c.settingsGate(ctx, "Salesforce", tenantID, enabled, attention, err); g != (gate{}) || err != nil {
		return nil, g, err
	}

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, gate{}, errStopped
	}
	cur := t.clients[tenantID]
	var drop *salesforce.Client
	if cur == nil || !cur.version.Equal(st.UpdatedAt) {
		cfg.Timeout = t.c.cfg.RequestTimeout
		cfg.Logger = t.c.logger.With("tenant", tenantID)
		cfg.OnRequest = func(op string, status int, elapsed time.Duration) {
			t.c.cfg.Metrics.Request("salesforce", op, status, elapsed)
		}
		client, err := salesforce.NewClient(&cfg)
		if err != nil {
			t.mu.Unlock()
			return nil, gate{}, err
		}
		if cur != nil {
			cur.dropped = true
			if cur.uses == 0 {
				drop = cur.client
			}
		}
		cur = &sfClient{version: st.UpdatedAt, client: client}
		t.clients[tenantID] = cur
	}
	cur.uses++
	t.mu.Unlock()
	if drop != nil {
		drop.Close()
	}
	return &sfConn{t: t, tenantID: tenantID, settings: st, client: cur}, gate{}, nil
}

// close closes every cached client, waiting for their token requests, and
// makes open fail from now on. Stop calls it once River stopped, when no job
// uses the clients any more.
func (t *salesforceTarget) close() {
	t.mu.Lock()
	t.closed = true
	clients := t.clients
	t.clients = map[string]*sfClient{}
	for _, cl := range clients {
		cl.dropped = true
	}
	t.mu.Unlock()
	for _, cl := range clients {
		cl.client.Close()
	}
}

// sfConn pushes one tenant's calls with the settings open read.
type sfConn struct {
	t        *salesforceTarget
	tenantID string
	settings *settings.Salesforce
	client   *sfClient
}

func (c *sfConn) push(ctx context.Context, items []*pushItem, markInDoubt func(context.Context, []*pushItem) error) {
	c.t.mu.Lock()
	refused := c.client.refused
	c.t.mu.Unlock()
	if refused != nil {
		for _, it := range items {
			it.failSalesforce(refused, false)
		}
		return
	}
	pushSalesforce(ctx, c.client.client, c.settings, &c.client.users, items, markInDoubt)
	for _, it := range items {
		if it.result.class == crm.ClassAuth {
			c.t.mu.Lock()
			c.client.refused = it.result.err
			c.t.mu.Unlock()
			return
		}
	}
}

func (c *sfConn) markAttention(ctx context.Context, reason string) {
	ctx, cancel := bookkeepingContext(ctx)
	defer cancel()
	if err := c.t.c.cfg.Settings.MarkSalesforceAttention(ctx, c.tenantID, c.settings.UpdatedAt, reason); err != nil {
		c.t.c.logger.ErrorContext(ctx, "mark salesforce settings as needing attention", "tenant", c.tenantID, "error", err)
	}
}

func (c *sfConn) usage() (salesforce.Usage, bool) { return c.client.client.APIUsage() }

// release closes the client if newer settings replaced it and this was its
// last conn.
func (c *sfConn) release() {
	c.t.mu.Lock()
	c.client.uses--
	last := c.client.dropped && c.client.uses == 0
	c.t.mu.Unlock()
	if last {
		c.client.client.Close()
	}
}

// settingsGate holds back or fails the pushes of a tenant whose settings
// of crm (read with err) cannot be used now.
func (c *Client) settingsGate(ctx context.Context, crm, tenantID string, enabled bool, attention string, err error) (gate, error) {
	switch {
	case errors.Is(err, settings.ErrNotFound):
		return gate{disabled: crm + " is not configured for the tenant"}, nil
	case err != nil && ctx.Err() == nil && errors.Is(err, secrets.ErrCannotOpen):
		// A secret sealed under another SYNCD_SECRET_KEY: an admin must save
		// the settings again.
		c.logger.WarnContext(ctx, "settings unusable", "crm", crm, "tenant", tenantID, "error", err)
		return gate{wait: c.cfg.ParkSnooze, reason: "settings unusable"}, nil
	case err != nil:
		return gate{}, err
	case !enabled:
		return gate{disabled: "the " + crm + " integration is disabled; the call is pushed again after a resync"}, nil
	case attention != "":
		return gate{wait: c.cfg.ParkSnooze, reason: "needs attention: " + attention}, nil
	}
	return gate{}, nil
}
