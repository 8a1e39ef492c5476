"""An XLSX workbook's first sheet into the untyped staging table ``raw_rows``, after guards
against workbooks that would make the reader allocate far more than the file holds.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from operator import itemgetter
from pathlib import Path

from funnel.errors import IngestError
from funnel.ingest.files import (
    StagedFile,
    drop_staging,
    finish,
    first_line,
    unique_names,
)
from funnel.store import connection as store

# A workbook is read whole into memory (python-calamine allocates every cell of the used range,
# and aborts the process when it cannot): bound what a small file can make it allocate.
MAX_XLSX_UNZIPPED = 2 << 30  # bytes of XML once unzipped


MAX_XML_RUN = 64 << 20  # bytes between two tags (Excel caps a cell at 32,767 characters)


MAX_XLSX_CELLS = 50_000_000  # rows x columns of a worksheet's used range (~2 GB in calamine)


SPARSE_XLSX_CELLS = 2_000_000  # above this, the range must hold at least 1 cell in 20


def stage_xlsx(con, path: Path, file_name: str) -> StagedFile:
    import pandas as pd  # not at the top: a CSV ingest from the CLI need not pay its import
    from python_calamine import CalamineWorkbook

    check_workbook(path, file_name)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for broken files
        raise IngestError(
            file_name, f"could not be read as an XLSX workbook: {first_line(exc)}"
        ) from exc
    first = next((i for i, r in enumerate(rows) if any(_cell_text(c) for c in r)), None)
    if first is None:
        raise IngestError(
            file_name, "the first worksheet is empty: there is no header and no data."
        )
    headers = [_cell_text(c).strip() for c in rows[first]]
    names = unique_names(headers)
    records, empty_rows = [], []
    for row_number, row in enumerate(rows[first + 1 :], start=first + 2):
        cells = [_cell_text(c) or None for c in row]
        if any(cells):
            records.append(cells[: len(names)] + [None] * (len(names) - len(cells)))
        else:  # an empty row, as in a CSV: not a row read (rows after it keep their numbers)
            empty_rows.append(row_number)
    frame = pd.DataFrame(records, columns=names, dtype="string")
    drop_staging(con)
    con.register("xlsx_frame", frame)
    try:
        store.run(con, "ingest/stage_frame")
    finally:
        con.unregister("xlsx_frame")
    store.run(con, "ingest/stage_no_rejects")
    store.run(con, "ingest/stage_row_map", {"first_row": first + 2, "empty_rows": empty_rows})
    return finish(con, headers, "xlsx", None, file_name, first + 2, len(empty_rows))


CELL_REF = re.compile(rb"<(?:\w+:)?(row|c)\b([^>]*)>")


REF_ATTR = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]{0,3})(\d*)["']""")


FAST_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"')


FAST_ROW = re.compile(rb'<row r="(\d+)"')


PREFIXED_TAG = re.compile(rb"<\w+:(?:c|row)[\s>/]")


COUNT_ATTR = re.compile(rb'(?:count|uniqueCount)="(\d+)"')


def check_workbook(path: Path, file_name: str) -> None:
    """Refuse a workbook that would make the XLSX reader allocate far more memory than the file
    holds data: a zip bomb, a shared-strings table claiming billions of entries, or a worksheet
    whose used range spans millions of empty cells (one cell at XFD1048576 is enough). Each of
    these aborted the whole process in python-calamine 0.9 (memory allocation failed)."""
    try:
        with zipfile.ZipFile(path) as book:
            entries = book.infolist()
            unzipped = sum(e.file_size for e in entries)
            if unzipped > MAX_XLSX_UNZIPPED:
                raise IngestError(
                    file_name,
                    f"unzips to {unzipped / 1073741824:,.1f} GB of XML, more than Funnel reads "
                    f"from a workbook ({MAX_XLSX_UNZIPPED >> 30} GB): save it as CSV instead.",
                )
            for entry in entries:
                name = entry.filename.lower()
                if name.endswith("sharedstrings.xml"):
                    _check_shared_strings(book, entry, file_name)
                elif name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    _check_sheet_range(book, entry, file_name)
    except IngestError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            RuntimeError, NotImplementedError) as exc:
        raise IngestError(
            file_name, f"could not be read as an XLSX workbook: {first_line(exc)}"
        ) from exc


def _check_shared_strings(book: zipfile.ZipFile, entry: zipfile.ZipInfo, file_name: str) -> None:
    with book.open(entry) as handle:
        head = handle.read(4096)
    tag = head[: head.find(b">") + 1] if b"<sst" in head else b""
    # every string takes at least 9 bytes (<si></si>): a larger count is a lie
    claimed = max((int(n) for n in COUNT_ATTR.findall(tag)), default=0)
    if claimed > entry.file_size // 9 + 1:
        raise IngestError(
            file_name,
            f"its shared-strings table claims {claimed:,} strings in {entry.file_size:,} bytes: "
            "the workbook is damaged or crafted. Open it in Excel and save it again, or save it "
            "as CSV.",
        )


