-- Purpose: the input of the Kaplan-Meier time-to-win curves (funnel.stats.kaplan_meier): each
--          lead's days from created to won (an observed win), or to the store's as-of date
--          (censored: it had not won by then). A lost lead is known not to win, so it stays
--          in the risk set up to the as-of date: 1 - survival is then the share of ALL the
--          channel's leads won by day t (the cumulative incidence of a win with loss as a
--          competing outcome), not the share among leads still in play. Durations
--          are rounded to the hour, and count as 0 when below 0 (a date error in the file).
--          Leads sharing channel, days and outcome are grouped, with their number in `leads`.
-- Grain: one row per channel x days x is_won; ordered by channel (leads descending, then
--        name), days, is_won.
--        A won lead without won_at is left out (its time to win is unknown).
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
WITH as_of AS (
    SELECT funnel_as_of()::TIMESTAMP AS as_of_at
),
grouped AS (
    -- to the hour: ties group the rows (a 1M-lead store sends thousands, not 1M).
    -- Censored and won leads are grouped apart, each branch with its own end date and its
    -- stage test in the scan (the same filters in both): at 1M leads 70 -> 48 ms of CPU against
    -- one group-by over a CASE, and less than a CTE of the selected leads read by both
    SELECT
        l.channel,
        greatest(0.0, round(date_diff('second', l.created_at, a.as_of_at) / 3600.0) / 24.0)
            AS days,
        false AS is_won,
        count(*) AS leads
    FROM selected_leads($start, $end, $channels, $owners) AS l
    CROSS JOIN as_of AS a
    WHERE l.stage <> 'won'
    GROUP BY ALL
    UNION ALL
    SELECT
        l.channel,
        greatest(0.0, round(date_diff('second', l.created_at, l.won_at) / 3600.0) / 24.0),
        true,
        count(*)
    FROM selected_leads($start, $end, $channels, $owners) AS l
    WHERE l.stage = 'won' AND l.won_at IS NOT NULL
    GROUP BY ALL
)
SELECT channel, days, is_won, leads
FROM grouped
ORDER BY sum(leads) OVER (PARTITION BY channel) DESC, channel, days, is_won;
