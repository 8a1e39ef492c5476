-- Purpose: bump the store revision after a write (a one-row table).
UPDATE store_revision SET revision = revision + 1;
