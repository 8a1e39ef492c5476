-- Purpose: the channels a raw value can be mapped to. Grain: one row per channel.
SELECT channel, kind, label FROM channels ORDER BY label;
