-- Purpose: synonyms/apply_stage_map on a lake store (DuckLake has no UPDATE ... RETURNING):
-- select one row per lead counted as 'new' only because its raw stage was unmapped, then move
-- them (no won/lost date: the file never said when). Run in order by
-- funnel.store.lake.run_variant; the SELECT's rows are the result.
-- Parameters: $raw_slug, $stage.
SELECT 1 FROM leads WHERE stage = 'new' AND funnel_slug(stage_raw) = $raw_slug AND $stage <> 'new';
UPDATE leads SET
    stage = $stage,
    won_at = NULL,
    lost_at = NULL
WHERE stage = 'new' AND funnel_slug(stage_raw) = $raw_slug AND $stage <> 'new';
