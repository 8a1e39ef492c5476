-- Purpose: move leads counted as 'new' only because their raw stage was unmapped. A lead moved
-- to won or lost gets no won/lost date: the file never said when (unknown stays unknown).
-- Parameters: $raw_slug, $stage. Returns one row per lead moved.
UPDATE leads SET
    stage = $stage,
    won_at = NULL,
    lost_at = NULL
WHERE stage = 'new' AND funnel_slug(stage_raw) = $raw_slug AND $stage <> 'new'
RETURNING 1;
