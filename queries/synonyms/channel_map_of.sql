-- Purpose: what a raw channel slug maps to now and who decided (none: no row).
-- Grain: at most one row. Parameters: $raw_slug.
SELECT channel, origin FROM channel_map WHERE raw_slug = $raw_slug;
