-- Purpose: whether this database may reach outside files, and which directories it may use.
-- Grain: one row. Parameters: none.
SELECT current_setting('enable_external_access') AS external_access,
       current_setting('allowed_directories') AS allowed_directories;
