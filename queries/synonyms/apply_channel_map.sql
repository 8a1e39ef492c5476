-- Purpose: re-map stored leads whose raw channel has this slug. Returns the count changed.
-- Parameters: $raw_slug, $channel.
UPDATE leads SET channel = $channel
WHERE funnel_slug(channel_raw) = $raw_slug AND channel <> $channel
RETURNING 1;
