-- Purpose: note that a schema migration was applied. Parameters: $version.
INSERT INTO schema_version (version) VALUES ($version);
