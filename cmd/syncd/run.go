package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/koeiq/syncd/admin"
	"github.com/koeiq/syncd/jobs"
	"github.com/koeiq/syncd/migrate"
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

	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	logger := cfg.logger(e.stderr)
	pool, err := cfg.openPool(ctx)
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
	client, err := jobs.NewClient(pool, &jobs.Config{Schema: cfg.schema, Logger: logger, Settings: store})
	if err != nil {
		return err
	}
	var servers []*server
	if cfg.jwtSecret == "" {
		logger.WarnContext(ctx, "admin API off: set SYNCD_ADMIN_JWT_SECRET to serve it")
	} else {
		h, err := admin.NewHandler(&admin.Config{Pool: pool, Settings: store, JWTSecret: []byte(cfg.jwtSecret), Logger: logger})
		if err != nil {
			return err
		}
		srv, err := listen(ctx, "admin API", cfg.listen, h, logger)
		if err != nil {
			return err
		}
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
	defer hardStop()
	go func() {
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
