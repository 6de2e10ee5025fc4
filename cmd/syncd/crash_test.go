package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/koeiq/syncd/internal/pgtest"
	"github.com/koeiq/syncd/salesforce/salesforcetest"
)

// A replica killed with SIGKILL while its batches are in flight: the
// survivor pushes its calls again once their leases run out, within a minute
// of the death, and every call ends with exactly one record. On the upsert
// path (external ID) nothing waits; on the look-up path (Task) the creates
// the dead replica had sent are in doubt and wait out SYNCD_IN_DOUBT_WAIT
// before their calls are looked up, so the records that landed after the
// death are found, not created twice.
func TestKilledReplicaCallsArePushedOnceBySurvivor(t *testing.T) {
	t.Parallel()
	connString, pool, secretKey, store := newDatabase(t)
	sim := newSimulator(t)
	orgs := map[string]*salesforcetest.Org{}
	for _, tn := range []struct{ id, object string }{{"ext", "Call_Recording__c"}, {"task", "Task"}} {
		org := addSalesforceTenant(t, store, sim, tn.id, tn.object)
		org.SetLatency(3 * time.Second) // the dead replica's requests are in flight when it dies
		orgs[tn.id] = org
	}
	const inDoubt = 10 * time.Second
	environ := daemonEnv(connString, secretKey)
	environ["SYNCD_IN_DOUBT_WAIT"] = inDoubt.String()
	environ["SYNCD_BATCH_SIZE"] = "10"

	// The replica to kill: a real process.
	doomed := exec.Command(os.Args[0], "run")
	doomed.Env = append(os.Environ(), "SYNCD_TEST_MAIN=1")
	for k, v := range environ {
		doomed.Env = append(doomed.Env, k+"="+v)
	}
	doomed.Stderr = io.Discard
	if err := doomed.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = doomed.Process.Kill() })

	const calls = 40
	for tenant := range orgs {
		for i := range calls {
			call := fmt.Sprintf("%s-%d", tenant, i)
			pgtest.Exec(t, pool, `SELECT enqueue($1, $2, 'call.analysed', jsonb_build_object('call_id', $2::text,
				'started_at', '2026-05-01T09:00:00Z', 'duration_seconds', 5))`, tenant, call)
		}
	}
	pgtest.WaitFor(t, 30*time.Second, "both orgs to have requests of the doomed replica in flight", func() bool {
		return orgs["ext"].InFlight() > 0 && orgs["task"].InFlight() > 0
	})
	if err := doomed.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = doomed.Wait()
	died := time.Now()
	leased := pgtest.Count(t, pool, "SELECT count(*) FROM sync_records WHERE lease_until > now()")
	if leased == 0 {
		t.Fatal("the dead replica held no leases; the test proves nothing")
	}

	// The survivor.
	start(t, environ, "run")
	// SPEC §5.4: pushed again within a minute of the death.
	pgtest.WaitFor(t, time.Minute-time.Since(died), "the upsert tenant's calls to sync", func() bool {
		return pgtest.Count(t, pool, "SELECT count(*) FROM sync_records WHERE tenant_id = 'ext' AND state = 'synced'") == calls
	})
	pgtest.WaitFor(t, time.Minute+inDoubt-time.Since(died), "the Task tenant's calls to sync", func() bool {
		return pgtest.Count(t, pool, "SELECT count(*) FROM sync_records WHERE tenant_id = 'task' AND state = 'synced'") == calls
	})

	for tenant, org := range orgs {
		object, field := "Call_Recording__c", "call_id__c"
		if tenant == "task" {
			object, field = "Task", "Subject"
		}
		records := map[string]int{}
		for _, r := range org.Records(object) {
			call, _ := r[field].(string)
			call = strings.TrimPrefix(call, "KoeIQ Call — ")
			records[call]++
			id, _ := r["Id"].(string)
			if n := pgtest.Count(t, pool, "SELECT count(*) FROM sync_records WHERE call_id = $1 AND record_id = $2", call, id); n != 1 {
				t.Errorf("%s record %s of %s is not the stored one", tenant, id, call)
			}
		}
		if len(records) != calls {
			t.Errorf("%s: records for %d calls, want %d", tenant, len(records), calls)
		}
		for call, n := range records {
			if n != 1 {
				t.Errorf("%s: %d records for call %s, want 1", tenant, n, call)
			}
		}
	}
}
