-- Purpose: hot leads (open at a hot stage: proposal) per owner, and how many of them are going
--          stale: open longer than $stale_after_days (the pack passes the 90th percentile of
--          days from created to won, weekly/win_horizon.sql).
-- Grain: one row per owner with a hot lead (owner NULL for leads without one); ordered by
--        stale_leads descending, hot_leads descending, owner.
-- Parameters: $as_of (DATE: the store's as-of date), $stale_after_days (DOUBLE or NULL =
--             nothing is stale).
WITH hot AS (
    SELECT l.owner, date_diff('day', l.created_at::DATE, $as_of::DATE) AS days_open
    FROM leads AS l
    JOIN stages AS s ON s.stage = l.stage
    WHERE s.temperature = 'hot'
)
SELECT
    h.owner,
    count(*) AS hot_leads,
    count(*) FILTER (WHERE h.days_open > $stale_after_days::DOUBLE) AS stale_leads
FROM hot AS h
GROUP BY h.owner
ORDER BY stale_leads DESC, hot_leads DESC, h.owner NULLS LAST;
