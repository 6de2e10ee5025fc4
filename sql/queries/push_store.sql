-- Push job $3 stores what became of the calls it leased (of tenant $1,
-- target $2) and releases their leases. The arrays give, per call:
--   $4 call_id, $5 outcome, $6 record_id, $7 object_type, $8 outbox_id (the
--   outbox row whose payload was pushed), $9 error (the CRM's message),
--   $10 retry_after (seconds), $11 in_doubt (a create whose outcome is
--   unknown: in_doubt_until stays), and what call matching found and sent
--   (SPEC §5.6): $12 match (NULL: it did not run), $13 who_id and $14
--   who_type (NULL: no WhoId sent), $15 owner_id (NULL: no owner sent),
--   $16 owner_note (NULL: nothing to say). A synced call keeps the WhoId
--   and owner sent before when none is sent now.
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
    match          = CASE WHEN u.outcome = 'synced' THEN coalesce(u.match, r.match) ELSE r.match END,
    who_id         = CASE WHEN u.outcome = 'synced' AND u.who_id IS NOT NULL THEN u.who_id ELSE r.who_id END,
    who_type       = CASE WHEN u.outcome = 'synced' AND u.who_id IS NOT NULL THEN u.who_type ELSE r.who_type END,
    owner_id       = CASE WHEN u.outcome = 'synced' AND u.owner_id IS NOT NULL THEN u.owner_id ELSE r.owner_id END,
    owner_note     = CASE WHEN u.outcome = 'synced' THEN coalesce(u.owner_note, r.owner_note) ELSE r.owner_note END,
    lease_until    = NULL,
    updated_at     = now()
FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::float8[], $11::boolean[],
        $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
    AS u (call_id, outcome, record_id, object_type, outbox_id, error, retry_after, in_doubt,
          match, who_id, who_type, owner_id, owner_note)
WHERE r.tenant_id = $1 AND r.target = $2 AND r.call_id = u.call_id AND r.push_job_id = $3;
