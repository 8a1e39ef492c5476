-- Purpose: marketing volume over time: leads created per ISO week (labelled by its Monday) and
--          channel, zero-filled so a quiet week shows as 0 rather than as a gap.
-- Grain: one row per week x channel, for every week from the first to the last week with a lead
--        in the selection and every channel with a lead in the selection; ordered by week, then
--        channel (leads descending over the selection, then name).
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
WITH daily AS (
    -- per created day first, then per week: casting to a date costs less than date_trunc
    -- on every lead
    SELECT l.created_at::DATE AS day, l.channel, count(*) AS leads
    FROM selected_leads($start, $end, $channels, $owners) AS l
    GROUP BY l.created_at::DATE, l.channel
),
counts AS (
    SELECT date_trunc('week', day)::DATE AS week, channel, sum(leads)::BIGINT AS leads
    FROM daily
    GROUP BY date_trunc('week', day)::DATE, channel
),
weeks AS (
    SELECT unnest(generate_series(min(week), max(week), INTERVAL 7 DAY))::DATE AS week
    FROM counts
    HAVING count(*) > 0
),
channel_order AS (
    SELECT channel, row_number() OVER (ORDER BY sum(leads) DESC, channel) AS rank
    FROM counts
    GROUP BY channel
)
SELECT w.week, o.channel, coalesce(c.leads, 0) AS leads
FROM weeks AS w
CROSS JOIN channel_order AS o
LEFT JOIN counts AS c ON c.week = w.week AND c.channel = o.channel
ORDER BY w.week, o.rank;
