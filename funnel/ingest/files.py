"""What one uploaded file is, read in pieces and never held whole: its facts (size, sha256,
encoding, line ends, NUL bytes), the upload cap, its text as UTF-8, and what CSV and XLSX
staging share (the header names, the staged table's counts, dropping it).
"""

from __future__ import annotations

import codecs
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from funnel.errors import IngestError
from funnel.store import connection as store

DELIMITERS = [",", ";", "\t", "|"]


XLSX_MAGIC = b"PK\x03\x04"


UTF8_BOM = b"\xef\xbb\xbf"


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")  # checked before UTF-16's
WIDE_BOMS = UTF32_BOMS + UTF16_BOMS
WIDE_ENCODINGS = ("utf-16", "utf-32")  # decoded by Python, piece by piece


CHUNK_BYTES = 1 << 20  # a file is read in pieces of this size, never whole


SNIFF_CHARS = 2_000_000  # characters read for the delimiter, the header and the line ends


HEAD_BYTES = 4 * SNIFF_CHARS  # bytes that hold SNIFF_CHARS characters in any encoding


DEFAULT_MAX_UPLOAD_MB = 200  # as Streamlit's maxUploadSize: MB of 1,048,576 bytes


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
    if data.startswith(WIDE_BOMS):
        codec = "utf-32" if data.startswith(UTF32_BOMS) else "utf-16"
        try:
            return data.decode(codec), codec
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
        if not piece.startswith(WIDE_BOMS):
            self._decoder = codecs.getincrementaldecoder("utf-8")()
            self._bom = bom_length(piece)

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
                    check_size(max(scan.size, os.fstat(handle.fileno()).st_size), file_name)
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
    check_size(size, file_name)


def check_size(size: int, file_name: str) -> None:
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


def encoding_of(facts: FileFacts, file_name: str) -> str:
    """The file's text encoding as :func:`decode_text` names it. NUL bytes inside cells are
    dropped (rich-text fields of some CRM exports hold them, SPEC 3); a file where they are
    common is no text file (UTF-16 without its byte-order mark, or binary data)."""
    if facts.head.startswith(UTF32_BOMS):
        return "utf-32"
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


def head_text(facts: FileFacts, encoding: str, file_name: str) -> str:
    """The first SNIFF_CHARS characters of the file, for sniffing its delimiter and header."""
    final = len(facts.head) == facts.size
    if encoding in WIDE_ENCODINGS:
        decoder = Utf16Decoder(file_name, encoding)
        text = decoder.decode(facts.head, final=final)
    elif encoding == "cp1252":
        text = facts.head[bom_length(facts.head):].decode("cp1252", errors="latin1_fallback")
    else:
        text = codecs.getincrementaldecoder(encoding)().decode(facts.head, final=final)
    return text[:SNIFF_CHARS]


def bom_length(head: bytes) -> int:
    return len(UTF8_BOM) if head.startswith(UTF8_BOM) else 0


class Utf16Decoder:
    """UTF-16 (or UTF-32) decoded piece by piece; a bad byte is reported at its place in the
    whole file."""

    def __init__(self, file_name: str, codec: str = "utf-16") -> None:
        self._decoder = codecs.getincrementaldecoder(codec)()
        self._codec = codec.upper()
        self._file_name = file_name
        self._offset = 0

    def decode(self, piece: bytes, final: bool = False) -> str:
        buffered = len(self._decoder.getstate()[0])
        try:
            text = self._decoder.decode(piece, final=final)
        except UnicodeDecodeError as exc:
            raise IngestError(
                self._file_name,
                f"starts like {self._codec} text but byte "
                f"{self._offset - buffered + exc.start + 1} is not valid {self._codec}; export "
                "the data again as CSV (UTF-8) or XLSX.",
            ) from exc
        self._offset += len(piece)
        return text


