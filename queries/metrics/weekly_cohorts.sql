-- Purpose: conversion by created-week cohort per channel, with what funnel.stats needs to tell
--          a mature cohort from a young one: the cohort's age at the as-of date and each
--          channel's days-to-win 90th percentile. The percentiles come from every won lead in
--          the store (no filter applies to them: a channel's sales cycle does not change with
--          the view), for the channel and for all channels pooled (the fallback).
-- Grain: one row per ISO week (labelled by its Monday) x channel with at least one lead;
--        ordered by cohort_week, then leads descending, then channel.
--        age_days = as-of date - the cohort's last day (its Sunday): how long its youngest lead
--        has had to convert. p90 columns NULL when there are no wins.
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
WITH selected AS (
    SELECT l.channel, l.stage, l.created_at::DATE AS created_day
    FROM selected_leads($start, $end, $channels, $owners) AS l
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
cohort_days AS (
    -- per created day first, then per week: casting to a date costs less than date_trunc
    -- on every lead
    SELECT
        created_day,
        channel,
        count(*) AS leads,
        count(*) FILTER (WHERE stage = 'won') AS won,
        count(*) FILTER (WHERE stage = 'lost') AS lost
    FROM selected
    GROUP BY created_day, channel
),
cohorts AS (
    SELECT
        date_trunc('week', created_day)::DATE AS cohort_week,
        channel,
        sum(leads)::BIGINT AS leads,
        sum(won)::BIGINT AS won,
        sum(lost)::BIGINT AS lost
    FROM cohort_days
    GROUP BY date_trunc('week', created_day)::DATE, channel
)
SELECT
    k.cohort_week,
    k.channel,
    k.leads,
    k.won,
    k.lost,
    k.leads - k.won - k.lost AS open,
    a.as_of_date,
    date_diff('day', k.cohort_week + 6, a.as_of_date) AS age_days,
    coalesce(h.channel_wins, 0) AS channel_wins,
    h.channel_p90_days,
    g.all_wins,
    g.all_p90_days
FROM cohorts AS k
CROSS JOIN as_of AS a
CROSS JOIN all_horizon AS g
LEFT JOIN channel_horizon AS h ON h.channel = k.channel
ORDER BY k.cohort_week, k.leads DESC, k.channel;
