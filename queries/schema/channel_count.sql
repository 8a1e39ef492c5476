-- Purpose: how many canonical channels the store knows (0 before seeding). Grain: one row.
SELECT count(*) AS channels FROM channels;
