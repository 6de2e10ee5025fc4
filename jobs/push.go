package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/koeiq/syncd/outbox"
	syncdsql "github.com/koeiq/syncd/sql"
)

// errorClass is what a failed push calls for (SPEC §5.5).
type errorClass int

const (
	// classRetry: try again with backoff (network, 5xx, lock contention).
	classRetry errorClass = iota + 1
	// classRateLimited: the org's API budget is spent; pause the tenant.
	classRateLimited
	// classAuth: the credentials are refused; park the tenant's pushes until
	// an admin saves the settings again.
	classAuth
	// classData: the CRM will never accept the record as sent; fail it.
	classData
)

// pushInput is what one push attempt of one call works with.
type pushInput struct {
	tenantID, callID string
	// recordID and objectType describe the record stored by an earlier push,
	// if any.
	recordID, objectType string
	// fresh is true on the call's first push attempt: no earlier attempt can
	// have created its record, so it needs no look-up.
	fresh bool
	// outboxID is the outbox row whose payload is pushed: the call's newest
	// queued row.
	outboxID int64
	payload  outbox.Payload
	// committed is when the outbox row was written.
	committed time.Time
	loc       *time.Location
}

// pushOutcome is what a push did.
type pushOutcome struct {
	recordID, objectType string
	err                  error
	class                errorClass
	// public is the error as River and the logs may show it: codes and
	// field names, never a CRM's message, which can quote call content.
	public string
}

// gate says whether a tenant's pushes may run now.
type gate struct {
	// wait > 0 holds the push back for that long (parked or paused tenant).
	wait   time.Duration
	reason string
	// disabled, when set, fails the push: the integration is off.
	disabled string
}

// target is one CRM the daemon pushes to.
type target interface {
	// name is the sync_records target: "salesforce" or "kintone".
	name() string
	// open reads the tenant's settings and says whether its pushes may run
	// now; when they may, conn pushes with them.
	open(ctx context.Context, tenantID string) (conn tenantConn, g gate, err error)
}

// tenantConn pushes one tenant's calls with the settings read by
// target.open.
type tenantConn interface {
	// push writes the call's record and says what happened.
	push(ctx context.Context, in *pushInput) pushOutcome
	// markAttention parks the tenant after its credentials were refused.
	markAttention(ctx context.Context, reason string)
	// pause holds the tenant's pushes back after its API budget ran out,
	// and says for how long.
	pause() time.Duration
}

// pushJobArgs are the args of a push job.
type pushJobArgs interface {
	river.JobArgs
	ids() (tenantID, callID string)
}

func (a SalesforcePushArgs) ids() (string, string) { return a.TenantID, a.CallID }
func (a KintonePushArgs) ids() (string, string)    { return a.TenantID, a.CallID }

// work runs one push attempt of a call for River job job and records the
// outcome: on success the record ID, the synced state and the job's
// completion commit together.
func work[T pushJobArgs](ctx context.Context, c *Client, t target, job *river.Job[T]) error {
	tenantID, callID := job.Args.ids()
	logger := c.logger.With("target", t.name(), "tenant", tenantID, "call", callID, "job", job.ID, "attempt", job.Attempt)

	conn, g, err := t.open(ctx, tenantID)
	if err != nil {
		return c.shutdownOr(ctx, err)
	}
	if g.disabled != "" {
		err := c.recordFailure(ctx, t, job.ID, tenantID, callID, g.disabled, math.MaxInt64, true)
		c.cfg.Metrics.CallFailed(tenantID, t.name())
		logger.WarnContext(ctx, "push cancelled", "reason", g.disabled)
		return river.JobCancel(errors.Join(errors.New(g.disabled), err))
	}
	if g.wait > 0 {
		logger.DebugContext(ctx, "push held back", "reason", g.reason, "for", g.wait)
		return river.JobSnooze(g.wait)
	}

	in, err := c.lease(ctx, t.name(), job.ID, tenantID, callID)
	var unpushable *unpushableError
	if errors.As(err, &unpushable) {
		// Nothing to push, ever: say so on the call and end the job.
		if err := c.recordFailure(ctx, t, job.ID, tenantID, callID, unpushable.Error(), math.MaxInt64, true); err != nil {
			return err
		}
		logger.WarnContext(ctx, "push cancelled", "reason", unpushable.Error())
		return river.JobCancel(unpushable)
	}
	if err != nil {
		return c.shutdownOr(ctx, err)
	}
	if in == nil {
		// Another worker pushes this call right now; come back when it is
		// done, and push whatever is newest then.
		return river.JobSnooze(c.cfg.LeaseWaitSnooze)
	}

	out := conn.push(ctx, in)
	if out.err == nil {
		if err := recordSuccess(ctx, c, t.name(), job, in, out); err != nil {
			// The record exists but its ID is not stored: the next attempt
			// finds it (like after a crash, when the lease runs out instead).
			c.releaseLease(ctx, t.name(), job.ID, tenantID, callID)
			return c.shutdownOr(ctx, err)
		}
		c.cfg.Metrics.CallSynced(tenantID, t.name(), in.committed)
		logger.InfoContext(ctx, "call synced", "record_id", out.recordID, "object_type", out.objectType)
		return nil
	}

	if ctx.Err() != nil {
		// Shutting down: release the call and run again on the next start.
		c.releaseLease(ctx, t.name(), job.ID, tenantID, callID)
		return river.JobSnooze(0)
	}
	pubErr := errors.New(out.public)
	final := out.class == classData || (out.class == classRetry && job.Attempt >= job.MaxAttempts)
	if err := c.recordFailure(ctx, t, job.ID, tenantID, callID, out.err.Error(), in.outboxID, final); err != nil {
		return err
	}
	if final {
		c.cfg.Metrics.CallFailed(tenantID, t.name())
	}
	switch out.class {
	case classData:
		logger.WarnContext(ctx, "call failed", "error", out.public)
		return river.JobCancel(pubErr)
	case classAuth:
		conn.markAttention(ctx, out.err.Error()) // token errors quote no call content
		logger.WarnContext(ctx, "credentials refused; the tenant's pushes wait for new settings", "error", out.public)
		return river.JobSnooze(c.cfg.ParkSnooze)
	case classRateLimited:
		wait := conn.pause()
		logger.WarnContext(ctx, "API request limit reached; the tenant's pushes pause", "error", out.public, "for", wait)
		return river.JobSnooze(wait)
	default:
		logger.WarnContext(ctx, "push failed; will retry", "error", out.public, "final", final)
		return pubErr
	}
}

