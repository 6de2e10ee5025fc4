-- Tenant $1's org (target $2) reported at $5 that $3 of its $4 daily API
-- requests are used (Sforce-Limit-Info): every replica slows down or holds
-- its pushes by it. An older report never replaces a newer one.
INSERT INTO org_state (tenant_id, target, api_used, api_max, api_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id, target) DO UPDATE
SET api_used   = excluded.api_used,
    api_max    = excluded.api_max,
    api_at     = excluded.api_at,
    updated_at = now()
WHERE org_state.api_at IS NULL OR org_state.api_at < excluded.api_at;
