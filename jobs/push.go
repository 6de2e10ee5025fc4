package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/koeiq/syncd/crm"
	"github.com/koeiq/syncd/outbox"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/settings"
	syncdsql "github.com/koeiq/syncd/sql"
)

// pushItem is one call of a push batch and, once pushed, its result.
type pushItem struct {
	callID string
	// recordID and objectType describe the record stored by an earlier push,
	// if any.
	recordID, objectType string
	// fresh is true on the call's first lease: no earlier attempt can have
	// created its record, so it needs no look-up.
	fresh    bool
	attempts int
	// outboxID is the outbox row whose payload is pushed: the call's newest
	// queued row.
	outboxID int64
	payload  outbox.Payload
	// committed is when the outbox row was written.
	committed time.Time
	// loc and region are the tenant's time zone and phone region.
	loc    *time.Location
	region string
	// priorWhoID is the WhoId syncd set on the call's record before, if any.
	priorWhoID string
	// link is what matching found, and what the push sent (Salesforce).
	link callLink

	// The result: a record ID, or an error; neither when it was not sent.
	result pushResult
}

// pushResult is what became of one call of a batch.
type pushResult struct {
	recordID, objectType string
	err                  error
	// class is what the failure calls for (SPEC §5.5): retry with backoff,
	// pause the tenant (rate limited), park its pushes until an admin saves
	// the settings again (auth), or fail the call (data).
	class crm.Class
	// public is the error as River and the logs may show it: codes and
	// field names, never a CRM's message, which can quote call content.
	public string
	// inDoubt is set when a create on the look-up path was sent and its
	// outcome is unknown: the call's in_doubt_until stays.
	inDoubt bool
}

func (it *pushItem) succeed(recordID, objectType string) {
	it.result = pushResult{recordID: recordID, objectType: objectType}
}

func (it *pushItem) fail(err error, class crm.Class, public string) {
	it.result = pushResult{err: err, class: class, public: public, inDoubt: it.result.inDoubt}
}

// done reports whether the item has a result.
func (it *pushItem) done() bool { return it.result.recordID != "" || it.result.err != nil }

// gate says whether a tenant's pushes may run now.
type gate struct {
	// wait > 0 holds the pushes back for that long (parked or paused
	// tenant, held budget).
	wait   time.Duration
	reason string
	// disabled, when set, fails the pushes: the integration is off.
	disabled string
}

// target is one CRM the daemon pushes to.
type target interface {
	// name is the sync_records target: "salesforce" or "kintone".
	name() string
	// open reads the tenant's settings of this CRM and says whether its
	// pushes may run now; when they may, the conn pushes with them.
	open(ctx context.Context, tenantID string) (tenantConn, gate, error)
}

// tenantConn pushes one tenant's calls with the settings target.open read.
type tenantConn interface {
	// push writes the calls' records and sets each item's result. It sends
	// a create on the look-up path only after markInDoubt succeeded for its
	// items. It returns when none of its requests is in flight any more.
	push(ctx context.Context, items []*pushItem, markInDoubt func(context.Context, []*pushItem) error)
	// markAttention parks the tenant after its credentials were refused.
	markAttention(ctx context.Context, reason string)
	// usage returns the org's daily API budget as last reported, if known.
	usage() (salesforce.Usage, bool)
	// release ends the job's use of the conn.
	release()
}

// pushJobArgs are the args of a push job.
type pushJobArgs interface {
	river.JobArgs
	tenant() string
}

func (a SalesforcePushArgs) tenant() string { return a.TenantID }
func (a KintonePushArgs) tenant() string    { return a.TenantID }

// pushOutput is what a push job records as its output (River's
// RecordOutput), shown in the River UI: which calls it pushed and what
// became of them. It holds IDs, outcomes and public errors only.
type pushOutput struct {
	// Slot is the org's request slot the job held; -1 when it held none.
	Slot int `json:"slot"`
	// Note says why the job pushed nothing, when it did not.
	Note  string       `json:"note,omitempty"`
	Calls []callOutput `json:"calls,omitempty"`
}

