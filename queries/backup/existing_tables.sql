-- Purpose: which of the named tables the store has (a backup of an older schema lacks newer
--          ones). Grain: one row per table present, by name. Parameters: $names (VARCHAR[]).
SELECT table_name FROM duckdb_tables()
WHERE NOT temporary AND list_contains($names::VARCHAR[], table_name)
ORDER BY table_name;
