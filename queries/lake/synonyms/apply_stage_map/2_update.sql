-- Purpose: synonyms/apply_stage_map on a lake store, step 2 of 2: move leads counted as 'new'
-- only because their raw stage was unmapped (no won/lost date: the file never said when).
-- Parameters: $raw_slug, $stage.
UPDATE leads SET
    stage = $stage,
    won_at = NULL,
    lost_at = NULL
WHERE stage = 'new' AND funnel_slug(stage_raw) = $raw_slug AND $stage <> 'new';
