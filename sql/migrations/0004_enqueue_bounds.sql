-- syncd schema version 4: enqueue bounds what it accepts.
--
-- enqueue (0001) kept every check it had and now also refuses:
--
--   * a tenant_id or call_id holding a control character (U+0000 to U+001F,
--     U+007F to U+009F) or a line or paragraph separator (U+2028, U+2029),
--     or starting or ending with whitespace;
--   * a payload larger than 256 KiB, measured as its jsonb text
--     (octet_length(payload::text));
--   * a payload key that is a known key in another letter case
--     ("Summary", "ſummary"): Go's encoding/json, which the push reads the
--     payload with, matches keys without regard to case, so such a key would
--     override or break the validated one;
--   * a started_at outside 1700-01-02 to 4000-12-30 (UTC), whose date would
--     fall outside what Salesforce accepts (1700-01-01 to 4000-12-31) in
--     some time zone: the Go zero time, 0001-01-01T00:00:00Z, above all.
--
-- A duration_seconds written with a fraction of zeros (30.0) is stored as
-- the whole number (30), which Go reads into an int. A started_at whose
-- offset PostgreSQL cannot hold (16 hours or more) is refused like any
-- other bad timestamp, not with a bare 22009.
--
-- NUL (\u0000) never reaches enqueue: PostgreSQL refuses it in jsonb and in
-- text with SQLSTATE 22P05 (untranslatable_character) or 22021 while it
-- reads the argument, before the function runs. outbox.Enqueue checks for
-- it, and for invalid UTF-8, before it sends an event.
-- is_rfc3339 (0001) raised invalid_time_zone_displacement_value (22009)
-- instead of answering false for an offset PostgreSQL cannot hold (16 hours
-- or more, such as -23:59), so enqueue failed with a bare error.
CREATE OR REPLACE FUNCTION is_rfc3339(v jsonb) RETURNS boolean
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
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR invalid_time_zone_displacement_value THEN
    RETURN false;
END
$$;

