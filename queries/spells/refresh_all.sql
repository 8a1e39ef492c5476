-- Purpose: every lead's stays (stage_stays, schema/008) computed again from the stage events,
--          after a change that may touch any lead's events (a stage synonym; events written
--          by other means than an ingest, as test fixtures and the benchmark do).
-- Grain: replaces every row. Parameters: none.
DELETE FROM stage_stays;
INSERT INTO stage_stays SELECT * FROM funnel_spells_of(NULL);
