-- Purpose: type the staged cells (dates, yes/no, money) and sort what cannot be read into the
--          two kinds SPEC 3 knows. Only a row's identity rejects it: here, no id where the file's
--          id column is mapped (reject_reason); an unusable created date rejects the row later,
--          in insert_rejects, only when its lead is not in the store yet. Any other cell that
--          cannot be read leaves its field unknown (NULL) and is a cell warning: the cell's text
--          is kept in <field>_bad and the reason in <field>_issue (insert_warnings reads them).
--          A date is unusable when it is no date, before 1900 (a two-digit year read as year 26
--          is never stored) or after the upload day.
-- Grain: one row per staged record.
-- Parameters: $<field>_formats (VARCHAR[], those the column uses first) and $<field>_excel
--             (BOOLEAN) for created_at, won_at, lost_at, closed_at; $value_decimal_comma;
--             $<field>_col: the column name used in messages; $upload_day (DATE: the day the
--             file was uploaded); $id_mapped (BOOLEAN: the file's id column is mapped).
--             The cells typed here are not kept as text, but for those that could not be read.
CREATE TEMP TABLE typed_rows AS
WITH cleaned AS (
    SELECT
        s.*,
        regexp_replace(s.value_raw, '[^0-9,.\-]', '', 'g') AS value_digits
    FROM staged s
),
parsed AS (
    SELECT
        c.* EXCLUDE (value_digits),
        coalesce(try_strptime(c.created_raw, $created_at_formats),
                 CASE WHEN $created_at_excel THEN funnel_excel_ts(c.created_raw) END)
            AS created_parsed,
        coalesce(try_strptime(c.won_raw, $won_at_formats),
                 CASE WHEN $won_at_excel THEN funnel_excel_ts(c.won_raw) END) AS won_parsed,
        coalesce(try_strptime(c.lost_raw, $lost_at_formats),
                 CASE WHEN $lost_at_excel THEN funnel_excel_ts(c.lost_raw) END) AS lost_parsed,
        coalesce(try_strptime(c.closed_raw, $closed_at_formats),
                 CASE WHEN $closed_at_excel THEN funnel_excel_ts(c.closed_raw) END)
            AS closed_parsed,
        funnel_yes_no(c.converted_raw) AS converted,
        funnel_yes_no(c.is_closed_raw) AS is_closed,
        try_cast(
            CASE WHEN $value_decimal_comma
                 THEN replace(replace(c.value_digits, '.', ''), ',', '.')
                 ELSE replace(c.value_digits, ',', '')
            END AS DOUBLE
        ) AS value,
        upper(c.currency_raw) AS currency,
        funnel_slug(c.status_raw) AS status_slug
    FROM cleaned c
),
judged AS (
    -- why each date cell cannot be used (NULL: it can, or it is empty)
    SELECT
        p.*,
        funnel_date_issue(p.created_raw, p.created_parsed, $upload_day) AS created_issue,
        funnel_date_issue(p.won_raw, p.won_parsed, $upload_day) AS won_issue,
        funnel_date_issue(p.lost_raw, p.lost_parsed, $upload_day) AS lost_issue,
        -- a close date is judged against the upload day in merged, once the deal is known to
        -- be closed: on an open deal a future close date is when it is expected to close
        funnel_date_issue(p.closed_raw, p.closed_parsed, DATE '9999-12-30') AS closed_issue
    FROM parsed p
)
SELECT
    j.* EXCLUDE (created_raw, won_raw, lost_raw, closed_raw, value_raw, status_raw,
                 converted_raw, is_closed_raw, currency_raw, created_parsed, won_parsed,
                 lost_parsed, closed_parsed, created_issue, won_issue, lost_issue,
                 closed_issue),
    CASE WHEN j.created_issue IS NULL THEN j.created_parsed END AS created_at,
    CASE WHEN j.won_issue IS NULL THEN j.won_parsed END AS won_at,
    CASE WHEN j.lost_issue IS NULL THEN j.lost_parsed END AS lost_at,
    CASE WHEN j.closed_issue IS NULL THEN j.closed_parsed END AS closed_at,
    -- what a warning (or the reject of a new lead without a created date) names
    j.created_issue,
    CASE WHEN j.created_issue IS NOT NULL THEN j.created_raw END AS created_bad,
    j.won_issue,
    CASE WHEN j.won_issue IS NOT NULL THEN j.won_raw END AS won_bad,
    j.lost_issue,
    CASE WHEN j.lost_issue IS NOT NULL THEN j.lost_raw END AS lost_bad,
    j.closed_issue,
    CASE WHEN j.closed_issue IS NOT NULL THEN j.closed_raw END AS closed_bad,
    CASE WHEN j.value_raw IS NOT NULL AND j.value IS NULL THEN j.value_raw END AS value_bad,
    CASE WHEN j.converted_raw IS NOT NULL AND j.converted IS NULL THEN j.converted_raw END
        AS converted_bad,
    CASE WHEN j.is_closed_raw IS NOT NULL AND j.is_closed IS NULL THEN j.is_closed_raw END
        AS is_closed_bad,
    CASE WHEN $id_mapped AND j.id IS NULL THEN $id_col END AS reject_column,
    CASE WHEN $id_mapped AND j.id IS NULL
         THEN format('has no {}: the row cannot be told apart from the others', $id_col)
    END AS reject_reason
FROM judged j;
