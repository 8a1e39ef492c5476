"""Read a CSV or XLSX export into an untyped DuckDB staging table, rows numbered as a spreadsheet.

Every record becomes either a row of ``raw_rows`` (all VARCHAR, plus ``__row``: header is row 1,
first data row is row 2) or a row of ``raw_rejects`` (structurally broken: wrong number of cells).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import duckdb

from funnel import raw_uploads, store
from funnel.errors import IngestError

DELIMITERS = [",", ";", "\t", "|"]
MAX_CELL_BYTES = 32_000_000
XLSX_MAGIC = b"PK\x03\x04"
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
CHUNK_BYTES = 1 << 20  # a file is read in pieces of this size, never whole
SNIFF_CHARS = 2_000_000  # characters read for the delimiter, the header and the line ends
HEAD_BYTES = 4 * SNIFF_CHARS  # bytes that hold SNIFF_CHARS characters in any encoding
DEFAULT_MAX_UPLOAD_MB = 200  # as Streamlit's maxUploadSize: MB of 1,048,576 bytes
# A workbook is read whole into memory (python-calamine allocates every cell of the used range,
# and aborts the process when it cannot): bound what a small file can make it allocate.
MAX_XLSX_UNZIPPED = 2 << 30  # bytes of XML once unzipped
MAX_XML_RUN = 64 << 20  # bytes between two tags (Excel caps a cell at 32,767 characters)
MAX_XLSX_CELLS = 50_000_000  # rows x columns of a worksheet's used range (~2 GB in calamine)
SPARSE_XLSX_CELLS = 2_000_000  # above this, the range must hold at least 1 cell in 20


@dataclass
class StagedFile:
    headers: list[str]
    rows_read: int
    rows_structural_rejects: int
    encoding: str
    delimiter: str | None
    first_row: int = 2  # the spreadsheet row number of the first data row
    empty_rows: int = 0  # empty rows below the header (not rows read; later rows keep numbers)
    nul_bytes: int = 0  # NUL bytes dropped from inside cells (SPEC 3)

    @property
    def contiguous(self) -> bool:
        """The n-th staged record is spreadsheet row ``first_row + n``: no row was skipped."""
        return self.rows_structural_rejects == 0 and self.empty_rows == 0


def decode_text(data: bytes, file_name: str) -> tuple[str, str]:
    """Bytes of a text export -> (text, encoding name). UTF-8 (BOM or not), UTF-16, else cp1252."""
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise IngestError(
                file_name,
                f"starts like UTF-16 text but byte {exc.start + 1} is not valid UTF-16; "
                "export the data again as CSV (UTF-8) or XLSX.",
            ) from exc
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        label = "utf-8-sig"
    else:
        label = "utf-8"
    if b"\x00" in data:
        pos = data.index(b"\x00")
        raise IngestError(
            file_name,
            f"contains a NUL byte at byte {pos + 1}: this is not a text CSV. "
            "Export the data again as CSV (UTF-8) or XLSX.",
        )
    try:
        return data.decode("utf-8"), label
    except UnicodeDecodeError:
        pass
    # cp1252 leaves five bytes undefined; read those as latin-1 so no byte is lost.
    return data.decode("cp1252", errors="latin1_fallback"), "cp1252"


def _latin1_fallback(err: UnicodeDecodeError) -> tuple[str, int]:
    return err.object[err.start : err.end].decode("latin-1"), err.end


codecs.register_error("latin1_fallback", _latin1_fallback)


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header record: the candidate seen most often outside quotes."""
    counts = dict.fromkeys(DELIMITERS, 0)
    in_quotes = False
    for ch in text[:200_000]:
        if ch == '"':
            in_quotes = not in_quotes
        elif not in_quotes:
            if ch in "\r\n":
                break
            if ch in counts:
                counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def looks_binary(data: bytes) -> bool:
    """True for content that no CSV export would hold (many control bytes)."""
    sample = data[:4096]
    if not sample:
        return False
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls / len(sample) > 0.05


