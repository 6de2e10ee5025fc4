package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/koeiq/syncd/kintone"
	"github.com/koeiq/syncd/mapping"
	"github.com/koeiq/syncd/settings"
)

// KintonePushWorker works KintonePushArgs: it upserts the call's record in
// the tenant's Kintone app by its call_id field and stores the record ID.
type KintonePushWorker struct {
	river.WorkerDefaults[KintonePushArgs]
	client *Client
}

// Work pushes the call.
func (w *KintonePushWorker) Work(ctx context.Context, job *river.Job[KintonePushArgs]) error {
	return work(ctx, w.client, w.client.kintone, job)
}

// Timeout bounds one push attempt.
func (w *KintonePushWorker) Timeout(*river.Job[KintonePushArgs]) time.Duration {
	return w.client.cfg.PushTimeout
}

// kintoneTarget pushes calls to Kintone, one client per tenant.
type kintoneTarget struct {
	c *Client

	mu      sync.Mutex
	tenants map[string]*ktTenant
}

type ktTenant struct {
	version     time.Time
	client      *kintone.Client
	pausedUntil time.Time
}

func newKintoneTarget(c *Client) *kintoneTarget {
	return &kintoneTarget{c: c, tenants: map[string]*ktTenant{}}
}

func (t *kintoneTarget) name() string { return "kintone" }

func (t *kintoneTarget) open(ctx context.Context, tenantID string) (tenantConn, gate, error) {
	if g, err := checkTenant(ctx, t.c.cfg.Settings, tenantID); g.disabled != "" || err != nil {
		return nil, g, err
	}
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
	cur := t.tenants[tenantID]
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
		next := &ktTenant{version: st.UpdatedAt, client: client}
		if cur != nil {
			next.pausedUntil = cur.pausedUntil
		}
		cur = next
		t.tenants[tenantID] = cur
	}
	if wait := time.Until(cur.pausedUntil); wait > 0 {
		return nil, gate{wait: wait, reason: "API request limit reached"}, nil
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

// push updates the stored record by ID, or upserts by call_id: Kintone's
// call_id field is unique, so a retry after a lost answer, or a re-analysis,
// updates the same record.
func (c *ktConn) push(ctx context.Context, in *pushInput) pushOutcome {
	objectType := fmt.Sprintf("app:%d", c.settings.AppID)
	fields := kintone.Record(mapping.Kintone(in.payload, in.loc))

	if id := in.recordID; id != "" && in.objectType == objectType {
		err := c.client.Update(ctx, id, fields)
		if err == nil {
			return pushOutcome{recordID: id, objectType: objectType}
		}
		if !kintone.IsNotFound(err) {
			return kintoneOutcome(err)
		}
	}
	id, _, err := c.client.Upsert(ctx, mapping.KintoneKeyField, in.callID, fields)
	if err != nil {
		return kintoneOutcome(err)
	}
	return pushOutcome{recordID: id, objectType: objectType}
}

func (c *ktConn) markAttention(ctx context.Context, reason string) {
	ctx, cancel := bookkeepingContext(ctx)
	defer cancel()
	if err := c.t.c.cfg.Settings.MarkKintoneAttention(ctx, c.tenantID, c.settings.UpdatedAt, reason); err != nil {
		c.t.c.logger.ErrorContext(ctx, "mark kintone settings as needing attention", "tenant", c.tenantID, "error", err)
	}
}

func (c *ktConn) pause() time.Duration {
	wait := c.t.c.cfg.RateLimitSnooze
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	if cur := c.t.tenants[c.tenantID]; cur != nil {
		cur.pausedUntil = time.Now().Add(wait)
	}
	return wait
}

func kintoneOutcome(err error) pushOutcome {
	out := pushOutcome{err: err, class: classRetry, public: err.Error()}
	switch kintone.Classify(err) {
	case kintone.ClassRateLimited:
		out.class = classRateLimited
	case kintone.ClassAuth:
		out.class = classAuth
	case kintone.ClassData:
		out.class = classData
	}
	var ae *kintone.APIError
	if errors.As(err, &ae) {
		out.public = fmt.Sprintf("kintone: %s: HTTP %d %s; the message is in sync_records.last_error", ae.Op, ae.StatusCode, ae.Code)
	}
	return out
}
