-- Purpose: store the typed spend rows, replacing what was stored for the same channel and period.
DELETE FROM channel_spend c
WHERE EXISTS (
    SELECT 1 FROM spend_typed t
    WHERE t.reject_reason IS NULL AND t.channel = c.channel AND t.period_start = c.period_start
);
INSERT INTO channel_spend (channel, period_start, period_end, money, hours)
SELECT channel, period_start, max(period_end), sum(money), sum(hours)
FROM spend_typed WHERE reject_reason IS NULL
GROUP BY channel, period_start;
