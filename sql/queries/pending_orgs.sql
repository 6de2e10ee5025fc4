-- The orgs (tenant and target) that have pending calls: the periodic sweep
-- makes sure each has the push jobs it needs, so that calls whose worker
-- died, whose retry or doubt wait ended, or whose tenant's hold ended are
-- pushed without waiting for a new analysis.
SELECT DISTINCT tenant_id, target FROM sync_records WHERE state = 'pending';
