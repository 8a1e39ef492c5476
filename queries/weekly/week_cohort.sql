-- Purpose: what became of the week's new leads so far: how many were created in the week and
--          how many of those are won, lost or still open now (the same numbers as the report's
--          headline for that period; their conversion is judged on the Sales page, not here).
-- Grain: one row (zeros when no lead was created in the week).
-- Parameters: $start, $end (DATE: the week's Monday and Sunday; created_at::DATE inclusive).
SELECT
    count(*) AS leads,
    count(*) FILTER (WHERE stage = 'won') AS won,
    count(*) FILTER (WHERE stage = 'lost') AS lost,
    count(*) FILTER (WHERE stage NOT IN ('won', 'lost')) AS open
FROM leads
-- the same days as created_at::DATE BETWEEN $start AND $end, on the raw timestamps so DuckDB can
-- skip row groups by their min/max
WHERE created_at >= $start::DATE::TIMESTAMP
  AND created_at < ($end::DATE + 1)::TIMESTAMP;
