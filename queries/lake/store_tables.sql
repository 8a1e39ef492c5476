-- Purpose: the store's own tables (not temp tables, not another attached database), for
-- `migrate`, which copies each of them to another store.
-- Grain: one row per table, by name. Parameters: none.
SELECT table_name
FROM duckdb_tables()
WHERE NOT temporary AND database_name = current_database() AND schema_name = 'main'
ORDER BY table_name;
