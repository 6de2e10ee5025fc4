package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/koeiq/syncd/mapping"
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

// salesforceTarget pushes calls to Salesforce, keeping one client (and so
// one cached token) per tenant.
type salesforceTarget struct {
	c *Client

	mu      sync.Mutex
	tenants map[string]*sfTenant
}

// sfTenant is what the daemon keeps of one tenant's org between pushes.
type sfTenant struct {
	version time.Time // the settings' UpdatedAt the client was built from
	client  *salesforce.Client
	// pausedUntil holds the tenant's pushes back after REQUEST_LIMIT_EXCEEDED.
	pausedUntil time.Time
	// refused says why, when the org refused these settings' credentials,
	// so pushes already under way do not each try again.
	refused string
}

func newSalesforceTarget(c *Client) *salesforceTarget {
	return &salesforceTarget{c: c, tenants: map[string]*sfTenant{}}
}

func (t *salesforceTarget) name() string { return "salesforce" }

func (t *salesforceTarget) open(ctx context.Context, tenantID string) (tenantConn, gate, error) {
	if g, err := checkTenant(ctx, t.c.cfg.Settings, tenantID); g.disabled != "" || err != nil {
		return nil, g, err
	}
	st, cfg, err := t.c.cfg.Settings.SalesforceConfig(ctx, tenantID)
	switch {
	case errors.Is(err, settings.ErrNotFound):
		return nil, gate{disabled: "Salesforce is not configured for the tenant"}, nil
	case err != nil && ctx.Err() == nil && errors.Is(err, secrets.ErrCannotOpen):
		// A secret sealed under another SYNCD_SECRET_KEY: an admin must save
		// the settings again.
		t.c.logger.WarnContext(ctx, "salesforce settings unusable", "tenant", tenantID, "error", err)
		return nil, gate{wait: t.c.cfg.ParkSnooze, reason: "settings unusable"}, nil
	case err != nil:
		return nil, gate{}, err
	case !st.Enabled:
		return nil, gate{disabled: "the Salesforce integration is disabled; the call is pushed again after a resync"}, nil
	case st.Attention != "":
		return nil, gate{wait: t.c.cfg.ParkSnooze, reason: "needs attention: " + st.Attention}, nil
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.tenants[tenantID]
	if cur == nil || !cur.version.Equal(st.UpdatedAt) {
		cfg.Timeout = t.c.cfg.RequestTimeout
		cfg.Logger = t.c.logger.With("tenant", tenantID)
		cfg.OnRequest = func(op string, status int, elapsed time.Duration) {
			t.c.cfg.Metrics.Request("salesforce", op, status, elapsed)
		}
		client, err := salesforce.NewClient(&cfg)
		if err != nil {
			return nil, gate{}, err
		}
		next := &sfTenant{version: st.UpdatedAt, client: client}
		if cur != nil {
			next.pausedUntil = cur.pausedUntil
		}
		cur = next
		t.tenants[tenantID] = cur
	}
	if wait := time.Until(cur.pausedUntil); wait > 0 {
		return nil, gate{wait: wait, reason: "API request limit reached"}, nil
	}
	return &sfConn{t: t, tenantID: tenantID, settings: st, client: cur.client}, gate{}, nil
}

// sfConn pushes one tenant's calls.
type sfConn struct {
	t        *salesforceTarget
	tenantID string
	settings *settings.Salesforce
	client   *salesforce.Client
}

func (c *sfConn) push(ctx context.Context, in *pushInput) pushOutcome {
	c.t.mu.Lock()
	refused := c.t.tenants[c.tenantID].refused
	c.t.mu.Unlock()
	if refused != "" {
		return pushOutcome{err: errors.New(refused), class: classAuth, public: refused}
	}
	item := &sfItem{in: in}
	pushSalesforce(ctx, c.client, c.settings, []*sfItem{item})
	if u, ok := c.client.APIUsage(); ok {
		c.t.c.cfg.Metrics.APIUsage(c.tenantID, u.Used, u.Max)
	}
	out := item.outcome()
	if out.class == classAuth {
		c.refuse(out.err.Error())
	}
	return out
}

// refuse notes that the org refused these settings' credentials.
func (c *sfConn) refuse(why string) {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	if cur := c.t.tenants[c.tenantID]; cur != nil && cur.client == c.client && cur.refused == "" {
		cur.refused = why
	}
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
	if cur := c.t.tenants[c.tenantID]; cur != nil {
		cur.pausedUntil = time.Now().Add(wait)
	}
	return wait
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

// sfItem is one call of a Salesforce push and, once pushed, its result.
type sfItem struct {
	in     *pushInput
	object string
	fields salesforce.Fields
	id     string
	err    error
	done   bool
}

func (it *sfItem) succeed(id string) { it.id, it.err, it.done = id, nil, true }
func (it *sfItem) fail(err error)    { it.err, it.done = err, true }

func (it *sfItem) outcome() pushOutcome {
	if it.err == nil {
		return pushOutcome{recordID: it.id, objectType: it.object}
	}
	return pushOutcome{err: it.err, class: salesforceClass(it.err), public: publicSalesforceError(it.err)}
}

// pushSalesforce pushes the calls of one tenant to its org, never creating a
// second record for a call (SPEC §5.4):
//
//  1. a call with a stored record of the current object type updates it by
//     ID (and is created again if it was deleted in Salesforce);
//  2. with an external ID field, the others are upserted by it, up to 200 a
//     request;
//  3. otherwise they are looked up by Subject (Task) or call_id__c (custom
//     objects), so that a record an earlier attempt created before it could
//     store the ID is found and updated, and only the rest are created, up
//     to 200 a request.
//
// Each item ends with its own record ID or error; one bad record fails
// alone.
func pushSalesforce(ctx context.Context, client *salesforce.Client, st *settings.Salesforce, items []*sfItem) {
	object := st.ObjectType
	extField := mapping.ExternalIDField(object, st.ExternalIDField)
	for _, it := range items {
		it.object = object
		it.fields = mapping.Salesforce(it.in.payload, object, extField, it.in.loc)
	}

	var rest []*sfItem
	for _, it := range items {
		if it.in.recordID == "" || it.in.objectType != object {
			rest = append(rest, it)
			continue
		}
		err := client.Update(ctx, object, it.in.recordID, it.fields)
		switch {
		case err == nil:
			it.succeed(it.in.recordID)
		case salesforce.IsDeleted(err):
			rest = append(rest, it) // deleted in Salesforce: make a new one
		default:
			it.fail(err)
		}
	}
	if len(rest) == 0 {
		return
	}

	if extField != "" {
		for _, chunk := range chunks(rest, salesforce.MaxCollectionSize) {
			saveMany(ctx, chunk, func(ctx context.Context, records []salesforce.Fields) ([]salesforce.Result, error) {
				return client.UpsertMany(ctx, object, extField, records)
			})
		}
		return
	}

	found, err := lookup(ctx, client, object, rest)
	if err != nil {
		for _, it := range rest {
			it.fail(err)
		}
		return
	}
	var create []*sfItem
	for _, it := range rest {
		id, ok := found[mapping.LookupValue(object, it.in.callID)]
		if !ok {
			create = append(create, it)
			continue
		}
		if err := client.Update(ctx, object, id, it.fields); err != nil {
			it.fail(err)
		} else {
			it.succeed(id)
		}
	}
	for _, chunk := range chunks(create, salesforce.MaxCollectionSize) {
		saveMany(ctx, chunk, func(ctx context.Context, records []salesforce.Fields) ([]salesforce.Result, error) {
			return client.CreateMany(ctx, object, records)
		})
	}
}

// saveMany saves items with one sObject Collections request and hands each
// its own result. A request that fails as a whole (a deserialization error
// in one record fails them all) is split in halves until the bad record
// fails alone.
func saveMany(ctx context.Context, items []*sfItem, save func(context.Context, []salesforce.Fields) ([]salesforce.Result, error)) {
	records := make([]salesforce.Fields, len(items))
	for i, it := range items {
		records[i] = it.fields
	}
	results, err := save(ctx, records)
	if err != nil {
		if len(items) > 1 && salesforce.Classify(err) == salesforce.ClassData {
			half := len(items) / 2
			saveMany(ctx, items[:half], save)
			saveMany(ctx, items[half:], save)
			return
		}
		for _, it := range items {
			it.fail(err)
		}
		return
	}
	if len(results) != len(items) {
		err := fmt.Errorf("salesforce: %d results for %d records", len(results), len(items))
		for _, it := range items {
			it.fail(err)
		}
		return
	}
	for i, r := range results {
		if r.Success {
			items[i].succeed(r.ID)
			continue
		}
		items[i].fail(recordError(r))
	}
}

// recordError turns a per-record error of a collection into an
// *salesforce.APIError, so it is classified and stored like any other.
func recordError(r salesforce.Result) error {
	if len(r.Errors) == 0 {
		return &salesforce.APIError{Op: "save", StatusCode: 500, Message: "Salesforce reported a failure without an error"}
	}
	first := r.Errors[0]
	ae := &salesforce.APIError{Op: "save", StatusCode: 400, ErrorCode: first.StatusCode, Message: first.Message, Fields: first.Fields}
	if first.Class() == salesforce.ClassRetryable {
		ae.StatusCode = 503
	}
	for _, e := range r.Errors[1:] {
		ae.Message += "; " + e.StatusCode + ": " + e.Message
	}
	return ae
}

// lookupQueryLimit keeps a lookup query well under Salesforce's 16,384-byte
// limit for the URI.
const lookupQueryLimit = 8000

// lookup finds the records of the items' calls by their lookup field and
// returns their IDs by lookup value.
func lookup(ctx context.Context, client *salesforce.Client, object string, items []*sfItem) (map[string]string, error) {
	field := mapping.LookupField(object)
	found := map[string]string{}
	prefix := "SELECT Id, " + field + " FROM " + object + " WHERE " + field + " IN ("
	var values []string
	size := len(prefix)
	flush := func() error {
		if len(values) == 0 {
			return nil
		}
		records, err := client.Query(ctx, prefix+strings.Join(values, ", ")+") ORDER BY CreatedDate")
		if err != nil {
			return err
		}
		for _, r := range records {
			id, _ := r["Id"].(string)
			v, _ := r[field].(string)
			if _, seen := found[v]; !seen && id != "" {
				found[v] = id // the oldest, if an earlier failure left two
			}
		}
		values, size = values[:0], len(prefix)
		return nil
	}
	for _, it := range items {
		q := salesforce.QuoteSOQL(mapping.LookupValue(object, it.in.callID))
		if size+len(q)+2 > lookupQueryLimit {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		values = append(values, q)
		size += len(q) + 2
	}
	return found, flush()
}

func chunks[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

// salesforceClass maps a Salesforce error onto what the worker does.
func salesforceClass(err error) errorClass {
	switch salesforce.Classify(err) {
	case salesforce.ClassRateLimited:
		return classRateLimited
	case salesforce.ClassAuth:
		return classAuth
	case salesforce.ClassData:
		return classData
	}
	return classRetry
}

// publicSalesforceError describes err without Salesforce's message, which
// can quote call content.
func publicSalesforceError(err error) string {
	var ae *salesforce.APIError
	if !errors.As(err, &ae) {
		return err.Error()
	}
	s := fmt.Sprintf("salesforce: %s: HTTP %d %s", ae.Op, ae.StatusCode, ae.ErrorCode)
	if len(ae.Fields) > 0 {
		s += " (fields: " + strings.Join(ae.Fields, ", ") + ")"
	}
	return s + "; the message is in sync_records.last_error"
}
