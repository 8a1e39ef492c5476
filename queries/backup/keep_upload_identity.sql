-- Purpose: a rebuilt upload keeps the options hash and time of the upload it replays, so the
-- same file ingested again with its original options is still recognised as already ingested.
-- Grain: one row. Parameters: $upload_id, $options_hash, $ingested_at.
UPDATE uploads SET options_hash = $options_hash, ingested_at = CAST($ingested_at AS TIMESTAMP)
WHERE upload_id = $upload_id;
