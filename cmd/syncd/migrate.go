package main

import (
	"context"

	"github.com/koeiq/syncd/migrate"
)

// cmdMigrate brings the schema up to date.
func cmdMigrate(ctx context.Context, e *env, args []string) error {
	if err := parseFlags(newFlagSet(e, "migrate"), args); err != nil {
		return err
	}
	cfg, logger, pool, err := connect(ctx, e)
	if err != nil {
		return err
	}
	defer pool.Close()

	res, err := migrate.Up(ctx, pool, &migrate.Config{Schema: cfg.schema, Logger: logger})
	if err != nil {
		return err
	}
	logger.InfoContext(ctx, "schema up to date", "schema", cfg.schema, "river_applied", len(res.River), "syncd_applied", len(res.Syncd))
	return nil
}
