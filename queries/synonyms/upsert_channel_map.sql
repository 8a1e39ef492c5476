-- Purpose: the owner's synonym for a raw channel slug. Parameters: $raw_slug, $channel.
INSERT OR REPLACE INTO channel_map VALUES ($raw_slug, $channel, 'user');
