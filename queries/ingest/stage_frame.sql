-- Purpose: copy a registered DataFrame (an XLSX sheet as text) into temp table raw_rows.
CREATE TEMP TABLE raw_rows AS SELECT * FROM xlsx_frame;
