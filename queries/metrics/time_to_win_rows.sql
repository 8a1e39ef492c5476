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
WITH selected AS (
    SELECT l.channel, l.stage, l.created_at, l.won_at, l.lost_at
    FROM leads AS l
    WHERE ($start::DATE IS NULL OR l.created_at::DATE >= $start::DATE)
      AND ($end::DATE IS NULL OR l.created_at::DATE <= $end::DATE)
      AND ($channels::VARCHAR[] IS NULL OR list_contains($channels::VARCHAR[], l.channel))
      AND ($owners::VARCHAR[] IS NULL OR list_contains($owners::VARCHAR[], l.owner))
),
as_of AS (
    SELECT coalesce(
        (SELECT max(as_of) FROM uploads),
        (SELECT greatest(max(created_at)::DATE, max(won_at)::DATE, max(lost_at)::DATE) FROM leads)
    )::TIMESTAMP AS as_of_at
),
durations AS (
    SELECT
        s.channel,
        s.stage = 'won' AS is_won,
        CASE
            WHEN s.stage = 'won' THEN s.won_at
            ELSE a.as_of_at
        END AS ended_at,
        s.created_at
    FROM selected AS s
    CROSS JOIN as_of AS a
    WHERE NOT (s.stage = 'won' AND s.won_at IS NULL)
),
grouped AS (
    SELECT
        channel,
        -- to the hour: ties group the rows (a 1M-lead store sends thousands, not 1M)
        greatest(0.0, round(date_diff('second', created_at, ended_at) / 3600.0) / 24.0) AS days,
        is_won,
        count(*) AS leads
    FROM durations
    GROUP BY ALL
)
SELECT channel, days, is_won, leads
FROM grouped
ORDER BY sum(leads) OVER (PARTITION BY channel) DESC, channel, days, is_won;
