"""An XLSX workbook's first sheet into the untyped staging table ``raw_rows``, after guards
against workbooks that would make the reader allocate far more than the file holds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from operator import itemgetter
from pathlib import Path

from funnel.errors import IngestError
from funnel.ingest import xlsx_reader
from funnel.ingest.csv import MAX_CELL_BYTES
from funnel.ingest.files import (
    StagedFile,
    drop_staging,
    finish,
    first_line,
    unique_names,
)
from funnel.store import connection as store
from funnel.store import raw_uploads
from funnel.store.raw_uploads import SHA256

CACHE_PREFIX = "tmp-xlsx-"  # swept with the stale staging folders (raw_uploads.sweep)

# A workbook is read whole into memory (python-calamine allocates every cell of the used range,
# and aborts the process when it cannot): bound what a small file can make it allocate.
MAX_XLSX_UNZIPPED = 2 << 30  # bytes of XML once unzipped


MAX_XML_RUN = 64 << 20  # bytes between two tags (Excel caps a cell at 32,767 characters)


MAX_XLSX_CELLS = 50_000_000  # rows x columns of a worksheet's used range (~2 GB in calamine)


SPARSE_XLSX_CELLS = 2_000_000  # above this, the range must hold at least 1 cell in 20


def stage_xlsx(con, path: Path, file_name: str, sha256: str | None = None) -> StagedFile:
    """Stage the first sheet of the workbook at ``path`` into ``raw_rows``: checked first
    (:func:`check_workbook`), then read in a process of its own with limits
    (funnel.ingest.xlsx_reader), as CSV text DuckDB stages like any CSV. ``sha256``: the file's
    hash, under which the text is kept until the upload is loaded (a preview and the load
    that follows read the workbook once); :func:`forget` drops it."""
    check_workbook(path, file_name)
    folder = _converted(con, path, file_name, sha256)
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta["headers"] is None:
            raise IngestError(
                file_name, "the first worksheet is empty: there is no header and no data."
            )
        headers = meta["headers"]
        drop_staging(con)
        store.run(con, "ingest/stage_csv", {
            "path": str(folder / "rows.csv"), "delim": ",", "names": unique_names(headers),
            "max_line_size": MAX_CELL_BYTES,
        })
        store.run(con, "ingest/stage_csv_rejects")  # none: the reader wrote each row whole
        store.run(con, "ingest/stage_row_map",
                  {"first_row": meta["first_row"], "empty_rows": meta["empty_rows"]})
        return finish(con, headers, "xlsx", None, file_name, meta["first_row"],
                      len(meta["empty_rows"]))
    finally:
        if sha256 is None:
            shutil.rmtree(folder, ignore_errors=True)


def forget(con, sha256: str) -> None:
    """Drop the text of a workbook kept since its preview (its upload is loaded or abandoned;
    one left behind is swept with the stale staging folders after an hour)."""
    root = store.uploads_folder(con)
    if root is not None and SHA256.fullmatch(sha256):
        shutil.rmtree(root / f"{CACHE_PREFIX}{sha256}", ignore_errors=True)


def reader_limits() -> tuple[int, int]:
    """(megabytes of address space, seconds of CPU) the reader's process may take:
    ``$FUNNEL_XLSX_MEMORY_MB`` (default 2048) and ``$FUNNEL_XLSX_SECONDS`` (default 120)."""
    def number(name: str, default: int) -> int:
        text = os.environ.get(name, "").strip()
        return int(text) if text.isdigit() and int(text) > 0 else default

    return number("FUNNEL_XLSX_MEMORY_MB", 2048), number("FUNNEL_XLSX_SECONDS", 120)


def _converted(con, path: Path, file_name: str, sha256: str | None) -> Path:
    """The folder holding the workbook's first sheet as ``rows.csv`` and ``meta.json``: made
    now by the reader's process, or kept from the preview of the same bytes."""
    root = store.uploads_folder(con)
    if sha256 is not None and root is not None and SHA256.fullmatch(sha256):
        raw_uploads.ensure_folder(root)
        folder = root / f"{CACHE_PREFIX}{sha256}"
        if (folder / "meta.json").is_file():
            os.utime(folder)  # in use: not stale for the sweep
            return folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(mode=0o700)
    else:
        folder = Path(tempfile.mkdtemp(prefix=CACHE_PREFIX, dir=root))  # 0700
    try:
        _run_reader(path, folder, file_name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def _run_reader(path: Path, folder: Path, file_name: str) -> None:
    memory_mb, seconds = reader_limits()
    command = [sys.executable, "-m", "funnel.ingest.xlsx_reader", str(path.absolute()),
               str(folder), str(memory_mb), str(seconds)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30,
                              cwd=str(store.ROOT), env=_reader_env())
    except subprocess.TimeoutExpired as exc:
        raise IngestError(
            file_name, f"took longer than {seconds + 30} seconds to read as a workbook: save "
            "the sheet as CSV and upload that.",
        ) from exc
    if done.returncode == 0:
        return
    if done.returncode == xlsx_reader.READ_ERROR:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "unreadable"
        raise IngestError(file_name, f"could not be read as an XLSX workbook: {reason}")
    # killed (an allocation failure aborts it; past its CPU time it is signalled) or out of
    # memory: the workbook asks for more than Funnel lets one take
    raise IngestError(
        file_name,
        f"needs more than the {memory_mb:,} MB and {seconds} s of CPU Funnel lets a workbook "
        "take to be read (a sheet spanning millions of cells, or a damaged or crafted file): "
        "delete the empty rows and columns after the data, or save the sheet as CSV, and "
        "upload it again.",
    )


def _reader_env() -> dict[str, str]:
    """The reader's environment: this one, with the project importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(store.ROOT), env.get("PYTHONPATH")]))
    return env


CELL_REF = re.compile(rb"<(?:\w+:)?(row|c)\b([^>]*)>")


REF_ATTR = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]{0,3})(\d*)["']""")


