package jobs

import (
	"context"
	"sync"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/settings"
)

// salesforceTarget pushes calls to Salesforce with one client (and so one
// cached token) per tenant and settings version. Everything else that
// replicas must agree on (request slots, pauses, budgets, parked
// credentials) lives in PostgreSQL.
//
// The target's cache owns its clients and their background token requests:
// it closes a client once newer settings replaced it and no job uses it any
// more, and all of them when the Client stops.
type salesforceTarget = crmTarget[settings.Salesforce, salesforce.Config, *sfClient]

// sfClient is a tenant's client, built from the settings of one version.
type sfClient struct {
	client *salesforce.Client
	// refused says why, once the org refused these settings' credentials,
	// so that pushes already under way in this process do not each ask for
	// a token again. Guarded by mu.
	mu      sync.Mutex
	refused error
	// users are the org's users found by email, for owners.
	users userCache
}

func newSalesforceTarget(c *Client) *salesforceTarget {
	return newCRMTarget(c, crmSpec[settings.Salesforce, salesforce.Config, *sfClient]{
		target: "salesforce",
		label:  "Salesforce",
		config: c.cfg.Settings.SalesforceConfig,
		state: func(st *settings.Salesforce) settingsState {
			return settingsState{enabled: st.Enabled, attention: st.Attention, version: st.UpdatedAt}
		},
		newClient: func(cfg salesforce.Config, o clientOptions) (*sfClient, error) {
			cfg.Timeout, cfg.Logger, cfg.OnRequest = o.timeout, o.logger, o.onRequest
			client, err := salesforce.NewClient(&cfg)
			if err != nil {
				return nil, err
			}
			return &sfClient{client: client}, nil
		},
		closeClient:   func(cl *sfClient) { cl.client.Close() },
		markAttention: c.cfg.Settings.MarkSalesforceAttention,
		conn:          func(base crmConn[settings.Salesforce, *sfClient]) tenantConn { return &sfConn{base} },
	})
}

// sfConn pushes one tenant's calls with the settings open read.
type sfConn struct {
	crmConn[settings.Salesforce, *sfClient]
}

func (c *sfConn) push(ctx context.Context, items []*pushItem, markInDoubt func(context.Context, []*pushItem) error) {
	c.client.mu.Lock()
	refused := c.client.refused
	c.client.mu.Unlock()
	if refused != nil {
		for _, it := range items {
			it.failSalesforce(refused, false)
		}
		return
	}
	pushSalesforce(ctx, c.client.client, c.settings, &c.client.users, items, markInDoubt)
	for _, it := range items {
		if it.result.class == crm.ClassAuth {
			c.client.mu.Lock()
			c.client.refused = it.result.err
			c.client.mu.Unlock()
			return
		}
	}
}

func (c *sfConn) usage() (salesforce.Usage, bool) { return c.client.client.APIUsage() }
