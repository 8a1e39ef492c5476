-- Purpose: a raw channel slug maps to nothing again (an undo of the owner's first mapping of
--          it): its leads go back to a channel of their own. Parameters: $raw_slug.
DELETE FROM channel_map WHERE raw_slug = $raw_slug;
