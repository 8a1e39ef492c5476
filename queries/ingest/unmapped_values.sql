-- Purpose: raw channel and stage values of an upload's leads that no synonym maps yet, with
-- how many leads carry each. Grain: one row per (kind, raw value). Parameters: $upload_id (NULL: every lead).
SELECT 'channel' AS kind, channel_raw AS raw_value, channel AS stored_as, count(*) AS leads
FROM leads
WHERE ($upload_id IS NULL OR last_upload_id = $upload_id) AND channel_raw IS NOT NULL
  AND channel NOT IN (SELECT channel FROM channels)
GROUP BY ALL
UNION ALL
SELECT 'stage', stage_raw, 'new', count(*)
FROM leads l
WHERE ($upload_id IS NULL OR last_upload_id = $upload_id) AND stage_raw IS NOT NULL AND stage = 'new'
  AND funnel_slug(stage_raw) NOT IN (SELECT raw_slug FROM stage_map)
  AND replace(funnel_slug(stage_raw), '_', '')
      NOT IN (SELECT replace(raw_slug, '_', '') FROM stage_map)
GROUP BY ALL
ORDER BY kind, leads DESC, raw_value;
