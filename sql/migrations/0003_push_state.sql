-- syncd schema version 3: the push path's state lives in PostgreSQL, shared
-- by every replica (SPEC §5.4, §8).
--
-- A push job claims a batch of one tenant's pending calls (FOR UPDATE SKIP
-- LOCKED) and leases them: lease_until is short and renewed while the job's
-- requests live, so a call whose worker died is workable again when its
-- lease runs out. push_job_id now names the River job that holds, or last
-- held, the call's lease: the job that pushed it, whose output in the River
-- UI lists the calls it pushed, their outcomes and record IDs.
--
-- in_doubt_until is set before a create is sent on the look-up path (no
-- external ID field): if its outcome stays unknown (timeout, connection lost
-- after sending), Salesforce may still commit it, so the call is not looked
-- up again, nor pushed by anyone, before then (SYNCD_IN_DOUBT_WAIT).
--
-- retry_at holds a call back after a failed attempt (backoff).
ALTER TABLE sync_records
    ADD COLUMN in_doubt_until timestamptz,
    ADD COLUMN retry_at       timestamptz;

-- Push jobs claim a tenant's pending calls, oldest analysis first.
DROP INDEX sync_records_pending_idx;
CREATE INDEX sync_records_pending_idx ON sync_records (tenant_id, target, queued_outbox_id) WHERE state = 'pending';

-- What every replica must know of one tenant's org (target 'salesforce') or
-- app ('kintone'): a pause after REQUEST_LIMIT_EXCEEDED, and the daily API
-- budget last reported by Sforce-Limit-Info. (Refused credentials park the
-- tenant through its settings' attention column.)
CREATE TABLE org_state (
    tenant_id    text NOT NULL,
    target       text NOT NULL CHECK (target IN ('salesforce', 'kintone')),
    paused_until timestamptz,
    pause_reason text,
    api_used     integer,
    api_max      integer,
    api_at       timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, target)
);

-- Request slots of one org: a push job holds one while its requests are in
-- flight, so that at most SYNCD_TENANT_CONCURRENCY requests reach an org from
-- all replicas together. A slot is free when lease_until is NULL or past; a
-- job renews its lease while it runs, and a replica that dies frees its slots
-- when their leases run out.
CREATE TABLE push_slots (
    tenant_id   text NOT NULL,
    target      text NOT NULL CHECK (target IN ('salesforce', 'kintone')),
    slot        integer NOT NULL CHECK (slot >= 0),
    job_id      bigint,
    lease_until timestamptz,
    PRIMARY KEY (tenant_id, target, slot)
);

-- Fair dispatch claims each tenant's undispatched rows in turn.
CREATE INDEX outbox_undispatched_tenant_idx ON outbox (tenant_id, id) WHERE dispatched_at IS NULL;

-- Version 2 pushed each call with a job of its own, on the salesforce or
-- backlog queue; a push job now pushes a batch of its tenant's calls, on its
-- target's queue. Waiting jobs of the old backlog queue move over (their
-- args name their tenant, which is all a push job needs).
UPDATE river_job SET queue = 'salesforce'
WHERE queue = 'backlog' AND state IN ('available', 'pending', 'retryable', 'scheduled');
