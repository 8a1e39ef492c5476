-- Purpose: raw channel and stage values of an upload's leads that no synonym maps yet, with
-- how many leads carry each (a value kept as its own channel is one: channels.origin 'file').
-- Grain: one row per (kind, raw value). Parameters: $upload_id (NULL: every lead).
-- The stage values are counted first and slugged once each (a handful of distinct values),
-- not once per stored lead.
WITH new_stage_values AS (
    SELECT stage_raw, count(*) AS leads
    FROM leads
    WHERE ($upload_id IS NULL OR last_upload_id = $upload_id) AND stage_raw IS NOT NULL
      AND stage = 'new'
    GROUP BY stage_raw
)
SELECT 'channel' AS kind, channel_raw AS raw_value, channel AS stored_as, count(*) AS leads
FROM leads
WHERE ($upload_id IS NULL OR last_upload_id = $upload_id) AND channel_raw IS NOT NULL
  AND channel NOT IN (SELECT channel FROM channels WHERE origin <> 'file')
GROUP BY ALL
UNION ALL
SELECT 'stage', v.stage_raw, 'new', v.leads
FROM new_stage_values AS v
WHERE funnel_slug(v.stage_raw) NOT IN (SELECT raw_slug FROM stage_map)
  AND replace(funnel_slug(v.stage_raw), '_', '')
      NOT IN (SELECT replace(raw_slug, '_', '') FROM stage_map)
ORDER BY kind, leads DESC, raw_value;
