-- Purpose: rows in one of the store's tables: what a backup records and a restore checks.
-- Grain: one row. Parameters: $table_name (one of funnel.backup.COUNTED_TABLES).
SELECT count(*) AS row_count FROM query_table($table_name::VARCHAR);
