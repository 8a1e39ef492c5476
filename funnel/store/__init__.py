"""The store: one DuckDB file, its connection and migrations (connection), the kept raw
uploads (raw_uploads), the keyed hashing of personal data (pii) and the store's currency
(currency). Imports nothing of Funnel above the shared vocabulary."""
