-- Purpose: sales: how each owner (salesperson) converts the period's leads, over all channels
--          and per channel: leads, won, lost, open, the conversion rate and the win rate, each
--          with its Wilson 95% interval (SPEC 4, the same rule as channels).
-- Grain: one row per owner (channel NULL: all channels) and one per owner x channel, for owners
--        and channels with at least one lead. A lead with no owner in its files has owner NULL
--        (its own row: "not in the data"). Ordered by the owner's leads descending, then owner
--        (NULL last), its all-channels row first, then its channels by leads descending.
--        conversion_rate = won / leads; win_rate = won / (won + lost), NULL when nothing
--        closed; ci_low/ci_high on won of leads, win_ci_low/win_ci_high on won of won + lost.
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
WITH counts AS (
    SELECT
        l.owner,
        l.channel,
        GROUPING(l.channel) = 1 AS all_channels,
        count(*) AS leads,
        count(*) FILTER (WHERE l.stage = 'won') AS won,
        count(*) FILTER (WHERE l.stage = 'lost') AS lost,
        coalesce((sum(try_cast(l.value AS DECIMAL(38, 6))) FILTER (WHERE l.stage = 'won'))::DOUBLE, 0.0) AS won_value
    FROM selected_leads($start, $end, $channels, $owners) AS l
    GROUP BY GROUPING SETS ((l.owner), (l.owner, l.channel))
),
ordered AS (
    SELECT
        n.*,
        max(n.leads) FILTER (WHERE n.all_channels) OVER (PARTITION BY n.owner) AS owner_leads
    FROM counts AS n
)
SELECT
    o.owner,
    CASE WHEN o.all_channels THEN NULL ELSE o.channel END AS channel,
    CASE WHEN o.all_channels THEN NULL ELSE coalesce(c.label, o.channel) END AS channel_label,
    o.leads,
    o.won,
    o.lost,
    o.leads - o.won - o.lost AS open,
    o.won / o.leads AS conversion_rate,
    funnel_wilson_low(o.won, o.leads) AS ci_low,
    funnel_wilson_high(o.won, o.leads) AS ci_high,
    CASE WHEN o.won + o.lost > 0 THEN o.won / (o.won + o.lost) END AS win_rate,
    funnel_wilson_low(o.won, o.won + o.lost) AS win_ci_low,
    funnel_wilson_high(o.won, o.won + o.lost) AS win_ci_high,
    o.won_value
FROM ordered AS o
LEFT JOIN channels AS c ON c.channel = o.channel AND NOT o.all_channels
ORDER BY o.owner_leads DESC, o.owner NULLS LAST, o.all_channels DESC, o.leads DESC, o.channel;
