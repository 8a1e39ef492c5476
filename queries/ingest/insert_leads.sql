-- Purpose: store the merged leads of this upload. Parameters: $upload_id.
INSERT INTO leads
SELECT lead_key, crm_id, channel, channel_raw, created_at, stage, stage_raw, won_at, lost_at,
       value, owner, email_hash, phone_hash, coalesce(first_upload_id, $upload_id), $upload_id
FROM merged
WHERE NOT is_orphan;
