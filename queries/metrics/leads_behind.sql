-- Purpose: the leads behind a bar, a cell or a funnel step (the drill-down): the selection's
--          leads narrowed by what was clicked, with what identifies them to the owner in the
--          CRM and nothing personal: CRM id, channel, stage, owner, created day, deal value.
-- Grain: one row per lead, at most $limit; newest created first, then CRM id.
--        total: how many leads match in all (the rows may stop at $limit).
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all): the dashboard's filters;
--             $channel (VARCHAR or NULL), $stage (the current stage, or NULL), $reached (a
--             funnel step: the lead reached it, its furthest stage at or past it; or NULL),
--             $outcome ('won', 'lost', 'open' or NULL), $owner_is (VARCHAR or NULL),
--             $no_owner (BOOLEAN: only leads without an owner), $week (DATE, a created
--             week's Monday, or NULL), $lost_reason (VARCHAR: the reason's words as shown,
--             matched on its key, or NULL), $no_reason (BOOLEAN: lost without a reason),
--             $other_than (VARCHAR[] or NULL: a reason given that is none of these, as
--             lost_reasons' "Other"), $limit (INTEGER).
WITH named AS (
    SELECT unnest(coalesce($other_than::VARCHAR[], []::VARCHAR[])) AS words
),
-- each distinct reason slugged once (not once per lead), with the owner's synonym for it
reasons AS (
    SELECT r.lost_reason, r.reason_slug, coalesce(m.reason, r.reason_slug) AS reason_key
    FROM (SELECT lost_reason, funnel_slug(lost_reason) AS reason_slug
          FROM (SELECT DISTINCT lost_reason FROM leads
                WHERE lost_reason IS NOT NULL
                  -- only when a reason narrows the leads: else no lead needs its reason
                  AND ($lost_reason IS NOT NULL OR $no_reason OR $other_than IS NOT NULL)))
         AS r
    LEFT JOIN lost_reason_map AS m ON m.raw_slug = r.reason_slug
),
picked AS (
    SELECT l.*
    FROM selected_leads($start, $end, $channels, $owners) AS l
    LEFT JOIN reasons AS r ON r.lost_reason = l.lost_reason
    WHERE ($channel IS NULL OR l.channel = $channel)
      AND ($stage IS NULL OR l.stage = $stage)
      AND ($reached IS NULL OR l.furthest_position
                               >= (SELECT position FROM stages WHERE stage = $reached))
      AND ($outcome IS NULL
           OR ($outcome = 'open' AND l.stage NOT IN ('won', 'lost'))
           OR l.stage = $outcome)
      AND ($owner_is IS NULL OR l.owner = $owner_is)
      AND (NOT $no_owner OR l.owner IS NULL)
      AND ($week IS NULL OR date_trunc('week', l.created_at)::DATE = $week::DATE)
      AND ($lost_reason IS NULL
           OR r.reason_key IN (funnel_slug($lost_reason), $lost_reason))
      AND (NOT $no_reason OR (l.stage = 'lost' AND nullif(r.reason_slug, '') IS NULL))
      AND ($other_than IS NULL
           OR (nullif(r.reason_slug, '') IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM named AS n
                               WHERE r.reason_key IN (funnel_slug(n.words), n.words))))
),
-- the newest $limit first (a top-N, not a sort of every match), and the count of all apart
newest AS (
    SELECT p.crm_id, p.channel, p.stage, p.owner, p.created_at, p.amount, p.currency
    FROM picked AS p
    ORDER BY p.created_at DESC, p.crm_id
    LIMIT $limit
),
matched AS (
    SELECT count(*) AS total FROM picked
)
SELECT
    p.crm_id,
    coalesce(c.label, p.channel) AS channel,
    st.label AS stage,
    p.owner,
    p.created_at::DATE AS created,
    p.amount AS value,
    p.currency,
    m.total
FROM newest AS p
CROSS JOIN matched AS m
LEFT JOIN channels AS c ON c.channel = p.channel
LEFT JOIN stages AS st ON st.stage = p.stage
ORDER BY p.created_at DESC, p.crm_id;