@dataclass(frozen=True)
class FileFacts:
    """What one pass over a file's bytes found, without holding the file in memory."""

    size: int
    sha256: str
    head: bytes  # the first HEAD_BYTES bytes
    blank: bool  # nothing but whitespace (or nothing at all)
    nul_at: int | None  # where the first NUL byte is, counted after a UTF-8 BOM
    utf8: bool  # valid UTF-8 after a UTF-8 BOM (not checked for UTF-16 text)
    has_cr: bool  # holds a CR byte
    # lines as an editor counts them (a last line without a line end too), None when bytes cannot
    # tell (UTF-16, or lines ending in CR in one place and LF in another)
    lines: int | None = None
    nul_count: int = 0  # NUL bytes in the file (after a UTF-8 BOM)


class _Scan:
    """Fed a file piece by piece, gathers its :class:`FileFacts`."""

    def __init__(self) -> None:
        self.size = 0
        self.hash = hashlib.sha256()
        self.head = b""
        self.blank = True
        self.nul_at: int | None = None
        self.nul_count = 0
        self.has_cr = False
        self.utf8 = True
        self._line_feeds = 0
        self._returns = 0
        self._ends_line = False  # the last byte fed is a line end
        self._decoder = None  # a UTF-8 decoder, once the first piece shows it is needed
        self._bom = 0

    def feed(self, piece: bytes) -> None:
        if self.size == 0:
            self._start(piece)
        start = self._bom if self.size == 0 else 0
        self.hash.update(piece)
        if len(self.head) < HEAD_BYTES:
            self.head += piece[: HEAD_BYTES - len(self.head)]
        self.blank = self.blank and not piece.strip()
        if self.nul_at is None and (pos := piece.find(b"\x00", start)) >= 0:
            self.nul_at = self.size + pos - self._bom
        if self.nul_at is not None:
            self.nul_count += piece.count(b"\x00", start)
        self._line_feeds += piece.count(b"\n")
        if b"\r" in piece:
            self.has_cr = True
            self._returns += piece.count(b"\r")
        self._ends_line = piece[-1:] in (b"\n", b"\r")
        if self._decoder is not None and self.utf8:
            try:
                self._decoder.decode(memoryview(piece)[start:])
            except UnicodeDecodeError:
                self.utf8 = False
        self.size += len(piece)

    def _start(self, piece: bytes) -> None:
        if not piece.startswith(UTF16_BOMS):
            self._decoder = codecs.getincrementaldecoder("utf-8")()
            self._bom = _bom_length(piece)

    def facts(self) -> FileFacts:
        if self._decoder is not None and self.utf8:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.utf8 = False
        return FileFacts(self.size, self.hash.hexdigest(), self.head, self.blank, self.nul_at,
                         self.utf8, self.has_cr, self._lines(), self.nul_count)

    def _lines(self) -> int | None:
        feeds, returns = self._line_feeds, self._returns
        if self._decoder is None or (feeds and returns and feeds != returns):
            return None  # UTF-16 (a byte 0x0A may be half a character), or line ends mixed
        # LF, CR alone, or CRLF (as many CR as LF: each CR taken to end a line with its LF)
        return (feeds or returns) + (0 if self._ends_line else 1)


def scan_file(path: Path, file_name: str) -> FileFacts:
    """Hash and check a file in one pass of CHUNK_BYTES pieces (it is never held whole)."""
    scan = _Scan()
    cap = max_upload_bytes()
    try:
        with open(path, "rb") as handle:
            while piece := handle.read(CHUNK_BYTES):
                scan.feed(piece)
                if scan.size > cap:  # grew past the cap since it was checked
                    _check_size(max(scan.size, os.fstat(handle.fileno()).st_size), file_name)
    except OSError as exc:
        raise IngestError(file_name, f"cannot be read: {exc.strerror or exc}") from exc
    return scan.facts()


def scan_bytes(data: bytes) -> FileFacts:
    """The :class:`FileFacts` of bytes already in memory."""
    scan = _Scan()
    view = memoryview(data)
    for start in range(0, len(data), CHUNK_BYTES):
        scan.feed(bytes(view[start : start + CHUNK_BYTES]))
    return scan.facts()


def max_upload_bytes() -> int:
    """The upload cap: ``$FUNNEL_MAX_UPLOAD_MB`` (default 200) megabytes."""
    text = os.environ.get("FUNNEL_MAX_UPLOAD_MB", "").strip()
    try:
        megabytes = float(text) if text else DEFAULT_MAX_UPLOAD_MB
    except ValueError:
        megabytes = DEFAULT_MAX_UPLOAD_MB
    return int(megabytes * 1024 * 1024)


