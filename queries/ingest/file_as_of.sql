-- Purpose: the default as-of date of a file (SPEC 3): its latest created, won or lost date, and
--          its latest close date on a row that says the deal is closed (won or lost by status,
--          yes/no, closed flag or stage): on an open deal a close date is when it is expected
--          to close, no outcome. Dates after the upload day are already unknown (typed_rows),
--          so a mistyped 2030 never moves it. NULL when the file gives no date.
--          The dates a day after the upload day that typed_rows lets through (a time zone ahead)
--          are brought back to the upload day: the as-of date is never after it.
-- Grain: one row. Parameters: $no_means_lost (a yes/no outcome alone, "no" meaning lost),
--        $upload_day (DATE).
WITH stage_values AS (
    -- each distinct raw stage looked up once
    SELECT stage_raw, funnel_stage_of(stage_raw) AS stage_mapped
    FROM (SELECT DISTINCT stage_raw FROM typed_rows WHERE stage_raw IS NOT NULL)
)
SELECT CASE WHEN latest > $upload_day::DATE THEN $upload_day::DATE ELSE latest END AS as_of
FROM (SELECT greatest(
    (SELECT max(greatest(created_at, won_at, lost_at)) FROM typed_rows
     WHERE reject_reason IS NULL),
    -- close dates: only the rows that have one are joined to their stage
    (SELECT max(t.closed_at)
     FROM typed_rows t
     LEFT JOIN stage_values sv ON sv.stage_raw = t.stage_raw
     WHERE t.reject_reason IS NULL AND t.closed_at::DATE <= $upload_day::DATE + 1
       AND (t.status_slug IN ('won', 'lost') OR t.converted OR t.is_closed
            OR ($no_means_lost AND NOT t.converted)
            OR (t.status_slug IS NULL AND t.is_closed IS NULL
                AND sv.stage_mapped IN ('won', 'lost'))))
)::DATE AS latest);
