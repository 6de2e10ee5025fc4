-- syncd schema version 1: tenants, their CRM settings, the outbox the call
-- pipeline writes, and one sync record per call and CRM target.
--
-- Runs with search_path set to syncd's schema, so nothing here names it.

-- A tenant of KoeIQ. The integration needs the Audit & Export Pack
-- (audit_export_pack); analytics_enabled decides which event creates the CRM
-- record (SPEC §4.2); timezone is the IANA zone used for the call's date.
CREATE TABLE tenants (
    id                text PRIMARY KEY CHECK (id <> '' AND char_length(id) <= 200),
    name              text NOT NULL DEFAULT '',
    audit_export_pack boolean NOT NULL DEFAULT false,
    analytics_enabled boolean NOT NULL DEFAULT true,
    timezone          text NOT NULL DEFAULT 'UTC',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- True when tz is a time zone name PostgreSQL knows (IANA names such as
-- Asia/Tokyo).
CREATE FUNCTION is_timezone(tz text) RETURNS boolean
LANGUAGE sql STABLE
SET search_path FROM CURRENT
AS $$
    SELECT EXISTS (SELECT FROM pg_timezone_names WHERE name = tz)
$$;

ALTER TABLE tenants ADD CONSTRAINT tenants_timezone_check CHECK (is_timezone(timezone));

-- How to reach the tenant's Salesforce org (SPEC §5). The client secret is
-- stored only encrypted with AES-256-GCM under SYNCD_SECRET_KEY
-- (12-byte nonce followed by the sealed secret); NULL until one is given.
--
-- attention is NULL while the integration works; when Salesforce refuses the
-- credentials it says why, and the tenant's pushes wait until the settings
-- are saved again.
CREATE TABLE salesforce_settings (
    tenant_id               text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    enabled                 boolean NOT NULL DEFAULT false,
    instance_url            text NOT NULL,
    client_id               text NOT NULL,
    client_secret_encrypted bytea,
    object_type             text NOT NULL DEFAULT 'Task'
        CHECK (object_type = 'Task' OR object_type ~ '^[A-Za-z][A-Za-z0-9_]*__c$'),
    external_id_field       text
        CHECK (external_id_field IS NULL OR external_id_field ~ '^[A-Za-z][A-Za-z0-9_]*__c$'),
    attention               text,
    attention_at            timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    updated_by              text NOT NULL DEFAULT ''
);

-- How to reach the tenant's Kintone app. The API token is stored only
-- encrypted, like the Salesforce client secret; NULL until one is given.
CREATE TABLE kintone_settings (
    tenant_id           text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    enabled             boolean NOT NULL DEFAULT false,
    base_url            text NOT NULL,
    app_id              bigint NOT NULL CHECK (app_id > 0),
    api_token_encrypted bytea,
    attention           text,
    attention_at        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    updated_by          text NOT NULL DEFAULT ''
);

-- The outbox. The call pipeline adds a row with enqueue() in the same
-- transaction that marks the call transcribed or analysed. A row is
-- undispatched while dispatched_at is NULL; dispatch then records its
-- outcome: 'queued' (a push job was inserted), 'ignored' (this event does not
-- create a record for the tenant) or 'skipped: <reason>' (kept for a later
-- backfill).
--
-- tenant_id has no foreign key on purpose: a row for a tenant syncd does not
-- know must not fail the pipeline's transaction; it is skipped instead.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    tenant_id     text NOT NULL,
    call_id       text NOT NULL,
    event         text NOT NULL CHECK (event IN ('call.transcribed', 'call.analysed')),
    payload       jsonb NOT NULL,
    -- When the row was written (not when its transaction began): the start
    -- of the push latency measured in syncd_push_latency_seconds.
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    dispatched_at timestamptz,
    outcome       text,
    CHECK ((dispatched_at IS NULL) = (outcome IS NULL))
);

-- Dispatch claims by state, never by "ids after the last one seen".
CREATE INDEX outbox_undispatched_idx ON outbox (id) WHERE dispatched_at IS NULL;
-- The newest queued row of a call, for the push.
CREATE INDEX outbox_tenant_call_idx ON outbox (tenant_id, call_id, id);
-- Backfill finds a tenant's skipped rows.
CREATE INDEX outbox_skipped_idx ON outbox (tenant_id, created_at) WHERE outcome LIKE 'skipped%';
-- Retention removes old dispatched rows.
CREATE INDEX outbox_dispatched_at_idx ON outbox (dispatched_at) WHERE dispatched_at IS NOT NULL;

