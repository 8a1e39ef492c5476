-- Purpose: type the staged cells (dates, yes/no, money) and give each row that cannot be loaded
-- a reason a person understands. Grain: one row per staged record.
-- Parameters: $<field>_formats (VARCHAR[], those the column uses first) and $<field>_excel
-- (BOOLEAN) for created_at, won_at, lost_at, closed_at; $value_decimal_comma; $<field>_col: the
-- column name used in messages. The cells typed here are not kept as text.
CREATE TEMP TABLE typed_rows AS
WITH cleaned AS (
    SELECT
        s.*,
        regexp_replace(s.value_raw, '[^0-9,.\-]', '', 'g') AS value_digits
    FROM staged s
),
typed AS (
    SELECT
        c.* EXCLUDE (value_digits),
        coalesce(try_strptime(c.created_raw, $created_at_formats),
                 CASE WHEN $created_at_excel THEN funnel_excel_ts(c.created_raw) END) AS created_at,
        coalesce(try_strptime(c.won_raw, $won_at_formats),
                 CASE WHEN $won_at_excel THEN funnel_excel_ts(c.won_raw) END) AS won_at,
        coalesce(try_strptime(c.lost_raw, $lost_at_formats),
                 CASE WHEN $lost_at_excel THEN funnel_excel_ts(c.lost_raw) END) AS lost_at,
        coalesce(try_strptime(c.closed_raw, $closed_at_formats),
                 CASE WHEN $closed_at_excel THEN funnel_excel_ts(c.closed_raw) END) AS closed_at,
        funnel_yes_no(c.converted_raw) AS converted,
        try_cast(
            CASE WHEN $value_decimal_comma
                 THEN replace(replace(c.value_digits, '.', ''), ',', '.')
                 ELSE replace(c.value_digits, ',', '')
            END AS DOUBLE
        ) AS value,
        funnel_slug(c.status_raw) AS status_slug
    FROM cleaned c
)
SELECT
    t.* EXCLUDE (created_raw, won_raw, lost_raw, closed_raw, value_raw, status_raw, converted_raw),
    CASE
        WHEN t.created_raw IS NOT NULL AND t.created_at IS NULL THEN $created_at_col
        WHEN t.won_raw IS NOT NULL AND t.won_at IS NULL THEN $won_at_col
        WHEN t.lost_raw IS NOT NULL AND t.lost_at IS NULL THEN $lost_at_col
        WHEN t.closed_raw IS NOT NULL AND t.closed_at IS NULL THEN $closed_at_col
        WHEN t.value_raw IS NOT NULL AND t.value IS NULL THEN $value_col
        WHEN t.converted_raw IS NOT NULL AND t.converted IS NULL THEN $converted_col
    END AS reject_column,
    CASE
        WHEN t.created_raw IS NOT NULL AND t.created_at IS NULL
            THEN format('{} ''{}'' is not a date', $created_at_col, t.created_raw)
        WHEN t.won_raw IS NOT NULL AND t.won_at IS NULL
            THEN format('{} ''{}'' is not a date', $won_at_col, t.won_raw)
        WHEN t.lost_raw IS NOT NULL AND t.lost_at IS NULL
            THEN format('{} ''{}'' is not a date', $lost_at_col, t.lost_raw)
        WHEN t.closed_raw IS NOT NULL AND t.closed_at IS NULL
            THEN format('{} ''{}'' is not a date', $closed_at_col, t.closed_raw)
        WHEN t.value_raw IS NOT NULL AND t.value IS NULL
            THEN format('{} ''{}'' is not an amount of money', $value_col, t.value_raw)
        WHEN t.converted_raw IS NOT NULL AND t.converted IS NULL
            THEN format('{} ''{}'' is not yes/no (or 1/0, true/false)', $converted_col,
                        t.converted_raw)
    END AS reject_reason
FROM typed t;
