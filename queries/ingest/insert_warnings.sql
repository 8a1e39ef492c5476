-- Purpose: keep every cell that was read as unknown while its row loaded (SPEC 3 cell
-- warnings): a date, amount or yes/no that could not be read (typed_rows' <field>_bad and
-- <field>_issue), a created date that could not be read for a lead already in the store, and
-- an outcome date before the lead's created day or a close date after the upload day
-- (merged's dropped_outcome_*). A cell holding an
-- e-mail address is kept with the address masked; a cell of a personal-data column (a name or
-- phone mapped to a date by mistake) is kept redacted.
-- All of them go to temp table warned_cells (counted: the upload's rows_warned); keep_warnings
-- stores the first few thousand.
-- Grain: one row per cell. Parameters: $<field>_col (the column named in messages)
-- for created_at, won_at, lost_at, closed_at, value, converted, is_closed; $personal_columns
-- (VARCHAR[]: the file's personal-data headers).
CREATE OR REPLACE TEMP TABLE warned_cells AS
WITH cells AS (
    SELECT row_number, $won_at_col AS column_name, won_bad AS value, won_issue AS reason
    FROM typed_rows WHERE won_issue IS NOT NULL
    UNION ALL
    SELECT row_number, $lost_at_col, lost_bad, lost_issue
    FROM typed_rows WHERE lost_issue IS NOT NULL
    UNION ALL
    SELECT row_number, $closed_at_col, closed_bad, closed_issue
    FROM typed_rows WHERE closed_issue IS NOT NULL
    UNION ALL
    SELECT row_number, $value_col, value_bad, 'is not an amount of money'
    FROM typed_rows WHERE value_bad IS NOT NULL
    UNION ALL
    SELECT row_number, $converted_col, converted_bad, 'is not yes or no (or 1/0, true/false)'
    FROM typed_rows WHERE converted_bad IS NOT NULL
    UNION ALL
    SELECT row_number, $is_closed_col, is_closed_bad, 'is not yes or no (or 1/0, true/false)'
    FROM typed_rows WHERE is_closed_bad IS NOT NULL
    UNION ALL
    SELECT row_number, $created_at_col, created_bad, created_issue
    FROM typed_rows WHERE created_issue IS NOT NULL
    UNION ALL
    SELECT row_number,
           CASE dropped_outcome_field WHEN 'won_at' THEN $won_at_col
                                      WHEN 'lost_at' THEN $lost_at_col ELSE $closed_at_col END,
           strftime(dropped_outcome_at, '%Y-%m-%d'),
           dropped_outcome_reason
    FROM merged WHERE dropped_outcome_at IS NOT NULL AND NOT is_orphan
)
-- only rows of loaded leads (a lead's last row and the rows it followed): the few warned cells
-- are joined to the 1M-row tables, not the other way round
SELECT c.row_number, c.column_name,
       CASE WHEN list_contains($personal_columns::VARCHAR[], c.column_name) THEN '[redacted]'
            ELSE regexp_replace(c.value, '[^\s"'',;|<>]+@[^\s"'',;|<>]+\.[a-zA-Z]+',
                                '[redacted]', 'g') END AS value,
       c.reason
FROM cells c
JOIN incoming i ON i.row_number = c.row_number
JOIN merged m ON m.lead_key = i.lead_key
WHERE NOT m.is_orphan;
