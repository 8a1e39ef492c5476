-- Purpose: sales funnel per channel: how many of the period's leads reached each stage, from
--          their event history. A lead's furthest stage is the highest position among its
--          events other than 'lost' (and its current stage unless lost); it counts as reaching
--          that stage and every earlier one, so a lead seen first at 'proposal' reached
--          new..proposal, a won lead reached every stage, a lost lead the furthest stage it was
--          seen at. That position is kept on the lead (leads.furthest_position, maintained on
--          ingest, backfilled by schema/003_lead_progress): reading it rather than grouping
--          every lead_events row took this query from 225-285 ms to 17-20 ms (warm medians) at
--          1M leads / 5M events.
--          Also where each channel leaks most compared with all other channels pooled.
-- Grain: one row per channel x progress stage (new, contacted, qualified, proposal, won);
--        ordered by channel (leads descending, then name), then stage position.
--        step_pct = reached / reached at the previous stage (NULL for new or when that is 0);
--        cumulative_pct = reached / leads; drop_pct = 1 - step_pct;
--        others_drop_pct = the same drop for all other channels pooled;
--        excess_drop_pct = drop_pct - others_drop_pct;
--        is_worst_step: the stage with the largest positive excess_drop_pct (earliest on ties).
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
WITH selected AS (
    SELECT l.channel, l.furthest_position
    FROM selected_leads($start, $end, $channels, $owners) AS l
),
progress AS (
    SELECT stage, position FROM stages WHERE stage <> 'lost'
),
histogram AS (
    -- furthest_position is at least 1: every lead reached 'new'
    SELECT channel, furthest_position AS position, count(*) AS leads
    FROM selected
    GROUP BY channel, furthest_position
),
channel_order AS (
    SELECT channel, row_number() OVER (ORDER BY sum(leads) DESC, channel) AS rank
    FROM histogram
    GROUP BY channel
),
reached AS (
    SELECT
        o.channel,
        o.rank,
        p.stage,
        p.position,
        coalesce(sum(h.leads), 0)::BIGINT AS reached
    FROM channel_order AS o
    CROSS JOIN progress AS p
    LEFT JOIN histogram AS h ON h.channel = o.channel AND h.position >= p.position
    GROUP BY o.channel, o.rank, p.stage, p.position
),
with_previous AS (
    SELECT
        *,
        lag(reached) OVER (PARTITION BY channel ORDER BY position) AS previous_reached,
        first_value(reached) OVER (PARTITION BY channel ORDER BY position) AS leads
    FROM reached
),
with_others AS (
    SELECT
        *,
        sum(reached) OVER (PARTITION BY position) - reached AS others_reached,
        sum(previous_reached) OVER (PARTITION BY position) - previous_reached
            AS others_previous_reached
    FROM with_previous
),
rates AS (
    SELECT
        *,
        CASE WHEN previous_reached > 0 THEN reached / previous_reached END AS step_pct,
        CASE WHEN leads > 0 THEN reached / leads END AS cumulative_pct,
        CASE WHEN previous_reached > 0 THEN 1 - reached / previous_reached END AS drop_pct,
        CASE WHEN others_previous_reached > 0
            THEN 1 - others_reached / others_previous_reached END AS others_drop_pct
    FROM with_others
),
ranked AS (
    SELECT
        *,
        drop_pct - others_drop_pct AS excess_drop_pct,
        row_number() OVER (
            PARTITION BY channel ORDER BY drop_pct - others_drop_pct DESC NULLS LAST, position
        ) AS leak_rank
    FROM rates
)
SELECT
    channel,
    stage,
    position,
    reached,
    step_pct,
    cumulative_pct,
    drop_pct,
    others_drop_pct,
    excess_drop_pct,
    coalesce(leak_rank = 1 AND excess_drop_pct > 0, false) AS is_worst_step
FROM ranked
ORDER BY rank, position;
