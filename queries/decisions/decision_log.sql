-- Purpose: the decision log as stored: what was planned per channel, and the forecast.
-- Grain: one row per decision x channel; newest decision first, then planned share descending.
-- Parameters: $decision_id (INTEGER or NULL = every decision).
SELECT
    decision_id,
    decided_at,
    period_start,
    period_end,
    channel,
    current_share,
    recommended_share,
    planned_share,
    planned_amount,
    planned_money,
    planned_hours,
    hourly_rate,
    forecast_leads,
    forecast_wins,
    forecast_low,
    forecast_high,
    note
FROM decisions
WHERE $decision_id::INTEGER IS NULL OR decision_id = $decision_id::INTEGER
ORDER BY decision_id DESC, planned_share DESC, channel;
