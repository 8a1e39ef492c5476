-- Purpose: the hot leads (open, at a stage whose temperature is hot: proposal) that have been
--          open longest, so nothing hot goes stale: CRM id, channel, owner, deal value, created
--          date, days open at the as-of date, and when the lead was first seen hot: its earliest
--          event at a hot stage, kept on the lead (leads.hot_since, maintained on ingest,
--          backfilled by schema/003_lead_progress) so no lead_events are grouped here; snapshot
--          uploads date it by the upload's as-of date. No personal data: no e-mail, phone or
--          name, not even hashed.
--          is_stale: days_open is past $stale_after_days (the pack passes the 90th percentile of
--          days to win, weekly/win_horizon.sql).
-- Grain: one row per hot lead, oldest first (then CRM id), at most $limit rows.
-- Parameters: $as_of (DATE: the store's as-of date), $stale_after_days (DOUBLE or NULL =
--             nothing is stale), $limit (INTEGER).
WITH hot AS (
    SELECT l.crm_id, l.channel, l.owner, l.value, l.created_at, l.hot_since::DATE AS hot_since
    FROM leads AS l
    JOIN stages AS s ON s.stage = l.stage
    WHERE s.temperature = 'hot'
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
        h.hot_since,
        date_diff('day', h.hot_since, $as_of::DATE) AS days_hot
    FROM hot AS h
    LEFT JOIN channels AS c ON c.channel = h.channel
)
SELECT
    *,
    coalesce(days_open > $stale_after_days::DOUBLE, false) AS is_stale
FROM aged
ORDER BY days_open DESC, crm_id
LIMIT $limit::INTEGER;
