"""Read a CSV or XLSX export into an untyped DuckDB staging table, rows numbered as a spreadsheet.

Every record becomes either a row of ``raw_rows`` (all VARCHAR, plus ``__row``: header is row 1,
first data row is row 2) or a row of ``raw_rejects`` (structurally broken: wrong number of cells).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from funnel import store
from funnel.errors import IngestError

DELIMITERS = [",", ";", "\t", "|"]
MAX_CELL_BYTES = 32_000_000
XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class StagedFile:
    headers: list[str]
    rows_read: int
    rows_structural_rejects: int
    encoding: str
    delimiter: str | None


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


def stage_file(
    con: duckdb.DuckDBPyConnection, path: Path, data: bytes, file_name: str
) -> StagedFile:
    """Load ``data`` (the bytes of ``path``) into temp tables ``raw_rows`` and ``raw_rejects``."""
    if not data.strip():
        raise IngestError(file_name, "the file is empty: there is no header and no data to load.")
    if data.startswith(XLSX_MAGIC):
        return _stage_xlsx(con, path, file_name)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError(
            file_name,
            "is an old Excel 97-2003 (.xls) file; save it as .xlsx or CSV and upload that.",
        )
    if looks_binary(data) and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(file_name, "is not a CSV or XLSX file (it holds binary data).")
    text, encoding = decode_text(data, file_name)
    delimiter = sniff_delimiter(text)
    with tempfile.TemporaryDirectory(prefix="funnel-") as tmp:
        utf8_path = Path(tmp) / "upload.csv"
        if encoding == "utf-8" and path.is_file():
            utf8_path = path
        else:
            utf8_path.write_text(text, encoding="utf-8", newline="")
        headers = _header_record(text, delimiter)
        _read_csv(con, utf8_path, delimiter, headers, file_name)
    return _finish(con, headers, encoding, delimiter, file_name)


def _header_record(text: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(text[:2_000_000]), delimiter=delimiter)
    try:
        first = next(reader)
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


def _read_csv(con, utf8_path: Path, delimiter: str, headers: list[str], file_name: str) -> None:
    names = _unique_names(headers)
    _drop_staging(con)
    try:
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
    except duckdb.Error as exc:
        raise IngestError(file_name, f"could not be read as CSV: {_first_line(exc)}") from exc
    store.run(con, "ingest/stage_csv_rejects")
    store.run(con, "ingest/stage_row_map", {"first_row": 2})


def _drop_staging(con) -> None:
    store.run(con, "ingest/drop_staging")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _stage_xlsx(con, path: Path, file_name: str) -> StagedFile:
    from python_calamine import CalamineWorkbook

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
    body = rows[first + 1 :]
    frame = pd.DataFrame(
        [
            [_cell_text(c) or None for c in r[: len(names)]] + [None] * (len(names) - len(r))
            for r in body
        ],
        columns=names,
        dtype="string",
    )
    _drop_staging(con)
    con.register("xlsx_frame", frame)
    try:
        store.run(con, "ingest/stage_frame")
    finally:
        con.unregister("xlsx_frame")
    store.run(con, "ingest/stage_no_rejects")
    store.run(con, "ingest/stage_row_map", {"first_row": first + 2})
    return _finish(con, headers, "xlsx", None, file_name)


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
    con, headers: list[str], encoding: str, delimiter: str | None, file_name: str
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
    )
