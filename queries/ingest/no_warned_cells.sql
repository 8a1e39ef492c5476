-- Purpose: an empty warned_cells for an upload with nothing to warn about (has_warnings said
--          so): its rows_warned is 0. Parameters: none.
CREATE OR REPLACE TEMP TABLE warned_cells (row_number BIGINT, column_name VARCHAR, value VARCHAR,
                                           reason VARCHAR);
