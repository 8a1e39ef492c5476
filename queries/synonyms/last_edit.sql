-- Purpose: the latest change of a synonym not undone yet (what an undo puts back).
-- Grain: at most one row. Parameters: $kind, $raw_slug.
SELECT edited_at, before_target, before_origin, after_target
FROM synonym_edits
WHERE kind = $kind AND raw_slug = $raw_slug AND NOT undone
ORDER BY edited_at DESC
LIMIT 1;
