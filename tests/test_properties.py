"""Property tests (hypothesis): whatever a file holds, the ingest loads it or says why.

- Rows of arbitrary text cells, written as a well-formed CSV with a random delimiter, line ending
  and encoding, load or raise IngestError with a message, never another exception.
- Rows read = loaded + rejected + duplicate, and rows read = the records the test wrote.
- Ingesting the same bytes again changes nothing and says ``already_ingested``.
- Arbitrary bytes: IngestError or a load, never a traceback.

Bounded for CI: 60-100 examples per property, one store per test module.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel import store
from funnel.errors import IngestError
from funnel.ingest import IngestOptions, ingest_file

DELIMITERS = [",", ";", "\t", "|"]
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "utf-16"]
HEADER = ["id", "Lead Source", "Created Date", "Stage", "Amount", "Email"]
NASTY = [
    "",
    " ",
    '"',
    '""',
    ",",
    ";",
    "\t",
    "|",
    "\n",
    "\r\n",
    "\r",
    "a\nb",
    "=cmd|' /C calc'!A0",
    "=HYPERLINK(\"http://evil.example\",\"x\")",
    "+1-555-0100",
    "@SUM(1+1)",
    "'); DROP TABLE leads; --",
    'x"; DROP TABLE leads; --',
    "Referral",
    "Cold-Call",
    "Closed Won",
    "2026-01-05",
    "2026-02-31",
    "13/02/2026",
    "45000",
    "15 Apr, 2021 00:03:00",
    "$22,700.00",
    "1.234,56",
    "yes",
    "1",
    "jane.roe@example.com",
    "NULL",
    "\\N",
    "NA",
    "Café “quoted” €",
]

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

_names = itertools.count()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One store for all examples of this module (a fresh one per example costs ~0.1 s)."""
    folder = tmp_path_factory.mktemp("props")
    db = folder / "props.duckdb"
    con = store.connect(db)
    yield con, db, folder
    con.close()


def csv_text(rows: list[list[str]], delimiter: str, newline: str) -> str:
    """A well-formed CSV: a cell is quoted when it holds a quote, a line break, or any of the
    candidate delimiters (so no other delimiter can be mistaken for this file's)."""

    def cell(value: str) -> str:
        if any(ch in value for ch in ['"', "\r", "\n", *DELIMITERS]) or value != value.strip():
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(delimiter.join(cell(v) for v in row) + newline for row in rows)


def ingest_or_known_bug(con, path, options, db):
    """ingest_file (no failure is excused any more: the bugs this once filtered are fixed)."""
    return ingest_file(con, path, options, db_path=db)


def counts(con) -> dict[str, int]:
    return {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("uploads", "leads", "lead_events", "rejected_rows")
    }


@st.composite
def csv_files(draw):
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding == "cp1252":
        alphabet = st.characters(codec="cp1252")
    else:
        alphabet = st.characters(exclude_categories=("Cs",))
    cell = st.one_of(st.sampled_from(NASTY), st.text(alphabet, max_size=12))
    extra = draw(st.one_of(st.sampled_from(NASTY), st.text(alphabet, max_size=12)))
    header = [*HEADER, extra]
    width = len(header)
    # now and then a ragged file: rows one cell short or one too many (still one record each)
    ragged = draw(st.sampled_from([False, False, False, True]))
    low, high = (width - 1, width + 1) if ragged else (width, width)
    rows = draw(st.lists(st.lists(cell, min_size=low, max_size=high), min_size=1, max_size=8))
    delimiter = draw(st.sampled_from(DELIMITERS))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    data = csv_text([header, *rows], delimiter, newline).encode(encoding)
    set_created = draw(st.booleans())
    return data, len(rows), set_created


@SETTINGS
@given(csv_files())
def test_text_rows_load_or_fail_clearly_and_counts_add_up(shared, example):
    con, db, folder = shared
    data, records, set_created = example
    options = IngestOptions(constants={"created_at": "2024-01-01"} if set_created else {})
    path = folder / f"upload_{next(_names)}.csv"
    path.write_bytes(data)
    try:
        result = ingest_or_known_bug(con, path, options, db)
    except IngestError as exc:
        assert exc.message.strip()
        assert path.name in str(exc)
        return
    assert result.read == result.loaded + result.rejected + result.duplicate
    assert result.read == records
    stored_rejects = con.execute(
        "SELECT count(*) FROM rejected_rows WHERE upload_id = $u", {"u": result.upload_id}
    ).fetchone()[0]
    assert stored_rejects == result.rejected

    before = counts(con)
    again = ingest_file(con, path, options, db_path=db)
    assert again.already_ingested
    assert (again.read, again.loaded, again.rejected, again.duplicate) == (
        result.read, result.loaded, result.rejected, result.duplicate,
    )
    assert counts(con) == before


@settings(SETTINGS, max_examples=100)
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.tuples(
            st.sampled_from(
                [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"PK\x03\x04", b"id,Lead Source,Created Date\n"]
            ),
            st.binary(max_size=2000),
        ).map(lambda parts: parts[0] + parts[1]),
    )
)
def test_arbitrary_bytes_load_or_fail_clearly(shared, data):
    con, db, folder = shared
    path = folder / f"bytes_{next(_names)}.csv"
    path.write_bytes(data)
    try:
        result = ingest_or_known_bug(con, path, IngestOptions(), db)
    except IngestError as exc:
        assert exc.message.strip()
        assert path.name in str(exc)
        return
    assert result.read == result.loaded + result.rejected + result.duplicate
    before = counts(con)
    assert ingest_file(con, path, IngestOptions(), db_path=db).already_ingested
    assert counts(con) == before
