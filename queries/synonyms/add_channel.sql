-- Purpose: make a channel known (an owner's own channel); a canonical one is left as it is.
-- Parameters: $channel, $kind, $label.
INSERT INTO channels SELECT $channel, $kind, $label
WHERE $channel NOT IN (SELECT channel FROM channels);
