-- Purpose: one of the store's settings. Grain: 0 or 1 row. Parameters: $key.
SELECT value FROM store_settings WHERE key = $key;
