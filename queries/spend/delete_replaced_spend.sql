-- Purpose: take out the stored spend of the channels and periods a spend file gives again (a
--          corrected file replaces what it said before). Parameters: none (reads spend_typed).
DELETE FROM channel_spend c
WHERE EXISTS (
    SELECT 1 FROM spend_typed t
    WHERE t.reject_reason IS NULL AND t.channel = c.channel AND t.period_start = c.period_start
);
