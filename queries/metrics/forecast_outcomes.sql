-- Purpose: how leads ended and after how many days, for a pipeline forecast that cannot see
--          stage moves: for the selected owners, every lead in the store whatever its created
--          date: 'won' or 'lost' (days: created to that date), 'open' (days: created to the
--          store's as-of date, when it was last seen open), 'undated' (won or lost on a day the
--          files do not give: days NULL).
-- Grain: one row per channel x outcome x whole days; ordered by channel, outcome, days.
-- Parameters: $owners (VARCHAR[] or NULL = all).
SELECT
    l.channel,
    CASE WHEN l.stage = 'won' AND l.won_at IS NOT NULL THEN 'won'
         WHEN l.stage = 'lost' AND l.lost_at IS NOT NULL THEN 'lost'
         WHEN l.stage IN ('won', 'lost') THEN 'undated'
         ELSE 'open' END AS outcome,
    CASE WHEN l.stage NOT IN ('won', 'lost') OR coalesce(l.won_at, l.lost_at) IS NOT NULL
         THEN greatest(0, date_diff('day', l.created_at::DATE,
                                    CASE l.stage WHEN 'won' THEN l.won_at::DATE
                                                 WHEN 'lost' THEN l.lost_at::DATE
                                                 ELSE funnel_as_of() END))::INTEGER
    END AS days,
    count(*) AS leads
FROM selected_leads(NULL, NULL, NULL, $owners) AS l
GROUP BY ALL
ORDER BY 1, 2, 3;
