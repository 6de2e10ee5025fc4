package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/koeiq/syncd/migrate"
)

// ResumePushes returns the hook for settings.Config.AfterSave. Run in the
// transaction that saves a tenant's settings for a target ("salesforce" or
// "kintone"), it makes the tenant's push jobs of that target that wait for
// a later time (parked for refused credentials, snoozed for a pause or a
// spent API budget, waiting to retry) available at once, through River's
// JobListTx and JobRetryTx: the new settings get their chance now, and not
// at all if the save rolls back. Running jobs are left alone.
//
// schema holds River's tables, as Config.Schema. Defaults to "syncd". The
// hook needs no running Client: `syncd settings` saves without one.
func ResumePushes(schema string) (func(ctx context.Context, tx pgx.Tx, tenantID, target string) error, error) {
	schema = cmp.Or(schema, migrate.DefaultSchema)
	if err := migrate.ValidateSchema(schema); err != nil {
		return nil, err
	}
	// An insert-only client: it works in the caller's transaction and starts
	// nothing.
	rc, err := river.NewClient(riverpgxv5.New(nil), &river.Config{Schema: schema, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	return func(ctx context.Context, tx pgx.Tx, tenantID, target string) error {
		return resumePushes(ctx, rc, tx, tenantID, target)
	}, nil
}

// resumePushes makes tenantID's waiting push jobs of target due now, in tx.
func resumePushes(ctx context.Context, rc *river.Client[pgx.Tx], tx pgx.Tx, tenantID, target string) error {
	var kind string
	switch target {
	case "salesforce":
		kind = SalesforcePushArgs{}.Kind()
	case "kintone":
		kind = KintonePushArgs{}.Kind()
	default:
		return fmt.Errorf("jobs: resume pushes: unknown target %q", target)
	}
	// Both push args are {"tenant_id": ...}.
	tenantArgs, err := json.Marshal(SalesforcePushArgs{TenantID: tenantID})
	if err != nil {
		return err
	}
	params := river.NewJobListParams().
		Kinds(kind).
		States(rivertype.JobStateAvailable, rivertype.JobStateRetryable, rivertype.JobStateScheduled).
		Where("args @> @tenant_args::jsonb AND scheduled_at > now()", river.NamedArgs{"tenant_args": string(tenantArgs)}).
		OrderBy(river.JobListOrderByID, river.SortOrderAsc).
		First(100)
	for {
		res, err := rc.JobListTx(ctx, tx, params)
		if err != nil {
			return fmt.Errorf("jobs: list the waiting pushes of %q: %w", tenantID, err)
		}
		for _, job := range res.Jobs {
			if _, err := rc.JobRetryTx(ctx, tx, job.ID); err != nil {
				return fmt.Errorf("jobs: resume push job %d of %q: %w", job.ID, tenantID, err)
			}
		}
		if len(res.Jobs) < 100 {
			return nil
		}
		params = params.After(res.LastCursor)
	}
}