class Utf8Copy:
    """The file's text as UTF-8 bytes, piece by piece (for a private copy DuckDB reads)."""

    def __init__(
        self, path: Path, encoding: str, size: int, file_name: str, drop_nul: bool = False
    ) -> None:
        self.path, self.encoding, self.size, self.file_name = path, encoding, size, file_name
        self.saw_cr = False  # a CR in the text (for UTF-16, known once a copy was made)
        self.drop_nul = drop_nul or encoding in WIDE_ENCODINGS  # NUL bytes left out
        self.nul_chars = 0  # NUL characters found in UTF-16 text (known once a copy was made)

    def pieces(self, lf_only: bool) -> Iterator[bytes]:
        if self.encoding in ("utf-8", "utf-8-sig"):
            # already valid UTF-8: copy the bytes (CR and LF never occur inside a character)
            pieces = lf_pieces(self._raw_pieces(), b"\r", b"\n", lf_only)
            yield from (p.replace(b"\x00", b"") for p in pieces) if self.drop_nul else pieces
        else:
            yield from (
                text.encode("utf-8")
                for text in lf_pieces(self._text_pieces(), "\r", "\n", lf_only)
            )

    def _raw_pieces(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            handle.seek(bom_length(handle.read(len(UTF8_BOM))))
            while piece := handle.read(CHUNK_BYTES):
                yield piece
        check_unchanged(self.path, self.size, self.file_name)

    def _text_pieces(self) -> Iterator[str]:
        self.nul_chars = 0  # each pass reads the whole file: the last one's count holds
        with open(self.path, "rb") as handle:
            if self.encoding in WIDE_ENCODINGS:
                decoder = Utf16Decoder(self.file_name, self.encoding)
                while piece := handle.read(CHUNK_BYTES):
                    yield self._seen(decoder.decode(piece))
                yield self._seen(decoder.decode(b"", final=True))
            else:  # cp1252: one byte per character; the five bytes it leaves undefined as latin-1
                handle.seek(bom_length(handle.read(len(UTF8_BOM))))
                while piece := handle.read(CHUNK_BYTES):
                    text = piece.decode("cp1252", errors="latin1_fallback")
                    yield text.replace("\x00", "") if self.drop_nul else text
        check_unchanged(self.path, self.size, self.file_name)

    def _seen(self, text: str) -> str:
        self.saw_cr = self.saw_cr or "\r" in text
        if "\x00" in text:
            self.nul_chars += text.count("\x00")
            text = text.replace("\x00", "")
        return text


def lf_pieces(pieces: Iterable, cr, lf, lf_only: bool) -> Iterator:
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


def check_unchanged(path: Path, size: int, file_name: str) -> None:
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


PSEUDO_COLUMNS = {"rowid"}  # DuckDB names a table's row ids so: a header cannot take it


def unique_names(headers: list[str]) -> list[str]:
    """Header names made unique and non-empty, as a person would read them."""
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(headers, start=1):
        base = name or f"Column {i}"
        # a name of our own (__ordinal) or a DuckDB pseudo-column (rowid) would shadow it
        if base.startswith("__") or base.strip().lower() in PSEUDO_COLUMNS:
            base = f"{base} (file)"
        key = base.lower()
        if key in seen:
            seen[key] += 1
            base = f"{base} ({seen[key]})"
        else:
            seen[key] = 1
        out.append(base)
    return out


def first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def finish(
    con, headers: list[str], encoding: str, delimiter: str | None, file_name: str,
    first_row: int = 2,
    empty_rows: int = 0,
) -> StagedFile:
    loaded, rejects = store.fetch_one(con, "ingest/staged_counts")
    if loaded + rejects == 0:
        raise IngestError(file_name, "has a header row but no data rows: there is nothing to load.")
    return StagedFile(
        headers=unique_names(headers),
        rows_read=int(loaded + rejects),
        rows_structural_rejects=int(rejects),
        encoding=encoding,
        delimiter=delimiter,
        first_row=first_row,
        empty_rows=empty_rows,
    )


def drop_staging(con) -> None:
    """Drop the temp tables an ingest stages (they hold a whole file's rows)."""
    store.run(con, "ingest/drop_staging")
