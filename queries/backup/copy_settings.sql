-- Purpose: a rebuild's first step: the owner's channels, synonyms, spend and decision log from
-- the old store (registered as old_channels, old_channel_map, old_stage_map, old_channel_spend,
-- old_decisions, old_store_settings, old_lost_reason_map, old_forecasts), before the uploads are ingested again so their channels map as they did.
-- Grain: one row per copied row. Parameters: none.
INSERT OR REPLACE INTO channels BY NAME SELECT * FROM old_channels;
INSERT OR REPLACE INTO channel_map BY NAME SELECT * FROM old_channel_map;
INSERT OR REPLACE INTO stage_map BY NAME SELECT * FROM old_stage_map;
INSERT INTO channel_spend BY NAME SELECT * FROM old_channel_spend;
INSERT INTO decisions BY NAME SELECT * FROM old_decisions;
INSERT OR REPLACE INTO store_settings BY NAME SELECT * FROM old_store_settings;
INSERT OR REPLACE INTO lost_reason_map BY NAME SELECT * FROM old_lost_reason_map;
INSERT INTO forecasts BY NAME SELECT * FROM old_forecasts;
UPDATE store_revision SET revision = revision + 1;
