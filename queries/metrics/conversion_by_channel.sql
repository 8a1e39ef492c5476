-- Purpose: sales: of the leads a channel brought in the period, how many were won, lost or are
--          still open, the conversion rate with its Wilson 95% interval, the win rate among
--          closed leads, the median days from created to won, and the value won (SPEC 4).
-- Grain: one row per channel with at least one lead; ordered by leads descending, then channel.
--        conversion_rate = won / leads; win_rate = won / (won + lost), NULL when nothing closed;
--        ci_low/ci_high: Wilson score interval on won of leads, z = 1.959964;
--        median_days_to_win: fractional days, NULL when none won; won_value 0 when none won.
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
WITH selected AS (
    SELECT l.channel, l.stage, l.created_at, l.won_at, l.value
    FROM selected_leads($start, $end, $channels, $owners) AS l
),
counts AS (
    SELECT
        channel,
        count(*) AS leads,
        count(*) FILTER (WHERE stage = 'won') AS won,
        count(*) FILTER (WHERE stage = 'lost') AS lost,
        coalesce((sum(try_cast(value AS DECIMAL(38, 6))) FILTER (WHERE stage = 'won'))::DOUBLE, 0.0) AS won_value
    FROM selected
    GROUP BY channel
),
medians AS (
    -- over the won leads alone: a median with a FILTER clause inside the group-by above
    -- cost more than this second, smaller aggregate
    SELECT
        channel,
        -- a close date given as a day may fall before the created time that day: 0 days
        median(greatest(0.0, date_diff('second', created_at, won_at) / 86400.0))
            AS median_days_to_win
    FROM selected
    WHERE stage = 'won' AND won_at IS NOT NULL
    GROUP BY channel
),
per_channel AS (
    SELECT n.channel, n.leads, n.won, n.lost, m.median_days_to_win, n.won_value
    FROM counts AS n
    LEFT JOIN medians AS m ON m.channel = n.channel
),
wilson AS (
    -- z = 1.959964: the 97.5th percentile of the standard normal (a 95% two-sided interval)
    SELECT
        *,
        won / leads AS p,
        1.959964 * 1.959964 AS z2,
        1.0 + 1.959964 * 1.959964 / leads AS denominator
    FROM per_channel
)
SELECT
    w.channel,
    coalesce(c.kind, 'unknown') AS kind,
    coalesce(c.label, w.channel) AS label,
    w.leads,
    w.won,
    w.lost,
    w.leads - w.won - w.lost AS open,
    w.p AS conversion_rate,
    CASE WHEN w.won + w.lost > 0 THEN w.won / (w.won + w.lost) END AS win_rate,
    greatest(0.0, (w.p + w.z2 / (2 * w.leads)
        - 1.959964 * sqrt(w.p * (1 - w.p) / w.leads + w.z2 / (4 * w.leads * w.leads)))
        / w.denominator) AS ci_low,
    least(1.0, (w.p + w.z2 / (2 * w.leads)
        + 1.959964 * sqrt(w.p * (1 - w.p) / w.leads + w.z2 / (4 * w.leads * w.leads)))
        / w.denominator) AS ci_high,
    w.median_days_to_win,
    w.won_value,
    w.won_value / w.leads AS value_per_lead
FROM wilson AS w
LEFT JOIN channels AS c ON c.channel = w.channel
ORDER BY w.leads DESC, w.channel;
