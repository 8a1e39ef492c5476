"""Ingest: a CRM export (CSV or XLSX) read untyped (files), its CRM and columns detected
(mapping), dates and cells typed (dates, staged_sql), merged into the store in one transaction
(core), driven upload by upload (upload), replayed to remove or re-read an upload (replay);
spend files (spend) and the owner's synonym edits (synonym_edits). Reads and writes the store
through funnel.store only."""
