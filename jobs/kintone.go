package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/kintone"
	"github.com/koeiq/syncd/mapping"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/settings"
)

// KintonePushWorker works KintonePushArgs: it upserts a batch of the
// tenant's pending calls in its Kintone app by their call_id field, one
// request at a time, and stores their record IDs.
type KintonePushWorker struct {
	river.WorkerDefaults[KintonePushArgs]
	client *Client
}

// Work pushes a batch.
func (w *KintonePushWorker) Work(ctx context.Context, job *river.Job[KintonePushArgs]) error {
	return work(ctx, w.client, w.client.kintone, job)
}

// Timeout bounds one push job.
func (w *KintonePushWorker) Timeout(*river.Job[KintonePushArgs]) time.Duration {
	return w.client.cfg.PushTimeout
}

// kintoneTarget pushes calls to Kintone, one client per tenant and settings
// version; like Salesforce, the state replicas share lives in PostgreSQL.
type kintoneTarget struct {
	c *Client

	mu      sync.Mutex
	clients map[string]*ktClient // by tenant
}

type ktClient struct {
	version time.Time
	client  *kintone.Client
}

func newKintoneTarget(c *Client) *kintoneTarget {
	return &kintoneTarget{c: c, clients: map[string]*ktClient{}}
}

func (t *kintoneTarget) name() string { return "kintone" }

func (t *kintoneTarget) open(ctx context.Context, tenantID string) (tenantConn, gate, error) {
	st, cfg, err := t.c.cfg.Settings.KintoneConfig(ctx, tenantID)
	var enabled bool
	var attention string
	if err == nil {
		enabled, attention = st.Enabled, st.Attention
	}
	if g, err := t.c.settingsGate(ctx, "Kintone", tenantID, enabled, attention, err); g != (gate{}) || err != nil {
		return nil, g, err
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.clients[tenantID]
	if cur == nil || !cur.version.Equal(st.UpdatedAt) {
		cfg.Timeout = t.c.cfg.RequestTimeout
		cfg.Logger = t.c.logger.With("tenant", tenantID)
		cfg.OnRequest = func(op string, status int, elapsed time.Duration) {
			t.c.cfg.Metrics.Request("kintone", op, status, elapsed)
		}
		client, err := kintone.NewClient(&cfg)
		if err != nil {
			return nil, gate{}, err
		}
		cur = &ktClient{version: st.UpdatedAt, client: client}
		t.clients[tenantID] = cur
	}
	return &ktConn{t: t, tenantID: tenantID, settings: st, client: cur.client}, gate{}, nil
}

// ktConn pushes one tenant's calls to its Kintone app.
type ktConn struct {
	t        *kintoneTarget
	tenantID string
	settings *settings.Kintone
	client   *kintone.Client
}

// release does nothing: a Kintone client starts no background work, and
// its Transport is the settings Store's.
func (c *ktConn) release() {}

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

func (c *ktConn) markAttention(ctx context.Context, reason string) {
	ctx, cancel := bookkeepingContext(ctx)
	defer cancel()
	if err := c.t.c.cfg.Settings.MarkKintoneAttention(ctx, c.tenantID, c.settings.UpdatedAt, reason); err != nil {
		c.t.c.logger.ErrorContext(ctx, "mark kintone settings as needing attention", "tenant", c.tenantID, "error", err)
	}
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
