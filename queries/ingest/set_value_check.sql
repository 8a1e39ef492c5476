-- Purpose: whether a --set value can be read as its field's type, checked once before any row
-- is read, so a bad constant is reported against the --set and not against every row whose
-- cell it would have filled.
-- Grain: one row. Parameters: $value (VARCHAR), $formats (VARCHAR[]: the date formats of every
-- family).
SELECT
    try_strptime($value, $formats) IS NOT NULL OR funnel_excel_ts($value) IS NOT NULL AS is_date,
    funnel_yes_no($value) IS NOT NULL AS is_yes_no;
