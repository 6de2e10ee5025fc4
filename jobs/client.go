package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/koeiq/syncd/metrics"
	"github.com/koeiq/syncd/migrate"
	"github.com/koeiq/syncd/salesforce"
	"github.com/koeiq/syncd/settings"
)

// Config configures a Client. The zero value is valid.
type Config struct {
	// Schema is the schema holding syncd's and River's tables; the pool's
	// connections must use it as search_path. Defaults to "syncd".
	Schema string

	// Logger receives the client's logs. Defaults to discarding.
	Logger *slog.Logger

	// DispatchBatchSize is how many outbox rows of each tenant one dispatch
	// transaction claims; every tenant with rows waiting is served in every
	// transaction. Defaults to 200.
	DispatchBatchSize int

	// DispatchInterval is how often the periodic dispatch job runs as a
	// safety net for lost notifications. Defaults to 10 seconds.
	DispatchInterval time.Duration

	// SalesforceWorkers is how many Salesforce push jobs this client works at
	// once; each pushes a batch of one tenant's calls with one request at a
	// time, and a tenant never has more than TenantConcurrency at once.
	// Defaults to 100.
	SalesforceWorkers int

	// BatchSize is the most calls of one tenant a push job claims and pushes
	// together: one sObject Collections request for Salesforce (at most
	// 200), one request per call for Kintone. 1 pushes every call on its
	// own. Defaults to 200.
	BatchSize int

	// TenantConcurrency is the most requests in flight to one org from all
	// replicas together (request slots in PostgreSQL), well under
	// Salesforce's 25 concurrent long-running requests. Defaults to 5.
	TenantConcurrency int

	// BudgetSlowShare is the share of an org's daily API requests
	// (Sforce-Limit-Info) above which its pushes slow down: one request at a
	// time. Defaults to 0.8.
	BudgetSlowShare float64

	// BudgetHoldShare is the share of an org's daily API requests above
	// which its pushes are held (snoozed, visible in the River UI) so that
	// syncd never exhausts the org's budget. Defaults to 0.95.
	BudgetHoldShare float64

	// BudgetHoldSnooze is how long a held tenant waits before one batch
	// looks at the budget again (it frees over a rolling 24 hours).
	// Defaults to 15 minutes.
	BudgetHoldSnooze time.Duration

	// KintoneWorkers is how many Kintone push jobs this client works at
	// once. Defaults to 10.
	KintoneWorkers int

	// FetchCooldown is the shortest time between two fetches of new jobs by
	// one queue; it bounds how soon a just-dispatched push starts. Defaults
	// to 20 milliseconds.
	FetchCooldown time.Duration

	// FetchPollInterval is how often the push queues look for new jobs
	// without being notified. River notifies inserts at most once per FetchCooldown
	// and queue, so a push job that a finishing one inserts often waits for
	// this poll. Defaults to 100 milliseconds.
	FetchPollInterval time.Duration

	// SoftStopTimeout is how long Stop lets running jobs finish before it
	// cancels them; cancelled pushes are released to run again. Defaults to
	// 30 seconds.
	SoftStopTimeout time.Duration

	// Settings reads tenants and their CRM settings. Required.
	Settings *settings.Store

	// RequestTimeout bounds each request to a CRM. Defaults to 30 seconds.
	RequestTimeout time.Duration

	// PushTimeout bounds one push job: claiming a batch, its requests and
	// storing the outcomes. Calls it could not push are released without
	// spending an attempt. Defaults to 2 minutes.
	PushTimeout time.Duration

	// LeaseTime is how long a push job's leases on its calls and its request
	// slot last; the job renews them every third of it while it runs, so a
	// call whose worker died is pushed again soon after its lease ran out.
	// Defaults to 20 seconds.
	LeaseTime time.Duration

	// InDoubtWait is how long a call whose create was sent on the look-up
	// path (no external ID field) and whose outcome is unknown waits before
	// it is looked up again: Salesforce finishes requests whose client left,
	// for up to 10 minutes. Defaults to 10 minutes.
	InDoubtWait time.Duration

	// RetryBackoff is how long a call waits after its first failed attempt;
	// the wait doubles with each further attempt, up to an hour. Defaults to
	// 5 seconds.
	RetryBackoff time.Duration

	// MaxAttempts is how many failed attempts fail a call for good.
	// Defaults to 25.
	MaxAttempts int

	// ParkSnooze is how long a push waits before looking again when its
	// tenant's credentials were refused; saving the settings resumes the
	// tenant's pushes at once. Defaults to 15 minutes.
	ParkSnooze time.Duration

	// RateLimitSnooze is how long a tenant's pushes pause when its org
	// answers REQUEST_LIMIT_EXCEEDED. Defaults to 15 minutes.
	RateLimitSnooze time.Duration

	// RetryPolicy schedules retries of jobs that failed as a whole (the
	// database could not be reached, say); failed calls wait RetryBackoff
	// instead. Defaults to River's exponential backoff.
	RetryPolicy river.ClientRetryPolicy

	// Metrics records pushes, CRM requests and API budgets. Defaults to
	// none.
	Metrics *metrics.Metrics

	// OutboxRetention is how long dispatched outbox rows are kept; a
	// periodic job deletes older ones in batches, keeping those a sync
	// record still needs. Defaults to 30 days.
	OutboxRetention time.Duration

	// SkippedRetention is how long skipped outbox rows ("skipped: <reason>",
	// which a backfill hands back to dispatch) are kept; at least
	// OutboxRetention. Defaults to 365 days, or OutboxRetention if longer.
	SkippedRetention time.Duration

	// RetentionInterval is how often the retention job runs. Defaults to one
	// hour.
	RetentionInterval time.Duration
}

