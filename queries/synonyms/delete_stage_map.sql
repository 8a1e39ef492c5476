-- Purpose: a raw stage slug maps to nothing again (an undo of the owner's first mapping of
--          it): its leads count as New. Parameters: $raw_slug.
DELETE FROM stage_map WHERE raw_slug = $raw_slug;
