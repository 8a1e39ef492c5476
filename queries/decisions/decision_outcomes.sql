-- Purpose: what became of each decision's forecast: the leads each channel brought in the
--          decision's period, how many of them are won so far, the money and hours actually
--          recorded for the period, and what funnel.decisions needs to tell when the period's
--          leads have had time to convert (each channel's 90th percentile of days to win, over
--          every won lead in the store, and the pooled one, as in metrics/weekly_cohorts).
-- Grain: one row per decision x channel (label from table channels, else the slug); ordered by decision_id descending, planned_share
--        descending, channel. actual_money / actual_hours NULL when no spend is recorded in the
--        period; a spend row counts pro rata by the days it shares with the period.
-- Parameters: $decision_id (INTEGER or NULL = every decision).
WITH d AS (
    SELECT *
    FROM decisions
    WHERE $decision_id::INTEGER IS NULL OR decision_id = $decision_id::INTEGER
),
as_of AS (
    SELECT funnel_as_of() AS as_of_date
),
channel_horizon AS (
    SELECT channel, wins AS channel_wins, p90_days AS channel_p90_days
    FROM win_horizons WHERE channel IS NOT NULL
),
all_horizon AS (
    SELECT wins AS all_wins, p90_days AS all_p90_days
    FROM win_horizons WHERE channel IS NULL
),
daily_leads AS (
    -- leads per channel and created day first (about 1,000 rows at 1M leads): the range join
    -- below then meets those rows, not every lead once per decision (1M leads, three
    -- decisions: 71 -> 57 ms of CPU). Skipped when there is no decision.
    SELECT
        l.channel,
        l.created_at::DATE AS day,
        count(*) AS leads,
        count(*) FILTER (WHERE l.stage = 'won') AS won
    FROM leads AS l
    WHERE EXISTS (SELECT 1 FROM d)
    GROUP BY l.channel, l.created_at::DATE
),
counts AS (
    SELECT
        d.decision_id,
        d.channel,
        coalesce(sum(n.leads), 0)::BIGINT AS actual_leads,
        coalesce(sum(n.won), 0)::BIGINT AS actual_wins
    FROM d
    LEFT JOIN daily_leads AS n
        ON n.channel = d.channel
       AND n.day BETWEEN d.period_start AND d.period_end
    GROUP BY d.decision_id, d.channel
),
won_values AS (
    -- summed over the won leads themselves, not per day and then per period: a sum of
    -- fractional values regrouped can differ in its last digit
    SELECT d.decision_id, d.channel, sum(try_cast(l.value AS DECIMAL(38, 6)))::DOUBLE AS won_value
    FROM d
    JOIN leads AS l
        ON l.channel = d.channel
       AND l.created_at >= d.period_start::TIMESTAMP
       AND l.created_at < (d.period_end + 1)::TIMESTAMP
    WHERE l.stage = 'won'
    GROUP BY d.decision_id, d.channel
),
outcomes AS (
    SELECT
        n.decision_id,
        n.channel,
        n.actual_leads,
        n.actual_wins,
        coalesce(v.won_value, 0.0) AS actual_won_value
    FROM counts AS n
    LEFT JOIN won_values AS v USING (decision_id, channel)
),
spend AS (
    SELECT
        d.decision_id,
        d.channel,
        sum(try_cast(coalesce(s.money, 0.0)
            * funnel_overlap_days(s.period_start, s.period_end, d.period_start, d.period_end)
            / (s.period_end - s.period_start + 1) AS DECIMAL(38, 6)))::DOUBLE AS actual_money,
        sum(try_cast(coalesce(s.hours, 0.0)
            * funnel_overlap_days(s.period_start, s.period_end, d.period_start, d.period_end)
            / (s.period_end - s.period_start + 1) AS DECIMAL(38, 6)))::DOUBLE AS actual_hours
    FROM d
    JOIN channel_spend AS s
        ON s.channel = d.channel
       AND s.period_start <= d.period_end
       AND s.period_end >= d.period_start
       AND s.period_end >= s.period_start
    GROUP BY d.decision_id, d.channel
)
SELECT
    d.decision_id,
    d.decided_at,
    d.period_start,
    d.period_end,
    d.channel,
    coalesce(c.label, d.channel) AS label,
    d.planned_share,
    d.planned_amount,
    d.planned_money,
    d.planned_hours,
    d.hourly_rate,
    d.forecast_leads,
    d.forecast_wins,
    d.forecast_low,
    d.forecast_high,
    d.note,
    o.actual_leads,
    o.actual_wins,
    o.actual_won_value,
    s.actual_money,
    s.actual_hours,
    a.as_of_date,
    coalesce(h.channel_wins, 0) AS channel_wins,
    h.channel_p90_days,
    g.all_wins,
    g.all_p90_days
FROM d
JOIN outcomes AS o USING (decision_id, channel)
LEFT JOIN spend AS s USING (decision_id, channel)
CROSS JOIN as_of AS a
CROSS JOIN all_horizon AS g
LEFT JOIN channel_horizon AS h ON h.channel = d.channel
LEFT JOIN channels AS c ON c.channel = d.channel
ORDER BY d.decision_id DESC, d.planned_share DESC, d.channel;
