-- Purpose: how long wins take in this store: the 90th percentile of days from created to won
--          over every won lead (90% of wins came sooner). The weekly pack calls a hot lead open
--          longer than this "going stale", and treats the weeks less than this after the first
--          lead as ramp-up for wins (the wins of leads created before the data starts are
--          missing, so those weeks undercount wins and are no baseline for them).
-- Grain: one row; p90_days_to_win NULL when nothing is won.
-- Parameters: none.
SELECT p90_days AS p90_days_to_win, wins
FROM win_horizons
WHERE channel IS NULL;
