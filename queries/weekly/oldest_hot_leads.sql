-- Purpose: the hot leads (open, at a stage whose temperature is hot: proposal) that have been
--          open longest, so nothing hot goes stale: CRM id, channel, owner, deal value, created
--          date, days open at the as-of date, and when the lead was first seen hot (from its
--          event history; snapshot uploads date that by the upload's as-of date). No personal
--          data: no e-mail, phone or name, not even hashed.
--          is_stale: days_open is past $stale_after_days (the pack passes the 90th percentile of
--          days to win, weekly/win_horizon.sql).
-- Grain: one row per hot lead, oldest first (then CRM id), at most $limit rows.
-- Parameters: $as_of (DATE: the store's as-of date), $stale_after_days (DOUBLE or NULL =
--             nothing is stale), $limit (INTEGER).
WITH hot AS (
    SELECT l.lead_key, l.crm_id, l.channel, l.owner, l.value, l.created_at
    FROM leads AS l
    JOIN stages AS s ON s.stage = l.stage
    WHERE s.temperature = 'hot'
),
hot_since AS (
    SELECT e.lead_key, min(e.occurred_at)::DATE AS hot_since
    FROM lead_events AS e
    JOIN stages AS s ON s.stage = e.stage
    WHERE s.temperature = 'hot' AND e.lead_key IN (SELECT lead_key FROM hot)
    GROUP BY e.lead_key
),
aged AS (
    SELECT
        h.crm_id,
        h.channel,
        coalesce(c.label, h.channel) AS label,
        h.owner,
        h.value,
        h.created_at::DATE AS created_on,
        date_diff('day', h.created_at::DATE, $as_of::DATE) AS days_open,
        hs.hot_since,
        date_diff('day', hs.hot_since, $as_of::DATE) AS days_hot
    FROM hot AS h
    LEFT JOIN hot_since AS hs ON hs.lead_key = h.lead_key
    LEFT JOIN channels AS c ON c.channel = h.channel
)
SELECT
    *,
    coalesce(days_open > $stale_after_days::DOUBLE, false) AS is_stale
FROM aged
ORDER BY days_open DESC, crm_id
LIMIT $limit::INTEGER;
