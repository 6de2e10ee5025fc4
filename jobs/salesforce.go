package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/secrets"
	"github.com/koeiq/syncd/settings"
)

// SalesforcePushWorker works SalesforcePushArgs: it pushes the call's newest
// analysis to the tenant's org and stores the record ID (SPEC §5.4).
type SalesforcePushWorker struct {
	river.WorkerDefaults[SalesforcePushArgs]
	client *Client
}

// Work pushes the call.
func (w *SalesforcePushWorker) Work(ctx context.Context, job *river.Job[SalesforcePushArgs]) error {
	return work(ctx, w.client, w.client.salesforce, job)
}

// Timeout bounds one push attempt.
func (w *SalesforcePushWorker) Timeout(*river.Job[SalesforcePushArgs]) time.Duration {
	return w.client.cfg.PushTimeout
}

// salesforceTarget pushes calls to Salesforce: one client (and so one
// cached token) per tenant, and one batcher per tenant that serves the
// tenant's push jobs with sObject Collections requests.
type salesforceTarget struct {
	c *Client

	mu      sync.Mutex
	tenants map[string]*sfTenant
}

// sfTenant is what the daemon keeps of one tenant's org between pushes,
// guarded by salesforceTarget.mu.
type sfTenant struct {
	version time.Time // the settings' UpdatedAt that client was built from
	client  *salesforce.Client
	batcher *sfBatcher // nil until needed, and after it stopped idle
	// refused says why, when the org refused these settings' credentials,
	// so pushes already under way do not each try again.
	refused string
	// pausedUntil holds the tenant's pushes back after REQUEST_LIMIT_EXCEEDED.
	pausedUntil time.Time
	// usage is the org's API budget as last reported.
	usage salesforce.Usage
}

func newSalesforceTarget(c *Client) *salesforceTarget {
	return &salesforceTarget{c: c, tenants: map[string]*sfTenant{}}
}

func (t *salesforceTarget) name() string { return "salesforce" }

func (t *salesforceTarget) open(ctx context.Context, tenantID string) (tenantConn, gate, error) {
	g, err := checkTenant(ctx, t.c.cfg.Settings, tenantID)
	if g.disabled != "" || err != nil {
		return nil, g, err
	}
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
	defer t.mu.Unlock()
	tn := t.tenants[tenantID]
	if tn == nil {
		tn = &sfTenant{}
		t.tenants[tenantID] = tn
	}
	if tn.client == nil || !tn.version.Equal(st.UpdatedAt) {
		// New settings: a new client, and a new batcher when first needed.
		cfg.Timeout = t.c.cfg.RequestTimeout
		cfg.Logger = t.c.logger.With("tenant", tenantID)
		cfg.OnRequest = func(op string, status int, elapsed time.Duration) {
			t.c.cfg.Metrics.Request("salesforce", op, status, elapsed)
		}
		client, err := salesforce.NewClient(&cfg)
		if err != nil {
			return nil, gate{}, err
		}
		tn.version, tn.client, tn.batcher, tn.refused = st.UpdatedAt, client, nil, ""
	}
	switch {
	case tn.refused != "":
		return nil, gate{wait: t.c.cfg.ParkSnooze, reason: "credentials refused"}, nil
	case time.Until(tn.pausedUntil) > 0:
		return nil, gate{wait: time.Until(tn.pausedUntil), reason: "API request limit reached"}, nil
	}
	if wait, reason := t.c.budget(tn.usage); wait > 0 {
		return nil, gate{wait: wait, reason: reason}, nil
	}
	if tn.batcher == nil {
		tn.batcher = newSFBatcher(t, tenantID, tn.client, st)
	}
	return &sfConn{t: t, tenantID: tenantID, settings: st, client: tn.client, batcher: tn.batcher}, gate{}, nil
}

// budget holds a tenant back whose org has spent most of its daily API
// requests: above BudgetHoldShare its pushes wait (snoozed) until the
// figures are BudgetHoldSnooze old, when one batch may look again.
func (c *Client) budget(u salesforce.Usage) (time.Duration, string) {
	if u.Max <= 0 || float64(u.Used) < c.cfg.BudgetHoldShare*float64(u.Max) {
		return 0, ""
	}
	if wait := time.Until(u.At.Add(c.cfg.BudgetHoldSnooze)); wait > 0 {
		return wait, fmt.Sprintf("API budget %d/%d used", u.Used, u.Max)
	}
	return 0, ""
}

