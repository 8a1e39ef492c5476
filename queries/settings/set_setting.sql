-- Purpose: set one of the store's settings. Parameters: $key, $value.
-- MERGE, not INSERT OR REPLACE: the same on a DuckDB file and on DuckLake (no primary keys).
MERGE INTO store_settings AS s
USING (SELECT $key::VARCHAR AS key, $value::VARCHAR AS value) AS n
ON s.key = n.key
WHEN MATCHED THEN UPDATE SET value = n.value
WHEN NOT MATCHED THEN INSERT (key, value) VALUES (n.key, n.value);
