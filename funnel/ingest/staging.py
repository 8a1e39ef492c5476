"""Stage an uploaded file, CSV or XLSX, into the untyped temp table ``raw_rows`` (and
``raw_rejects``); drop the staged tables once they are consumed.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from funnel.errors import IngestError
from funnel.ingest import csv, files, xlsx


def stage_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    data: bytes | None,
    file_name: str,
    facts: files.FileFacts | None = None,
) -> files.StagedFile:
    """Load the file at ``path`` into temp tables ``raw_rows`` and ``raw_rejects``.

    The file is read in pieces, never whole: ``facts`` (from :func:`files.scan_file`) or
    ``data`` (the file's bytes, when a caller holds them anyway) tell its size, encoding and
    line ends. A UTF-8 file DuckDB may read is read where it is; any other is first copied,
    converted, to UTF-8.
    """
    if facts is None:
        facts = files.scan_bytes(data) if data is not None else files.scan_file(path, file_name)
    files.check_size(facts.size, file_name)
    if facts.blank:
        raise IngestError(file_name, "the file is empty: there is no header and no data to load.")
    head = facts.head
    if head.startswith(files.XLSX_MAGIC):
        return xlsx.stage_xlsx(con, path, file_name, facts.sha256)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError(
            file_name,
            "is an old Excel 97-2003 (.xls) file or a password-protected workbook; save it as "
            ".xlsx (without a password) or CSV and upload that.",
        )
    if files.looks_binary(head) and not head.startswith(files.WIDE_BOMS):
        raise IngestError(file_name, "is not a CSV or XLSX file (it holds binary data).")
    return csv.stage_csv(con, path, facts, file_name)
