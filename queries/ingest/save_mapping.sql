-- Purpose: remember the mapping an owner loaded a file with, for the next file of the same
--          export shape (its header set): one row per shape, the latest Load's. MERGE, not a
--          primary key, keeps it one row (the store may be a DuckLake, which has no keys).
-- Parameters: $header_key, $headers (JSON), $source, $mapping (JSON), $constants (JSON),
--             $no_means_open, $file_name.
MERGE INTO saved_mappings AS s
USING (SELECT $header_key::VARCHAR AS header_key, $headers::VARCHAR AS headers,
              $source::VARCHAR AS source, $mapping::VARCHAR AS mapping,
              $constants::VARCHAR AS constants, $no_means_open::BOOLEAN AS no_means_open,
              $file_name::VARCHAR AS file_name) AS n
ON s.header_key = n.header_key
WHEN MATCHED THEN UPDATE SET headers = n.headers, source = n.source, mapping = n.mapping,
    constants = n.constants, no_means_open = n.no_means_open, file_name = n.file_name,
    saved_at = current_timestamp::TIMESTAMP
WHEN NOT MATCHED THEN INSERT (header_key, headers, source, mapping, constants, no_means_open,
                              file_name, saved_at)
    VALUES (n.header_key, n.headers, n.source, n.mapping, n.constants, n.no_means_open,
            n.file_name, current_timestamp::TIMESTAMP);
