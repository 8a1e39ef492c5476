-- Purpose: the mapping the owner last loaded a file of this export shape (header set) with.
-- Grain: at most one row. Parameters: $header_key.
SELECT mapping, constants, no_means_open, file_name, saved_at, source
FROM saved_mappings
WHERE header_key = $header_key
ORDER BY saved_at DESC
LIMIT 1;
