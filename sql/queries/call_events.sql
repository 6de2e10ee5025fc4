-- ListCallEvents: the outbox rows of tenant $1's call $2, oldest first:
-- what the pipeline reported and what became of it (outcome '' while not
-- dispatched).
SELECT id, event, coalesce(outcome, ''), created_at, dispatched_at
FROM outbox WHERE tenant_id = $1 AND call_id = $2 ORDER BY id;
