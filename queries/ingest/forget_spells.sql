-- Purpose: forget the stays (stage_stays, schema/008) of the leads this upload gave events to,
--          before ingest/insert_spells computes them again from all their events.
-- Grain: deletes rows. Parameters: $upload_id.
DELETE FROM stage_stays
WHERE lead_key IN (SELECT lead_key FROM lead_events WHERE upload_id = $upload_id);
