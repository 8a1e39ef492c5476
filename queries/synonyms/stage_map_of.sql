-- Purpose: what a raw stage slug maps to now and who decided (none: no row).
-- Grain: at most one row. Parameters: $raw_slug.
SELECT stage, origin FROM stage_map WHERE raw_slug = $raw_slug;