func (c *Config) withDefaults() (*Config, error) {
	out := &Config{}
	if c != nil {
		*out = *c
	}
	out.Schema = cmp.Or(out.Schema, migrate.DefaultSchema)
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	out.DispatchBatchSize = cmp.Or(out.DispatchBatchSize, 200)
	out.DispatchInterval = cmp.Or(out.DispatchInterval, 10*time.Second)
	out.SalesforceWorkers = cmp.Or(out.SalesforceWorkers, 100)
	out.BatchSize = cmp.Or(out.BatchSize, salesforce.MaxCollectionSize)
	out.TenantConcurrency = cmp.Or(out.TenantConcurrency, 5)
	out.BudgetSlowShare = cmp.Or(out.BudgetSlowShare, 0.8)
	out.BudgetHoldShare = cmp.Or(out.BudgetHoldShare, 0.95)
	out.BudgetHoldSnooze = cmp.Or(out.BudgetHoldSnooze, 15*time.Minute)
	out.KintoneWorkers = cmp.Or(out.KintoneWorkers, 10)
	out.FetchCooldown = cmp.Or(out.FetchCooldown, 20*time.Millisecond)
	out.FetchPollInterval = cmp.Or(out.FetchPollInterval, 100*time.Millisecond)
	out.SoftStopTimeout = cmp.Or(out.SoftStopTimeout, 30*time.Second)
	out.RequestTimeout = cmp.Or(out.RequestTimeout, 30*time.Second)
	out.PushTimeout = cmp.Or(out.PushTimeout, 2*time.Minute)
	out.ParkSnooze = cmp.Or(out.ParkSnooze, 15*time.Minute)
	out.RateLimitSnooze = cmp.Or(out.RateLimitSnooze, 15*time.Minute)
	out.LeaseTime = cmp.Or(out.LeaseTime, 20*time.Second)
	out.InDoubtWait = cmp.Or(out.InDoubtWait, 10*time.Minute)
	out.RetryBackoff = cmp.Or(out.RetryBackoff, 5*time.Second)
	out.MaxAttempts = cmp.Or(out.MaxAttempts, 25)
	out.OutboxRetention = cmp.Or(out.OutboxRetention, 30*24*time.Hour)
	out.SkippedRetention = cmp.Or(out.SkippedRetention, max(365*24*time.Hour, out.OutboxRetention))
	out.RetentionInterval = cmp.Or(out.RetentionInterval, time.Hour)

	if err := migrate.ValidateSchema(out.Schema); err != nil {
		return nil, err
	}
	if out.DispatchBatchSize < 1 || out.SalesforceWorkers < 1 || out.KintoneWorkers < 1 || out.TenantConcurrency < 1 ||
		out.MaxAttempts < 1 {
		return nil, errors.New("jobs: DispatchBatchSize, the worker counts, TenantConcurrency and MaxAttempts must be positive")
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"RequestTimeout", out.RequestTimeout}, {"PushTimeout", out.PushTimeout}, {"LeaseTime", out.LeaseTime},
		{"InDoubtWait", out.InDoubtWait}, {"RetryBackoff", out.RetryBackoff}} {
		if d.d <= 0 {
			return nil, fmt.Errorf("jobs: %s must be positive", d.name)
		}
	}
	if out.LeaseTime < 3*time.Second {
		return nil, errors.New("jobs: LeaseTime must be at least 3 seconds")
	}
	if out.SkippedRetention < out.OutboxRetention {
		return nil, errors.New("jobs: SkippedRetention must be at least OutboxRetention")
	}
	if out.BatchSize < 1 || out.BatchSize > salesforce.MaxCollectionSize {
		return nil, fmt.Errorf("jobs: BatchSize must be from 1 to %d", salesforce.MaxCollectionSize)
	}
	if out.BudgetSlowShare <= 0 || out.BudgetHoldShare > 1 || out.BudgetSlowShare > out.BudgetHoldShare {
		return nil, errors.New("jobs: want 0 < BudgetSlowShare <= BudgetHoldShare <= 1")
	}
	if out.Settings == nil {
		return nil, errors.New("jobs: Config.Settings is required")
	}
	if out.DispatchInterval < time.Second {
		return nil, errors.New("jobs: DispatchInterval must be at least one second")
	}
	return out, nil
}

