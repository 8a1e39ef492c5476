-- Purpose: how many rejected rows and cell warnings an upload kept (it counts them all in
--          uploads; it keeps the first 10,000 of each), for the Upload page's pages.
-- Grain: one row. Parameters: $upload_id.
SELECT
    (SELECT count(*) FROM rejected_rows WHERE upload_id = $upload_id) AS rejected_kept,
    (SELECT count(*) FROM cell_warnings WHERE upload_id = $upload_id) AS warnings_kept;
