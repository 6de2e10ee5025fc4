-- Pause tenant $1's pushes to target $2 for $3 seconds (the org answered
-- REQUEST_LIMIT_EXCEEDED, $4 says so): every replica holds them until then.
INSERT INTO org_state (tenant_id, target, paused_until, pause_reason)
VALUES ($1, $2, now() + make_interval(secs => $3), $4)
ON CONFLICT (tenant_id, target) DO UPDATE
SET paused_until = greatest(org_state.paused_until, excluded.paused_until),
    pause_reason = excluded.pause_reason,
    updated_at   = now();
