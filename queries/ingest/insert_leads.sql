-- Purpose: store the merged leads of this upload, with their progress (furthest_position,
-- hot_since) as ingest/merged moved it on. Grain: one row per lead. Parameters: $upload_id.
INSERT INTO leads (
    lead_key, crm_id, channel, channel_raw, created_at, stage, stage_raw, won_at, lost_at,
    value, amount, currency, owner, lost_reason, email_hash, phone_hash, first_upload_id,
    last_upload_id,
    furthest_position, hot_since
)
SELECT lead_key, crm_id, channel, channel_raw, created_at, stage, stage_raw, won_at, lost_at,
       value, amount, currency, owner, lost_reason, email_hash, phone_hash,
       coalesce(first_upload_id, $upload_id), $upload_id,
       furthest_position, hot_since
FROM merged
WHERE NOT is_orphan;
