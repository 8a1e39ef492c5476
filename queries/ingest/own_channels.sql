-- Purpose: make known, as channels of their own, the raw channel values of this upload that no
--          synonym maps (origin 'file'): each gets the words its commonest spelling in the file
--          has, tidied ('NC_EDM' -> 'NC EDM', 'Welingak Website' -> 'Welingak website'), which
--          every page then shows; kind 'unknown' until the owner says. They stay listed as
--          values Funnel could not place (ingest/unmapped_values) until the owner maps them.
-- Grain: one row added per new channel. Parameters: none (reads the temp table merged).
INSERT INTO channels (channel, kind, label, origin)
SELECT m.channel, 'unknown', coalesce(funnel_tidy_label(mode(m.channel_raw)), m.channel), 'file'
FROM merged AS m
WHERE NOT m.is_orphan AND m.channel_raw IS NOT NULL
  AND m.channel NOT IN (SELECT channel FROM channels)
GROUP BY m.channel;
