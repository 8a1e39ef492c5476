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
WITH lost_leads AS (
    SELECT l.lead_key, l.channel, l.stage_raw, l.furthest_position, l.lost_reason
    FROM selected_leads($start, $end, $channels, $owners) AS l
    WHERE l.stage = 'lost'
),
-- each distinct reason is slugged once, not once per deal
reason_slugs AS (
    SELECT lost_reason, nullif(funnel_slug(lost_reason), '') AS reason_slug
    FROM (SELECT DISTINCT lost_reason FROM lost_leads WHERE lost_reason IS NOT NULL)
),
lost AS (
    SELECT o.*, r.reason_slug
    FROM lost_leads AS o
    LEFT JOIN reason_slugs AS r ON r.lost_reason = o.lost_reason
),
file_stages AS (
    SELECT stage_raw, funnel_stage_of(stage_raw) AS stage
    FROM (SELECT DISTINCT stage_raw FROM lost WHERE stage_raw IS NOT NULL)
),
keyed AS (
    SELECT
        o.*,
        coalesce(m.reason, o.reason_slug) AS reason_key,
        m.reason AS mapped_reason
    FROM lost AS o
    LEFT JOIN lost_reason_map AS m ON m.raw_slug = o.reason_slug
),
spelled AS (
    -- each key's spellings by how many deals wrote them (ties: the first in text order)
    SELECT reason_key, mapped_reason, lost_reason, n,
           row_number() OVER (PARTITION BY reason_key ORDER BY n DESC, lost_reason) AS place
    FROM (SELECT reason_key, mapped_reason, lost_reason, count(*) AS n
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
        coalesce(
            CASE WHEN fs.stage NOT IN ('won', 'lost') THEN fs.stage END,
            CASE WHEN k.furthest_position > 1
                 THEN (SELECT min(s.stage) FROM stages s
                       WHERE s.position = k.furthest_position AND s.stage <> 'lost') END,
            CASE WHEN EXISTS (SELECT 1 FROM lead_events e
                              WHERE e.lead_key = k.lead_key AND e.stage = 'lost'
                                AND NOT e.seen_first) THEN 'new' END
        ) AS lost_at
    FROM keyed AS k
    LEFT JOIN named AS n ON n.reason_key = k.reason_key
    LEFT JOIN file_stages AS fs ON fs.stage_raw = k.stage_raw
)
SELECT
    p.reason,
    p.reason_rank,
    p.channel,
    coalesce(c.label, p.channel) AS channel_label,
    p.lost_at,
    st.label AS lost_at_label,
    st.position AS lost_at_position,
    count(*) AS lost_leads
FROM placed AS p
LEFT JOIN channels AS c ON c.channel = p.channel
LEFT JOIN stages AS st ON st.stage = p.lost_at
GROUP BY ALL
ORDER BY p.reason_rank, lost_leads DESC, p.channel, st.position NULLS LAST;
