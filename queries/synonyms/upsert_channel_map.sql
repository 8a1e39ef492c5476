-- Purpose: the owner's synonym for a raw channel slug. Parameters: $raw_slug, $channel.
-- MERGE, not INSERT OR REPLACE: the same on a DuckDB file and on DuckLake (no primary keys).
MERGE INTO channel_map AS m
USING (SELECT $raw_slug::VARCHAR AS raw_slug, $channel::VARCHAR AS channel) AS n
ON m.raw_slug = n.raw_slug
WHEN MATCHED THEN UPDATE SET channel = n.channel, origin = 'user'
WHEN NOT MATCHED THEN INSERT (raw_slug, channel, origin) VALUES (n.raw_slug, n.channel, 'user');
