-- Purpose: keep one row of a forecast (one horizon, one channel or all) to score it later.
-- Grain: one row. Parameters: $forecast_id, $made_at, $as_of, $horizon, $horizon_end,
--        $channel (NULL: all channels), $open_deals, $expected_wins, $wins_low, $wins_high,
--        $expected_value.
INSERT INTO forecasts (forecast_id, made_at, as_of, horizon, horizon_end, channel, open_deals,
                       expected_wins, wins_low, wins_high, expected_value)
VALUES ($forecast_id, $made_at, $as_of, $horizon, $horizon_end, $channel, $open_deals,
        $expected_wins, $wins_low, $wins_high, $expected_value);
