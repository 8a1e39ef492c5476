-- Purpose: synonyms/apply_channel_map on a lake store, step 2 of 2: re-map stored leads whose
-- raw channel has this slug. Parameters: $raw_slug, $channel.
UPDATE leads SET channel = $channel
WHERE funnel_slug(channel_raw) = $raw_slug AND channel <> $channel;
