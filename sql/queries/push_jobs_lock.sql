-- Take, until the end of the transaction, the locks of the orgs ($1
-- tenants, $2 targets, paired) whose push jobs the transaction is about to
-- count and insert (push_jobs_owed.sql): two transactions that did so at
-- once would both see the same free slot and both insert a job for it. The
-- locks are taken in one order, so transactions never wait for each other
-- in a circle.
SELECT count(pg_advisory_xact_lock(hashtext('syncd.push_jobs'), k))
FROM (
    SELECT DISTINCT hashtext(current_schema() || '/' || tenant_id || '/' || target) AS k
    FROM unnest($1::text[], $2::text[]) AS o (tenant_id, target)
    ORDER BY k
) AS keys;
