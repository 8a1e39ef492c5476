-- Purpose: store one decision (an accepted or edited allocation) with its forecast, one row per
--          channel; the parallel lists are zipped by unnest.
-- Grain: inserts one row per element of $channels.
-- Parameters: $decision_id (INTEGER), $decided_at (TIMESTAMP), $period_start, $period_end
--             (DATE), $note (VARCHAR or NULL), $hourly_rate (DOUBLE); parallel lists:
--             $channels (VARCHAR[]), $planned_shares, $planned_amounts, $planned_money,
--             $planned_hours, $recommended_shares, $current_shares, $forecast_wins,
--             $forecast_low, $forecast_high, $forecast_leads (DOUBLE[]).
INSERT INTO decisions (
    decision_id, decided_at, period_start, period_end, channel, planned_share, planned_amount,
    forecast_wins, forecast_low, forecast_high, note, recommended_share, current_share,
    planned_money, planned_hours, hourly_rate, forecast_leads
)
SELECT
    $decision_id::INTEGER,
    $decided_at::TIMESTAMP,
    $period_start::DATE,
    $period_end::DATE,
    unnest($channels::VARCHAR[]),
    unnest($planned_shares::DOUBLE[]),
    unnest($planned_amounts::DOUBLE[]),
    unnest($forecast_wins::DOUBLE[]),
    unnest($forecast_low::DOUBLE[]),
    unnest($forecast_high::DOUBLE[]),
    $note::VARCHAR,
    unnest($recommended_shares::DOUBLE[]),
    unnest($current_shares::DOUBLE[]),
    unnest($planned_money::DOUBLE[]),
    unnest($planned_hours::DOUBLE[]),
    $hourly_rate::DOUBLE,
    unnest($forecast_leads::DOUBLE[]);
