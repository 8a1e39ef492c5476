-- Purpose: note one change of a synonym, with what it mapped to before, so it can be undone.
-- Parameters: $kind ('channel' or 'stage'), $raw_value, $raw_slug, $before_target,
--             $before_origin (NULL: it mapped to nothing), $after_target.
INSERT INTO synonym_edits (edited_at, kind, raw_value, raw_slug, before_target, before_origin,
                           after_target, undone)
VALUES (current_timestamp::TIMESTAMP, $kind, $raw_value, $raw_slug, $before_target,
        $before_origin, $after_target, FALSE);
