-- Purpose: which family of date formats the spend file's period column follows.
-- Grain: one row. Parameters: $iso, $us, $day_first, $text (format lists).
SELECT
    -- ISO dates start with a four-digit year: strptime's %Y also reads the '25' of '25/03/21'
    count(try_strptime(period_start, $iso)) FILTER (WHERE regexp_matches(period_start, '^\s*[0-9]{4}'))
        AS iso,
    count(try_strptime(period_start, $us)) AS us,
    count(try_strptime(period_start, $day_first)) AS day_first,
    count(try_strptime(period_start, $text)) AS text,
    count(funnel_excel_ts(period_start)) AS excel_serial
FROM (SELECT DISTINCT period_start FROM spend_staged WHERE period_start IS NOT NULL LIMIT 5000);
