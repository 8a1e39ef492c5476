-- Purpose: what the owner decides about their own exports, kept (issue 14).
--          saved_mappings: the column mapping an owner loaded a CRM export with, per export
--            shape (its set of headers), applied to the next file of that shape.
--          synonym_edits: every change the owner made to a channel or stage synonym, in order,
--            with what the value mapped to before: the synonyms table shows who decided, and
--            an undo puts back what was there before the last change.
--          channels.origin: 'default' (SPEC 2), 'user' (made by the owner) or 'file' (a raw
--            value no synonym maps, kept as its own channel: its label is the value as the
--            file wrote it, tidied, so 'NC_EDM' reads 'NC EDM', not 'Nc edm').
--          funnel_channel_of(raw): the channel a raw channel value maps to, the one definition
--            ingest (merged) and a synonym change (synonyms/reapply_channel_map) read.
--          funnel_tidy_label(raw): a raw value as words: runs of spaces and '_' one space, a word
--            with a capital after its first letter kept as written (NC, EDM, WeLearn), any
--            other in lower case, the first letter a capital.
--          Applied once by funnel.store.connection.migrate (schema version 7). No PRIMARY KEY
--          and literal defaults only: the writers keep rows unique (MERGE), as on DuckLake.
-- Grain: see each definition. Parameters: none.

-- one row per export shape the owner loaded with a mapping of their own
CREATE TABLE IF NOT EXISTS saved_mappings (
    header_key    VARCHAR NOT NULL,  -- funnel.ingest.saved_mappings.header_key of the headers
    headers       VARCHAR NOT NULL,  -- JSON: the headers of the file it was saved from
    source        VARCHAR NOT NULL,  -- the CRM detected
    mapping       VARCHAR NOT NULL,  -- JSON: field -> column the owner chose ('' = not read)
    constants     VARCHAR NOT NULL,  -- JSON: field -> fixed value for every row
    no_means_open BOOLEAN NOT NULL DEFAULT FALSE,
    file_name     VARCHAR NOT NULL,  -- the file it was saved with
    saved_at      TIMESTAMP NOT NULL
);

-- one row per change of a synonym, oldest first
CREATE TABLE IF NOT EXISTS synonym_edits (
    edited_at     TIMESTAMP NOT NULL,
    kind          VARCHAR NOT NULL,  -- 'channel' or 'stage'
    raw_value     VARCHAR NOT NULL,  -- as the owner typed it or the file wrote it
    raw_slug      VARCHAR NOT NULL,  -- its matching key (funnel_slug)
    before_target VARCHAR,           -- the channel or stage it mapped to before; NULL: none
    before_origin VARCHAR,           -- 'default' or 'user'; NULL: it mapped to nothing
    after_target  VARCHAR,           -- what the change mapped it to
    undone        BOOLEAN NOT NULL DEFAULT FALSE
);

ALTER TABLE channels ADD COLUMN origin VARCHAR DEFAULT 'default';

-- channels made by the owner before origins were kept: those no default synonym points at
UPDATE channels SET origin = 'user'
WHERE channel NOT IN (SELECT channel FROM channel_map WHERE origin = 'default');

CREATE OR REPLACE MACRO funnel_channel_of(raw) AS coalesce(
    (SELECT min(cm.channel) FROM channel_map cm WHERE cm.raw_slug = funnel_slug(raw)),
    (SELECT min(cm.channel) FROM channel_map cm
     WHERE replace(cm.raw_slug, '_', '') = replace(funnel_slug(raw), '_', '')),
    nullif(funnel_slug(raw), ''),
    'unknown'
);

CREATE OR REPLACE MACRO funnel_tidy_label(raw) AS nullif(array_to_string(list_transform(
    string_split(regexp_replace(trim(raw), '[\s_]+', ' ', 'g'), ' '),
    lambda w, i: CASE WHEN regexp_matches(w[2:], '[A-Z]') THEN w
                      WHEN i = 1 THEN upper(w[1]) || lower(w[2:])
                      ELSE lower(w) END), ' '), '');

-- the raw values kept as their own channel so far get their label from the value as written
INSERT INTO channels (channel, kind, label, origin)
SELECT l.channel, 'unknown', coalesce(funnel_tidy_label(mode(l.channel_raw)), l.channel), 'file'
FROM leads AS l
WHERE l.channel_raw IS NOT NULL AND l.channel NOT IN (SELECT channel FROM channels)
GROUP BY l.channel;
