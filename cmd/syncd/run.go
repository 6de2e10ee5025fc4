package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/koeiq/syncd/admin"
	"github.com/koeiq/syncd/jobs"
	"github.com/koeiq/syncd/metrics"
	"github.com/koeiq/syncd/migrate"
	"github.com/koeiq/syncd/ops"
)

// cmdRun runs the daemon until SIGINT or SIGTERM, then stops gracefully:
// running jobs may finish, and are released to run again if they do not
// finish in time. A second signal stops at once.
func cmdRun(ctx context.Context, e *env, args []string) error {
	if err := parseFlags(newFlagSet(e, "run"), args); err != nil {
		return err
	}
	// The first signal (or the end of ctx) stops gracefully, a second one
	// at once.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)

	cfg, logger, pool, err := connect(ctx, e)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrate.Check(ctx, pool, &migrate.Config{Schema: cfg.schema}); err != nil {
		return err
	}

	store, err := cfg.settingsStore(pool)
	if err != nil {
		return err
	}
	m := metrics.New(pool, logger)
	pushCfg := cfg.push // the tuning from the environment
	pushCfg.Schema, pushCfg.Logger, pushCfg.Settings, pushCfg.Metrics = cfg.schema, logger, store, m
	pushCfg.OutboxRetention, pushCfg.SkippedRetention = cfg.retention, cfg.skippedRetention
	client, err := jobs.NewClient(pool, &pushCfg)
	if err != nil {
		return err
	}

	opsCtx, stopOps := context.WithCancel(context.WithoutCancel(ctx))
	defer stopOps()
	opsHandler, err := ops.NewHandler(opsCtx, &ops.Config{
		River: client.River(), Metrics: m, User: cfg.opsUser, Password: cfg.opsPassword, Logger: logger,
		Addr: cfg.opsListen, AllowedHosts: cfg.opsAllowedHosts,
		Ready: readiness(pool, cfg.schema, client, logger),
	})
	if err != nil {
		return err
	}
	opsServer, err := listen(ctx, "ops listener (River UI, metrics, health)", cfg.opsListen, opsHandler, logger)
	if err != nil {
		return err
	}
	defer opsServer.shutdown(context.WithoutCancel(ctx)) // on early returns; stopping twice is harmless
	servers := []*server{opsServer}
	if cfg.jwtSecret == "" {
		logger.WarnContext(ctx, "admin API off: set SYNCD_ADMIN_JWT_SECRET to serve it")
	} else {
		h, err := admin.NewHandler(&admin.Config{Pool: pool, Settings: store, Schema: cfg.schema,
			BudgetHoldShare: cfg.push.BudgetHoldShare, JWTSecret: []byte(cfg.jwtSecret),
			JWTIssuer: cfg.jwtIssuer, JWTAudience: cfg.jwtAudience, Logger: logger})
		if err != nil {
			return err
		}
		srv, err := listen(ctx, "admin API", cfg.listen, h, logger)
		if err != nil {
			return err
		}
		defer srv.shutdown(context.WithoutCancel(ctx))
		servers = append(servers, srv)
	}

	if err := client.Start(ctx); err != nil {
		return err
	}
	logger.InfoContext(ctx, "syncd running", "schema", cfg.schema)

	select {
	case <-ctx.Done():
	case <-signals:
	}
	logger.InfoContext(ctx, "stopping: running jobs may finish; signal again to stop at once")
	stopCtx, hardStop := context.WithCancel(context.WithoutCancel(ctx))
	watched := make(chan struct{}) // the second-signal watcher returned
	defer func() { hardStop(); <-watched }()
	go func() {
		defer close(watched)
		select {
		case <-signals:
			hardStop()
		case <-stopCtx.Done():
		}
	}()
	for _, srv := range servers {
		srv.shutdown(stopCtx)
	}
	if err := client.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	logger.InfoContext(ctx, "syncd stopped")
	return nil
}

// readiness says why syncd is not ready: the database does not answer, the
// schema is not migrated, River does not run. Details go to the log, not to
// the unauthenticated /readyz.
func readiness(pool *pgxpool.Pool, schema string, client *jobs.Client, logger *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := pool.Ping(ctx); err != nil {
			logger.WarnContext(ctx, "not ready: database", "error", err)
			return errors.New("the database does not answer")
		}
		if err := migrate.Check(ctx, pool, &migrate.Config{Schema: schema}); err != nil {
			logger.WarnContext(ctx, "not ready: schema", "error", err)
			return errors.New("the schema is not migrated")
		}
		if !client.Running() {
			return errors.New("River is not running")
		}
		return nil
	}
}
