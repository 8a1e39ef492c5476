-- Purpose: put the stored leads whose raw channel has this slug on the channel the synonyms now
--          give it (funnel_channel_of: the one definition ingest reads). Returns one row per
--          lead moved. Parameters: $raw_slug.
UPDATE leads SET channel = funnel_channel_of(channel_raw)
WHERE channel_raw IS NOT NULL AND funnel_slug(channel_raw) = $raw_slug
  AND channel IS DISTINCT FROM funnel_channel_of(channel_raw)
RETURNING 1;
