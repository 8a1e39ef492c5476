-- Purpose: read a UTF-8 CSV export untyped into temp table raw_rows; broken records go to
-- csv_reject_errors. Grain: one row per well-formed record, in file order.
-- Parameters: $path, $delim, $names (header names made unique), $max_line_size.
CREATE TEMP TABLE raw_rows AS
SELECT *
FROM read_csv(
    $path,
    all_varchar = true,
    header = true,
    delim = $delim,
    quote = '"',
    escape = '"',
    names = $names,
    store_rejects = true,
    rejects_table = 'csv_reject_errors',
    rejects_scan = 'csv_reject_scans',
    max_line_size = $max_line_size
);
