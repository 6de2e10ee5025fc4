-- Push job $3 stores what became of the calls it leased (of tenant $1,
-- target $2) and releases their leases. The arrays give, per call:
--   $4 call_id, $5 outcome, $6 record_id, $7 object_type, $8 outbox_id (the
--   outbox row whose payload was pushed), $9 error (the CRM's message),
--   $10 retry_after (seconds), $11 in_doubt (a create whose outcome is
--   unknown: in_doubt_until stays).
-- Outcomes:
--   synced:   the CRM holds the record; its ID is kept.
--   failed:   the CRM refused it for good (or it failed too often).
--   retry:    an attempt failed; try again after retry_after seconds.
--   released: not sent (the tenant was paused, the job ended first): no
--             attempt is spent.
-- A newer outbox row queued meanwhile keeps the record pending: the next
-- push sends it. Rows whose lease another job took meanwhile are left alone.
UPDATE sync_records r
SET record_id      = CASE WHEN u.outcome = 'synced' THEN u.record_id ELSE r.record_id END,
    object_type    = CASE WHEN u.outcome = 'synced' THEN u.object_type ELSE r.object_type END,
    outbox_id      = CASE WHEN u.outcome = 'synced' THEN u.outbox_id ELSE r.outbox_id END,
    synced_at      = CASE WHEN u.outcome = 'synced' THEN now() ELSE r.synced_at END,
    state          = CASE
                         WHEN r.queued_outbox_id > u.outbox_id THEN 'pending'
                         WHEN u.outcome IN ('synced', 'failed') THEN u.outcome
                         ELSE 'pending'
                     END,
    last_error     = CASE WHEN u.outcome = 'synced' THEN NULL ELSE coalesce(u.error, r.last_error) END,
    attempts       = r.attempts + CASE WHEN u.outcome = 'released' THEN 0 ELSE 1 END,
    retry_at       = CASE
                         WHEN u.outcome = 'retry' AND r.queued_outbox_id <= u.outbox_id
                             THEN now() + make_interval(secs => u.retry_after)
                     END,
    in_doubt_until = CASE WHEN u.in_doubt THEN r.in_doubt_until END,
    lease_until    = NULL,
    updated_at     = now()
FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::float8[], $11::boolean[])
    AS u (call_id, outcome, record_id, object_type, outbox_id, error, retry_after, in_doubt)
WHERE r.tenant_id = $1 AND r.target = $2 AND r.call_id = u.call_id AND r.push_job_id = $3;
