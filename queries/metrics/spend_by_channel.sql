-- Purpose: what each channel cost against what it brought: money and hours spent (table
--          channel_spend) with cost_per_win and roi = (won_value - spend) / spend. The cost per
--          lead is not computed here: funnel.metrics.costs is its one definition (money only,
--          and money plus hours at the owner's hourly rate) and funnel.metrics adds it.
--          A spend row whose period only partly overlaps [$start, $end] counts pro rata by days
--          (money * overlapping days / days in its period). Money and hours are kept apart.
--          Sums are exact (decimals to a millionth), so no total depends on the order rows
--          are read in (a DuckLake store reads them in another order than a file).
--          Spend is not recorded per owner: with an $owners filter spend and hours are still
--          shown but the cost ratios are NULL (they would charge the whole channel's spend to a
--          few owners' leads).
-- Grain: one row per channel with a lead in the selection or spend in the period; ordered by
--        leads descending, then channel. spend/hours NULL when none recorded; ratios NULL when
--        their denominator is NULL or 0.
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
WITH selected AS (
    SELECT l.channel, l.stage, l.value
    FROM selected_leads($start, $end, $channels, $owners) AS l
),
lead_counts AS (
    SELECT
        channel,
        count(*) AS leads,
        count(*) FILTER (WHERE stage = 'won') AS won,
        coalesce((sum(try_cast(value AS DECIMAL(38, 6))) FILTER (WHERE stage = 'won'))::DOUBLE, 0.0) AS won_value
    FROM selected
    GROUP BY channel
),
spend_rows AS (
    SELECT
        s.channel,
        s.money,
        s.hours,
        (s.period_end - s.period_start + 1) AS period_days,
        funnel_overlap_days(s.period_start, s.period_end,
                            coalesce($start::DATE, s.period_start),
                            coalesce($end::DATE, s.period_end)) AS overlap_days
    FROM channel_spend AS s
    WHERE ($channels::VARCHAR[] IS NULL OR list_contains($channels::VARCHAR[], s.channel))
      AND s.period_end >= s.period_start
),
spend AS (
    SELECT
        channel,
        sum(try_cast(money * overlap_days / period_days AS DECIMAL(38, 6)))::DOUBLE AS spend,
        sum(try_cast(hours * overlap_days / period_days AS DECIMAL(38, 6)))::DOUBLE AS hours
    FROM spend_rows
    WHERE overlap_days > 0
    GROUP BY channel
),
joined AS (
    SELECT
        coalesce(n.channel, s.channel) AS channel,
        coalesce(n.leads, 0) AS leads,
        coalesce(n.won, 0) AS won,
        coalesce(n.won_value, 0.0) AS won_value,
        s.spend,
        s.hours,
        $owners::VARCHAR[] IS NULL AS costs_apply
    FROM lead_counts AS n
    FULL OUTER JOIN spend AS s ON s.channel = n.channel
)
SELECT
    j.channel,
    coalesce(c.kind, 'unknown') AS kind,
    coalesce(c.label, j.channel) AS label,
    j.leads,
    j.won,
    j.won_value,
    j.spend,
    j.hours,
    CASE WHEN j.costs_apply AND j.won > 0 THEN j.spend / j.won END AS cost_per_win,
    CASE WHEN j.costs_apply AND j.spend > 0 THEN (j.won_value - j.spend) / j.spend END AS roi,
    CASE WHEN j.costs_apply AND j.leads > 0 THEN j.hours / j.leads END AS hours_per_lead,
    CASE WHEN j.costs_apply AND j.won > 0 THEN j.hours / j.won END AS hours_per_win
FROM joined AS j
LEFT JOIN channels AS c ON c.channel = j.channel
ORDER BY j.leads DESC, j.channel;
