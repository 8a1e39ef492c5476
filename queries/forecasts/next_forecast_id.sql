-- Purpose: the number the next kept forecast gets. Grain: one row. Parameters: none.
SELECT coalesce(max(forecast_id), 0) + 1 AS forecast_id FROM forecasts;