// Client runs syncd's River client together with the outbox listener that
// dispatches as soon as a pipeline commits.
type Client struct {
	cfg    *Config
	pool   *pgxpool.Pool
	logger *slog.Logger
	river  *river.Client[pgx.Tx]

	wakeCh chan struct{}

	salesforce *salesforceTarget
	kintone    *kintoneTarget

	usageMu      sync.Mutex
	usageWritten map[org]salesforce.Usage // the API budgets last written to org_state

	mu     sync.Mutex
	cancel context.CancelFunc // stops the listener and dispatch loop
	done   sync.WaitGroup
}

// NewClient returns a Client working on pool, whose connections must use
// cfg.Schema as search_path. It does not start anything.
func NewClient(pool *pgxpool.Pool, cfg *Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:    cfg,
		pool:   pool,
		logger: cfg.Logger,
		wakeCh: make(chan struct{}, 1),

		usageWritten: map[org]salesforce.Usage{},
	}
	c.salesforce = newSalesforceTarget(c)
	c.kintone = newKintoneTarget(c)

	workers := river.NewWorkers()
	river.AddWorker(workers, &DispatchWorker{client: c})
	river.AddWorker(workers, &RetentionWorker{client: c})
	river.AddWorker(workers, &pushWorker[SalesforcePushArgs]{client: c, target: c.salesforce})
	river.AddWorker(workers, &pushWorker[KintonePushArgs]{client: c, target: c.kintone})

	c.river, err = river.NewClient(riverpgxv5.New(pool), &river.Config{
		Schema:        cfg.Schema,
		Logger:        cfg.Logger.With("component", "river"),
		Workers:       workers,
		FetchCooldown: cfg.FetchCooldown,
		Queues: map[string]river.QueueConfig{
			QueueSalesforce:  {MaxWorkers: cfg.SalesforceWorkers, FetchPollInterval: cfg.FetchPollInterval},
			QueueKintone:     {MaxWorkers: cfg.KintoneWorkers, FetchPollInterval: cfg.FetchPollInterval},
			QueueMaintenance: {MaxWorkers: 2},
		},
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.DispatchInterval),
				func() (river.JobArgs, *river.InsertOpts) { return DispatchArgs{}, nil },
				&river.PeriodicJobOpts{ID: "dispatch", RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(cfg.RetentionInterval),
				func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, nil },
				&river.PeriodicJobOpts{ID: "outbox_retention", RunOnStart: true}),
		},
		SoftStopTimeout: cfg.SoftStopTimeout,
		// A push job whose worker died is marked retryable after this; its
		// calls are pushed again as soon as their leases run out, by any job.
		RescueStuckJobsAfter: cfg.PushTimeout + time.Minute,
		JobTimeout:           cfg.PushTimeout,
		RetryPolicy:          cfg.RetryPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	return c, nil
}

// Running reports whether the client was started, is not stopped, and River
// runs.
func (c *Client) Running() bool {
	c.mu.Lock()
	started := c.cancel != nil
	c.mu.Unlock()
	if !started {
		return false
	}
	select {
	case <-c.river.Stopped():
		return false
	default:
		return true
	}
}

// River returns the underlying River client, for the River UI and for
// inserting jobs.
func (c *Client) River() *river.Client[pgx.Tx] { return c.river }

// Start starts River and the outbox listener. ctx bounds only the start;
// use Stop to stop.
func (c *Client) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		return errors.New("jobs: client already started")
	}
	// River stops when the context given to Start ends; Stop decides that.
	if err := c.river.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start river: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	c.done.Add(2)
	go func() { defer c.done.Done(); c.listen(runCtx) }()
	go func() { defer c.done.Done(); c.dispatchLoop(runCtx) }()
	return nil
}

// errStopped is what a push that starts after Stop fails with.
var errStopped = errors.New("jobs: client stopped")

// Stop stops dispatching, then stops River: running jobs may finish for up
// to SoftStopTimeout, after which they are cancelled and released to run
// again. If ctx ends first, running jobs are cancelled at once. Last it
// closes the tenants' Salesforce clients, waiting for their token requests.
// When Stop returns nil, every goroutine the Client started has returned.
func (c *Client) Stop(ctx context.Context) error {
	c.mu.Lock()
	cancel := c.cancel
	c.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	c.done.Wait()
	defer c.salesforce.clients.closeAll() // once River's jobs, which use the clients, are done

	err := c.river.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		hardCtx, hardCancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer hardCancel()
		err = c.river.StopAndCancel(hardCtx)
	}
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}
