-- Purpose: the highest schema version applied (0 on a new file). Grain: one row.
SELECT coalesce(max(version), 0) AS version FROM schema_version;
