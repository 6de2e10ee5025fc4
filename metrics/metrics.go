// Package metrics holds syncd's Prometheus metrics. The daemon records
// events as they happen (a call synced, a request to a CRM) and reads the
// state of the outbox and of River's queues from PostgreSQL on each scrape,
// River's through River's own API (JobListTx), never its tables.
//
// Labels carry tenant IDs, targets, operations and statuses only: never a
// secret, a token, a call ID or call content.
//
//	syncd_outbox_waiting                     outbox rows not dispatched yet
//	syncd_outbox_oldest_waiting_seconds      age of the oldest of them
//	syncd_calls_synced_total{tenant,target}  calls whose record was stored
//	syncd_calls_failed_total{tenant,target}  calls the CRM refused for good
//	syncd_crm_requests_total{target,operation,status}
//	                                         requests to Salesforce and Kintone
//	syncd_crm_request_duration_seconds{target,operation}
//	syncd_salesforce_api_usage{tenant}       the org's daily API requests used
//	syncd_salesforce_api_limit{tenant}       and allowed (Sforce-Limit-Info)
//	syncd_push_latency_seconds{target}       outbox commit to stored record ID
//	syncd_river_jobs{queue,state}            River jobs not finalized, by queue
package metrics

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	syncdsql "github.com/koeiq/syncd/sql"
)

// Metrics records syncd's metrics into its own registry.
type Metrics struct {
	registry *prometheus.Registry

	synced        *prometheus.CounterVec
	failed        *prometheus.CounterVec
	matched       *prometheus.CounterVec
	requests      *prometheus.CounterVec
	requestTime   *prometheus.HistogramVec
	apiUsage      *prometheus.GaugeVec
	apiLimit      *prometheus.GaugeVec
	pushLatency   *prometheus.HistogramVec
	stateGathered prometheus.Collector
}

