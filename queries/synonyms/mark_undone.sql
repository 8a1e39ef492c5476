-- Purpose: mark a synonym change undone. Parameters: $kind, $raw_slug, $edited_at.
UPDATE synonym_edits SET undone = TRUE
WHERE kind = $kind AND raw_slug = $raw_slug AND edited_at = $edited_at;
