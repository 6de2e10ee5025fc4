package settings

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/koeiq/syncd/secrets"
	syncdsql "github.com/koeiq/syncd/sql"
)

// ResealReport is what ResealSecrets did.
type ResealReport struct {
	// Resealed counts the secrets that opened only with one of
	// Config.PreviousKeys and are now sealed under Config.Key.
	Resealed int
	// Current counts the secrets already sealed under Config.Key, left as
	// they were.
	Current int
	// Unopenable names the secrets that open with no key ("kintone api
	// token of tenant t1"), left as they were.
	Unopenable []secrets.Purpose
}

// UnopenableError is returned by ResealSecrets when some stored secrets open
// with no key of the Store. Those rows were left as they are; every other
// secret was re-sealed. The tenants must save those settings again (or the
// key that sealed them must be given as a previous key). It matches
// secrets.ErrCannotOpen with errors.Is.
type UnopenableError struct {
	// Secrets names where each unopenable secret belongs.
	Secrets []secrets.Purpose
}

func (e *UnopenableError) Error() string {
	const show = 5
	names := make([]string, 0, show)
	for _, p := range e.Secrets[:min(len(e.Secrets), show)] {
		names = append(names, string(p))
	}
	list := strings.Join(names, ", ")
	if len(e.Secrets) > show {
		list += fmt.Sprintf(" and %d more", len(e.Secrets)-show)
	}
	return fmt.Sprintf("settings: stored secrets that open with no key: %d (%s)", len(e.Secrets), list)
}

func (e *UnopenableError) Unwrap() error { return secrets.ErrCannotOpen }

// resealTable is one table of sealed secrets.
type resealTable struct {
	name    string
	table   syncdsql.SettingsTable
	purpose func(tenantID string) secrets.Purpose
}

var resealTables = []resealTable{
	{"salesforce client secrets", syncdsql.SalesforceSettingsTable, secrets.SalesforceClientSecret},
	{"kintone api tokens", syncdsql.KintoneSettingsTable, secrets.KintoneAPIToken},
}

// ResealSecrets seals every stored secret (Salesforce client secrets,
// Kintone API tokens) that opens only with one of Config.PreviousKeys anew
// under Config.Key, so that the previous keys can be dropped. It works
// through each table in tenant order, Config.ResealBatchSize rows a
// transaction, waiting for rows being saved. It is idempotent: a secret the
// current key opens is left alone and counted in Current.
//
// Nothing else of the settings changes: not updated_at (the settings
// version, by which the daemon keeps its CRM clients and marks attention),
// not updated_by, not attention. A secret that opens with no key is left as
// it is and the others are re-sealed; ResealSecrets then returns the report
// with an *UnopenableError. The report counts what was done before any other
// error too.
func (s *Store) ResealSecrets(ctx context.Context) (*ResealReport, error) {
	r := &ResealReport{}
	for _, t := range resealTables {
		after := ""
		for {
			n, last, err := s.resealBatch(ctx, t, after, r)
			if err != nil {
				return r, fmt.Errorf("settings: re-seal %s after tenant %q: %w", t.name, after, err)
			}
			if n < s.cfg.ResealBatchSize {
				break
			}
			after = last
		}
	}
	if len(r.Unopenable) > 0 {
		return r, &UnopenableError{Secrets: r.Unopenable}
	}
	return r, nil
}

// resealBatch re-seals, in one transaction, the batch of t's secrets after
// tenant after, adds what it did to r, and returns how many rows it read
// and the last tenant.
func (s *Store) resealBatch(ctx context.Context, t resealTable, after string, r *ResealReport) (n int, last string, err error) {
	var done ResealReport
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		done, n, last = ResealReport{}, 0, after
		var tenants []string
		var old, resealed [][]byte
		locked, err := syncdsql.LockSecrets(ctx, tx, t.table, after, s.cfg.ResealBatchSize)
		if err != nil {
			return err
		}
		for _, row := range locked {
			n, last = n+1, row.TenantID
			purpose := t.purpose(row.TenantID)
			v, err := s.keys.Reseal(row.Sealed, purpose)
			switch {
			case errors.Is(err, secrets.ErrCannotOpen):
				done.Unopenable = append(done.Unopenable, purpose)
			case err != nil:
				return err
			case v == nil:
				done.Current++
			default:
				tenants, old, resealed = append(tenants, row.TenantID), append(old, row.Sealed), append(resealed, v)
			}
		}
		if len(tenants) == 0 {
			return nil
		}
		stored, err := syncdsql.StoreSecrets(ctx, tx, t.table, tenants, old, resealed)
		done.Resealed = int(stored)
		return err
	})
	if err != nil {
		return 0, "", err
	}
	r.Resealed += done.Resealed
	r.Current += done.Current
	r.Unopenable = append(r.Unopenable, done.Unopenable...)
	return n, last, nil
}
