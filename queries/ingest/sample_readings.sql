-- Purpose: how a few sample cells of a mapped column will be read, before anything is loaded
--          (the Upload page's preview shows "yes -> won", "12/03/21 -> 12 Mar 2021"): every
--          reading a cell could have, the caller keeping the one its field uses. The same
--          macros as typed_rows and merged read them, so the preview cannot tell another story.
-- Grain: one row per distinct value given (the caller matches them up by value).
-- Parameters: $cells (VARCHAR[]), $formats (VARCHAR[]: the date formats the column's family
--             uses), $excel (BOOLEAN: the column holds Excel serial dates), $decimal_comma
--             (BOOLEAN: money is written 1.234,56).
WITH given AS (
    SELECT DISTINCT unnest($cells::VARCHAR[]) AS value
)
SELECT
    g.value,
    coalesce(try_strptime(g.value, $formats::VARCHAR[]),
             CASE WHEN $excel THEN funnel_excel_ts(g.value) END)::DATE AS as_date,
    funnel_yes_no(g.value) AS yes_no,
    try_cast(CASE WHEN $decimal_comma
                  THEN replace(replace(regexp_replace(g.value, '[^0-9,.\-]', '', 'g'), '.', ''),
                               ',', '.')
                  ELSE replace(regexp_replace(g.value, '[^0-9,.\-]', '', 'g'), ',', '')
             END AS DOUBLE) AS amount,
    s.label AS stage_label,
    coalesce(c.label, funnel_tidy_label(g.value)) AS channel_label,
    c.channel IS NULL AS channel_is_own
FROM given g
LEFT JOIN stages s ON s.stage = funnel_stage_of(g.value)
LEFT JOIN channels c ON c.channel = funnel_channel_of(g.value) AND c.origin <> 'file';
