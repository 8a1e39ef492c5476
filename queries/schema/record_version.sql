-- Purpose: note that a schema migration was applied. Parameters: $version.
-- applied_at is given, not left to a default: a DuckLake column takes literal defaults only.
INSERT INTO schema_version (version, applied_at) VALUES ($version, current_timestamp);
