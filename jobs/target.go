package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/koeiq/syncd/secrets"
	"github.com/koeiq/syncd/settings"
)

// crmTarget is a target whose pushes differ by CRM only in types: it reads
// a tenant's settings of the CRM, holds the tenant's pushes back while they
// cannot be used (settingsGate), and hands out the tenant's client of those
// settings from a per-tenant cache. S is the CRM's settings, K its client's
// config and C the cached client; what really differs (how a batch is
// pushed) is the conn each CRM's file builds around the shared crmConn.
type crmTarget[S, K, C any] struct {
	c *Client
	crmSpec[S, K, C]
	clients *tenantClients[C]
}

// crmSpec is what a crmTarget needs to know of its CRM.
type crmSpec[S, K, C any] struct {
	target string // the sync_records target, "salesforce"
	label  string // the CRM in messages, "Salesforce"
	// config reads the tenant's settings and its client's config.
	config func(ctx context.Context, tenantID string) (*S, K, error)
	// state says what the gate and the cache need of the settings.
	state func(*S) settingsState
	// newClient builds a client from the config and the Client's options.
	newClient func(cfg K, o clientOptions) (C, error)
	// closeClient, when set, closes a client the cache let go.
	closeClient func(C)
	// markAttention parks the tenant's settings of the given version.
	markAttention func(ctx context.Context, tenantID string, version time.Time, reason string) error
	// conn builds the CRM's conn around the shared part.
	conn func(base crmConn[S, C]) tenantConn
}

// settingsState is what every CRM's settings say of their use.
type settingsState struct {
	enabled   bool
	attention string
	version   time.Time // the settings' UpdatedAt
}

// clientOptions are what every CRM client gets from the Client rather than
// from the settings.
type clientOptions struct {
	timeout   time.Duration
	logger    *slog.Logger
	onRequest func(op string, status int, elapsed time.Duration)
}

func newCRMTarget[S, K, C any](c *Client, spec crmSpec[S, K, C]) *crmTarget[S, K, C] {
	return &crmTarget[S, K, C]{c: c, crmSpec: spec, clients: newTenantClients(spec.closeClient)}
}

func (t *crmTarget[S, K, C]) name() string { return t.target }

func (t *crmTarget[S, K, C]) open(ctx context.Context, tenantID string) (tenantConn, gate, error) {
	st, cfg, err := t.config(ctx, tenantID)
	var state settingsState
	if err == nil {
		state = t.state(st)
	}
	if g, err := t.c.settingsGate(ctx, t.label, tenantID, state.enabled, state.attention, err); g != (gate{}) || err != nil {
		return nil, g, err
	}
	cl, err := t.clients.acquire(tenantID, state.version, func() (C, error) {
		return t.newClient(cfg, clientOptions{
			timeout: t.c.cfg.RequestTimeout,
			logger:  t.c.logger.With("tenant", tenantID),
			onRequest: func(op string, status int, elapsed time.Duration) {
				t.c.cfg.Metrics.Request(t.target, op, status, elapsed)
			},
		})
	})
	if err != nil {
		return nil, gate{}, err
	}
	return t.conn(crmConn[S, C]{
		c: t.c, target: t.target, mark: t.crmSpec.markAttention,
		tenantID: tenantID, settings: st, version: state.version, cached: cl, client: cl.client,
	}), gate{}, nil
}

// crmConn is the part of a tenant's conn that differs by CRM only in types:
// the settings open read, the client of their version, and parking the
// tenant.
type crmConn[S, C any] struct {
	c        *Client
	target   string
	mark     func(ctx context.Context, tenantID string, version time.Time, reason string) error
	tenantID string
	settings *S
	version  time.Time // the settings' UpdatedAt
	cached   *cachedClient[C]
	client   C
}

func (c *crmConn[S, C]) markAttention(ctx context.Context, reason string) {
	ctx, cancel := bookkeepingContext(ctx)
	defer cancel()
	if err := c.mark(ctx, c.tenantID, c.version, reason); err != nil {
		c.c.logger.ErrorContext(ctx, "mark "+c.target+" settings as needing attention", "tenant", c.tenantID, "error", err)
	}
}

// release ends the conn's use of its client, closing the client if newer
// settings replaced it and this was its last conn.
func (c *crmConn[S, C]) release() { c.cached.release() }

// tenantClients caches one client per tenant, built from the settings of
// one version.
//
// The cache owns its clients and whatever background work they start: it
// closes a client once newer settings replaced it and no conn uses it any
// more, and all of them on closeAll.
type tenantClients[C any] struct {
	closeClient func(C) // nil: the clients need no closing

	mu      sync.Mutex
	clients map[string]*cachedClient[C] // by tenant
	closed  bool                        // closeAll was called: acquire fails
}

// cachedClient is a tenant's client, built from the settings of one version.
type cachedClient[C any] struct {
	cache   *tenantClients[C]
	version time.Time // the settings' UpdatedAt
	client  C
	// uses counts the conns open on the client, and dropped is set once the
	// cache no longer holds it: the last conn released closes it. Guarded
	// by tenantClients.mu.
	uses    int
	dropped bool
}

func newTenantClients[C any](closeClient func(C)) *tenantClients[C] {
	return &tenantClients[C]{closeClient: closeClient, clients: map[string]*cachedClient[C]{}}
}

// acquire returns the tenant's client of the settings of version, built by
// build unless the cache holds it already, and counts a use of it; the
// caller releases it.
func (t *tenantClients[C]) acquire(tenantID string, version time.Time, build func() (C, error)) (*cachedClient[C], error) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, errStopped
	}
	cur := t.clients[tenantID]
	var drop *cachedClient[C]
	if cur == nil || !cur.version.Equal(version) {
		client, err := build()
		if err != nil {
			t.mu.Unlock()
			return nil, err
		}
		if cur != nil {
			cur.dropped = true
			if cur.uses == 0 {
				drop = cur
			}
		}
		cur = &cachedClient[C]{cache: t, version: version, client: client}
		t.clients[tenantID] = cur
	}
	cur.uses++
	t.mu.Unlock()
	if drop != nil {
		t.close(drop.client)
	}
	return cur, nil
}

// release ends one use of the client, closing it if the cache let it go
// and this was its last use.
func (cl *cachedClient[C]) release() {
	t := cl.cache
	t.mu.Lock()
	cl.uses--
	last := cl.dropped && cl.uses == 0
	t.mu.Unlock()
	if last {
		t.close(cl.client)
	}
}

// closeAll closes every cached client, waiting for their background work,
// and makes acquire fail from now on. Stop calls it once River stopped,
// when no job uses the clients any more.
func (t *tenantClients[C]) closeAll() {
	t.mu.Lock()
	t.closed = true
	clients := t.clients
	t.clients = map[string]*cachedClient[C]{}
	for _, cl := range clients {
		cl.dropped = true
	}
	t.mu.Unlock()
	for _, cl := range clients {
		t.close(cl.client)
	}
}

func (t *tenantClients[C]) close(client C) {
	if t.closeClient != nil {
		t.closeClient(client)
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
