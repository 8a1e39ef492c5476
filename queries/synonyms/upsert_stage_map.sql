-- Purpose: the owner's synonym for a raw stage slug. Parameters: $raw_slug, $stage.
-- MERGE, not INSERT OR REPLACE: the same on a DuckDB file and on DuckLake (no primary keys).
MERGE INTO stage_map AS m
USING (SELECT $raw_slug::VARCHAR AS raw_slug, $stage::VARCHAR AS stage) AS n
ON m.raw_slug = n.raw_slug
WHEN MATCHED THEN UPDATE SET stage = n.stage, origin = 'user'
WHEN NOT MATCHED THEN INSERT (raw_slug, stage, origin) VALUES (n.raw_slug, n.stage, 'user');
