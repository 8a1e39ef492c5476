-- Purpose: marketing volume: leads created in the period per channel, with the channel's kind
--          (inbound / outbound / unknown) and its share of all leads in the selection.
-- Grain: one row per channel with at least one lead; ordered by leads descending, then channel.
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
WITH selected AS (
    SELECT l.channel
    FROM selected_leads($start, $end, $channels, $owners) AS l
),
per_channel AS (
    SELECT channel, count(*) AS leads
    FROM selected
    GROUP BY channel
)
SELECT
    p.channel,
    coalesce(c.kind, 'unknown') AS kind,
    coalesce(c.label, p.channel) AS label,
    p.leads,
    p.leads / sum(p.leads) OVER () AS share
FROM per_channel AS p
LEFT JOIN channels AS c ON c.channel = p.channel
ORDER BY p.leads DESC, p.channel;
