-- Push job $3 takes one of the $4 request slots of tenant $1's org (target
-- $2) for $5 seconds: a free one (never used, released, or whose holder's
-- lease ran out), or a slot row made now. Returns the slot, or no row when
-- all $4 are held.
WITH free AS (
    SELECT slot
    FROM push_slots
    WHERE tenant_id = $1 AND target = $2 AND slot < $4
      AND (lease_until IS NULL OR lease_until < now())
    ORDER BY slot
    LIMIT 1
    FOR UPDATE SKIP LOCKED
),

taken AS (
    UPDATE push_slots s
    SET job_id = $3, lease_until = now() + make_interval(secs => $5)
    FROM free
    WHERE s.tenant_id = $1 AND s.target = $2 AND s.slot = free.slot
    RETURNING s.slot
),

made AS (
    INSERT INTO push_slots (tenant_id, target, slot, job_id, lease_until)
    SELECT $1, $2, g, $3, now() + make_interval(secs => $5)
    FROM generate_series(0, $4 - 1) AS g
    WHERE NOT EXISTS (SELECT FROM taken)
      AND NOT EXISTS (SELECT FROM push_slots p WHERE p.tenant_id = $1 AND p.target = $2 AND p.slot = g)
    ORDER BY g
    LIMIT 1
    ON CONFLICT DO NOTHING
    RETURNING slot
)

SELECT slot FROM taken
UNION ALL
SELECT slot FROM made;
