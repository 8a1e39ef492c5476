-- Purpose: put back what a raw stage slug mapped to before a change (an undo), with who
--          decided it then. MERGE: no reliance on a primary key (DuckLake has none).
-- Parameters: $raw_slug, $stage, $origin.
MERGE INTO stage_map AS m
USING (SELECT $raw_slug::VARCHAR AS raw_slug, $stage::VARCHAR AS stage,
              $origin::VARCHAR AS origin) AS n
ON m.raw_slug = n.raw_slug
WHEN MATCHED THEN UPDATE SET stage = n.stage, origin = n.origin
WHEN NOT MATCHED THEN INSERT (raw_slug, stage, origin) VALUES (n.raw_slug, n.stage, n.origin);