// shutdownOr returns err, or a snooze that releases the job when err comes
// from the daemon stopping.
func (c *Client) shutdownOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return river.JobSnooze(0)
	}
	return err
}

// lease takes the call's lease for job jobID and loads what the push needs;
// nil means another worker holds it.
func (c *Client) lease(ctx context.Context, targetName string, jobID int64, tenantID, callID string) (*pushInput, error) {
	in := &pushInput{tenantID: tenantID, callID: callID, loc: time.UTC}
	var (
		recordID, objectType, timezone *string
		payload                        []byte
		committed                      *time.Time
	)
	err := c.pool.QueryRow(ctx, syncdsql.PushLease, tenantID, callID, targetName, c.cfg.PushTimeout.Seconds()+60, jobID).
		Scan(&recordID, &objectType, &in.fresh, &in.outboxID, &payload, &committed, &timezone)
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		err := c.pool.QueryRow(ctx, "SELECT EXISTS (SELECT FROM sync_records WHERE tenant_id = $1 AND call_id = $2 AND target = $3)",
			tenantID, callID, targetName).Scan(&exists)
		if err == nil && !exists {
			return nil, &unpushableError{"syncd has no sync record of the call: nothing was dispatched for it"}
		}
		return nil, err // nil: another worker holds the lease
	}
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", callID, err)
	}
	if recordID != nil {
		in.recordID = *recordID
	}
	if objectType != nil {
		in.objectType = *objectType
	}
	if timezone != nil {
		if loc, err := time.LoadLocation(*timezone); err == nil {
			in.loc = loc
		}
	}
	if payload == nil || committed == nil {
		return nil, &unpushableError{fmt.Sprintf("outbox row %d of the call is gone; a newer analysis or syncd.resync pushes it", in.outboxID)}
	}
	in.committed = *committed
	if err := json.Unmarshal(payload, &in.payload); err != nil {
		return nil, &unpushableError{fmt.Sprintf("outbox row %d: the payload cannot be read: %v", in.outboxID, err)}
	}
	in.payload.CallID = callID
	return in, nil
}

// unpushableError says why a call can never be pushed as it stands.
type unpushableError struct{ reason string }

func (e *unpushableError) Error() string { return e.reason }

// recordSuccess stores the record ID and completes the job in one
// transaction.
func recordSuccess[T pushJobArgs](ctx context.Context, c *Client, targetName string, job *river.Job[T], in *pushInput, out pushOutcome) error {
	ctx, cancel := bookkeepingContext(ctx)
	defer cancel()
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, syncdsql.PushSynced, in.tenantID, in.callID, targetName, out.recordID, out.objectType, in.outboxID); err != nil {
			return err
		}
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
	if err != nil {
		return fmt.Errorf("store record %s of call %s: %w", out.recordID, in.callID, err)
	}
	return nil
}

// recordFailure stores a failed attempt on the sync record and releases the
// lease. Unless final, job jobID waits to try again.
func (c *Client) recordFailure(ctx context.Context, t target, jobID int64, tenantID, callID, message string, outboxID int64, final bool) error {
	ctx, cancel := bookkeepingContext(ctx)
	defer cancel()
	_, err := c.pool.Exec(ctx, syncdsql.PushFailed, tenantID, callID, t.name(), message, outboxID, final, jobID)
	if err != nil {
		return fmt.Errorf("record failure of call %s: %w", callID, err)
	}
	return nil
}

// releaseLease gives up the call's lease without recording anything; job
// jobID waits to try again.
func (c *Client) releaseLease(ctx context.Context, targetName string, jobID int64, tenantID, callID string) {
	ctx, cancel := bookkeepingContext(ctx)
	defer cancel()
	_, err := c.pool.Exec(ctx, `UPDATE sync_records SET lease_until = NULL, push_job_id = coalesce(push_job_id, $4)
		WHERE tenant_id = $1 AND call_id = $2 AND target = $3`, tenantID, callID, targetName, jobID)
	if err != nil {
		c.logger.WarnContext(ctx, "release lease", "call", callID, "error", err)
	}
}

// bookkeepingContext lets a push record its outcome even when the job's
// context has just ended.
func bookkeepingContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}
