package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/kintone"
	"github.com/koeiq/syncd/mapping"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/settings"
)

// kintoneTarget pushes calls to Kintone, one client per tenant and settings
// version; like Salesforce, the state replicas share lives in PostgreSQL.
// A Kintone client starts no background work, and its Transport is the
// settings Store's: the cache closes nothing.
type kintoneTarget = crmTarget[settings.Kintone, kintone.Config, *kintone.Client]

func newKintoneTarget(c *Client) *kintoneTarget {
	return newCRMTarget(c, crmSpec[settings.Kintone, kintone.Config, *kintone.Client]{
		target: "kintone",
		label:  "Kintone",
		config: c.cfg.Settings.KintoneConfig,
		state: func(st *settings.Kintone) settingsState {
			return settingsState{enabled: st.Enabled, attention: st.Attention, version: st.UpdatedAt}
		},
		newClient: func(cfg kintone.Config, o clientOptions) (*kintone.Client, error) {
			cfg.Timeout, cfg.Logger, cfg.OnRequest = o.timeout, o.logger, o.onRequest
			return kintone.NewClient(&cfg)
		},
		markAttention: c.cfg.Settings.MarkKintoneAttention,
		conn:          func(base crmConn[settings.Kintone, *kintone.Client]) tenantConn { return &ktConn{base} },
	})
}

// ktConn pushes one tenant's calls to its Kintone app.
type ktConn struct {
	crmConn[settings.Kintone, *kintone.Client]
}

// push updates each call's stored record by ID, or upserts it by call_id:
// Kintone's call_id field is unique, so a retry after a lost answer, or a
// re-analysis, updates the same record. (Kintone's bulk requests are all or
// nothing, so one bad record would fail the batch: one request per call.)
// A refused credential or a spent request limit ends the batch: the other
// calls are not sent.
func (c *ktConn) push(ctx context.Context, items []*pushItem, _ func(context.Context, []*pushItem) error) {
	objectType := fmt.Sprintf("app:%d", c.settings.AppID)
	for _, it := range items {
		if ctx.Err() != nil {
			return
		}
		id, err := c.pushOne(ctx, it, objectType)
		if err != nil {
			it.fail(err, kintone.Classify(err), publicKintoneError(err))
			if it.result.class == crm.ClassAuth || it.result.class == crm.ClassRateLimited {
				return
			}
			continue
		}
		it.succeed(id, objectType)
	}
}

func (c *ktConn) pushOne(ctx context.Context, it *pushItem, objectType string) (string, error) {
	fields := kintone.Record(mapping.Kintone(it.payload, it.loc))
	if id := it.recordID; id != "" && it.objectType == objectType {
		err := c.client.Update(ctx, id, fields)
		if err == nil || !kintone.IsNotFound(err) {
			return id, err
		}
	}
	id, _, err := c.client.Upsert(ctx, mapping.KintoneKeyField, it.callID, fields)
	return id, err
}

// usage: Kintone reports no daily budget syncd watches.
func (c *ktConn) usage() (salesforce.Usage, bool) { return salesforce.Usage{}, false }

// publicKintoneError describes err without Kintone's message, which can
// quote call content.
func publicKintoneError(err error) string {
	var ae *kintone.APIError
	if errors.As(err, &ae) {
		return fmt.Sprintf("kintone: %s: HTTP %d %s; the message is in sync_records.last_error", ae.Op, ae.StatusCode, ae.Code)
	}
	return err.Error()
}
