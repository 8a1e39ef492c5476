-- Purpose: set one of the store's settings. Parameters: $key, $value.
INSERT OR REPLACE INTO store_settings (key, value) VALUES ($key, $value);
