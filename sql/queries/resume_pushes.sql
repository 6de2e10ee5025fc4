-- Resume a tenant's waiting pushes of one kind ($1, e.g. 'salesforce_push')
-- now: its settings changed, so pushes parked for bad credentials, snoozed
-- for a spent API budget or waiting to retry should try again at once.
-- River's scheduler makes them available.
UPDATE river_job
SET scheduled_at = now()
WHERE state IN ('available', 'scheduled', 'retryable')
  AND kind = $1
  AND args @> jsonb_build_object('tenant_id', $2::text)
  AND scheduled_at > now();
