-- Purpose: sales: why the period's lost deals were lost, per channel and per the stage they were
--          lost at. Reasons are free text: each is keyed by its slug (or the owner's synonym,
--          lost_reason_map) and worded as its most common spelling; the $top most common keys
--          held by at least $min_leads lost deals keep their name, the rest are 'Other'. A lost
--          deal whose files give no reason has reason NULL ("not in the data").
--          The stage a deal was lost at: the open stage its file names beside the lost status
--          (a Pipedrive deal keeps its stage), else the furthest stage it was seen at before
--          (leads.furthest_position, when past 'new'), else 'new' when an earlier upload saw it
--          open at 'new'; NULL when the files show it lost only ("not in the data").
-- Grain: one row per reason x channel x stage lost at with at least one lost deal; ordered by
--        reason_rank (named reasons by lost deals descending, then 'Other', then no reason),
--        then lost deals descending, channel, stage position (NULL last).
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all); $top (INTEGER), $min_leads
--             (INTEGER).
-- The lost deals are counted per (channel, reason as written, stage lost at) first: the reason
-- and its words are then worked out on those counts, not once per deal.
WITH lost_leads AS (
    SELECT l.lead_key, l.channel, l.stage_raw, l.furthest_position, l.lost_reason
    FROM selected_leads($start, $end, $channels, $owners) AS l
    WHERE l.stage = 'lost'
),
file_stages AS (
    SELECT stage_raw, funnel_stage_of(stage_raw) AS stage
    FROM (SELECT DISTINCT stage_raw FROM lost_leads WHERE stage_raw IS NOT NULL)
),
furthest_stages AS (
    SELECT position, min(stage) AS stage FROM stages WHERE stage <> 'lost' GROUP BY position
),
placed_by_file AS (
    -- the stage the file names beside the lost status, else the furthest seen before
    SELECT
        o.lead_key, o.channel, o.lost_reason,
        coalesce(CASE WHEN fs.stage NOT IN ('won', 'lost') THEN fs.stage END,
                 CASE WHEN o.furthest_position > 1 THEN f.stage END) AS lost_at
    FROM lost_leads AS o
    LEFT JOIN file_stages AS fs ON fs.stage_raw = o.stage_raw
    LEFT JOIN furthest_stages AS f ON f.position = o.furthest_position
),
seen_open_first AS (
    -- of the deals still unplaced, those an earlier upload saw open (at 'new')
    SELECT DISTINCT e.lead_key
    FROM lead_events AS e
    WHERE e.stage = 'lost' AND NOT e.seen_first
      AND e.lead_key IN (SELECT lead_key FROM placed_by_file WHERE lost_at IS NULL)
),
counted AS (
    SELECT
        p.channel, p.lost_reason,
        coalesce(p.lost_at, CASE WHEN s.lead_key IS NOT NULL THEN 'new' END) AS lost_at,
        count(*) AS n
    FROM placed_by_file AS p
    LEFT JOIN seen_open_first AS s ON s.lead_key = p.lead_key
    GROUP BY ALL
),
-- each distinct reason is slugged once
reason_slugs AS (
    SELECT lost_reason, nullif(funnel_slug(lost_reason), '') AS reason_slug
    FROM (SELECT DISTINCT lost_reason FROM counted WHERE lost_reason IS NOT NULL)
),
keyed AS (
    SELECT
        c.*,
        coalesce(m.reason, r.reason_slug) AS reason_key,
        m.reason AS mapped_reason
    FROM counted AS c
    LEFT JOIN reason_slugs AS r ON r.lost_reason = c.lost_reason
    LEFT JOIN lost_reason_map AS m ON m.raw_slug = r.reason_slug
),
spelled AS (
    -- each key's spellings by how many deals wrote them (ties: the first in text order)
    SELECT reason_key, mapped_reason, lost_reason, n,
           row_number() OVER (PARTITION BY reason_key ORDER BY n DESC, lost_reason) AS place
    FROM (SELECT reason_key, mapped_reason, lost_reason, sum(n) AS n
          FROM keyed WHERE reason_key IS NOT NULL
          GROUP BY reason_key, mapped_reason, lost_reason)
),
spellings AS (
    -- the words of each key: the owner's synonym, else its most common spelling
    SELECT reason_key,
           coalesce(max(mapped_reason), max(lost_reason) FILTER (WHERE place = 1)) AS words,
           sum(n) AS lost_leads
    FROM spelled
    GROUP BY reason_key
),
ranked AS (
    SELECT reason_key, words, lost_leads,
           row_number() OVER (ORDER BY lost_leads DESC, words) AS rank
    FROM spellings
),
named AS (
    SELECT reason_key, words, rank FROM ranked WHERE rank <= $top AND lost_leads >= $min_leads
),
placed AS (
    SELECT
        k.channel,
        CASE WHEN k.reason_key IS NULL THEN NULL
             ELSE coalesce(n.words, 'Other') END AS reason,
        CASE WHEN k.reason_key IS NULL THEN 1000002
             ELSE coalesce(n.rank, 1000001) END AS reason_rank,
        k.lost_at,
        k.n
    FROM keyed AS k
    LEFT JOIN named AS n ON n.reason_key = k.reason_key
)
SELECT
    p.reason,
    p.reason_rank,
    p.channel,
    coalesce(c.label, p.channel) AS channel_label,
    p.lost_at,
    st.label AS lost_at_label,
    st.position AS lost_at_position,
    sum(p.n)::BIGINT AS lost_leads
FROM placed AS p
LEFT JOIN channels AS c ON c.channel = p.channel
LEFT JOIN stages AS st ON st.stage = p.lost_at
GROUP BY ALL
ORDER BY p.reason_rank, lost_leads DESC, p.channel, st.position NULLS LAST;
