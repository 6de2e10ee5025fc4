package syncd_test

import (
	"context"
	"testing"
	"time"

	"github.com/koeiq/syncd/outbox"
)

// A pipeline marks calls analysed and enqueues them in the same
// transaction; committed calls are dispatched once, rolled-back ones leave
// nothing.
func TestPipelineTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t)
	s.exec(t, "CREATE TABLE public.calls (id text PRIMARY KEY, state text NOT NULL)")
	s.exec(t, "INSERT INTO public.calls VALUES ('c1', 'recorded'), ('c2', 'recorded')")
	s.exec(t, "INSERT INTO tenants (id, audit_export_pack) VALUES ('t1', true)")
	s.exec(t, `INSERT INTO salesforce_settings (tenant_id, enabled, instance_url, client_id, client_secret_encrypted)
		VALUES ('t1', true, 'https://acme.my.salesforce.com', 'id', '\x00')`)

	analyse := func(callID string, commit bool) {
		t.Helper()
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		if _, err := tx.Exec(ctx, "UPDATE public.calls SET state = 'analysed' WHERE id = $1", callID); err != nil {
			t.Fatal(err)
		}
		if _, err := outbox.Enqueue(ctx, tx, outbox.Event{TenantID: "t1", CallID: callID, Type: outbox.CallAnalysed,
			Payload: outbox.Payload{StartedAt: time.Now(), DurationSeconds: 42}}); err != nil {
			t.Fatal(err)
		}
		if commit {
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	analyse("c1", true)
	analyse("c2", false)

	waitFor(t, 10*time.Second, "c1's push job", func() bool {
		return s.count(t, "SELECT count(*) FROM river_job WHERE kind = 'salesforce_push' AND args->>'call_id' = 'c1'") == 1
	})
	if n := s.count(t, "SELECT count(*) FROM public.calls WHERE state = 'analysed'"); n != 1 {
		t.Errorf("%d calls analysed, want 1", n)
	}
	if n := s.count(t, "SELECT count(*) FROM outbox WHERE call_id = 'c2'") + s.count(t, "SELECT count(*) FROM river_job WHERE args->>'call_id' = 'c2'"); n != 0 {
		t.Errorf("rolled-back call left %d rows and jobs", n)
	}
	if n := s.count(t, "SELECT count(*) FROM sync_records WHERE call_id = 'c1' AND target = 'salesforce' AND object_type = 'Task'"); n != 1 {
		t.Errorf("%d sync records for c1, want 1", n)
	}
}
