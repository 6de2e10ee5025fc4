-- What every replica knows of tenant $1's org (target $2): its
-- REQUEST_LIMIT_EXCEEDED pause and the daily API budget last reported.
SELECT paused_until, pause_reason, api_used, api_max, api_at
FROM org_state
WHERE tenant_id = $1 AND target = $2;
