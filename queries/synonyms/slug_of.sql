-- Purpose: the matching key of a raw value as the store computes it (the funnel_slug macro):
--          the one definition a synonym's key must follow, or it re-maps nothing.
-- Grain: one row. Parameters: $raw (VARCHAR).
SELECT funnel_slug($raw::VARCHAR) AS slug;
