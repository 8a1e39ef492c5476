-- Purpose: what the dashboard's sidebar filters can offer: every channel (by leads descending,
--          then name) with its label, every owner (alphabetical), the first and last created date.
-- Grain: one row (lists empty and dates NULL on an empty store).
-- Parameters: none (the options are those of the whole store).
WITH per_channel AS (
    SELECT l.channel, coalesce(c.label, l.channel) AS label, count(*) AS leads
    FROM leads AS l
    LEFT JOIN channels AS c ON c.channel = l.channel
    GROUP BY l.channel, c.label
)
SELECT
    coalesce((SELECT list(channel ORDER BY leads DESC, channel) FROM per_channel), [])
        AS channels,
    coalesce((SELECT list(label ORDER BY leads DESC, channel) FROM per_channel), [])
        AS channel_labels,
    coalesce(
        (SELECT list(DISTINCT owner ORDER BY owner) FROM leads WHERE owner IS NOT NULL), []
    ) AS owners,
    (SELECT min(created_at)::DATE FROM leads) AS min_created,
    (SELECT max(created_at)::DATE FROM leads) AS max_created;
