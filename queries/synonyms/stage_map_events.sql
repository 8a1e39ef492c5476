-- Purpose: record the stage the re-mapped leads were in all along: an open stage dated at their
-- last upload's as-of date (when it was seen), won or lost undated (when it happened is not in
-- the data); seen_first: when they entered it is not in the data either.
-- Parameters: $raw_slug, $stage.
INSERT INTO lead_events (lead_key, stage, occurred_at, upload_id, seen_first)
SELECT l.lead_key, $stage,
       CASE WHEN $stage NOT IN ('won', 'lost')
            THEN greatest(l.created_at, coalesce(u.as_of::TIMESTAMP, l.created_at)) END,
       l.last_upload_id, TRUE
FROM leads l LEFT JOIN uploads u ON u.upload_id = l.last_upload_id
WHERE l.stage = $stage AND funnel_slug(l.stage_raw) = $raw_slug
  AND NOT EXISTS (SELECT 1 FROM lead_events e WHERE e.lead_key = l.lead_key AND e.stage = $stage);
