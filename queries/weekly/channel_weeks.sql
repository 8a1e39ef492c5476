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
activity AS (
    -- what happened in the window: leads created and deals lost counted per channel and day
    -- (a few thousand rows, not one per lead: at 1M leads the window holds ~1M created and
    -- ~0.5M lost leads), and one row per deal won (its value is needed, one per win).
    -- The window is the timestamps from its first Monday 00:00 to before the Monday after its
    -- last week: the same days as comparing ::DATE, but DuckDB can skip row groups by it.
    SELECT l.channel, l.created_at::DATE AS day, 'created' AS what, count(*) AS n,
           NULL::DOUBLE AS value
    FROM leads AS l
    WHERE l.created_at >= $week_start::DATE - 7 * $weeks_back::INTEGER
      AND l.created_at < $week_start::DATE + 7
    GROUP BY l.channel, l.created_at::DATE
    UNION ALL
    SELECT l.channel, l.won_at::DATE, 'won', 1, coalesce(l.value, 0.0)
    FROM leads AS l
    WHERE l.stage = 'won'
      AND l.won_at >= $week_start::DATE - 7 * $weeks_back::INTEGER
      AND l.won_at < $week_start::DATE + 7
    UNION ALL
    SELECT l.channel, l.lost_at::DATE, 'lost', count(*), NULL
    FROM leads AS l
    WHERE l.stage = 'lost'
      AND l.lost_at >= $week_start::DATE - 7 * $weeks_back::INTEGER
      AND l.lost_at < $week_start::DATE + 7
    GROUP BY l.channel, l.lost_at::DATE
),
per_week AS (
    SELECT
        channel,
        grouping(channel) = 1 AS is_total,
        date_trunc('week', day)::DATE AS week_start,
        coalesce(sum(n) FILTER (WHERE what = 'created'), 0)::BIGINT AS leads,
        count(*) FILTER (WHERE what = 'won') AS won,
        coalesce(sum(n) FILTER (WHERE what = 'lost'), 0)::BIGINT AS lost,
        coalesce((sum(try_cast(value AS DECIMAL(38, 6))) FILTER (WHERE what = 'won'))::DOUBLE, 0.0) AS won_value,
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
