-- Purpose: whether this database file already holds a Funnel store. Grain: one row.
SELECT count(*) > 0 AS present
FROM duckdb_tables()
WHERE table_name = 'schema_version' AND database_name = current_database();
