-- Purpose: synonyms/apply_stage_map on a lake store, step 1 of 2 (DuckLake has no UPDATE ...
-- RETURNING): one row per lead counted as 'new' only because its raw stage was unmapped, which
-- step 2 moves. Grain: one row per lead. Parameters: $raw_slug, $stage.
SELECT 1 AS moved
FROM leads
WHERE stage = 'new' AND funnel_slug(stage_raw) = $raw_slug AND $stage <> 'new';
