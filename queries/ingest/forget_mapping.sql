-- Purpose: forget the saved mapping of an export shape (the owner's reset): the next file of
--          that shape is detected from scratch. Parameters: $header_key.
DELETE FROM saved_mappings WHERE header_key = $header_key;
