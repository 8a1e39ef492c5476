-- Purpose: for each sampled date field (temp table date_sample), how many of its sampled values
-- each family of date formats can parse; Excel serial numbers are a family of their own.
-- Grain: one row per field. Parameters: $iso, $us, $day_first, $text (format lists).
SELECT
    field,
    -- ISO dates start with a four-digit year: strptime's %Y also reads the '25' of '25/03/21'
    count(try_strptime(value, $iso)) FILTER (WHERE regexp_matches(value, '^\s*[0-9]{4}'))
        AS iso,
    count(try_strptime(value, $us)) AS us,
    count(try_strptime(value, $day_first)) AS day_first,
    count(try_strptime(value, $text)) AS text,
    count(funnel_excel_ts(value)) FILTER (WHERE try_cast(value AS DOUBLE) BETWEEN 20000 AND 80000)
        AS excel_serial
FROM date_sample
GROUP BY field;
