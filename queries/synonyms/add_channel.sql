-- Purpose: make a channel known (an owner's own channel): a new one, or a raw value kept as its
--          own channel so far (origin 'file'), which becomes the owner's with their kind and
--          words. A canonical or owner's channel is left as it is.
-- Parameters: $channel, $kind, $label.
MERGE INTO channels AS c
USING (SELECT $channel::VARCHAR AS channel, $kind::VARCHAR AS kind, $label::VARCHAR AS label) AS n
ON c.channel = n.channel
WHEN MATCHED AND c.origin = 'file' THEN UPDATE SET kind = n.kind, label = n.label, origin = 'user'
WHEN NOT MATCHED THEN INSERT (channel, kind, label, origin)
    VALUES (n.channel, n.kind, n.label, 'user');
