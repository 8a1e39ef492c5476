-- Purpose: the input of the time-in-stage curves (Kaplan-Meier, funnel.metrics.stage_time): each
--          stay of the period's leads in an open stage (new, contacted, qualified, proposal),
--          from schema/006's stage_spells, kept in schema/008's stage_stays. A stay whose entry
--          and exit dates are both known ends in `left` (days = left_at - entered_at;
--          moved_on: to a later stage that is not 'lost', the next step); a lead still in its
--          stay at the store's as-of date is censored there (left = false) when its entry is
--          known. Every other stay (the lead
--          was already in the stage when a file first showed it, or left for a stage first
--          seen in a file) has days NULL: how long it lasted is not in the data.
--          Durations are rounded to the hour and count as 0 when below 0.
-- Grain: one row per channel x stage x days x left x moved_on (with the channel's and stage's
--        words and the stage's position); ordered by channel (leads
--        descending, then name), stage position, days, left, moved_on.
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
WITH selected AS (
    SELECT l.lead_key, l.channel, l.stage AS current_stage
    FROM selected_leads($start, $end, $channels, $owners) AS l
),
stays AS (
    SELECT
        s.channel,
        p.stage,
        p.entry_known AND p.exit_known AS measured,
        p.entry_known AND p.left_at IS NULL AND s.current_stage = p.stage AS censored,
        p.entered_at,
        p.left_at,
        coalesce(nx.position > st.position AND p.next_stage <> 'lost', FALSE) AS moved_on
    FROM selected AS s
    JOIN stage_stays AS p ON p.lead_key = s.lead_key
    JOIN stages AS st ON st.stage = p.stage
    LEFT JOIN stages AS nx ON nx.stage = p.next_stage
    WHERE p.stage NOT IN ('won', 'lost')
),
timed AS (
    SELECT
        channel,
        stage,
        CASE WHEN measured
                 THEN greatest(0.0, round(date_diff('second', entered_at, left_at) / 3600.0)
                                    / 24.0)
             WHEN censored
                 THEN greatest(0.0, round(date_diff('second', entered_at,
                                                    funnel_as_of()::TIMESTAMP) / 3600.0) / 24.0)
        END AS days,
        measured AS "left",
        measured AND moved_on AS moved_on
    FROM stays
),
-- grouped before the words are joined: the words go on the groups, not on every stay
grouped AS (
    SELECT channel, stage, days, "left", moved_on, count(*) AS leads
    FROM timed
    GROUP BY ALL
)
SELECT g.channel, coalesce(c.label, g.channel) AS channel_label, g.stage,
       st.label AS stage_label, st.position, g.days, g."left", g.moved_on, g.leads
FROM grouped AS g
JOIN stages AS st ON st.stage = g.stage
LEFT JOIN channels AS c ON c.channel = g.channel
ORDER BY sum(g.leads) OVER (PARTITION BY g.channel) DESC, g.channel, st.position, g.days,
         g."left", g.moved_on;
