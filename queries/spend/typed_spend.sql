-- Purpose: type the spend rows: channel mapped like lead channels (synonyms, then channel
-- labels, then its own slug), period dates, money and hours as numbers; a reason when not.
--          A period is a month when the column says so ($monthly) or its start is written as
--          a month (2026-11, Nov 2026: $month_formats); a month ends on its last day, a week
--          six days after its start, unless the file gives an end.
-- Grain: one row per spend row. Parameters: $formats (the period column's date formats),
--             $month_formats (VARCHAR[]), $monthly (BOOLEAN).
CREATE OR REPLACE TEMP TABLE spend_typed AS
WITH labels AS (
    SELECT funnel_slug(label) AS raw_slug, channel FROM channels
),
typed AS (
    SELECT
        s.row_number,
        s.channel AS channel_raw,
        coalesce(cm.channel, lb.channel, nullif(funnel_slug(s.channel), '')) AS channel,
        coalesce(try_strptime(s.period_start, $formats), funnel_excel_ts(s.period_start),
                 try_strptime(s.period_start, $month_formats::VARCHAR[]))::DATE AS period_start,
        $monthly OR (try_strptime(s.period_start, $formats) IS NULL
                     AND try_strptime(s.period_start, $month_formats::VARCHAR[]) IS NOT NULL)
            AS is_month,
        coalesce(try_strptime(s.period_end, $formats), funnel_excel_ts(s.period_end))::DATE
            AS period_end_given,
        s.period_start AS period_start_raw,
        s.period_end AS period_end_raw,
        try_cast(replace(regexp_replace(s.money, '[^0-9,.\-]', '', 'g'), ',', '') AS DOUBLE) AS money,
        s.money AS money_raw,
        try_cast(replace(regexp_replace(s.hours, '[^0-9,.\-]', '', 'g'), ',', '') AS DOUBLE) AS hours,
        s.hours AS hours_raw
    FROM spend_staged s
    LEFT JOIN channel_map cm ON cm.raw_slug = funnel_slug(s.channel)
    LEFT JOIN labels lb ON lb.raw_slug = funnel_slug(s.channel)
)
SELECT
    t.*,
    coalesce(t.period_end_given,
             CASE WHEN t.is_month THEN last_day(t.period_start) ELSE t.period_start + 6 END)
        AS period_end,
    CASE
        WHEN t.channel IS NULL THEN 'the channel is empty'
        WHEN t.period_start IS NULL THEN format('period ''{}'' is not a date', t.period_start_raw)
        WHEN t.period_end_raw IS NOT NULL AND t.period_end_given IS NULL
            THEN format('period end ''{}'' is not a date', t.period_end_raw)
        WHEN t.money_raw IS NOT NULL AND t.money IS NULL
            THEN format('money ''{}'' is not an amount', t.money_raw)
        WHEN t.hours_raw IS NOT NULL AND t.hours IS NULL
            THEN format('hours ''{}'' is not a number', t.hours_raw)
        WHEN t.money IS NULL AND t.hours IS NULL THEN 'neither money nor hours is given'
    END AS reject_reason
FROM typed t;
