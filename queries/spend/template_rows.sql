-- Purpose: the rows of a spend template for the owner to fill in: each channel the store's
--          leads came from (in words, as the spend loader reads them back), for each of the
--          last $weeks weeks up to the week of $as_of; money and hours are left empty.
-- Grain: one row per channel and week (weeks start on Monday), newest week first, then the
--        channels with most leads. Parameters: $as_of (DATE), $weeks (INTEGER).
WITH weeks AS (
    SELECT (date_trunc('week', $as_of::DATE)::DATE - 7 * CAST(i AS INTEGER)) AS week_start
    FROM range($weeks::BIGINT) AS t(i)
),
channel_leads AS (
    SELECT l.channel, coalesce(c.label, l.channel) AS label, count(*) AS leads
    FROM leads AS l LEFT JOIN channels AS c ON c.channel = l.channel
    WHERE l.channel <> 'unknown'
    GROUP BY l.channel, c.label
)
SELECT ch.label AS channel, w.week_start
FROM channel_leads AS ch CROSS JOIN weeks AS w
ORDER BY w.week_start DESC, ch.leads DESC, ch.label;
