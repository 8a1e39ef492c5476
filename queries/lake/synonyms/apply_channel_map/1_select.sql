-- Purpose: synonyms/apply_channel_map on a lake store, step 1 of 2 (DuckLake has no UPDATE ...
-- RETURNING): one row per stored lead whose raw channel has this slug and that step 2 moves.
-- Grain: one row per lead. Parameters: $raw_slug, $channel.
SELECT 1 AS moved
FROM leads
WHERE funnel_slug(channel_raw) = $raw_slug AND channel <> $channel;
