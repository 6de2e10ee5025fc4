-- Record the push jobs just inserted (arrays $1 tenant, $2 call, $3 target,
-- $4 job ID) as the calls' waiting push jobs.
UPDATE sync_records r
SET push_job_id = owed.job_id
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS owed (tenant_id, call_id, target, job_id)
WHERE r.tenant_id = owed.tenant_id AND r.call_id = owed.call_id AND r.target = owed.target;
