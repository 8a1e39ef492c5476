-- Purpose: rows in each of the store's tables: what a backup records and a restore checks.
-- Grain: one row per table. Parameters: none.
SELECT 'uploads' AS table_name, count(*) AS row_count FROM uploads
UNION ALL SELECT 'leads', count(*) FROM leads
UNION ALL SELECT 'lead_events', count(*) FROM lead_events
UNION ALL SELECT 'rejected_rows', count(*) FROM rejected_rows
UNION ALL SELECT 'channels', count(*) FROM channels
UNION ALL SELECT 'channel_map', count(*) FROM channel_map
UNION ALL SELECT 'stages', count(*) FROM stages
UNION ALL SELECT 'stage_map', count(*) FROM stage_map
UNION ALL SELECT 'channel_spend', count(*) FROM channel_spend
UNION ALL SELECT 'decisions', count(*) FROM decisions
UNION ALL SELECT 'schema_version', count(*) FROM schema_version
ORDER BY table_name;
