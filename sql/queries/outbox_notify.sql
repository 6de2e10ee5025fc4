-- Wakes the daemons listening on channel $1 ('<schema>.outbox', the channel
-- the outbox's insert trigger notifies) when the transaction commits, and
-- never if it rolls back.
SELECT pg_notify($1, '');
