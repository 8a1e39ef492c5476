-- Purpose: the store's first schema (SPEC 2). Applied once by funnel.store.migrate.
-- Grain: see each table's comment.

-- one row per schema migration applied
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- one row per ingested file
CREATE SEQUENCE IF NOT EXISTS upload_id_seq START 1;
CREATE TABLE IF NOT EXISTS uploads (
    upload_id      INTEGER PRIMARY KEY DEFAULT nextval('upload_id_seq'),
    file_name      VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    options_hash   VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,
    as_of          DATE,
    ingested_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    rows_read      BIGINT NOT NULL,
    rows_loaded    BIGINT NOT NULL,
    rows_rejected  BIGINT NOT NULL,
    rows_duplicate BIGINT NOT NULL,
    mapping        VARCHAR NOT NULL,  -- JSON: canonical field -> file column
    settings       VARCHAR NOT NULL   -- JSON: --set constants, date formats, as-of
);

-- one row per lead (or deal); no clear-text personal data
CREATE TABLE IF NOT EXISTS leads (
    lead_key        VARCHAR NOT NULL,
    crm_id          VARCHAR,
    channel         VARCHAR NOT NULL,
    channel_raw     VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    stage           VARCHAR NOT NULL,
    stage_raw       VARCHAR,
    won_at          TIMESTAMP,
    lost_at         TIMESTAMP,
    value           DOUBLE,
    owner           VARCHAR,
    email_hash      VARCHAR,
    phone_hash      VARCHAR,
    first_upload_id INTEGER NOT NULL,
    last_upload_id  INTEGER NOT NULL
);

-- one row per stage a lead was seen entering (append-only history)
CREATE TABLE IF NOT EXISTS lead_events (
    lead_key    VARCHAR NOT NULL,
    stage       VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    upload_id   INTEGER NOT NULL
);

-- one row per input row that could not be loaded
CREATE TABLE IF NOT EXISTS rejected_rows (
    upload_id  INTEGER NOT NULL,
    row_number BIGINT NOT NULL,
    column_name VARCHAR,
    reason     VARCHAR NOT NULL,
    raw_row    VARCHAR
);

-- canonical channels and how they reach people (inbound / outbound / unknown)
CREATE TABLE IF NOT EXISTS channels (
    channel VARCHAR PRIMARY KEY,
    kind    VARCHAR NOT NULL,
    label   VARCHAR NOT NULL
);

-- one row per raw channel slug: defaults from SPEC 2 plus the owner's own synonyms
CREATE TABLE IF NOT EXISTS channel_map (
    raw_slug VARCHAR PRIMARY KEY,
    channel  VARCHAR NOT NULL,
    origin   VARCHAR NOT NULL  -- 'default' or 'user'
);

-- canonical stages in funnel order, with temperature for open ones
CREATE TABLE IF NOT EXISTS stages (
    stage       VARCHAR PRIMARY KEY,
    position    INTEGER NOT NULL,
    temperature VARCHAR,
    label       VARCHAR NOT NULL
);

-- one row per raw stage slug
CREATE TABLE IF NOT EXISTS stage_map (
    raw_slug VARCHAR PRIMARY KEY,
    stage    VARCHAR NOT NULL,
    origin   VARCHAR NOT NULL
);

-- optional money and hours spent per channel and period, for allocation
CREATE TABLE IF NOT EXISTS channel_spend (
    channel      VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end   DATE NOT NULL,
    money        DOUBLE,
    hours        DOUBLE,
    upload_id    INTEGER
);

-- a single counter bumped by every write, so caches can key on it
CREATE TABLE IF NOT EXISTS store_revision (
    revision BIGINT NOT NULL
);
INSERT INTO store_revision VALUES (0);

-- the matching key of a raw channel or stage value (mirrors funnel.synonyms.slug)
CREATE OR REPLACE MACRO funnel_slug(x) AS
    trim(regexp_replace(lower(strip_accents(x)), '[^a-z0-9]+', '_', 'g'), '_');

-- an Excel serial day number (1900 system, days since 1899-12-30) as a timestamp, else NULL
CREATE OR REPLACE MACRO funnel_excel_ts(x) AS
    CASE WHEN regexp_full_match(x, '\d{1,7}(\.\d+)?')
              AND try_cast(x AS DOUBLE) BETWEEN 1 AND 2958465
         THEN TIMESTAMP '1899-12-30'
              + to_microseconds(CAST(round(try_cast(x AS DOUBLE) * 86400000000) AS BIGINT))
    END;

-- a yes/no cell as a boolean: TRUE, FALSE, or NULL when it is neither
CREATE OR REPLACE MACRO funnel_yes_no(x) AS
    CASE WHEN funnel_slug(x) IN ('1', 'true', 'yes', 'y', 't', 'won', 'converted', 'x') THEN TRUE
         WHEN funnel_slug(x) IN ('0', 'false', 'no', 'n', 'f', 'not_converted') THEN FALSE
    END;