class _RangeScan:
    """Row and cell positions as python-calamine assigns them: from ``r="B7"`` attributes, else
    one after the previous row or cell. Exact, and slow (a Python step per cell)."""

    def __init__(self) -> None:
        self.rows = self.cols = self.cells = 0
        self._row = self._col = 0

    def feed(self, text: bytes) -> None:
        for kind, attrs in CELL_REF.findall(text):
            ref = REF_ATTR.search(attrs)
            letters, digits = (ref.group(1), ref.group(2)) if ref else (b"", b"")
            if kind == b"row":
                self._row = int(digits) if digits else self._row + 1
                self._col = 0
            else:
                self.cells += 1
                self._col = _column_number(letters.upper()) if letters else self._col + 1
                if digits:
                    self._row = int(digits)
                self.cols = max(self.cols, self._col)
            self.rows = max(self.rows, self._row)

    def area(self) -> int:
        return self.rows * self.cols


class _FastRangeScan:
    """The same, for sheets written as Excel and its libraries write them (every ``<row`` and
    ``<c`` starts with its ``r=`` attribute, no namespace prefix): counted in C, not per cell.
    ``exact`` turns False when the sheet is written otherwise: then :class:`_RangeScan` reads it."""

    def __init__(self) -> None:
        self.cells = 0
        self.exact = True
        self._letters: set[bytes] = set()
        self._digits: set[bytes] = set()

    def feed(self, text: bytes) -> None:
        if not self.exact:
            return
        cells = text.count(b"<c ") + text.count(b"<c>") + text.count(b"<c/")
        rows = text.count(b"<row ") + text.count(b"<row>") + text.count(b"<row/")
        found = FAST_CELL.findall(text)
        row_numbers = FAST_ROW.findall(text)
        if len(found) != cells or len(row_numbers) != rows or PREFIXED_TAG.search(text):
            self.exact = False
            return
        self.cells += cells
        self._letters.update(map(itemgetter(0), found))
        self._digits.update(map(itemgetter(1), found))
        self._digits.update(row_numbers)

    def area(self) -> int:
        cols = max((_column_number(c) for c in self._letters), default=0)
        rows = max((int(d) for d in self._digits), default=0)
        self.rows, self.cols = rows, cols
        return rows * cols


def _check_sheet_range(book: zipfile.ZipFile, entry: zipfile.ZipInfo, file_name: str) -> None:
    """The sheet's used range (rows x columns, as the reader will allocate it) and its cells."""
    scan = _scan_sheet(book, entry, file_name, _FastRangeScan())
    if not scan.exact:
        scan = _scan_sheet(book, entry, file_name, _RangeScan())
    area = scan.area()
    if area > MAX_XLSX_CELLS or (area > SPARSE_XLSX_CELLS and area > 20 * scan.cells):
        raise IngestError(
            file_name,
            f"its worksheet spans {scan.rows:,} rows x {scan.cols:,} columns ({area:,} cells) "
            f"but holds {scan.cells:,} cells: Funnel reads at most {MAX_XLSX_CELLS:,} cells of "
            "a workbook, and not a range that is almost all empty. Delete the empty rows and "
            "columns after the data (or save the sheet as CSV) and upload it again.",
        )


def _scan_sheet(book: zipfile.ZipFile, entry: zipfile.ZipInfo, file_name: str, scan):
    """Feed the sheet's XML to ``scan`` in 1 MB pieces cut between tags."""
    tail = b""
    since_tag = 0
    with book.open(entry) as handle:
        while chunk := handle.read(1 << 20):
            last = chunk.rfind(b"<")
            since_tag = since_tag + len(chunk) if last < 0 else len(chunk) - last
            if since_tag > MAX_XML_RUN:
                raise IngestError(
                    file_name,
                    f"its worksheet holds a run of over {MAX_XML_RUN >> 20} MB without a tag: "
                    "the workbook is damaged or crafted. Save it as CSV and upload that.",
                )
            text = tail + chunk
            cut = text.rfind(b"<")  # a tag may go on in the next piece
            if cut < 0:
                text, tail = text, b""
            else:
                text, tail = text[:cut], text[cut:]
            scan.feed(text)
            if len(tail) > 1 << 20:  # text or a tag over 1 MB: holds no position
                tail = b""
    scan.feed(tail)
    return scan


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


def _cell_text(cell) -> str:
    """An XLSX cell as the text a person sees (dates ISO, whole numbers without '.0')."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, (dt.date, dt.time)):
        return cell.isoformat()
    if isinstance(cell, dt.timedelta):
        return str(cell)
    return str(cell)
