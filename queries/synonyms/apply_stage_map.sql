-- Purpose: move leads counted as 'new' only because their raw stage was unmapped.
-- Parameters: $raw_slug, $stage. Returns one row per lead moved.
UPDATE leads SET
    stage = $stage,
    won_at = CASE WHEN $stage = 'won' THEN coalesce(won_at, created_at) END,
    lost_at = CASE WHEN $stage = 'lost' THEN coalesce(lost_at, created_at) END
WHERE stage = 'new' AND funnel_slug(stage_raw) = $raw_slug AND $stage <> 'new'
RETURNING 1;
