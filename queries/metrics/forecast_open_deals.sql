-- Purpose: what a pipeline forecast weighs: the period's open deals (neither won nor lost) per
--          channel and stage, by whole days since they came in, at the store's as-of date.
-- Grain: one row per channel x open stage x days_open; ordered by channel, stage position,
--        days_open. open_value: sum of the deal values (0 when none); valued: deals with one.
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
SELECT
    l.channel,
    l.stage,
    greatest(0, date_diff('day', l.created_at::DATE, funnel_as_of()))::INTEGER AS days_open,
    count(*) AS open_deals,
    coalesce(sum(try_cast(l.value AS DECIMAL(38, 6)))::DOUBLE, 0.0) AS open_value,
    count(l.value) AS valued
FROM selected_leads($start, $end, $channels, $owners) AS l
JOIN stages AS st ON st.stage = l.stage
WHERE l.stage NOT IN ('won', 'lost')
GROUP BY l.channel, l.stage, st.position, days_open
ORDER BY l.channel, st.position, days_open;
