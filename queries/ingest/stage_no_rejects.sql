-- Purpose: an empty raw_rejects for readers that never reject a record (XLSX).
CREATE TEMP TABLE raw_rejects (row_number BIGINT, reason VARCHAR, raw_line VARCHAR);