CREATE OR REPLACE FUNCTION enqueue(tenant_id text, call_id text, event text, payload jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
DECLARE
    -- The characters an ID may not hold, and the whitespace it may not
    -- start or end with (the characters Go's unicode.IsSpace reports).
    -- Written out rather than [[:cntrl:]] and [[:space:]], which depend on
    -- the database's locale.
    control constant text := '[\x01-\x1f\x7f-\x9f\u2028\u2029]';
    space   constant text := '[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]';
    -- The keys syncd reads.
    known   constant text[] := ARRAY['call_id', 'started_at', 'duration_seconds', 'direction', 'primary_intent',
                                     'summary', 'quality_score', 'transcript_url', 'agent_email', 'customer_phone'];
    max_payload constant integer := 256 * 1024;
    field   text;
    problem text;
    value   jsonb;
    size    integer;
    stored  jsonb := enqueue.payload;
    new_id  bigint;
BEGIN
    -- Arguments.
    IF enqueue.tenant_id IS NULL OR btrim(enqueue.tenant_id) = '' THEN
        field := 'tenant_id'; problem := 'is required';
    ELSIF char_length(enqueue.tenant_id) > 200 THEN
        field := 'tenant_id'; problem := 'is longer than 200 characters';
    ELSIF enqueue.tenant_id ~ control THEN
        field := 'tenant_id';
        problem := format('contains a control character or line separator (U+%s)',
                          upper(lpad(to_hex(ascii(substring(enqueue.tenant_id FROM control))), 4, '0')));
    ELSIF enqueue.tenant_id ~ ('^' || space) OR enqueue.tenant_id ~ (space || '$') THEN
        field := 'tenant_id'; problem := 'starts or ends with whitespace';
    ELSIF enqueue.call_id IS NULL OR btrim(enqueue.call_id) = '' THEN
        field := 'call_id'; problem := 'is required';
    ELSIF char_length(enqueue.call_id) > 200 THEN
        field := 'call_id'; problem := 'is longer than 200 characters';
    ELSIF enqueue.call_id ~ control THEN
        field := 'call_id';
        problem := format('contains a control character or line separator (U+%s)',
                          upper(lpad(to_hex(ascii(substring(enqueue.call_id FROM control))), 4, '0')));
    ELSIF enqueue.call_id ~ ('^' || space) OR enqueue.call_id ~ (space || '$') THEN
        field := 'call_id'; problem := 'starts or ends with whitespace';
    ELSIF enqueue.event IS NULL OR enqueue.event NOT IN ('call.transcribed', 'call.analysed') THEN
        field := 'event';
        problem := format('must be call.transcribed or call.analysed, not %s', coalesce(quote_literal(enqueue.event), 'NULL'));
    ELSIF enqueue.payload IS NULL OR jsonb_typeof(enqueue.payload) <> 'object' THEN
        field := 'payload'; problem := 'must be a JSON object';
    END IF;

    -- The payload as a whole.
    IF field IS NULL THEN
        size := octet_length(enqueue.payload::text);
        IF size > max_payload THEN
            field := 'payload'; problem := format('is larger than 256 KiB (%s bytes)', size);
        END IF;
    END IF;
    IF field IS NULL THEN
        -- ASCII letters, and the two letters Go folds to ASCII ones (U+017F
        -- long s, U+212A Kelvin sign), to lower case.
        SELECT 'payload.' || k, format('must be spelled %s', folded) INTO field, problem
        FROM jsonb_object_keys(enqueue.payload) AS k,
             translate(k, 'ABCDEFGHIJKLMNOPQRSTUVWXYZſK', 'abcdefghijklmnopqrstuvwxyzsk') AS folded
        WHERE k <> ALL (known) AND folded = ANY (known)
        ORDER BY k
        LIMIT 1;
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
        ELSIF (value #>> '{}')::timestamptz < '1700-01-02T00:00:00Z'
              OR (value #>> '{}')::timestamptz >= '4000-12-31T00:00:00Z' THEN
            field := 'payload.started_at';
            problem := format('must be from 1700-01-02 to 4000-12-30 UTC (dates Salesforce accepts), not %s', value #>> '{}');
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
        ELSIF scale(value::numeric) > 0 THEN
            -- 30.0: stored as 30.
            stored := jsonb_set(stored, '{duration_seconds}', to_jsonb(value::numeric::bigint));
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
    VALUES (enqueue.tenant_id, enqueue.call_id, enqueue.event, stored)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

REVOKE ALL ON FUNCTION enqueue(text, text, text, jsonb) FROM PUBLIC;

-- retry_failed (0002) goes on past a call whose newest event enqueue now
-- refuses (an event it accepted before version 4): the call stays failed,
-- with a warning naming it and the reason, and the other calls are queued.
-- resync of that one call raises enqueue's error.
CREATE OR REPLACE FUNCTION retry_failed(tenant_id text) RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
DECLARE
    failed record;
    queued integer := 0;
BEGIN
    FOR failed IN
        SELECT DISTINCT sync_records.tenant_id, sync_records.call_id
        FROM sync_records
        WHERE sync_records.state = 'failed'
          AND (retry_failed.tenant_id IS NULL OR sync_records.tenant_id = retry_failed.tenant_id)
        ORDER BY 1, 2
    LOOP
        BEGIN
            queued := queued + resync(failed.tenant_id, failed.call_id);
        EXCEPTION WHEN invalid_parameter_value THEN
            RAISE WARNING 'syncd.retry_failed: call % of tenant % stays failed: %',
                quote_literal(failed.call_id), quote_literal(failed.tenant_id), SQLERRM;
        END;
    END LOOP;
    RETURN queued;
END
$$;

REVOKE ALL ON FUNCTION retry_failed(text) FROM PUBLIC;