type callOutput struct {
	CallID   string `json:"call_id"`
	Outcome  string `json:"outcome"`
	RecordID string `json:"record_id,omitempty"`
	OutboxID int64  `json:"outbox_id"`
	Error    string `json:"error,omitempty"`
	InDoubt  bool   `json:"in_doubt,omitempty"`
}

// pushWorker works the push jobs of one target: SalesforcePushArgs (a
// batch of the tenant's pending calls pushed to its org, SPEC §5.4) or
// KintonePushArgs (upserted in its Kintone app by their call_id field, one
// request at a time); either way it stores their record IDs.
type pushWorker[T pushJobArgs] struct {
	river.WorkerDefaults[T]
	client *Client
	target target
}

// Work pushes a batch.
func (w *pushWorker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	return work(ctx, w.client, w.target, job)
}

// Timeout bounds one push job.
func (w *pushWorker[T]) Timeout(*river.Job[T]) time.Duration {
	return w.client.cfg.PushTimeout
}

// work runs one push job: it takes one of the org's request slots, claims
// a batch of the tenant's pending calls, pushes them, and stores every
// call's outcome, the job's output and completion, and the push jobs the
// tenant still needs, in one transaction.
func work[T pushJobArgs](ctx context.Context, c *Client, t target, job *river.Job[T]) error {
	tenantID := job.Args.tenant()
	logger := c.logger.With("target", t.name(), "tenant", tenantID, "job", job.ID)

	tn, g, err := checkTenant(ctx, c.cfg.Settings, tenantID)
	if err != nil {
		return err
	}
	var conn tenantConn
	if g.disabled == "" {
		if conn, g, err = t.open(ctx, tenantID); err != nil {
			return err
		}
	}
	if conn != nil {
		defer conn.release()
	}
	var slow bool
	if g == (gate{}) {
		if g, slow, err = c.orgGate(ctx, t.name(), tenantID); err != nil {
			return err
		}
	}
	if g.wait > 0 {
		logger.DebugContext(ctx, "pushes held back", "reason", g.reason, "for", g.wait)
		return river.JobSnooze(g.wait)
	}

	// One of the org's request slots, and a batch of calls, in one
	// transaction. It holds the org's lock, like the transactions that count
	// the org's jobs (ensurePushJobs): a finishing job that counted this one
	// as about to take a slot commits its own slot's release before this one
	// looks, and a job that found no slot is completed before the next count.
	limit := c.cfg.TenantConcurrency
	if slow {
		limit = 1
	}
	out := pushOutput{Slot: -1}
	var items []*pushItem
	err = pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		if g.disabled == "" {
			if err := lockOrgs(ctx, tx, []org{{tenantID, t.name()}}); err != nil {
				return err
			}
			slot, ok, err := c.takeSlot(ctx, tx, t.name(), tenantID, job.ID, limit)
			if err != nil {
				return err
			}
			if !ok {
				// The jobs holding the slots push the waiting calls: each
				// one, when done, inserts the jobs the tenant needs.
				out.Note = fmt.Sprintf("all %d request slots of the org are in use", limit)
				if err := recordOutput(ctx, out); err != nil {
					return err
				}
				_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
				return err
			}
			out.Slot = slot
		}
		items, err = c.claim(ctx, tx, t.name(), tenantID, job.ID, tn)
		return err
	})
	if err != nil || (g.disabled == "" && out.Slot < 0) {
		return err
	}
	pushCtx, stopLeases := ctx, func() {}
	if out.Slot >= 0 {
		pushCtx, stopLeases = c.keepLeases(ctx, t.name(), tenantID, job.ID, out.Slot)
	}
	defer stopLeases()

	var pushable []*pushItem
	for _, it := range items {
		switch {
		case it.done(): // unpushable
		case g.disabled != "":
			it.fail(errors.New(g.disabled), crm.ClassData, g.disabled)
		default:
			pushable = append(pushable, it)
		}
	}
	if len(pushable) > 0 {
		conn.push(pushCtx, pushable, func(ctx context.Context, items []*pushItem) error {
			return c.markInDoubt(ctx, t.name(), tenantID, job.ID, items)
		})
	}
	stopLeases()

	// What the outcomes mean for the tenant, for every replica. A job whose
	// tenant is now held waits with it (snoozed, visible in the River UI).
	if conn != nil {
		if u, ok := conn.usage(); ok {
			c.recordUsage(ctx, t.name(), tenantID, u)
		}
	}
	var hold time.Duration
	for _, it := range pushable {
		switch it.result.class {
		case crm.ClassAuth:
			conn.markAttention(ctx, it.result.err.Error()) // token errors quote no call content
			logger.WarnContext(ctx, "credentials refused; the tenant's pushes wait for new settings", "error", it.result.public)
			hold = c.cfg.ParkSnooze
		case crm.ClassRateLimited:
			c.pause(ctx, t.name(), tenantID, it.result.public)
			logger.WarnContext(ctx, "API request limit reached; the tenant's pushes pause", "error", it.result.public, "for", c.cfg.RateLimitSnooze)
			hold = c.cfg.RateLimitSnooze
		default:
			continue
		}
		break
	}

	out.Calls = make([]callOutput, len(items))
	for i, it := range items {
		out.Calls[i] = c.outcome(it)
	}
	if err := store(ctx, c, t.name(), tenantID, job, items, out, hold == 0); err != nil {
		return err
	}

	var synced, failed int
	for i, it := range items {
		counted := !outbox.IsTestCall(it.callID) // test calls stay out of the metrics
		switch out.Calls[i].Outcome {
		case outcomeSynced:
			synced++
			if counted {
				c.cfg.Metrics.CallSynced(tenantID, t.name(), it.committed)
				if m := it.link.match; m != "" && m != matchOff {
					m, _, _ = strings.Cut(m, ":") // ambiguous:N counts as ambiguous
					c.cfg.Metrics.CallMatched(tenantID, m)
				}
			}
		case outcomeFailed:
			failed++
			if counted {
				c.cfg.Metrics.CallFailed(tenantID, t.name())
			}
			logger.WarnContext(ctx, "call failed", "call", it.callID, "error", out.Calls[i].Error)
		case outcomeRetry:
			logger.WarnContext(ctx, "push failed; will retry", "call", it.callID, "error", out.Calls[i].Error, "attempts", it.attempts+1)
		}
	}
	if len(items) > 0 {
		logger.InfoContext(ctx, "calls pushed", "calls", len(items), "synced", synced, "failed", failed, "slot", out.Slot)
	}
	if hold > 0 {
		return river.JobSnooze(hold)
	}
	return nil
}

