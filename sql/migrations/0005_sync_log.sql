-- syncd schema version 5: the sync log of the admin page (/admin/, SPEC §6).
--
-- The log lists a tenant's calls newest first, filtered by state, a page at
-- a time (keyset paging: each page starts after the last row of the one
-- before). Each state is one range of this index, so a page costs the same
-- at a million calls as at ten.
CREATE INDEX sync_records_log_idx ON sync_records (tenant_id, state, created_at DESC, call_id DESC, target DESC);

-- Searching the log by the beginning of a call ID: text_pattern_ops orders
-- by bytes whatever the database's collation, so a prefix is one range.
CREATE INDEX sync_records_call_prefix_idx ON sync_records (tenant_id, call_id text_pattern_ops, target);
