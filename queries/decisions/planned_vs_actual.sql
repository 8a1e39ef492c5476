-- Purpose: planned against actual, week by week, for each decision's period up to the as-of
--          date: the money and hours planned per week against those recorded in channel_spend
--          (a spend row counts pro rata by the days it shares with the week), and the leads the
--          channel brought that week against the forecast's weekly share.
-- Grain: one row per decision x channel x week (weeks start on period_start, every 7 days, the
--        last one cut at period_end); only weeks starting on or before the as-of date; ordered
--        by decision_id descending, week_start, planned_share descending, channel.
--        actual_money / actual_hours NULL when no spend is recorded for that channel and week;
--        actual_amount = actual money + actual hours x the decision's hourly rate.
-- Parameters: $decision_id (INTEGER or NULL = every decision).
WITH d AS (
    SELECT *
    FROM decisions
    WHERE $decision_id::INTEGER IS NULL OR decision_id = $decision_id::INTEGER
),
as_of AS (
    SELECT funnel_as_of() AS as_of_date
),
weeks AS (
    SELECT
        d.*,
        w.week_start::DATE AS week_start,
        least(w.week_start::DATE + 6, d.period_end) AS week_end
    FROM d
    CROSS JOIN LATERAL (
        SELECT unnest(generate_series(
            d.period_start::TIMESTAMP, d.period_end::TIMESTAMP, INTERVAL 7 DAY
        )) AS week_start
    ) AS w
    WHERE w.week_start::DATE <= (SELECT as_of_date FROM as_of)
),
spend AS (
    SELECT
        w.decision_id,
        w.channel,
        w.week_start,
        sum(try_cast(coalesce(s.money, 0.0)
            * funnel_overlap_days(s.period_start, s.period_end, w.week_start, w.week_end)
            / (s.period_end - s.period_start + 1) AS DECIMAL(38, 6)))::DOUBLE AS actual_money,
        sum(try_cast(coalesce(s.hours, 0.0)
            * funnel_overlap_days(s.period_start, s.period_end, w.week_start, w.week_end)
            / (s.period_end - s.period_start + 1) AS DECIMAL(38, 6)))::DOUBLE AS actual_hours
    FROM weeks AS w
    JOIN channel_spend AS s
        ON s.channel = w.channel
       AND s.period_start <= w.week_end
       AND s.period_end >= w.week_start
       AND s.period_end >= s.period_start
    GROUP BY w.decision_id, w.channel, w.week_start
),
daily_leads AS (
    -- leads per channel and created day first (about 1,000 rows at 1M leads): the range join
    -- below then meets those rows, not every lead once per decision week (1M leads, three
    -- decisions: 46 -> 24 ms of CPU). Skipped when there is no week to fill.
    SELECT
        l.channel,
        l.created_at::DATE AS day,
        count(*) AS leads,
        count(*) FILTER (WHERE l.stage = 'won') AS won
    FROM leads AS l
    WHERE EXISTS (SELECT 1 FROM weeks)
    GROUP BY l.channel, l.created_at::DATE
),
week_leads AS (
    SELECT
        w.decision_id,
        w.channel,
        w.week_start,
        coalesce(sum(n.leads), 0)::BIGINT AS actual_leads,
        coalesce(sum(n.won), 0)::BIGINT AS won_so_far
    FROM weeks AS w
    LEFT JOIN daily_leads AS n
        ON n.channel = w.channel
       AND n.day BETWEEN w.week_start AND w.week_end
    GROUP BY w.decision_id, w.channel, w.week_start
)
SELECT
    w.decision_id,
    w.channel,
    w.week_start,
    w.week_end,
    w.planned_share,
    w.planned_money * (w.week_end - w.week_start + 1) / 7.0 AS planned_money,
    w.planned_hours * (w.week_end - w.week_start + 1) / 7.0 AS planned_hours,
    w.planned_amount * (w.week_end - w.week_start + 1) / 7.0 AS planned_amount,
    s.actual_money,
    s.actual_hours,
    s.actual_money + s.actual_hours * w.hourly_rate AS actual_amount,
    w.forecast_leads * (w.week_end - w.week_start + 1)
        / (w.period_end - w.period_start + 1) AS forecast_leads,
    n.actual_leads,
    n.won_so_far
FROM weeks AS w
LEFT JOIN spend AS s USING (decision_id, channel, week_start)
JOIN week_leads AS n USING (decision_id, channel, week_start)
ORDER BY w.decision_id DESC, w.week_start, w.planned_share DESC, w.channel;
