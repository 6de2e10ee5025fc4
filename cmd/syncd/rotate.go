package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/koeiq/syncd/settings"
)

// cmdRotateSecrets runs `syncd rotate-secrets`: it re-seals under
// SYNCD_SECRET_KEY every stored secret that only SYNCD_SECRET_KEY_PREVIOUS
// opens, 100 a transaction, so that the previous key can be dropped (see
// the README's runbook). It is idempotent. A secret that opens with neither
// key is left as it is, and makes the command fail (exit 1) once every other
// secret is done. Neither secrets nor keys are ever printed.
func cmdRotateSecrets(ctx context.Context, e *env, args []string) error {
	if err := parseFlags(newFlagSet(e, "rotate-secrets"), args); err != nil {
		return err
	}
	return withStore(ctx, e, func(store *settings.Store) error { return rotateSecrets(ctx, e, store) })
}

// rotateSecrets re-seals the store's secrets and reports on stdout.
func rotateSecrets(ctx context.Context, e *env, store *settings.Store) error {
	if e.getenv("SYNCD_SECRET_KEY_PREVIOUS") == "" {
		fmt.Fprintln(e.stdout, "SYNCD_SECRET_KEY_PREVIOUS is not set: only checking that every secret opens with SYNCD_SECRET_KEY")
	}

	report, err := store.ResealSecrets(ctx)
	var unopenable *settings.UnopenableError
	if err != nil && !errors.As(err, &unopenable) {
		return fmt.Errorf("%w (re-sealed before that: %d)", err, report.Resealed)
	}
	fmt.Fprintf(e.stdout, "re-sealed under SYNCD_SECRET_KEY: %d; already sealed under it: %d\n", report.Resealed, report.Current)
	if unopenable != nil {
		return fmt.Errorf("%w: neither SYNCD_SECRET_KEY nor SYNCD_SECRET_KEY_PREVIOUS sealed them; they were left as they are "+
			"and every other secret is done. Give the key that sealed them as SYNCD_SECRET_KEY_PREVIOUS, "+
			"or have those tenants save their settings again", err)
	}
	return nil
}
