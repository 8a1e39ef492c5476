-- Purpose: store a spend file's rows, those of one channel and period added up (two sources
--          the synonyms map to one channel in the same week both count).
-- Grain: one row per channel and period. Parameters: none (reads spend_typed).
INSERT INTO channel_spend (channel, period_start, period_end, money, hours)
SELECT channel, period_start, max(period_end), sum(try_cast(money AS DECIMAL(38, 6)))::DOUBLE, sum(try_cast(hours AS DECIMAL(38, 6)))::DOUBLE
FROM spend_typed WHERE reject_reason IS NULL
GROUP BY channel, period_start;
