-- Purpose: how many channel and period pairs a spend file gives that are stored already (it
--          replaces them). Grain: one row. Parameters: none (reads spend_typed).
SELECT count(*) FROM (
    SELECT DISTINCT t.channel, t.period_start FROM spend_typed t
    WHERE t.reject_reason IS NULL
      AND EXISTS (SELECT 1 FROM channel_spend c
                  WHERE c.channel = t.channel AND c.period_start = t.period_start)
);
