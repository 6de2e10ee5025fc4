package main

import (
	"context"
	"fmt"
	"time"

	"github.com/koeiq/syncd/admin"
)

// cmdAdminToken mints a development token for the admin API, signed with
// SYNCD_ADMIN_JWT_SECRET.
func cmdAdminToken(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "admin-token")
	tenant := fs.String("tenant", "", "tenant ID (required)")
	sub := fs.String("sub", "dev@localhost", "who the token speaks for (recorded as updated_by)")
	role := fs.String("role", admin.RoleAdmin, "role claim")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("%w: --tenant is required", errUsage)
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	if cfg.jwtSecret == "" {
		return fmt.Errorf("set SYNCD_ADMIN_JWT_SECRET (at least %d bytes) to the secret syncd run uses", admin.MinSecretLength)
	}
	token, err := admin.MintToken([]byte(cfg.jwtSecret), *tenant, *role, *sub, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, token)
	return nil
}