-- One row per (tenant, call, target): what the CRM holds for the call.
--
-- queued_outbox_id is the newest outbox row routed to this target;
-- outbox_id is the newest one applied (pushed). The record is 'pending'
-- while a push is owed, 'synced' once the CRM holds the newest data and
-- record_id is its ID, 'failed' when the CRM refused it for good (last_error
-- says why). lease_until is set while a worker pushes the call, so that two
-- workers never push one call at once; a crashed worker's lease expires.
-- leases counts push attempts begun: a call never leased before cannot have
-- a record in the CRM yet, so its first push needs no look-up.
-- push_job_id is the River job waiting to push the call, if any: dispatch
-- inserts a push job only when none waits (a job that runs no longer waits,
-- so a newer analysis arriving meanwhile gets a job of its own).
CREATE TABLE sync_records (
    tenant_id        text NOT NULL,
    call_id          text NOT NULL,
    target           text NOT NULL CHECK (target IN ('salesforce', 'kintone')),
    object_type      text,
    record_id        text,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'synced', 'failed')),
    last_error       text,
    attempts         integer NOT NULL DEFAULT 0,
    outbox_id        bigint,
    queued_outbox_id bigint NOT NULL,
    synced_at        timestamptz,
    lease_until      timestamptz,
    leases           integer NOT NULL DEFAULT 0,
    push_job_id      bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, call_id, target)
);

CREATE INDEX sync_records_failed_idx ON sync_records (tenant_id) WHERE state = 'failed';
-- Dispatch sends a tenant with a backlog of pending calls to the backlog
-- queue.
CREATE INDEX sync_records_pending_idx ON sync_records (tenant_id) WHERE state = 'pending';
-- Retention keeps the outbox rows sync records still need.
CREATE INDEX sync_records_queued_outbox_idx ON sync_records (queued_outbox_id);

