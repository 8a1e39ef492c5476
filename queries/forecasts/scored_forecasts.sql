-- Purpose: every kept forecast against what happened: the wins, among the leads that came in by
--          the forecast's as-of date, dated after it and up to its horizon's last day (for all
--          channels, or the row's channel). A forecast is due once the store's as-of date
--          reaches the horizon's end; before that, the wins so far. Wins the files give no date
--          are in no window.
-- Grain: one row per kept forecast row; newest forecast first, then horizon end, channel (all
--        channels first).
--        actual_wins: wins in the window so far; due: the window is over in the data;
--        verdict: 'inside the range', 'above the range', 'below the range', or NULL (not due).
-- Parameters: none.
WITH as_of AS (
    SELECT funnel_as_of() AS as_of_date
),
counted AS (
    SELECT
        f.*,
        (SELECT count(*) FROM leads AS l
         WHERE l.stage = 'won'
           AND (f.channel IS NULL OR l.channel = f.channel)
           AND l.created_at::DATE <= f.as_of
           AND l.won_at::DATE > f.as_of AND l.won_at::DATE <= f.horizon_end) AS actual_wins
    FROM forecasts AS f
)
SELECT
    f.forecast_id,
    f.made_at,
    f.as_of,
    f.horizon,
    f.horizon_end,
    f.channel,
    CASE WHEN f.channel IS NULL THEN 'All channels' ELSE coalesce(c.label, f.channel) END
        AS channel_label,
    f.open_deals,
    f.expected_wins,
    f.wins_low,
    f.wins_high,
    f.expected_value,
    f.actual_wins,
    a.as_of_date >= f.horizon_end AS due,
    CASE WHEN a.as_of_date < f.horizon_end THEN NULL
         WHEN f.actual_wins > f.wins_high THEN 'above the range'
         WHEN f.actual_wins < f.wins_low THEN 'below the range'
         ELSE 'inside the range' END AS verdict
FROM counted AS f
CROSS JOIN as_of AS a
LEFT JOIN channels AS c ON c.channel = f.channel
ORDER BY f.forecast_id DESC, f.horizon_end, f.channel NULLS FIRST;
