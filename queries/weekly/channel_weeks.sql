-- Purpose: the weekly pack's activity per channel and ISO week: leads created in the week,
--          deals won and deals lost in the week (by the date they were won or lost, whenever
--          the lead was created), the value won, and each won deal's value (for the won-value
--          check). Plus the same for all channels together.
-- Grain: one row per channel x week for the chosen week and the $weeks_back weeks before it,
--        zero-filled for every channel with any activity in those weeks, plus one row per week
--        with is_total = true and channel NULL (all channels). week_offset 0 = the chosen week,
--        1 = the week before, ...; ordered by is_total, channel, week_offset.
--        won_value = sum of deal values of the week's wins (a win without a value counts 0);
--        won_values = those values, one per win (empty list when none).
-- Parameters: $week_start (DATE: the chosen week's Monday), $weeks_back (INTEGER >= 0).
WITH weeks AS (
    SELECT
        offs AS week_offset,
        ($week_start::DATE - 7 * offs::INTEGER)::DATE AS week_start
    FROM range(0, $weeks_back::INTEGER + 1) AS t(offs)
),
window_bounds AS (
    SELECT min(week_start) AS first_day, max(week_start) + 6 AS last_day FROM weeks
),
activity AS (
    -- one row per thing that happened in the window: a lead created, a deal won, a deal lost
    SELECT l.channel, l.created_at::DATE AS day, 'created' AS what, NULL::DOUBLE AS value
    FROM leads AS l, window_bounds AS b
    WHERE l.created_at::DATE BETWEEN b.first_day AND b.last_day
    UNION ALL
    SELECT l.channel, l.won_at::DATE, 'won', coalesce(l.value, 0.0)
    FROM leads AS l, window_bounds AS b
    WHERE l.stage = 'won' AND l.won_at::DATE BETWEEN b.first_day AND b.last_day
    UNION ALL
    SELECT l.channel, l.lost_at::DATE, 'lost', NULL
    FROM leads AS l, window_bounds AS b
    WHERE l.stage = 'lost' AND l.lost_at::DATE BETWEEN b.first_day AND b.last_day
),
per_week AS (
    SELECT
        channel,
        grouping(channel) = 1 AS is_total,
        date_trunc('week', day)::DATE AS week_start,
        count(*) FILTER (WHERE what = 'created') AS leads,
        count(*) FILTER (WHERE what = 'won') AS won,
        count(*) FILTER (WHERE what = 'lost') AS lost,
        coalesce(sum(value) FILTER (WHERE what = 'won'), 0.0) AS won_value,
        coalesce(list(value ORDER BY value) FILTER (WHERE what = 'won'), []) AS won_values
    FROM activity
    GROUP BY GROUPING SETS ((channel, date_trunc('week', day)::DATE), (date_trunc('week', day)::DATE))
),
rows_wanted AS (
    -- every channel seen in the window, and the all-channels total (channel NULL)
    SELECT DISTINCT channel, false AS is_total FROM activity
    UNION ALL
    SELECT NULL, true
)
SELECT
    r.channel,
    r.is_total,
    coalesce(c.kind, CASE WHEN r.is_total THEN NULL ELSE 'unknown' END) AS kind,
    coalesce(c.label, r.channel) AS label,
    w.week_offset,
    w.week_start,
    coalesce(p.leads, 0) AS leads,
    coalesce(p.won, 0) AS won,
    coalesce(p.lost, 0) AS lost,
    coalesce(p.won_value, 0.0) AS won_value,
    coalesce(p.won_values, []) AS won_values
FROM rows_wanted AS r
CROSS JOIN weeks AS w
LEFT JOIN per_week AS p
    ON p.is_total = r.is_total
    AND p.channel IS NOT DISTINCT FROM r.channel
    AND p.week_start = w.week_start
LEFT JOIN channels AS c ON c.channel = r.channel
ORDER BY r.is_total, r.channel, w.week_offset;