def check_upload_size(path: Path, file_name: str) -> None:
    """Refuse a file over the upload cap before a byte of it is read."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(file_name, f"cannot be read: {exc.strerror or exc}") from exc
    if not path.is_file():
        raise IngestError(file_name, "is not a file.")
    _check_size(size, file_name)


def _check_size(size: int, file_name: str) -> None:
    cap = max_upload_bytes()
    if size > cap:
        raise IngestError(
            file_name,
            f"is {size / 1048576:,.1f} MB, over the {_megabytes(cap)} MB upload cap. "
            "Export a shorter period (or fewer columns) and upload the parts one by one, or "
            "raise the cap with FUNNEL_MAX_UPLOAD_MB.",
        )


def _megabytes(size: int) -> str:
    return f"{size / 1048576:,.1f}".removesuffix(".0")


def stage_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    data: bytes | None,
    file_name: str,
    facts: FileFacts | None = None,
) -> StagedFile:
    """Load the file at ``path`` into temp tables ``raw_rows`` and ``raw_rejects``.

    The file is read in pieces, never whole: ``facts`` (from :func:`scan_file`) or ``data`` (the
    file's bytes, when a caller holds them anyway) tell its size, encoding and line ends. A UTF-8
    file DuckDB may read is read where it is; any other is first copied, converted, to UTF-8.
    """
    if facts is None:
        facts = scan_bytes(data) if data is not None else scan_file(path, file_name)
    _check_size(facts.size, file_name)
    if facts.blank:
        raise IngestError(file_name, "the file is empty: there is no header and no data to load.")
    head = facts.head
    if head.startswith(XLSX_MAGIC):
        return _stage_xlsx(con, path, file_name)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError(
            file_name,
            "is an old Excel 97-2003 (.xls) file or a password-protected workbook; save it as "
            ".xlsx (without a password) or CSV and upload that.",
        )
    if looks_binary(head) and not head.startswith(UTF16_BOMS):
        raise IngestError(file_name, "is not a CSV or XLSX file (it holds binary data).")
    encoding = _encoding(facts, file_name)
    head_text = _head_text(facts, encoding, file_name).replace("\x00", "")
    text = head_text.lstrip("\r\n")  # empty lines above the header: DuckDB skips them too
    delimiter = sniff_delimiter(text)
    headers = _header_record(text, delimiter)
    allowed = store.uploads_folder(con)
    cr_records = _records_end_in_cr(text)
    utf8 = _Utf8Copy(path, encoding, facts.size, file_name, drop_nul=bool(facts.nul_count))
    try:
        if cr_records:
            # Old Mac exports end records in CR alone; DuckDB split such a record in two when a
            # quoted cell held a CRLF: read them with LF line ends.
            _read_staged_copy(con, allowed, utf8.pieces(lf_only=True), delimiter, headers)
        elif (encoding == "utf-8" or (encoding == "utf-8-sig" and text == head_text)) and (
            _duckdb_may_read(path, allowed) and not utf8.drop_nul
        ):
            # DuckDB skips a UTF-8 BOM itself, but reads a BOM and a line end as an empty header
            _read_csv(con, path, delimiter, headers)
        else:
            _read_staged_copy(con, allowed, utf8.pieces(lf_only=False), delimiter, headers)
    except duckdb.Error as exc:
        if cr_records or not (utf8.saw_cr if encoding == "utf-16" else facts.has_cr):
            raise _unreadable(file_name, exc) from exc
        # Lines ending one way, then another (CRLF and LF) defeat DuckDB's dialect sniffer:
        # read a copy whose lines all end in LF.
        try:
            _read_staged_copy(con, allowed, utf8.pieces(lf_only=True), delimiter, headers)
        except duckdb.Error as again:
            raise _unreadable(file_name, again) from again
    first_row, empty_rows = _empty_rows(con, facts, utf8, delimiter, len(headers))
    store.run(con, "ingest/stage_row_map", {"first_row": first_row, "empty_rows": empty_rows})
    staged = _finish(con, headers, encoding, delimiter, file_name, first_row, len(empty_rows))
    # NUL characters of UTF-16 text are counted as the copy decodes it (its bytes hold zeros)
    staged.nul_bytes = utf8.nul_chars if encoding == "utf-16" else facts.nul_count
    return staged


def _empty_rows(
    con, facts: FileFacts, utf8: _Utf8Copy, delimiter: str, columns: int
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


def _encoding(facts: FileFacts, file_name: str) -> str:
    """The file's text encoding as :func:`decode_text` names it. NUL bytes inside cells are
    dropped (rich-text fields of some CRM exports hold them, SPEC 3); a file where they are
    common is no text file (UTF-16 without its byte-order mark, or binary data)."""
    if facts.head.startswith(UTF16_BOMS):
        return "utf-16"
    if facts.nul_count * 20 > facts.size:
        raise IngestError(
            file_name,
            f"is not a text CSV: {facts.nul_count:,} of its {facts.size:,} bytes are NUL bytes "
            f"(the first at byte {(facts.nul_at or 0) + 1}). Export the data again as CSV "
            "(UTF-8) or XLSX.",
        )
    if not facts.utf8:
        return "cp1252"
    return "utf-8-sig" if facts.head.startswith(UTF8_BOM) else "utf-8"


def _head_text(facts: FileFacts, encoding: str, file_name: str) -> str:
    """The first SNIFF_CHARS characters of the file, for sniffing its delimiter and header."""
    final = len(facts.head) == facts.size
    if encoding == "utf-16":
        decoder = _Utf16Decoder(file_name)
        text = decoder.decode(facts.head, final=final)
    elif encoding == "cp1252":
        text = facts.head[_bom_length(facts.head):].decode("cp1252", errors="latin1_fallback")
    else:
        text = codecs.getincrementaldecoder(encoding)().decode(facts.head, final=final)
    return text[:SNIFF_CHARS]


def _bom_length(head: bytes) -> int:
    return len(UTF8_BOM) if head.startswith(UTF8_BOM) else 0


class _Utf16Decoder:
    """UTF-16 decoded piece by piece; a bad byte is reported at its place in the whole file."""

    def __init__(self, file_name: str) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-16")()
        self._file_name = file_name
        self._offset = 0

    def decode(self, piece: bytes, final: bool = False) -> str:
        buffered = len(self._decoder.getstate()[0])
        try:
            text = self._decoder.decode(piece, final=final)
        except UnicodeDecodeError as exc:
            raise IngestError(
                self._file_name,
                f"starts like UTF-16 text but byte {self._offset - buffered + exc.start + 1} is "
                "not valid UTF-16; export the data again as CSV (UTF-8) or XLSX.",
            ) from exc
        self._offset += len(piece)
        return text


class _Utf8Copy:
    """The file's text as UTF-8 bytes, piece by piece (for a private copy DuckDB reads)."""

    def __init__(
        self, path: Path, encoding: str, size: int, file_name: str, drop_nul: bool = False
    ) -> None:
        self.path, self.encoding, self.size, self.file_name = path, encoding, size, file_name
        self.saw_cr = False  # a CR in the text (for UTF-16, known once a copy was made)
        self.drop_nul = drop_nul or encoding == "utf-16"  # NUL bytes left out of the copy
        self.nul_chars = 0  # NUL characters found in UTF-16 text (known once a copy was made)

    def pieces(self, lf_only: bool) -> Iterator[bytes]:
        if self.encoding in ("utf-8", "utf-8-sig"):
            # already valid UTF-8: copy the bytes (CR and LF never occur inside a character)
            pieces = _lf_pieces(self._raw_pieces(), b"\r", b"\n", lf_only)
            yield from (p.replace(b"\x00", b"") for p in pieces) if self.drop_nul else pieces
        else:
            yield from (
                text.encode("utf-8")
                for text in _lf_pieces(self._text_pieces(), "\r", "\n", lf_only)
            )

    def _raw_pieces(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            handle.seek(_bom_length(handle.read(len(UTF8_BOM))))
            while piece := handle.read(CHUNK_BYTES):
                yield piece
        _check_unchanged(self.path, self.size, self.file_name)

    def _text_pieces(self) -> Iterator[str]:
        self.nul_chars = 0  # each pass reads the whole file: the last one's count holds
        with open(self.path, "rb") as handle:
            if self.encoding == "utf-16":
                decoder = _Utf16Decoder(self.file_name)
                while piece := handle.read(CHUNK_BYTES):
                    yield self._seen(decoder.decode(piece))
                yield self._seen(decoder.decode(b"", final=True))
            else:  # cp1252: one byte per character; the five bytes it leaves undefined as latin-1
                handle.seek(_bom_length(handle.read(len(UTF8_BOM))))
                while piece := handle.read(CHUNK_BYTES):
                    text = piece.decode("cp1252", errors="latin1_fallback")
                    yield text.replace("\x00", "") if self.drop_nul else text
        _check_unchanged(self.path, self.size, self.file_name)

    def _seen(self, text: str) -> str:
        self.saw_cr = self.saw_cr or "\r" in text
        if "\x00" in text:
            self.nul_chars += text.count("\x00")
            text = text.replace("\x00", "")
        return text


def _lf_pieces(pieces: Iterable, cr, lf, lf_only: bool) -> Iterator:
    """``pieces`` with every CRLF and lone CR turned into LF when ``lf_only`` (a CR ending one
    piece waits for the next, which may start with its LF)."""
    if not lf_only:
        yield from pieces
        return
    crlf = cr + lf
    carry = cr[:0]
    for piece in pieces:
        piece = carry + piece
        carry = cr if piece.endswith(cr) else cr[:0]
        if carry:
            piece = piece[:-1]
        yield piece.replace(crlf, lf).replace(cr, lf)
    if carry:
        yield lf


def _check_unchanged(path: Path, size: int, file_name: str) -> None:
    """Refuse a file that changed size while it was being read (its hash would not match)."""
    try:
        now = path.stat().st_size
    except OSError as exc:
        raise IngestError(file_name, f"cannot be read: {exc.strerror or exc}") from exc
    if now != size:
        raise IngestError(
            file_name, "changed while it was being read; wait until it is fully written and "
            "upload it again."
        )


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
    detail = re.sub(r'file "[^"]*"', "the file", _first_line(exc))  # no server paths shown
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


def _header_record(text: str, delimiter: str) -> list[str]:
    # newline="": a record may end in CR, LF or CRLF (old Mac exports end lines in CR alone)
    reader = csv.reader(io.StringIO(text[:SNIFF_CHARS], newline=""), delimiter=delimiter)
    try:
        first = next(record for record in reader if record)  # empty lines above it skipped
    except (StopIteration, csv.Error):
        first = []
    return [h.strip() for h in first]


def _unique_names(headers: list[str]) -> list[str]:
    """Header names made unique and non-empty, as a person would read them."""
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(headers, start=1):
        base = name or f"Column {i}"
        if base.startswith("__"):
            base = f"{base} (file)"
        key = base.lower()
        if key in seen:
            seen[key] += 1
            base = f"{base} ({seen[key]})"
        else:
            seen[key] = 1
        out.append(base)
    return out


def _read_csv(con, utf8_path: Path, delimiter: str, headers: list[str]) -> None:
    """Stage a UTF-8 CSV file; raises duckdb.Error when DuckDB cannot read it."""
    names = _unique_names(headers)
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


def drop_staging(con) -> None:
    """Drop the temp tables an ingest stages (they hold a whole file's rows)."""
    store.run(con, "ingest/drop_staging")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _stage_xlsx(con, path: Path, file_name: str) -> StagedFile:
    import pandas as pd  # not at the top: a CSV ingest from the CLI need not pay its import
    from python_calamine import CalamineWorkbook

    check_workbook(path, file_name)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for broken files
        raise IngestError(
            file_name, f"could not be read as an XLSX workbook: {_first_line(exc)}"
        ) from exc
    first = next((i for i, r in enumerate(rows) if any(_cell_text(c) for c in r)), None)
    if first is None:
        raise IngestError(
            file_name, "the first worksheet is empty: there is no header and no data."
        )
    headers = [_cell_text(c).strip() for c in rows[first]]
    names = _unique_names(headers)
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
    return _finish(con, headers, "xlsx", None, file_name, first + 2, len(empty_rows))


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
            file_name, f"could not be read as an XLSX workbook: {_first_line(exc)}"
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


def _finish(
    con, headers: list[str], encoding: str, delimiter: str | None, file_name: str,
    first_row: int = 2,
    empty_rows: int = 0,
) -> StagedFile:
    loaded, rejects = store.fetch_one(con, "ingest/staged_counts")
    if loaded + rejects == 0:
        raise IngestError(file_name, "has a header row but no data rows: there is nothing to load.")
    return StagedFile(
        headers=_unique_names(headers),
        rows_read=int(loaded + rejects),
        rows_structural_rejects=int(rejects),
        encoding=encoding,
        delimiter=delimiter,
        first_row=first_row,
        empty_rows=empty_rows,
    )
