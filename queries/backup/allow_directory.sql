-- Purpose: the one directory DuckDB may read and write files in (the store's raw-uploads folder,
-- where a file being ingested is staged). Must run before disable_external_access.
-- Grain: a setting. Parameters: $dirs (a list with one absolute path ending in '/').
SET allowed_directories = $dirs;
