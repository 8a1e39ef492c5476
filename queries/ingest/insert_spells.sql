-- Purpose: the stays (stage_stays, schema/008) of the leads this upload gave events to,
--          computed from all their events (after ingest/forget_spells).
-- Grain: one row per stay of those leads. Parameters: $upload_id.
INSERT INTO stage_stays SELECT * FROM funnel_spells_of($upload_id::INTEGER);
