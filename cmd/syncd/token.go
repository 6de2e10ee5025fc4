package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/koeiq/syncd/admin"
)

// cmdAdminToken mints a development token for the admin API, signed with
// SYNCD_ADMIN_JWT_SECRET and carrying the iss and aud that syncd run
// requires (SYNCD_ADMIN_JWT_ISSUER, SYNCD_ADMIN_JWT_AUDIENCE) unless
// --issuer or --audience say otherwise.
func cmdAdminToken(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "admin-token")
	tenant := fs.String("tenant", "", "tenant ID (required)")
	sub := fs.String("sub", "dev@localhost", "who the token speaks for (recorded as updated_by)")
	role := fs.String("role", admin.RoleAdmin, "role claim")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	issuer := fs.String("issuer", "", "iss claim (default $SYNCD_ADMIN_JWT_ISSUER; \"\" for none)")
	audience := fs.String("audience", "", "aud claim (default $SYNCD_ADMIN_JWT_AUDIENCE; \"\" for none)")
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
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["issuer"] {
		*issuer = cfg.jwtIssuer
	}
	if !given["audience"] {
		*audience = cfg.jwtAudience
	}
	token, err := (&admin.Token{TenantID: *tenant, Role: *role, Subject: *sub, Issuer: *issuer, Audience: *audience, TTL: *ttl}).Sign([]byte(cfg.jwtSecret))
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, token)
	return nil
}