// The outcomes of a call in a push job (push_store.sql).
const (
	outcomeSynced   = "synced"
	outcomeFailed   = "failed"
	outcomeRetry    = "retry"
	outcomeReleased = "released"
)

// outcome decides what becomes of a pushed call.
func (c *Client) outcome(it *pushItem) callOutput {
	o := callOutput{CallID: it.callID, OutboxID: it.outboxID, InDoubt: it.result.inDoubt, Error: it.result.public}
	r := it.result
	switch {
	case r.err == nil && r.recordID != "":
		o.Outcome, o.RecordID = outcomeSynced, r.recordID
	case r.err == nil:
		o.Outcome = outcomeReleased // not sent
	case r.class == crm.ClassData:
		o.Outcome = outcomeFailed
	case r.class == crm.ClassRetryable && it.attempts+1 >= c.cfg.MaxAttempts:
		o.Outcome = outcomeFailed
	case r.class == crm.ClassRetryable:
		o.Outcome = outcomeRetry
	default:
		o.Outcome = outcomeReleased // the tenant is parked or paused: no attempt spent
	}
	return o
}

// retryAfter is how long a call waits after its n-th failed attempt:
// Config.RetryBackoff, doubled with each further attempt, at most an hour.
func (c *Client) retryAfter(n int) time.Duration {
	d := c.cfg.RetryBackoff << min(max(n-1, 0), 20)
	return min(d, time.Hour)
}

