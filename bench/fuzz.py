"""A long fuzz run of the ingest (issue 8): whatever a file holds, no row goes missing.

    python bench/fuzz.py [--cases 10000] [--seed 8]

Hypothesis writes files of three kinds and ingests each into a store:

- well-formed CSVs (random delimiter, line ending - LF, CRLF, CR or a mix - and encoding, nasty
  cells: quotes, delimiters, line breaks, SQL, formulas, dates that cannot exist, e-mails...):
  rows read must equal the records written, and read = loaded + rejected + duplicate;
- XLSX workbooks of random cells: the same two checks;
- arbitrary bytes: a clear refusal (IngestError) or read = loaded + rejected + duplicate.

Rows lost = records written but not read, plus rows read but neither loaded, rejected nor
counted as duplicate. Prints ``fuzz cases N x rows lost L (0)`` and how many files were refused
and how many raised anything other than IngestError (must be 0). Exit code 1 unless both are 0.
"""

from __future__ import annotations

import argparse
import io
import itertools
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from funnel.ingest.upload import ingest_file  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from funnel.errors import IngestError  # noqa: E402
from funnel.ingest.core import IngestOptions  # noqa: E402
from funnel.store import connection as store  # noqa: E402

DELIMITERS = [",", ";", "\t", "|"]
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "utf-16"]
NEWLINES = ["\n", "\r\n", "\r", "mixed"]
HEADER = ["id", "Lead Source", "Created Date", "Stage", "Amount", "Email", "Phone", "Close Date"]
NASTY = [
    "", " ", '"', '""', ",", ";", "\t", "|", "\n", "\r\n", "\r", "a\nb", "a\r\nb",
    "=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example","x")', "+1-555-0100", "@SUM(1+1)",
    "-2+3", "'); DROP TABLE leads; --", 'x"; DROP TABLE leads; --', "$1", "?", "\\N", "NULL",
    "NA", "Referral", "Cold-Call", "Closed Won", "closed lost", "Qualified", "2026-01-05",
    "2026-02-31", "13/02/2026", "02/13/2026", "45000", "15 Apr, 2021 00:03:00", "$22,700.00",
    "1.234,56", "-0", "1e308", "yes", "1", "jane.roe@example.com", "+44 20 7946 0958",
    "Café “quoted” €", "\x1b[31mred", "ﾟ", "\u202etxt.exe", "x" * 300,
]
ROW_CAP = 12


@dataclass
class Tally:
    cases: int = 0
    rows_written: int = 0
    rows_lost: int = 0
    refused: int = 0
    well_formed_refused: int = 0
    unclear: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def note(self, kind: str, problem: str, data: bytes) -> None:
        if len(self.examples) < 10:
            self.examples.append(f"{kind}: {problem[:200]}; file {data[:160]!r}")


def csv_bytes(rows: list[list[str]], delimiter: str, newline: str, encoding: str, rng) -> bytes:
    """A well-formed CSV: a cell is quoted when it holds a quote, a line break, a candidate
    delimiter or edge spaces; ``newline`` "mixed" ends each record LF or CRLF at random."""

    def cell(value: str) -> str:
        if any(ch in value for ch in ['"', "\r", "\n", *DELIMITERS]) or value != value.strip():
            return '"' + value.replace('"', '""') + '"'
        return value

    out = []
    for row in rows:
        end = rng.choice(["\n", "\r\n"]) if newline == "mixed" else newline
        out.append(delimiter.join(cell(v) for v in row) + end)
    return "".join(out).encode(encoding)


@st.composite
def csv_files(draw):
    encoding = draw(st.sampled_from(ENCODINGS))
    # Control characters come from NASTY only: a text full of them (NUL above all) is refused
    # as binary on purpose, and the junk files cover that
    alphabet = (st.characters(codec="cp1252", exclude_categories=("Cc",))
                if encoding == "cp1252"
                else st.characters(exclude_categories=("Cs", "Cc")))
    cell = st.one_of(st.sampled_from(NASTY), st.text(alphabet, max_size=16))
    if encoding == "cp1252":
        cell = cell.filter(lambda v: _encodes(v, "cp1252"))
    extra = draw(st.one_of(st.sampled_from(NASTY), st.text(alphabet, max_size=12)))
    if encoding == "cp1252" and not _encodes(extra, "cp1252"):
        extra = "Notes"
    header = [*HEADER, extra]
    width = len(header)
    ragged = draw(st.sampled_from([False, False, False, True]))
    low, high = (width - 1, width + 1) if ragged else (width, width)
    rows = draw(st.lists(st.lists(cell, min_size=low, max_size=high), min_size=1,
                         max_size=ROW_CAP))
    delimiter = draw(st.sampled_from(DELIMITERS))
    newline = draw(st.sampled_from(NEWLINES))
    rng = draw(st.randoms(use_true_random=False))
    data = csv_bytes([header, *rows], delimiter, newline, encoding, rng)
    return "csv", data, len(rows), draw(st.booleans())


