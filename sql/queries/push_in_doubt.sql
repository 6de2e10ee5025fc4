-- Push job $3 is about to send a create for calls $4 (of tenant $1, target
-- $2) on the look-up path: once sent, its outcome may stay unknown, and
-- Salesforce may still commit it, so the calls are not looked up again, nor
-- pushed by anyone, for $5 seconds unless the answer arrives. Only calls
-- whose lease the job still holds are marked; the job sends the create only
-- when all of them were.
UPDATE sync_records
SET in_doubt_until = now() + make_interval(secs => $5)
WHERE tenant_id = $1 AND target = $2 AND call_id = ANY ($4::text[])
  AND state = 'pending' AND push_job_id = $3 AND lease_until > now();
