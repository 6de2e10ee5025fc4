-- GetOutboxWaiting: how many outbox rows are committed but not dispatched
-- yet, and the age in seconds of the oldest of them (0 when none waits).
SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)
FROM outbox WHERE dispatched_at IS NULL;