// New returns the metrics, with a collector that reads the outbox and
// River's queues from pool (whose connections use syncd's schema as
// search_path) on each scrape.
func New(pool *pgxpool.Pool, logger *slog.Logger) *Metrics {
	// An insert-only River client: it lists jobs in the scrape's
	// transaction and starts nothing. It cannot fail without a pool.
	rc, err := river.NewClient(riverpgxv5.New(nil), &river.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic("metrics: river client: " + err.Error())
	}
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		synced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncd_calls_synced_total", Help: "Calls whose CRM record was stored, by tenant and target.",
		}, []string{"tenant", "target"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncd_calls_failed_total", Help: "Calls the CRM refused for good (state failed), by tenant and target.",
		}, []string{"tenant", "target"}),
		matched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncd_calls_matched_total",
			Help: "Synced calls by the result of matching their phone to a Contact or Lead: matched, ambiguous, none, invalid_number, error.",
		}, []string{"tenant", "result"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncd_crm_requests_total", Help: "Requests to Salesforce and Kintone by target, operation and HTTP status (0: network error).",
		}, []string{"target", "operation", "status"}),
		requestTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "syncd_crm_request_duration_seconds", Help: "Time until a CRM's response headers arrived.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"target", "operation"}),
		apiUsage: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "syncd_salesforce_api_usage", Help: "API requests the tenant's org used in the last 24 hours (Sforce-Limit-Info).",
		}, []string{"tenant"}),
		apiLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "syncd_salesforce_api_limit", Help: "API requests the tenant's org may make in 24 hours (Sforce-Limit-Info).",
		}, []string{"tenant"}),
		pushLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "syncd_push_latency_seconds", Help: "Time from the outbox row's commit to the stored record ID.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600},
		}, []string{"target"}),
		stateGathered: &stateCollector{pool: pool, river: rc, logger: logger},
	}
	m.registry.MustRegister(m.synced, m.failed, m.matched, m.requests, m.requestTime, m.apiUsage, m.apiLimit, m.pushLatency,
		m.stateGathered,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is what /metrics serves.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// CallSynced records a stored record and how long after its outbox row's
// commit (committedAt) it was stored.
func (m *Metrics) CallSynced(tenant, target string, committedAt time.Time) {
	if m == nil {
		return
	}
	m.synced.WithLabelValues(tenant, target).Inc()
	m.pushLatency.WithLabelValues(target).Observe(time.Since(committedAt).Seconds())
}

// CallFailed records a call the CRM refused for good.
func (m *Metrics) CallFailed(tenant, target string) {
	if m == nil {
		return
	}
	m.failed.WithLabelValues(tenant, target).Inc()
}

// CallMatched records the result of matching a synced call's phone
// number: "matched", "ambiguous" (whatever the count), "none",
// "invalid_number" or "error".
func (m *Metrics) CallMatched(tenant, result string) {
	if m == nil {
		return
	}
	m.matched.WithLabelValues(tenant, result).Inc()
}

// Request records one request to a CRM; status 0 is a network error.
func (m *Metrics) Request(target, operation string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(target, operation, strconv.Itoa(status)).Inc()
	m.requestTime.WithLabelValues(target, operation).Observe(elapsed.Seconds())
}

// APIUsage records a tenant's Salesforce API budget as last reported.
func (m *Metrics) APIUsage(tenant string, used, limit int) {
	if m == nil {
		return
	}
	m.apiUsage.WithLabelValues(tenant).Set(float64(used))
	m.apiLimit.WithLabelValues(tenant).Set(float64(limit))
}

// stateCollector reads the outbox and River's queues on each scrape.
type stateCollector struct {
	pool   *pgxpool.Pool
	river  *river.Client[pgx.Tx]
	logger *slog.Logger
}

var (
	outboxWaitingDesc = prometheus.NewDesc("syncd_outbox_waiting",
		"Outbox rows committed but not dispatched yet.", nil, nil)
	outboxOldestDesc = prometheus.NewDesc("syncd_outbox_oldest_waiting_seconds",
		"Age of the oldest outbox row not dispatched yet (0 when none waits).", nil, nil)
	riverJobsDesc = prometheus.NewDesc("syncd_river_jobs",
		"River jobs not finalized, by queue and state: the queue depth.", []string{"queue", "state"}, nil)
	scrapeErrorDesc = prometheus.NewDesc("syncd_metrics_database_up",
		"1 when the last scrape could read the database, 0 when it could not.", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxWaitingDesc
	ch <- outboxOldestDesc
	ch <- riverJobsDesc
	ch <- scrapeErrorDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	up := 1.0
	if err := c.collect(ctx, ch); err != nil {
		c.logger.WarnContext(ctx, "metrics: read the outbox and River's queues", "error", err)
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrorDesc, prometheus.GaugeValue, up)
}

func (c *stateCollector) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	// One snapshot for the outbox and every page of River's jobs.
	var waiting syncdsql.OutboxWaiting
	var jobs map[queueState]int64
	err := pgx.BeginTxFunc(ctx, c.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		waiting, err = syncdsql.GetOutboxWaiting(ctx, tx)
		if err != nil {
			return err
		}
		jobs, err = c.countJobs(ctx, tx)
		return err
	})
	if err != nil {
		return err
	}
	ch <- prometheus.MustNewConstMetric(outboxWaitingDesc, prometheus.GaugeValue, float64(waiting.Count))
	ch <- prometheus.MustNewConstMetric(outboxOldestDesc, prometheus.GaugeValue, max(waiting.OldestSeconds, 0))
	for k, n := range jobs {
		ch <- prometheus.MustNewConstMetric(riverJobsDesc, prometheus.GaugeValue, float64(n), k.queue, string(k.state))
	}
	return nil
}

// queueState is a River queue and a job state.
type queueState struct {
	queue string
	state rivertype.JobState
}

// countJobs counts River's jobs that are not finalized by queue and state,
// listing them with River's JobListTx, a page at a time.
func (c *stateCollector) countJobs(ctx context.Context, tx pgx.Tx) (map[queueState]int64, error) {
	const page = 10_000 // JobListParams.First's most
	params := river.NewJobListParams().
		States(rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled).
		OrderBy(river.JobListOrderByID, river.SortOrderAsc).
		First(page)
	counts := map[queueState]int64{}
	for {
		res, err := c.river.JobListTx(ctx, tx, params)
		if err != nil {
			return nil, err
		}
		for _, job := range res.Jobs {
			counts[queueState{job.Queue, job.State}]++
		}
		if len(res.Jobs) < page {
			return counts, nil
		}
		params = params.After(res.LastCursor)
	}
}
