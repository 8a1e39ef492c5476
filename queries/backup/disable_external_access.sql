-- Purpose: stop every query on this database from reading or writing any other file (no
-- read_csv('/etc/passwd'), COPY TO, ATTACH or INSTALL); cannot be turned back on while it runs.
-- Grain: a setting. Parameters: none.
SET enable_external_access = false;
