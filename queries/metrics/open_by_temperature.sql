-- Purpose: the open pipeline (leads neither won nor lost) by temperature of their current stage:
--          cold (new, contacted), warm (qualified), hot (proposal), with their value and age in
--          days at the store's as-of date (max uploads.as_of, else the latest created/won/lost
--          date).
-- Grain: one row per temperature, always all three, ordered cold, warm, hot (funnel order).
--        share = open_leads / all open leads (NULL when none); open_value = sum of deal values
--        (0 when none); ages NULL when no open lead.
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
WITH selected AS (
    SELECT l.stage, l.created_at, l.value
    FROM selected_leads($start, $end, $channels, $owners) AS l
    WHERE l.stage NOT IN ('won', 'lost')
),
as_of AS (
    SELECT funnel_as_of() AS as_of_date
),
temperatures AS (
    SELECT temperature, min(position) AS position, list(stage ORDER BY position) AS stages
    FROM stages
    WHERE temperature IS NOT NULL
    GROUP BY temperature
),
per_temperature AS (
    SELECT
        st.temperature,
        count(*) AS open_leads,
        coalesce(sum(try_cast(s.value AS DECIMAL(38, 6)))::DOUBLE, 0.0) AS open_value,
        median(date_diff('day', s.created_at::DATE, a.as_of_date)) AS median_age_days,
        max(date_diff('day', s.created_at::DATE, a.as_of_date)) AS oldest_age_days
    FROM selected AS s
    JOIN stages AS st ON st.stage = s.stage
    CROSS JOIN as_of AS a
    GROUP BY st.temperature
)
SELECT
    t.temperature,
    t.stages,
    coalesce(p.open_leads, 0) AS open_leads,
    p.open_leads / nullif(sum(p.open_leads) OVER (), 0) AS share,
    coalesce(p.open_value, 0.0) AS open_value,
    p.median_age_days::DOUBLE AS median_age_days,
    p.oldest_age_days
FROM temperatures AS t
LEFT JOIN per_temperature AS p ON p.temperature = t.temperature
ORDER BY t.position;