// checkTenant fails pushes of a tenant that is gone or lost the Audit &
// Export Pack.
func checkTenant(ctx context.Context, store *settings.Store, tenantID string) (*settings.Tenant, gate, error) {
	tn, err := store.Tenant(ctx, tenantID)
	if errors.Is(err, settings.ErrNotFound) {
		return nil, gate{disabled: "the tenant no longer exists"}, nil
	}
	if err != nil {
		return nil, gate{}, err
	}
	if !tn.AuditExportPack {
		return tn, gate{disabled: "the tenant has no Audit & Export Pack; the call is pushed again after a backfill or resync"}, nil
	}
	return tn, gate{}, nil
}

// orgGate holds back the pushes of a tenant that every replica must hold
// back: paused after REQUEST_LIMIT_EXCEEDED, or with more than
// BudgetHoldShare of its daily API requests used. slow reports more than
// BudgetSlowShare used: one request at a time.
func (c *Client) orgGate(ctx context.Context, targetName, tenantID string) (g gate, slow bool, err error) {
	st, err := syncdsql.GetOrgState(ctx, c.pool, tenantID, targetName)
	if errors.Is(err, pgx.ErrNoRows) {
		return gate{}, false, nil
	}
	if err != nil {
		return gate{}, false, fmt.Errorf("read org state: %w", err)
	}
	if st.PausedUntil != nil && time.Until(*st.PausedUntil) > 0 {
		return gate{wait: time.Until(*st.PausedUntil), reason: "API request limit reached"}, false, nil
	}
	used, max, at := st.APIUsed, st.APIMax, st.APIAt
	if used == nil || max == nil || at == nil || *max <= 0 {
		return gate{}, false, nil
	}
	share := float64(*used) / float64(*max)
	if share >= c.cfg.BudgetHoldShare {
		if wait := time.Until(at.Add(c.cfg.BudgetHoldSnooze)); wait > 0 {
			return gate{wait: wait, reason: fmt.Sprintf("API budget %d/%d used", *used, *max)}, true, nil
		}
	}
	return gate{}, share >= c.cfg.BudgetSlowShare, nil
}

// takeSlot takes one of the org's limit request slots for job jobID.
func (c *Client) takeSlot(ctx context.Context, tx pgx.Tx, targetName, tenantID string, jobID int64, limit int) (int, bool, error) {
	slot, err := syncdsql.TakePushSlot(ctx, tx, tenantID, targetName, jobID, limit, c.cfg.LeaseTime)
	if errors.Is(err, pgx.ErrNoRows) {
		return -1, false, nil
	}
	if err != nil {
		return -1, false, fmt.Errorf("take request slot: %w", err)
	}
	return slot, true, nil
}

// keepLeases renews the job's slot and call leases every LeaseTime/3 until
// the returned stop is called. When renewing fails for longer than two
// thirds of LeaseTime, another replica may soon take the calls, so the
// returned context is cancelled: no new request starts.
func (c *Client) keepLeases(ctx context.Context, targetName, tenantID string, jobID int64, slot int) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(c.cfg.LeaseTime / 3)
		defer tick.Stop()
		renewed := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			_, err := syncdsql.RenewPushLeases(ctx, c.pool, tenantID, targetName, jobID, slot, c.cfg.LeaseTime)
			switch {
			case err == nil:
				renewed = time.Now()
			case ctx.Err() != nil:
				return
			case time.Since(renewed) > c.cfg.LeaseTime*2/3:
				c.logger.ErrorContext(ctx, "cannot renew push leases; stopping the push", "tenant", tenantID, "job", jobID, "error", err)
				cancel()
				return
			default:
				c.logger.WarnContext(ctx, "renew push leases", "tenant", tenantID, "job", jobID, "error", err)
			}
		}
	}()
	var once bool
	return ctx, func() {
		if !once {
			once = true
			cancel()
			<-done
		}
	}
}