def _encodes(value: str, encoding: str) -> bool:
    try:
        value.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


@st.composite
def xlsx_files(draw):
    import openpyxl

    cell = st.one_of(
        st.sampled_from(NASTY),
        st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=16),
        st.integers(-10**12, 10**12),
        st.floats(allow_nan=False, allow_infinity=False),
        st.dates(dt_min(), dt_max()),
        st.booleans(),
        st.none(),
    )
    rows = draw(st.lists(st.lists(cell, min_size=len(HEADER), max_size=len(HEADER)),
                         min_size=1, max_size=ROW_CAP))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    written = 0
    for i, row in enumerate(rows):
        row[0] = f"L{i}"  # a row is never wholly empty, so every row is a record
        try:
            sheet.append(row)
        except Exception:  # noqa: BLE001 - openpyxl refuses some control characters
            sheet.append([row[0]])
        written += 1
    out = io.BytesIO()
    book.save(out)
    return "xlsx", out.getvalue(), written, draw(st.booleans())


def dt_min():
    import datetime as dt

    return dt.date(1900, 3, 1)


def dt_max():
    import datetime as dt

    return dt.date(2100, 1, 1)


@st.composite
def junk_files(draw):
    data = draw(st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.sampled_from([b"PK\x03\x04", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf"]).flatmap(
            lambda head: st.binary(max_size=500).map(lambda tail: head + tail)),
    ))
    return "bytes", data, None, draw(st.booleans())


class Runner:
    """One store per 1,000 cases (a store of 10,000 uploads makes each ingest slower)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names = itertools.count()
        self.con = None
        self.db = None
        self.used = 0

    def store(self):
        if self.con is None or self.used >= 1000:
            if self.con is not None:
                self.con.close()
            self.db = self.folder / f"store{next(self.names)}" / "fuzz.duckdb"
            self.con = store.connect(self.db)
            self.used = 0
        self.used += 1
        return self.con, self.db

    def close(self) -> None:
        if self.con is not None:
            self.con.close()


def check(runner: Runner, tally: Tally, example) -> None:
    kind, data, records, set_created = example
    con, db = runner.store()
    path = runner.folder / f"case{next(runner.names)}.{'xlsx' if kind == 'xlsx' else 'csv'}"
    path.write_bytes(data)
    options = IngestOptions(constants={"created_at": "2024-01-01"} if set_created else {})
    tally.cases += 1
    tally.by_kind[kind] = tally.by_kind.get(kind, 0) + 1
    tally.rows_written += records or 0
    try:
        result = ingest_file(con, path, options, db_path=db)
    except IngestError as exc:
        tally.refused += 1
        if records is not None:
            tally.well_formed_refused += 1
            tally.note(kind, f"a well-formed file refused: {exc.message}", data)
        if not exc.message.strip():
            tally.unclear += 1
            tally.note(kind, "an IngestError without a message", data)
        return
    except Exception as exc:  # noqa: BLE001 - counted: every one is a bug
        tally.unclear += 1
        tally.note(kind, f"{type(exc).__name__}: {exc}", data)
        return
    finally:
        path.unlink(missing_ok=True)
    unaccounted = abs(result.read - (result.loaded + result.rejected + result.duplicate))
    missing = abs(records - result.read) if records is not None else 0
    if unaccounted or missing:
        tally.rows_lost += unaccounted + missing
        tally.note(kind, f"{records} written, read {result.read} = loaded {result.loaded} + "
                   f"rejected {result.rejected} + duplicate {result.duplicate}", data)


def run(cases: int, seed_value: int, echo=print) -> Tally:
    tally = Tally()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="funnel-fuzz-") as tmp:
        runner = Runner(Path(tmp))

        @seed(seed_value)
        @settings(max_examples=cases, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(st.one_of(csv_files(), csv_files(), csv_files(), xlsx_files(), junk_files()))
        def fuzz(example):
            check(runner, tally, example)
            if tally.cases % 1000 == 0:
                echo(f"  {tally.cases:,} cases, {time.monotonic() - started:,.0f} s, "
                     f"rows lost {tally.rows_lost}, unclear {tally.unclear}")

        try:
            fuzz()
        finally:
            runner.close()
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    tally = run(args.cases, args.seed, echo=lambda m: print(m, file=sys.stderr, flush=True))
    kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(tally.by_kind.items()))
    print(f"({kinds}; {tally.rows_written:,} records written; {tally.refused:,} files refused "
          f"with a message, {tally.well_formed_refused} of them well-formed; {tally.unclear} "
          "answered otherwise)")
    for example in tally.examples:
        print(f"  {example}")
    print(f"fuzz cases {tally.cases:,} x rows lost {tally.rows_lost} (0)")
    return 0 if tally.rows_lost == 0 and tally.unclear == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
