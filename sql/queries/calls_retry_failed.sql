-- RetryFailed: push again every call of tenant $1 whose sync record failed
-- (the SQL function retry_failed, migrations 0002 and 0004). Returns how
-- many calls were queued; a call whose newest event enqueue now refuses
-- stays failed, with a warning.
SELECT retry_failed($1);
