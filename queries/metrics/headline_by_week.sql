-- Purpose: the home page's "this week vs last week": per ISO week (labelled by its Monday) the
--          leads created, how many of those have been won so far and their conversion rate, and
--          the wins closed that week (won_at in the week) among the selected leads.
-- Grain: one row per week, zero-filled from the first week with a lead or a win in the
--        selection to the last; ordered by week. conversion_rate NULL when leads = 0;
--        won_value_closed 0 when none.
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
WITH selected AS (
    SELECT l.stage, l.value, l.created_at, l.won_at
    FROM selected_leads($start, $end, $channels, $owners) AS l
),
created_days AS (
    -- per day first, then per week: casting to a date costs less than date_trunc on 1M rows
    SELECT
        created_at::DATE AS day,
        count(*) AS leads,
        count(*) FILTER (WHERE stage = 'won') AS won
    FROM selected
    GROUP BY created_at::DATE
),
created AS (
    SELECT
        date_trunc('week', day)::DATE AS week,
        sum(leads)::BIGINT AS leads,
        sum(won)::BIGINT AS won
    FROM created_days
    GROUP BY date_trunc('week', day)::DATE
),
closed AS (
    -- the won leads alone (their week computed for them only, not for every lead)
    SELECT
        date_trunc('week', won_at)::DATE AS week,
        count(*) AS wins_closed,
        coalesce(sum(try_cast(value AS DECIMAL(38, 6)))::DOUBLE, 0.0) AS won_value_closed
    FROM selected
    WHERE stage = 'won' AND won_at IS NOT NULL
    GROUP BY date_trunc('week', won_at)::DATE
),
weeks AS (
    SELECT unnest(generate_series(min(week), max(week), INTERVAL 7 DAY))::DATE AS week
    FROM (SELECT week FROM created UNION ALL SELECT week FROM closed)
    HAVING count(*) > 0
)
SELECT
    w.week,
    coalesce(c.leads, 0) AS leads,
    coalesce(c.won, 0) AS won,
    CASE WHEN c.leads > 0 THEN c.won / c.leads END AS conversion_rate,
    coalesce(d.wins_closed, 0) AS wins_closed,
    coalesce(d.won_value_closed, 0.0) AS won_value_closed
FROM weeks AS w
LEFT JOIN created AS c ON c.week = w.week
LEFT JOIN closed AS d ON d.week = w.week
ORDER BY w.week;
