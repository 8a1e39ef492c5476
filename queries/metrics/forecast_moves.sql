-- Purpose: how deals move between stages, for a pipeline forecast: for the selected owners, per
--          channel and open stage, the days leads spent at the stage (their exposure) and the
--          moves out of it to each next stage (won and lost included), from every stay whose
--          start is dated (entered, or first seen there in a file: schema/006's stage_spells, kept in schema/008's stage_stays)
--          and whose end is known: it left on a known date (a move), or the lead is still there
--          at the store's as-of date (no move yet). A stay that ended at a stage first seen in a
--          file, or on a day the files do not give, is left out: when it moved is not known.
-- Grain: one row per channel x stage (destination NULL: the stage's exposure and all its
--        moves) and one per channel x stage x destination (its moves); ordered by channel,
--        stage, destination (NULL first).
-- Parameters: $owners (VARCHAR[] or NULL = all).
WITH leads_in AS (
    SELECT l.lead_key, l.channel, l.stage AS current_stage
    FROM selected_leads(NULL, NULL, NULL, $owners) AS l
),
stays AS (
    SELECT
        i.channel,
        p.stage,
        CASE WHEN p.exit_known THEN p.next_stage END AS destination,
        -- whole seconds, summed as integers: the same total in any order the rows come
        greatest(0, date_diff('second', p.entered_at,
                              CASE WHEN p.exit_known THEN p.left_at
                                   ELSE funnel_as_of()::TIMESTAMP END))
            AS exposure_seconds
    FROM leads_in AS i
    JOIN stage_stays AS p ON p.lead_key = i.lead_key
    WHERE p.stage NOT IN ('won', 'lost')
      AND p.entered_at IS NOT NULL
      AND (p.exit_known
           OR (p.left_at IS NULL AND i.current_stage = p.stage))
)
SELECT channel, stage, destination, count(destination) AS moves,
       sum(exposure_seconds) / 86400.0 AS exposure_days
FROM stays
GROUP BY GROUPING SETS ((channel, stage), (channel, stage, destination))
HAVING destination IS NOT NULL OR GROUPING(destination) = 1
ORDER BY channel, stage, GROUPING(destination) DESC, destination;
