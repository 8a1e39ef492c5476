-- Purpose: records the CSV reader could not split into the header's columns, with a reason.
-- Grain: one row per broken record (row_number as a spreadsheet shows it: header = row 1).
CREATE TEMP TABLE raw_rejects AS
SELECT
    line AS row_number,
    CASE min(error_type)
        WHEN 'TOO MANY COLUMNS' THEN 'has more cells than the header has columns ('
            || regexp_extract(min(error_message), 'Expected Number of Columns: (\d+)', 1)
            || '); check for an unquoted delimiter in a cell'
        WHEN 'MISSING COLUMNS' THEN 'has fewer cells than the header has columns ('
            || regexp_extract(min(error_message), 'Found: (\d+)', 1) || ' instead of '
            || regexp_extract(min(error_message), 'Expected Number of Columns: (\d+)', 1) || ')'
        WHEN 'INVALID UNICODE' THEN 'holds bytes that are not valid text'
        WHEN 'UNQUOTED VALUE' THEN 'has a quote in the middle of an unquoted cell'
        ELSE 'could not be read: ' || min(error_message)
    END AS reason,
    min(csv_line) AS raw_line
FROM csv_reject_errors
GROUP BY line;
