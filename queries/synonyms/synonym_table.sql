-- Purpose: every raw channel and stage value in the store, with what it maps to, who decided
--          (the SPEC's defaults, the owner, or no one yet) and how many leads carry it: the
--          synonyms an owner can see, change and undo (issue 14).
-- Grain: one row per (kind, raw slug, what it maps to). Parameters: none.
-- Raw values are counted first (a handful of distinct values), then slugged once each.
WITH raw_channels AS (
    SELECT channel_raw, channel, count(*) AS leads
    FROM leads WHERE channel_raw IS NOT NULL GROUP BY ALL
),
channel_values AS (
    SELECT funnel_slug(channel_raw) AS raw_slug, arg_max(channel_raw, leads) AS raw_value,
           channel AS target, sum(leads) AS leads
    FROM raw_channels GROUP BY 1, 3
),
raw_stages AS (
    SELECT stage_raw, count(*) AS leads
    FROM leads WHERE stage_raw IS NOT NULL GROUP BY ALL
),
stage_values AS (
    SELECT funnel_slug(stage_raw) AS raw_slug, arg_max(stage_raw, leads) AS raw_value,
           sum(leads) AS leads
    FROM raw_stages GROUP BY 1
),
-- a value matches a synonym by its slug, else with its '_' left out ('coldcall', 'cold_call')
compact_channels AS (
    SELECT replace(raw_slug, '_', '') AS compact, min(origin) AS origin FROM channel_map GROUP BY 1
),
compact_stages AS (
    SELECT replace(raw_slug, '_', '') AS compact, min(stage) AS stage, min(origin) AS origin
    FROM stage_map GROUP BY 1
)
SELECT 'channel' AS kind, v.raw_value, v.raw_slug, v.target,
       coalesce(c.label, v.target) AS target_label,
       coalesce(cm.origin, cc.origin, 'none') AS decided_by, v.leads
FROM channel_values v
LEFT JOIN channel_map cm ON cm.raw_slug = v.raw_slug
LEFT JOIN compact_channels cc ON cm.raw_slug IS NULL AND cc.compact = replace(v.raw_slug, '_', '')
LEFT JOIN channels c ON c.channel = v.target
UNION ALL
SELECT 'stage', v.raw_value, v.raw_slug, coalesce(sm.stage, cs.stage, 'new'),
       s.label, coalesce(sm.origin, cs.origin, 'none'), v.leads
FROM stage_values v
LEFT JOIN stage_map sm ON sm.raw_slug = v.raw_slug
LEFT JOIN compact_stages cs ON sm.raw_slug IS NULL AND cs.compact = replace(v.raw_slug, '_', '')
LEFT JOIN stages s ON s.stage = coalesce(sm.stage, cs.stage, 'new')
ORDER BY kind, leads DESC, raw_value;