// claim leases a batch of the tenant's pending calls for job jobID and
// loads what their pushes need. A call that can never be pushed as it
// stands comes back with its failure already set.
func (c *Client) claim(ctx context.Context, tx pgx.Tx, targetName, tenantID string, jobID int64, tn *settings.Tenant) ([]*pushItem, error) {
	loc, region := time.UTC, ""
	if tn != nil {
		if l, err := time.LoadLocation(tn.Timezone); err == nil {
			loc = l
		}
		region = tn.DefaultRegion
	}
	claimed, err := syncdsql.ClaimPushCalls(ctx, tx, tenantID, targetName, jobID, c.cfg.BatchSize, c.cfg.LeaseTime)
	if err != nil {
		return nil, fmt.Errorf("claim calls: %w", err)
	}
	var items []*pushItem
	for _, cl := range claimed {
		it := &pushItem{
			loc: loc, region: region,
			callID: cl.CallID, fresh: cl.Fresh, attempts: cl.Attempts, outboxID: cl.QueuedOutboxID,
			recordID: deref(cl.RecordID), objectType: deref(cl.ObjectType), priorWhoID: deref(cl.WhoID),
		}
		switch {
		case cl.Payload == nil || cl.CreatedAt == nil:
			it.fail(fmt.Errorf("outbox row %d of the call is gone; a newer analysis or syncd.resync pushes it", it.outboxID), crm.ClassData, "")
		default:
			it.committed = *cl.CreatedAt
			if err := json.Unmarshal(cl.Payload, &it.payload); err != nil {
				it.fail(fmt.Errorf("outbox row %d: the payload cannot be read: %v", it.outboxID, err), crm.ClassData, "")
			}
			it.payload.CallID = it.callID
		}
		if it.result.err != nil {
			it.result.public = it.result.err.Error() // our own words, no call content
		}
		items = append(items, it)
	}
	return items, nil
}

// errLeaseLost stops a create whose calls' leases the job no longer holds.
var errLeaseLost = errors.New("jobs: the push's lease on the call ran out before its create was sent")

// markInDoubt records, before a create on the look-up path is sent, that
// its outcome may stay unknown (SPEC §5.4).
func (c *Client) markInDoubt(ctx context.Context, targetName, tenantID string, jobID int64, items []*pushItem) error {
	calls := make([]string, len(items))
	for i, it := range items {
		calls[i] = it.callID
	}
	marked, err := syncdsql.MarkPushInDoubt(ctx, c.pool, tenantID, targetName, jobID, calls, c.cfg.InDoubtWait)
	if err != nil {
		return fmt.Errorf("mark create in doubt: %w", err)
	}
	if int(marked) != len(items) {
		return errLeaseLost
	}
	return nil
}

