-- Purpose: the words of every channel and stage (a forecast's rows name them).
-- Grain: one row per channel (kind 'channel', position NULL) and per stage (kind 'stage').
-- Parameters: none.
SELECT 'channel' AS kind, channel AS name, label, NULL::INTEGER AS position FROM channels
UNION ALL
SELECT 'stage', stage, label, position FROM stages
ORDER BY kind, position, name;