// slow reports whether the org has spent more than BudgetSlowShare of its
// daily API requests: its batches then go one at a time, fuller.
func (c *Client) slow(u salesforce.Usage) bool {
	return u.Max > 0 && float64(u.Used) >= c.cfg.BudgetSlowShare*float64(u.Max)
}

// sfConn pushes one tenant's calls with the settings open read.
type sfConn struct {
	t        *salesforceTarget
	tenantID string
	settings *settings.Salesforce
	client   *salesforce.Client
	batcher  *sfBatcher
}

func (c *sfConn) push(ctx context.Context, in *pushInput) pushOutcome {
	if why := c.t.refused(c.tenantID, c.client); why != "" {
		return pushOutcome{err: errors.New(why), class: classAuth, public: why}
	}
	item := &sfItem{in: in, done: make(chan struct{})}
	err := c.batcher.submit(ctx, item)
	if errors.Is(err, errBatcherStopped) {
		err = c.t.batcherFor(c).submit(ctx, item)
	}
	if err != nil {
		return pushOutcome{err: err, class: classRetry, public: err.Error()}
	}
	out := item.outcome()
	if out.class == classAuth {
		c.t.refuse(c.tenantID, c.client, out.err.Error())
	}
	return out
}

func (c *sfConn) markAttention(ctx context.Context, reason string) {
	ctx, cancel := bookkeepingContext(ctx)
	defer cancel()
	if err := c.t.c.cfg.Settings.MarkSalesforceAttention(ctx, c.tenantID, c.settings.UpdatedAt, reason); err != nil {
		c.t.c.logger.ErrorContext(ctx, "mark salesforce settings as needing attention", "tenant", c.tenantID, "error", err)
	}
}

func (c *sfConn) pause() time.Duration {
	wait := c.t.c.cfg.RateLimitSnooze
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	if tn := c.t.tenants[c.tenantID]; tn != nil {
		tn.pausedUntil = time.Now().Add(wait)
	}
	return wait
}

// refused says why the org refused client's credentials, if it did.
func (t *salesforceTarget) refused(tenantID string, client *salesforce.Client) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tn := t.tenants[tenantID]; tn != nil && tn.client == client {
		return tn.refused
	}
	return ""
}

// refuse notes that the org refused client's credentials.
func (t *salesforceTarget) refuse(tenantID string, client *salesforce.Client, why string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tn := t.tenants[tenantID]; tn != nil && tn.client == client && tn.refused == "" {
		tn.refused = why
	}
}

// batcherFor returns a running batcher for c's settings, starting one when
// the previous stopped idle.
func (t *salesforceTarget) batcherFor(c *sfConn) *sfBatcher {
	t.mu.Lock()
	defer t.mu.Unlock()
	tn := t.tenants[c.tenantID]
	if tn == nil || tn.client != c.client {
		return newSFBatcher(t, c.tenantID, c.client, c.settings) // settings changed meanwhile
	}
	if tn.batcher == nil {
		tn.batcher = newSFBatcher(t, c.tenantID, c.client, c.settings)
	}
	return tn.batcher
}

// observeUsage records the org's API budget after a request.
func (t *salesforceTarget) observeUsage(tenantID string, client *salesforce.Client) {
	u, ok := client.APIUsage()
	if !ok {
		return
	}
	t.c.cfg.Metrics.APIUsage(tenantID, u.Used, u.Max)
	t.mu.Lock()
	defer t.mu.Unlock()
	if tn := t.tenants[tenantID]; tn != nil && tn.client == client {
		tn.usage = u
	}
}

// usage returns the org's API budget as last reported.
func (t *salesforceTarget) usage(tenantID string) salesforce.Usage {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tn := t.tenants[tenantID]; tn != nil {
		return tn.usage
	}
	return salesforce.Usage{}
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

// checkTenant fails pushes of a tenant that is gone or lost the Audit &
// Export Pack.
func checkTenant(ctx context.Context, store *settings.Store, tenantID string) (gate, error) {
	tn, err := store.Tenant(ctx, tenantID)
	if errors.Is(err, settings.ErrNotFound) {
		return gate{disabled: "the tenant no longer exists"}, nil
	}
	if err != nil {
		return gate{}, err
	}
	if !tn.AuditExportPack {
		return gate{disabled: "the tenant has no Audit & Export Pack; the call is pushed again after a backfill or resync"}, nil
	}
	return gate{}, nil
}