// store records every call's outcome and releases its lease, releases the
// job's request slot, records the job's output and (when complete) completes
// it, and inserts the push jobs the tenant still needs, in one transaction.
func store[T pushJobArgs](ctx context.Context, c *Client, targetName, tenantID string, job *river.Job[T], items []*pushItem, out pushOutput, complete bool) error {
	ctx, cancel := bookkeepingContext(ctx)
	defer cancel()
	n := len(items)
	var (
		calls, outcomes, recordIDs, objectTypes = make([]string, n), make([]string, n), make([]*string, n), make([]*string, n)
		outboxIDs                               = make([]int64, n)
		messages                                = make([]*string, n)
		retryAfter                              = make([]float64, n)
		inDoubt                                 = make([]bool, n)
		matches, whoIDs, whoTypes               = make([]*string, n), make([]*string, n), make([]*string, n)
		ownerIDs, ownerNotes                    = make([]*string, n), make([]*string, n)
	)
	for i, it := range items {
		calls[i], outcomes[i], outboxIDs[i], inDoubt[i] = it.callID, out.Calls[i].Outcome, it.outboxID, it.result.inDoubt
		if it.result.recordID != "" {
			recordIDs[i], objectTypes[i] = &it.result.recordID, &it.result.objectType
		}
		if it.result.err != nil {
			msg := it.result.err.Error() // the CRM's message, for the tenant
			messages[i] = &msg
		}
		retryAfter[i] = c.retryAfter(it.attempts + 1).Seconds()
		if l := &it.link; l.match != "" {
			matches[i] = &l.match
		}
		if l := &it.link; l.sentWho {
			whoIDs[i], whoTypes[i] = &l.whoID, &l.whoType
		}
		if l := &it.link; l.sentOwner {
			ownerIDs[i] = &l.ownerID
		}
		if l := &it.link; l.ownerNote != "" {
			ownerNotes[i] = &l.ownerNote
		}
	}
	if err := recordOutput(ctx, out); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		if n > 0 {
			if err := syncdsql.StorePushOutcomes(ctx, tx, syncdsql.PushStoreParams{
				TenantID: tenantID, Target: targetName, JobID: job.ID,
				CallIDs: calls, Outcomes: outcomes, RecordIDs: recordIDs, ObjectTypes: objectTypes,
				OutboxIDs: outboxIDs, Errors: messages, RetryAfter: retryAfter, InDoubt: inDoubt,
				Matches: matches, WhoIDs: whoIDs, WhoTypes: whoTypes, OwnerIDs: ownerIDs, OwnerNotes: ownerNotes,
			}); err != nil {
				return err
			}
		}
		if out.Slot >= 0 {
			if err := syncdsql.ReleasePushSlot(ctx, tx, tenantID, targetName, job.ID, out.Slot); err != nil {
				return err
			}
		}
		if !complete {
			return nil // the job waits with its tenant: it needs no other
		}
		if err := c.ensurePushJobs(ctx, tx, []org{{tenantID, targetName}}, job.ID); err != nil {
			return err
		}
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
	if err != nil {
		return fmt.Errorf("store the outcomes of %d calls: %w", n, err)
	}
	return nil
}

// recordOutput records the job's output; the job completes when Work
// returns nil.
func recordOutput(ctx context.Context, out pushOutput) error {
	if err := river.RecordOutput(ctx, out); err != nil {
		return fmt.Errorf("record output: %w", err)
	}
	return nil
}

// pause holds the tenant's pushes to the target back for RateLimitSnooze,
// on every replica.
func (c *Client) pause(ctx context.Context, targetName, tenantID, reason string) {
	ctx, cancel := bookkeepingContext(ctx)
	defer cancel()
	if err := syncdsql.PauseOrg(ctx, c.pool, tenantID, targetName, c.cfg.RateLimitSnooze, reason); err != nil {
		c.logger.ErrorContext(ctx, "pause tenant", "tenant", tenantID, "error", err)
	}
}

// usageWriteEvery is how often a client writes an org's API budget to
// org_state while it stays on the same side of the slow and hold shares.
const usageWriteEvery = 5 * time.Second

// recordUsage keeps the org's API budget for every replica: at once when it
// crossed BudgetSlowShare or BudgetHoldShare, else at most every
// usageWriteEvery, so that a backlog does not write it with every batch.
func (c *Client) recordUsage(ctx context.Context, targetName, tenantID string, u salesforce.Usage) {
	c.cfg.Metrics.APIUsage(tenantID, u.Used, u.Max)
	o := org{tenantID, targetName}
	c.usageMu.Lock()
	last, ok := c.usageWritten[o]
	band := func(u salesforce.Usage) int {
		switch share := float64(u.Used) / float64(max(u.Max, 1)); {
		case share >= c.cfg.BudgetHoldShare:
			return 2
		case share >= c.cfg.BudgetSlowShare:
			return 1
		}
		return 0
	}
	due := !ok || band(u) != band(last) || u.At.Sub(last.At) >= usageWriteEvery
	if due {
		c.usageWritten[o] = u
	}
	c.usageMu.Unlock()
	if !due {
		return
	}
	ctx, cancel := bookkeepingContext(ctx)
	defer cancel()
	if err := syncdsql.RecordOrgUsage(ctx, c.pool, tenantID, targetName, u.Used, u.Max, u.At); err != nil {
		c.logger.WarnContext(ctx, "record API usage", "tenant", tenantID, "error", err)
	}
}

// bookkeepingContext lets a push record its outcome even when the job's
// context has just ended.
func bookkeepingContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