-- Wakes the daemon: one notification on channel '<schema>.outbox' per
-- statement that adds outbox rows, delivered when the transaction commits
-- and never if it rolls back.
CREATE FUNCTION notify_outbox() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
    PERFORM pg_notify(current_schema() || '.outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();

-- True when v is a JSON string holding an RFC 3339 timestamp that Go's
-- time.RFC3339 layout also accepts: 2026-05-01T09:30:00Z,
-- 2026-05-01T09:30:00.123+09:00.
CREATE FUNCTION is_rfc3339(v jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE
SET search_path FROM CURRENT
AS $$
BEGIN
    IF jsonb_typeof(v) <> 'string'
       OR (v #>> '{}') !~ '^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$' THEN
        RETURN false;
    END IF;
    PERFORM (v #>> '{}')::timestamptz;
    RETURN true;
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
    RETURN false;
END
$$;

-- enqueue is the outbox contract (SPEC §4.1). Call it inside the transaction
-- that marks the call analysed:
--
--   SELECT syncd.enqueue(tenant_id => 't1', call_id => 'c-123',
--                        event => 'call.analysed', payload => '{...}'::jsonb);
--
-- It validates the row, adds it and returns its id. A bad row raises
-- invalid_parameter_value (SQLSTATE 22023) with the bad field in the message
-- and in the error's COLUMN field; nothing is written.
CREATE FUNCTION enqueue(tenant_id text, call_id text, event text, payload jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
DECLARE
    field   text;
    problem text;
    value   jsonb;
    new_id  bigint;
BEGIN
    -- Arguments.
    IF enqueue.tenant_id IS NULL OR btrim(enqueue.tenant_id) = '' THEN
        field := 'tenant_id'; problem := 'is required';
    ELSIF char_length(enqueue.tenant_id) > 200 THEN
        field := 'tenant_id'; problem := 'is longer than 200 characters';
    ELSIF enqueue.call_id IS NULL OR btrim(enqueue.call_id) = '' THEN
        field := 'call_id'; problem := 'is required';
    ELSIF char_length(enqueue.call_id) > 200 THEN
        field := 'call_id'; problem := 'is longer than 200 characters';
    ELSIF enqueue.event IS NULL OR enqueue.event NOT IN ('call.transcribed', 'call.analysed') THEN
        field := 'event';
        problem := format('must be call.transcribed or call.analysed, not %s', coalesce(quote_literal(enqueue.event), 'NULL'));
    ELSIF enqueue.payload IS NULL OR jsonb_typeof(enqueue.payload) <> 'object' THEN
        field := 'payload'; problem := 'must be a JSON object';
    END IF;

    -- Required payload keys.
    IF field IS NULL THEN
        value := enqueue.payload -> 'call_id';
        IF value IS NULL OR jsonb_typeof(value) = 'null' THEN
            field := 'payload.call_id'; problem := 'is required';
        ELSIF jsonb_typeof(value) <> 'string' OR value #>> '{}' <> enqueue.call_id THEN
            field := 'payload.call_id'; problem := 'differs from the call_id argument';
        END IF;
    END IF;
    IF field IS NULL THEN
        value := enqueue.payload -> 'started_at';
        IF value IS NULL OR jsonb_typeof(value) = 'null' THEN
            field := 'payload.started_at'; problem := 'is required';
        ELSIF NOT is_rfc3339(value) THEN
            field := 'payload.started_at';
            problem := 'must be an RFC 3339 timestamp such as 2026-05-01T09:30:00+09:00';
        END IF;
    END IF;
    IF field IS NULL THEN
        value := enqueue.payload -> 'duration_seconds';
        IF value IS NULL OR jsonb_typeof(value) = 'null' THEN
            field := 'payload.duration_seconds'; problem := 'is required';
        ELSIF (CASE WHEN jsonb_typeof(value) <> 'number' THEN true
                    ELSE value::numeric <> trunc(value::numeric) OR value::numeric NOT BETWEEN 0 AND 2147483647
               END) THEN
            field := 'payload.duration_seconds'; problem := 'must be a whole number of seconds, 0 or more';
        END IF;
    END IF;

    -- Optional payload keys: absent or null, or of the right kind.
    IF field IS NULL THEN
        value := enqueue.payload -> 'direction';
        IF value IS NOT NULL AND jsonb_typeof(value) <> 'null'
           AND (jsonb_typeof(value) <> 'string' OR value #>> '{}' NOT IN ('inbound', 'outbound', 'internal')) THEN
            field := 'payload.direction'; problem := 'must be inbound, outbound or internal';
        END IF;
    END IF;
    IF field IS NULL THEN
        value := enqueue.payload -> 'quality_score';
        IF value IS NOT NULL AND jsonb_typeof(value) <> 'null'
           AND (CASE WHEN jsonb_typeof(value) <> 'number' THEN true
                     ELSE value::numeric NOT BETWEEN 0 AND 100
                END) THEN
            field := 'payload.quality_score'; problem := 'must be a number from 0 to 100';
        END IF;
    END IF;
    IF field IS NULL THEN
        value := enqueue.payload -> 'transcript_url';
        IF value IS NOT NULL AND jsonb_typeof(value) <> 'null'
           AND (jsonb_typeof(value) <> 'string' OR value #>> '{}' !~ '^https?://[^[:space:]]+$') THEN
            field := 'payload.transcript_url'; problem := 'must be an http or https URL';
        END IF;
    END IF;
    IF field IS NULL THEN
        SELECT 'payload.' || k INTO field
        FROM unnest(ARRAY['primary_intent', 'summary', 'agent_email', 'customer_phone']) AS k
        WHERE enqueue.payload -> k IS NOT NULL
          AND jsonb_typeof(enqueue.payload -> k) NOT IN ('string', 'null')
        LIMIT 1;
        IF field IS NOT NULL THEN
            problem := 'must be a string';
        END IF;
    END IF;

    IF field IS NOT NULL THEN
        RAISE EXCEPTION 'syncd.enqueue: % %', field, problem
            USING ERRCODE = 'invalid_parameter_value', COLUMN = field;
    END IF;

    INSERT INTO outbox (tenant_id, call_id, event, payload)
    VALUES (enqueue.tenant_id, enqueue.call_id, enqueue.event, enqueue.payload)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- Only roles granted EXECUTE may write the outbox:
--   GRANT USAGE ON SCHEMA syncd TO pipeline;
--   GRANT EXECUTE ON FUNCTION syncd.enqueue(text, text, text, jsonb) TO pipeline;
REVOKE ALL ON FUNCTION enqueue(text, text, text, jsonb) FROM PUBLIC;
