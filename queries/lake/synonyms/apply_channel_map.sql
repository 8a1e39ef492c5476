-- Purpose: synonyms/apply_channel_map on a lake store (DuckLake has no UPDATE ... RETURNING):
-- select one row per stored lead whose raw channel has this slug and that will change, then
-- re-map them. Run in order by funnel.store.lake.run_variant; the SELECT's rows are the result.
-- Parameters: $raw_slug, $channel.
SELECT 1 FROM leads WHERE funnel_slug(channel_raw) = $raw_slug AND channel <> $channel;
UPDATE leads SET channel = $channel
WHERE funnel_slug(channel_raw) = $raw_slug AND channel <> $channel;
