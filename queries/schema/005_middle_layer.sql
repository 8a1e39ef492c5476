-- Purpose: the rules the metric queries share, written once (issue 13): each metric file
--          selects from these instead of copying them.
--          selected_leads(start, end, channels, owners): the leads a selection covers (created
--            in [start, end], both days included, NULL = unbounded; channel and owner in their
--            lists, NULL = all): the dashboard's filters.
--          won_leads_days: every won lead with a known won date and its days from created to
--            won (0 when the won date is earlier the same day).
--          win_horizons: the 90th percentile of those days per channel (channel NULL: all
--            channels pooled), with the wins behind it: how long wins take.
--          funnel_overlap_days(a_start, a_end, b_start, b_end): the days two date ranges share
--            (0 or less: none), for spend counted pro rata.
--          funnel_slug(x): the matching key of a raw value, now also reading the compatibility
--            forms people paste (full-width letters, ligatures, fractions) as the plain ones;
--            the unmapped channels already stored are keyed again with it.
--          Applied once by funnel.store.connection.migrate (schema version 5).
-- Grain: see each definition. Parameters: none.

CREATE OR REPLACE MACRO selected_leads(start_date, end_date, channel_list, owner_list) AS TABLE
    SELECT *
    FROM leads AS l
    WHERE (start_date::DATE IS NULL OR l.created_at >= start_date::DATE::TIMESTAMP)
      AND (end_date::DATE IS NULL OR l.created_at < (end_date::DATE + 1)::TIMESTAMP)
      AND (channel_list::VARCHAR[] IS NULL OR list_contains(channel_list::VARCHAR[], l.channel))
      AND (owner_list::VARCHAR[] IS NULL OR list_contains(owner_list::VARCHAR[], l.owner));

CREATE OR REPLACE VIEW won_leads_days AS
    SELECT channel, greatest(0.0, date_diff('second', created_at, won_at) / 86400.0) AS days
    FROM leads
    WHERE stage = 'won' AND won_at IS NOT NULL;

CREATE OR REPLACE VIEW win_horizons AS
    SELECT channel, count(*) AS wins, quantile_cont(days, 0.9) AS p90_days
    FROM won_leads_days
    GROUP BY GROUPING SETS ((channel), ());

CREATE OR REPLACE MACRO funnel_overlap_days(a_start, a_end, b_start, b_end) AS
    least(a_end, b_end) - greatest(a_start, b_start) + 1;

-- full-width ASCII (U+FF01-U+FF5E) as ASCII, ligatures and vulgar fractions spelt out, then
-- accents stripped, lower case, runs of anything else one '_', none at either end
CREATE OR REPLACE MACRO funnel_slug(x) AS
    trim(regexp_replace(lower(strip_accents(
        replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
            translate(x,
                '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～',
                '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~'),
            'ﬀ', 'ff'), 'ﬁ', 'fi'), 'ﬂ', 'fl'), 'ﬃ', 'ffi'), 'ﬄ', 'ffl'), 'ﬅ', 'st'), 'ﬆ', 'st'),
            '¼', '1/4'), '½', '1/2'), '¾', '3/4')
    )), '[^a-z0-9]+', '_', 'g'), '_');

UPDATE leads SET channel = coalesce(nullif(funnel_slug(channel_raw), ''), 'unknown')
WHERE channel_raw IS NOT NULL AND channel NOT IN (SELECT channel FROM channels);
