package settings

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/koeiq/syncd/secrets"
	syncdsql "github.com/koeiq/syncd/sql"
)

// integration is what differs between the CRMs in saving a tenant's
// settings (In the change, Out the settings read back); save does the rest
// the same way for each. Each CRM's file declares its own.
type integration[In, Out any] struct {
	target      string // "salesforce" or "kintone": Config.AfterSave's target, and in errors
	secretName  string // the secret in errors: "salesforce client secret", "kintone api token"
	secretField string // the secret's JSON name: "client_secret", "api_token"
	purpose     func(tenantID string) secrets.Purpose
	table       syncdsql.SettingsTable

	validate func(s *Store, in In) (In, error)
	// input says whether in enables the integration, and the secret it
	// sets (nil keeps the stored one).
	input func(in In) (enabled bool, secret *string)
	// load reads the tenant's settings and its sealed secret (nil when none
	// is stored), or ErrNotFound.
	load func(s *Store, ctx context.Context, tenantID string) (*Out, []byte, error)
	// check is the live check of in with secret in clear, as a *CheckError
	// when the CRM refuses it.
	check func(s *Store, ctx context.Context, in In, secret string) error
	// upsert writes the settings, clearing any attention mark; sealed nil
	// keeps the stored secret.
	upsert func(ctx context.Context, tx pgx.Tx, tenantID string, in In, sealed []byte, by string) error
}

// save validates in, checks the tenant (and its pack when in enables the
// integration), seals a new secret or, when enabling without one, opens the
// stored one, runs the live check when enabling, and only then writes the
// settings and runs Config.AfterSave in one transaction. It returns the
// settings as saved.
func save[In, Out any](ctx context.Context, s *Store, it *integration[In, Out], tenantID string, in In, by string) (*Out, error) {
	in, err := it.validate(s, in)
	if err != nil {
		return nil, err
	}
	enabled, newSecret := it.input(in)
	if err := s.checkTenant(ctx, tenantID, enabled); err != nil {
		return nil, err
	}

	var sealed []byte
	var secret string
	if newSecret != nil {
		secret = *newSecret
		sealed = s.keys.Seal(secret, it.purpose(tenantID))
	} else if enabled {
		// Keep the stored secret; the check needs it in clear.
		_, secret, err = it.open(ctx, s, tenantID)
		if errors.Is(err, ErrNotFound) || (err == nil && secret == "") {
			return nil, &ValidationError{it.secretField, "is required to enable the integration"}
		}
		if err != nil {
			return nil, err
		}
	}

	if enabled {
		if err := it.check(s, ctx, in, secret); err != nil {
			return nil, err
		}
	}

	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := it.upsert(ctx, tx, tenantID, in, sealed, by); err != nil {
			return err
		}
		return s.afterSave(ctx, tx, tenantID, it.target)
	})
	if err != nil {
		return nil, fmt.Errorf("settings: save %s settings of %q: %w", it.target, tenantID, err)
	}
	return it.get(ctx, s, tenantID)
}

// get returns the tenant's settings, or ErrNotFound.
func (it *integration[In, Out]) get(ctx context.Context, s *Store, tenantID string) (*Out, error) {
	v, _, err := it.load(s, ctx, tenantID)
	return v, err
}

// open returns the tenant's settings and its secret opened ("" when none is
// stored), or ErrNotFound. The error names the secret, never its value.
func (it *integration[In, Out]) open(ctx context.Context, s *Store, tenantID string) (*Out, string, error) {
	v, sealed, err := it.load(s, ctx, tenantID)
	if err != nil || sealed == nil {
		return v, "", err
	}
	secret, err := s.keys.Open(sealed, it.purpose(tenantID))
	if err != nil {
		return nil, "", fmt.Errorf("settings: %s of %q: %w", it.secretName, tenantID, err)
	}
	return v, secret, nil
}

// openSet is open for testing the stored settings: settings without a
// stored secret are a *ValidationError naming it.
func (it *integration[In, Out]) openSet(ctx context.Context, s *Store, tenantID string) (*Out, string, error) {
	v, secret, err := it.open(ctx, s, tenantID)
	if err == nil && secret == "" {
		return nil, "", &ValidationError{it.secretField, "is not set"}
	}
	return v, secret, err
}

// getSettings reads the tenant's settings row of target with get, or
// ErrNotFound.
func getSettings[Row any](ctx context.Context, s *Store, target, tenantID string,
	get func(context.Context, syncdsql.DBTX, string) (Row, error)) (Row, error) {
	row, err := get(ctx, s.pool, tenantID)
	if errors.Is(err, pgx.ErrNoRows) {
		return row, ErrNotFound
	}
	if err != nil {
		return row, fmt.Errorf("settings: %s settings of %q: %w", target, tenantID, err)
	}
	return row, nil
}

// markAttention records that the CRM refused the tenant's credentials,
// unless the settings changed since version.
func (it *integration[In, Out]) markAttention(ctx context.Context, s *Store, tenantID string, version time.Time, reason string) error {
	if err := syncdsql.MarkAttention(ctx, s.pool, it.table, tenantID, version, reason); err != nil {
		return fmt.Errorf("settings: mark %s settings of %q: %w", it.target, tenantID, err)
	}
	return nil
}
