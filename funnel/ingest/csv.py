"""A CSV export into the untyped staging table ``raw_rows`` (all VARCHAR), rows numbered as a
spreadsheet shows them: header row 1, first data row 2, a line break inside a quoted cell
starts no row, an empty line is no row. A record that cannot be split into the header's cells
goes to ``raw_rejects`` with a reason.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable
from pathlib import Path

import duckdb

from funnel.errors import IngestError
from funnel.ingest.files import (
    SNIFF_CHARS,
    WIDE_ENCODINGS,
    FileFacts,
    StagedFile,
    Utf8Copy,
    drop_staging,
    encoding_of,
    finish,
    first_line,
    head_text,
    sniff_delimiter,
    unique_names,
)
from funnel.store import connection as store
from funnel.store import raw_uploads


def stage_csv(con, path: Path, facts: FileFacts, file_name: str) -> StagedFile:
    """Stage a CSV export (any delimiter, UTF-8, UTF-16 or cp1252, any line ends) into temp
    tables ``raw_rows`` and ``raw_rejects``, rows numbered as a spreadsheet."""
    encoding = encoding_of(facts, file_name)
    head = head_text(facts, encoding, file_name).replace("\x00", "")
    text = head.lstrip("\r\n")  # empty lines above the header: DuckDB skips them too
    delimiter = sniff_delimiter(text)
    headers = header_record(text, delimiter)
    if len(headers) > MAX_COLUMNS:
        raise IngestError(
            file_name,
            f"has {len(headers):,} columns, more than Funnel reads ({MAX_COLUMNS:,}): export "
            "only the columns you need (a CRM export has a few dozen) and upload that.",
        )
    allowed = store.uploads_folder(con)
    cr_records = _records_end_in_cr(text)
    utf8 = Utf8Copy(path, encoding, facts.size, file_name, drop_nul=bool(facts.nul_count))
    try:
        if cr_records:
            # Old Mac exports end records in CR alone; DuckDB split such a record in two when a
            # quoted cell held a CRLF: read them with LF line ends.
            _read_staged_copy(con, allowed, utf8.pieces(lf_only=True), delimiter, headers)
        elif (encoding == "utf-8" or (encoding == "utf-8-sig" and text == head)) and (
            _duckdb_may_read(path, allowed) and not utf8.drop_nul
        ):
            # DuckDB skips a UTF-8 BOM itself, but reads a BOM and a line end as an empty header
            _read_csv(con, path, delimiter, headers)
        else:
            _read_staged_copy(con, allowed, utf8.pieces(lf_only=False), delimiter, headers)
    except duckdb.Error as exc:
        if cr_records or not (utf8.saw_cr if encoding in WIDE_ENCODINGS else facts.has_cr):
            raise _unreadable(file_name, exc) from exc
        # Lines ending one way, then another (CRLF and LF) defeat DuckDB's dialect sniffer:
        # read a copy whose lines all end in LF.
        try:
            _read_staged_copy(con, allowed, utf8.pieces(lf_only=True), delimiter, headers)
        except duckdb.Error as again:
            raise _unreadable(file_name, again) from again
    first_row, empty_rows = _empty_rows(con, facts, utf8, delimiter, len(headers))
    store.run(con, "ingest/stage_row_map", {"first_row": first_row, "empty_rows": empty_rows})
    staged = finish(con, headers, encoding, delimiter, file_name, first_row, len(empty_rows))
    # NUL characters of UTF-16 text are counted as the copy decodes it (its bytes hold zeros)
    staged.nul_bytes = utf8.nul_chars if encoding in WIDE_ENCODINGS else facts.nul_count
    return staged


MAX_CELL_BYTES = 32_000_000
MAX_COLUMNS = 5_000  # a CRM export holds a few dozen; 20,000 took DuckDB's 2 GB (issue 16)


def _empty_rows(
    con, facts: FileFacts, utf8: Utf8Copy, delimiter: str, columns: int
) -> tuple[int, list[int]]:
    """(the first data row, the empty rows below the header), numbered as a spreadsheet.

    DuckDB skips an empty line and leaves it out when it numbers records: rows after one are
    numbered from the file itself. The file is read again for that only when its lines
    outnumber the header and the records DuckDB read (an empty line, or a line break inside a
    quoted cell, which :func:`_empty_lines` tells apart).
    """
    staged, broken = store.fetch_one(con, "ingest/staged_counts")
    if facts.lines == 1 + staged + broken:
        return 2, []
    empty = _empty_lines(utf8.pieces(lf_only=facts.has_cr), delimiter)
    header_row = 1
    for row in empty:  # empty lines above the header
        if row != header_row:
            break
        header_row += 1
    if columns == 1:  # with one column, DuckDB reads an empty line as a record (an empty cell)
        return header_row + 1, []
    return header_row + 1, [row for row in empty if row > header_row]


def _empty_lines(utf8: Iterable[bytes], delimiter: str) -> list[int]:
    """The spreadsheet row numbers (the first line is row 1) of the empty lines outside quoted
    cells, in text as UTF-8 with LF line ends, given piece by piece.

    Quoted cells are cut out by a regular expression (C speed, ~0.4 s for 200 MB), after which
    a row is a line. A quote opens a cell only at the start of one (as DuckDB reads it); pieces
    are cut after a line end outside quotes, or before a quoted cell still open at their end.
    """
    after = b"[\n" + re.escape(delimiter.encode()) + b']"'
    # a quoted cell: quotes inside it doubled, its closing quote not the first of such a pair
    quoted = re.compile(b'"(?<=' + after + b')[^"]*(?:""[^"]*)*"(?!")')  # starts with '"': fast
    still_open = re.compile(b'"(?<=' + after + b")")
    rows = _LineCounter()
    # ``pending`` starts with the byte before the text not yet counted (a line end before the
    # file, so an empty first line is found like any other)
    pending = [b"\n"]
    for piece in utf8:
        pending.append(piece)
        if b"\n" not in piece:
            continue
        text = b"".join(pending)
        cut = text.rfind(b"\n") + 1
        cells_cut = quoted.sub(b"q", text[:cut])
        if still_open.search(cells_cut):  # the last line end is inside a quoted cell
            cut = _open_quote(text, cut)
            cells_cut = quoted.sub(b"q", text[:cut])
        rows.count(cells_cut)
        pending = [text[cut - 1 :]]
    rows.count(quoted.sub(b"q", b"".join(pending)))
    return rows.empty


class _LineCounter:
    """Counts the lines of text given piece by piece, each piece led by the last byte of the one
    before it, and notes the empty ones (spreadsheet row numbers)."""

    def __init__(self) -> None:
        self.done = 0  # line ends counted
        self.empty: list[int] = []

    def count(self, text: bytes) -> None:
        start = 1  # text[0] was counted with the piece before
        pos = text.find(b"\n\n")
        while pos >= 0:
            self.done += text.count(b"\n", start, pos + 1)
            self.empty.append(self.done + 1)
            start = pos + 1
            pos = text.find(b"\n\n", start)
        self.done += text.count(b"\n", start)


def _open_quote(text: bytes, end: int) -> int:
    """Where the quoted cell still open at ``end`` starts: the last run of quotes of odd length
    before it (inside a quoted cell, quotes come in pairs)."""
    pos = end
    while (pos := text.rfind(b'"', 0, pos)) > 0:
        run_start = pos
        while run_start > 0 and text[run_start - 1] == 0x22:  # '"'
            run_start -= 1
        if (pos - run_start) % 2 == 0:
            return run_start
        pos = run_start
    return 1


def _records_end_in_cr(text: str) -> bool:
    """True when the header record ends in a CR not followed by LF."""
    in_quotes = False
    for i, ch in enumerate(text[:SNIFF_CHARS]):
        if ch == '"':
            in_quotes = not in_quotes
        elif not in_quotes and ch in "\r\n":
            return ch == "\r" and text[i + 1 : i + 2] != "\n"
    return False


def _read_staged_copy(
    con, allowed: Path | None, utf8: Iterable[bytes], delimiter: str, headers: list[str]
) -> None:
    """Read the pieces ``utf8`` from a private copy in the one folder DuckDB may read (deleted
    after)."""
    with raw_uploads.staging_dir(allowed) as tmp:
        utf8_path = tmp / "upload.csv"
        fd = os.open(utf8_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            for piece in utf8:
                out.write(piece)
        _read_csv(con, utf8_path, delimiter, headers)


def _unreadable(file_name: str, exc: Exception) -> IngestError:
    detail = re.sub(r'file "[^"]*"', "the file", first_line(exc))  # no server paths shown
    if "Maximum line size" in str(exc):
        # (DuckDB's line number there counts from its read buffer, not the file: not shown)
        return IngestError(
            file_name,
            f"has a row of over {MAX_CELL_BYTES >> 20} MB: no CRM field holds that much. "
            "Remove the oversized cell (or export without its column) and upload it again.",
        )
    if "Out of Memory" in str(exc):
        return IngestError(
            file_name,
            "needs more memory to read than Funnel has for one file: export fewer columns or a "
            "shorter period, and upload the parts one by one.",
        )
    return IngestError(
        file_name,
        "could not be read as CSV: its rows cannot be split into cells the same way throughout "
        "(often a quote opened and never closed). Open it in a spreadsheet, save it as CSV "
        f"again and upload that. ({detail})",
    )


def _duckdb_may_read(path: Path, allowed: Path | None) -> bool:
    """True when DuckDB can read ``path`` as it is: file access is open, or the file lies in
    the one folder it may read (a kept raw upload)."""
    if not path.is_file():
        return False
    if allowed is None:
        return True
    return path.absolute().parent == allowed


def header_record(text: str, delimiter: str) -> list[str]:
    # newline="": a record may end in CR, LF or CRLF (old Mac exports end lines in CR alone)
    reader = csv.reader(io.StringIO(text[:SNIFF_CHARS], newline=""), delimiter=delimiter)
    try:
        first = next(record for record in reader if record)  # empty lines above it skipped
    except (StopIteration, csv.Error):
        first = []
    return [h.strip() for h in first]


def _read_csv(con, utf8_path: Path, delimiter: str, headers: list[str]) -> None:
    """Stage a UTF-8 CSV file; raises duckdb.Error when DuckDB cannot read it."""
    names = unique_names(headers)
    drop_staging(con)
    store.run(
        con,
        "ingest/stage_csv",
        {
            "path": str(utf8_path),
            "delim": delimiter,
            "names": names,
            "max_line_size": MAX_CELL_BYTES,
        },
    )
    store.run(con, "ingest/stage_csv_rejects")
