-- Purpose: fold the write-ahead log into the database file, so the file alone is the store
-- (before a backup copies it). Fails while another cursor of this connection is in a transaction.
-- Grain: none. Parameters: none.
CHECKPOINT;