FAST_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"')


FAST_ROW = re.compile(rb'<row r="(\d+)"')


PREFIXED_TAG = re.compile(rb"<\w+:(?:c|row)[\s>/]")


COUNT_ATTR = re.compile(rb"""(?:count|uniqueCount)\s*=\s*["'](\d+)["']""")


SST_TAG = re.compile(rb"<(?:\w+:)?sst\b[^>]*>")


DIMENSION_REF = re.compile(
    rb"""<(?:\w+:)?dimension\b[^>]*\sref\s*=\s*["']\$?([A-Za-z]{1,3})\$?(\d*)"""
    rb"""(?::\$?([A-Za-z]{1,3})\$?(\d*))?["']"""
)


def check_workbook(path: Path, file_name: str) -> None:
    """Refuse, before the reader runs, a workbook that would make it allocate far more memory
    than the file holds data: a zip bomb, a shared-strings table claiming billions of entries,
    or a worksheet whose used range spans millions of empty cells (one cell at XFD1048576 is
    enough). Every part of the zip is read, whatever its name or path: a workbook's own
    relationships may put its sheet or its strings anywhere (xl/data/sheet1.xml, a part
    without .xml), and a tag may hide behind a long comment or padding. The reader's own
    process and its limits remain the last guard (funnel.ingest.xlsx_reader)."""
    try:
        with zipfile.ZipFile(path) as book:
            entries = [e for e in book.infolist() if not e.is_dir()]
            unzipped = sum(e.file_size for e in entries)
            if unzipped > MAX_XLSX_UNZIPPED:
                raise IngestError(
                    file_name,
                    f"unzips to {unzipped / 1073741824:,.1f} GB of XML, more than Funnel reads "
                    f"from a workbook ({MAX_XLSX_UNZIPPED >> 30} GB): save it as CSV instead.",
                )
            for entry in entries:
                _check_part(book, entry, file_name)
    except IngestError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            RuntimeError, NotImplementedError) as exc:
        raise IngestError(
            file_name, f"could not be read as an XLSX workbook: {first_line(exc)}"
        ) from exc


def _check_part(book: zipfile.ZipFile, entry: zipfile.ZipInfo, file_name: str) -> None:
    """One part of the workbook: its shared-strings count against its size, its cells' range
    and its declared dimension against the caps."""
    strings = _SharedStringsScan()
    scan = _scan_part(book, entry, file_name, (_FastRangeScan(), strings))[0]
    if not scan.exact:
        scan = _scan_part(book, entry, file_name, (_RangeScan(),))[0]
    # every string takes at least 9 bytes (<si></si>): a larger count is a lie
    if strings.claimed > entry.file_size // 9 + 1:
        raise IngestError(
            file_name,
            f"its shared-strings table claims {strings.claimed:,} strings in "
            f"{entry.file_size:,} bytes: the workbook is damaged or crafted. Open it in Excel "
            "and save it again, or save it as CSV.",
        )
    area = max(scan.area(), strings.dimension_area)
    if area > MAX_XLSX_CELLS or (area > SPARSE_XLSX_CELLS and area > 20 * scan.cells):
        rows, cols = (scan.rows, scan.cols) if area == scan.area() else strings.dimension
        raise IngestError(
            file_name,
            f"its worksheet spans {rows:,} rows x {cols:,} columns ({area:,} cells) "
            f"but holds {scan.cells:,} cells: Funnel reads at most {MAX_XLSX_CELLS:,} cells of "
            "a workbook, and not a range that is almost all empty. Delete the empty rows and "
            "columns after the data (or save the sheet as CSV) and upload it again.",
        )


class _SharedStringsScan:
    """The largest string count a ``<sst>`` tag claims, and the largest range a ``<dimension
    ref=...>`` declares, in a part fed in pieces that each hold whole tags."""

    def __init__(self) -> None:
        self.claimed = 0
        self.dimension: tuple[int, int] = (0, 0)
        self.dimension_area = 0

    def feed(self, text: bytes) -> None:
        if b"<" not in text:
            return
        for tag in SST_TAG.findall(text):
            self.claimed = max([self.claimed, *(int(n) for n in COUNT_ATTR.findall(tag))])
        for first_col, first_row, last_col, last_row in DIMENSION_REF.findall(text):
            rows = int(last_row or first_row or 1) - int(first_row or 1) + 1
            cols = _column_number((last_col or first_col).upper()) - _column_number(
                first_col.upper()) + 1
            if rows * cols > self.dimension_area:
                self.dimension, self.dimension_area = (rows, cols), rows * cols


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


def _scan_part(book: zipfile.ZipFile, entry: zipfile.ZipInfo, file_name: str, scans):
    """Feed a part's bytes to each of ``scans`` in 1 MB pieces cut before a tag (a tag is
    never split between two pieces); returns ``scans``."""
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
            for scan in scans:
                scan.feed(text)
            if len(tail) > 1 << 20:  # text or a tag over 1 MB: holds no position
                if tail.startswith((b"<sst", b"<dimension")) or b":sst" in tail[:64]:
                    raise IngestError(
                        file_name, "holds a tag of over 1 MB: the workbook is damaged or "
                        "crafted. Open it in Excel and save it again, or save it as CSV.",
                    )
                tail = b""
    for scan in scans:
        scan.feed(tail)
    return scans


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number
