-- Take the lease on a call's sync record for one push attempt ($4 seconds)
-- by job $5 and return what the push needs: the stored record, whether this
-- is the call's first attempt (no record of it can exist in the CRM yet), the
-- newest queued payload and the tenant's time zone. Returns no row when the record
-- does not exist or another worker holds the lease. The job no longer waits:
-- from now on a newer analysis gets a push job of its own.
WITH leased AS (
    UPDATE sync_records
    SET lease_until = now() + make_interval(secs => $4),
        leases = leases + 1,
        push_job_id = CASE WHEN push_job_id = $5 THEN NULL ELSE push_job_id END
    WHERE tenant_id = $1 AND call_id = $2 AND target = $3
      AND (lease_until IS NULL OR lease_until < now())
    RETURNING tenant_id, record_id, object_type, queued_outbox_id, leases
)
SELECT leased.record_id, leased.object_type, leased.leases = 1, leased.queued_outbox_id,
    outbox.payload, outbox.created_at, tenants.timezone
FROM leased
LEFT JOIN outbox ON outbox.id = leased.queued_outbox_id
LEFT JOIN tenants ON tenants.id = leased.tenant_id;
