-- Purpose: sales: where the period's open leads (neither won nor lost) are waiting, per channel
--          and stage, at the store's as-of date: how many, their value, how long since they
--          came in, and how long they have been at their stage: known where the lead entered
--          it at a dated change (or it is 'new': see schema/006's stage_spells, kept in schema/008's stage_stays); for a lead a
--          file first showed already at its stage, the days since then, a lower bound (it was
--          there at least that long).
-- Grain: one row per channel x open stage with open leads, and one per stage for all channels
--        (channel NULL); ordered by channel (NULL first, then open leads descending, then
--        name), stage position.
--        median_days_open, oldest_days_open: whole days from created to the as-of date;
--        known_at_stage: open leads whose days at the stage are known; at_least_at_stage:
--        those whose days at the stage are a lower bound; median_days_at_stage,
--        longest_days_at_stage over both (NULL when none: an undated stay); open_value: sum of
--        deal values.
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
WITH as_of AS (
    SELECT funnel_as_of() AS as_of_date
),
open_leads AS (
    SELECT l.lead_key, l.channel, l.stage, l.created_at, l.value
    FROM selected_leads($start, $end, $channels, $owners) AS l
    WHERE l.stage NOT IN ('won', 'lost')
),
current_stays AS (
    SELECT p.lead_key, p.stage, p.entered_at, p.entry_known
    FROM stage_stays AS p
    WHERE p.left_at IS NULL AND p.entered_at IS NOT NULL
      AND p.lead_key IN (SELECT lead_key FROM open_leads)
),
aged AS (
    SELECT
        o.channel,
        o.stage,
        o.value,
        greatest(0, date_diff('day', o.created_at::DATE, a.as_of_date)) AS days_open,
        CASE WHEN cs.lead_key IS NOT NULL
             THEN greatest(0, date_diff('day', cs.entered_at::DATE, a.as_of_date)) END
            AS days_at_stage,
        cs.entry_known
    FROM open_leads AS o
    CROSS JOIN as_of AS a
    LEFT JOIN current_stays AS cs ON cs.lead_key = o.lead_key AND cs.stage = o.stage
),
grouped AS (
    SELECT
        channel,
        GROUPING(channel) = 1 AS all_channels,
        stage,
        count(*) AS open_leads,
        coalesce(sum(try_cast(value AS DECIMAL(38, 6)))::DOUBLE, 0.0) AS open_value,
        median(days_open) AS median_days_open,
        max(days_open) AS oldest_days_open,
        count(days_at_stage) FILTER (WHERE entry_known) AS known_at_stage,
        count(days_at_stage) FILTER (WHERE NOT entry_known) AS at_least_at_stage,
        median(days_at_stage) AS median_days_at_stage,
        max(days_at_stage) AS longest_days_at_stage
    FROM aged
    GROUP BY GROUPING SETS ((channel, stage), (stage))
)
SELECT
    CASE WHEN g.all_channels THEN NULL ELSE g.channel END AS channel,
    CASE WHEN g.all_channels THEN 'All channels' ELSE coalesce(c.label, g.channel) END
        AS channel_label,
    g.stage,
    st.label AS stage_label,
    st.position,
    g.open_leads,
    g.open_value,
    g.median_days_open,
    g.oldest_days_open,
    g.known_at_stage,
    g.at_least_at_stage,
    g.median_days_at_stage,
    g.longest_days_at_stage
FROM grouped AS g
JOIN stages AS st ON st.stage = g.stage
LEFT JOIN channels AS c ON c.channel = g.channel AND NOT g.all_channels
ORDER BY g.all_channels DESC,
         sum(g.open_leads) OVER (PARTITION BY g.all_channels, g.channel) DESC, g.channel,
         st.position;
