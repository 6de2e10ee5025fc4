-- Push job $3 gives back request slot $4 of tenant $1's org (target $2).
UPDATE push_slots
SET job_id = NULL, lease_until = NULL
WHERE tenant_id = $1 AND target = $2 AND slot = $4 AND job_id = $3;
