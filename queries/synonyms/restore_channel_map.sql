-- Purpose: put back what a raw channel slug mapped to before a change (an undo), with who
--          decided it then. MERGE: no reliance on a primary key (DuckLake has none).
-- Parameters: $raw_slug, $channel, $origin.
MERGE INTO channel_map AS m
USING (SELECT $raw_slug::VARCHAR AS raw_slug, $channel::VARCHAR AS channel,
              $origin::VARCHAR AS origin) AS n
ON m.raw_slug = n.raw_slug
WHEN MATCHED THEN UPDATE SET channel = n.channel, origin = n.origin
WHEN NOT MATCHED THEN INSERT (raw_slug, channel, origin) VALUES (n.raw_slug, n.channel, n.origin);
