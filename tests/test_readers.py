"""Reading CSV and XLSX exports: delimiters, encodings, quoting, spreadsheet row numbers.

Every fixture is written by the test itself (bytes included), so what the reader sees is exactly
what is shown here. Row numbers are those a spreadsheet shows: the header is row 1, the first
data row is row 2, and a line break inside a quoted cell starts no new row.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import openpyxl
import pytest

from funnel.errors import IngestError
from funnel.ingest import csv as csv_reader
from funnel.ingest import files
from funnel.ingest.core import IngestOptions, IngestResult
from funnel.ingest.upload import ingest_file

HEADER = ["id", "Lead Source", "Created Date"]


def ingest_bytes(con, db_path: Path, name: str, data: bytes, **options) -> IngestResult:
    """Write ``data`` as ``name`` next to the store and ingest it."""
    path = db_path.parent / name
    path.write_bytes(data)
    return ingest_file(con, path, IngestOptions(**options), db_path=db_path)


def leads_by_id(con) -> dict[str, tuple]:
    """crm_id -> (channel_raw, created_at) of every stored lead."""
    rows = con.execute("SELECT crm_id, channel_raw, created_at FROM leads").fetchall()
    return {crm_id: (raw, created) for crm_id, raw, created in rows}


def rejects(con) -> dict[int, str]:
    """row_number -> reason of every rejected row."""
    return dict(con.execute("SELECT row_number, reason FROM rejected_rows").fetchall())


def assert_counts_add_up(result: IngestResult) -> None:
    assert result.read == result.loaded + result.rejected + result.duplicate


# --- delimiters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"], ids=["comma", "semicolon", "tab", "pipe"])
def test_each_delimiter_is_detected(con, db_path, delim):
    # The channel cell of lead 2 holds the *other* candidate delimiters; quoted, it stays one
    # cell whatever the file's own delimiter is.
    tricky = "Word of mouth, friends; family | colleagues"
    lines = [
        delim.join(HEADER),
        delim.join(["1", "Referral", "2026-01-05"]),
        delim.join(["2", f'"{tricky}"', "2026-01-06"]),
        delim.join(["3", "Cold call", "2026-01-07"]),
    ]
    result = ingest_bytes(con, db_path, "leads.csv", ("\n".join(lines) + "\n").encode())

    # 3 data rows, none broken
    assert (result.read, result.loaded, result.rejected, result.duplicate) == (3, 3, 0, 0)
    assert result.mapping["channel"] == "Lead Source"
    stored = leads_by_id(con)
    assert stored["1"] == ("Referral", dt.datetime(2026, 1, 5))
    assert stored["2"] == (tricky, dt.datetime(2026, 1, 6))
    assert stored["3"] == ("Cold call", dt.datetime(2026, 1, 7))


def test_semicolon_file_with_decimal_commas_in_cells(con, db_path):
    # A European export: `;` between cells, `,` inside numbers. The `,` must not split cells.
    data = "id;Lead Source;Created Date;Amount\n1;Web;2026-01-05;1.234,56\n2;Web;2026-01-06;99,5\n"
    result = ingest_bytes(con, db_path, "eu.csv", data.encode())
    assert (result.read, result.loaded, result.rejected) == (2, 2, 0)
    values = dict(con.execute("SELECT crm_id, value FROM leads").fetchall())
    # 1.234,56 -> 1234.56 ; 99,5 -> 99.5 (the column writes decimal commas)
    assert values == {"1": pytest.approx(1234.56), "2": pytest.approx(99.5)}


# --- encodings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["utf8", "utf8-bom"])
def test_utf8_with_and_without_bom(con, db_path, bom):
    text = (
        "id,Lead Source,Created Date\n1,Référence client ✓,2026-01-05\n2,Überweisung,2026-01-06\n"
    )
    result = ingest_bytes(con, db_path, "utf8.csv", bom + text.encode("utf-8"))
    # The BOM is not part of the first header: `id` is still found and mapped.
    assert result.mapping["id"] == "id"
    assert (result.read, result.loaded) == (2, 2)
    stored = leads_by_id(con)
    assert stored["1"][0] == "Référence client ✓"
    assert stored["2"][0] == "Überweisung"


def test_cp1252_euro_sign_and_curly_quotes(con, db_path):
    # cp1252 bytes written by hand: 0x80 is the euro sign, 0x93/0x94 curly double quotes,
    # 0x92 a curly apostrophe, 0xE9 an e acute. DuckDB's latin-1 reader rejects these; the
    # export must still load with the characters intact.
    data = (
        b"id,Lead Source,Created Date,Amount\r\n"
        b"1,\x93Caf\xe9\x94 flyer,2026-01-05,\"\x801,200.50\"\r\n"
        b"2,Owner\x92s friend,2026-01-06,\x80 300\r\n"
    )
    assert "\x93Caf\xe9\x94".encode("latin-1") in data  # really the cp1252-only bytes
    result = ingest_bytes(con, db_path, "cp1252.csv", data)
    assert (result.read, result.loaded, result.rejected) == (2, 2, 0)
    stored = leads_by_id(con)
    assert stored["1"][0] == "\u201cCafé\u201d flyer"
    assert stored["2"][0] == "Owner\u2019s friend"
    values = dict(con.execute("SELECT crm_id, value FROM leads").fetchall())
    # "€1,200.50": currency sign dropped, thousands comma dropped -> 1200.5; "€ 300" -> 300
    assert values == {"1": pytest.approx(1200.5), "2": pytest.approx(300.0)}


def test_latin1_export(con, db_path):
    text = (
        "id;Lead Source;Created Date\n"
        "1;Señora Núñez referral;05/01/2026\n2;Télévision;13/01/2026\n"
    )
    result = ingest_bytes(con, db_path, "latin1.csv", text.encode("latin-1"))
    assert (result.read, result.loaded, result.rejected) == (2, 2, 0)
    stored = leads_by_id(con)
    assert stored["1"][0] == "Señora Núñez referral"
    # 13/01/2026 can only be day-first, so 05/01/2026 is 5 January
    assert stored["1"][1] == dt.datetime(2026, 1, 5)
    assert stored["2"] == ("Télévision", dt.datetime(2026, 1, 13))


# --- quoting and row numbers --------------------------------------------------------------------


def test_quoted_commas_and_newlines_keep_spreadsheet_row_numbers(con, db_path):
    data = (
        "id,Lead Source,Created Date\n"  # row 1
        '1,"Referral, friends",2026-01-05\n'  # row 2
        '2,"Trade show\nbooth 4\nhall B",2026-01-06\n'  # row 3 (three lines, one row)
        "3,Web,2026-02-31\n"  # row 4: 31 February does not exist
        '4,"He said ""call me""",2026-01-07\n'  # row 5
    )
    result = ingest_bytes(con, db_path, "quoted.csv", data.encode())
    assert (result.read, result.loaded, result.rejected, result.duplicate) == (4, 3, 1, 0)
    stored = leads_by_id(con)
    assert stored["1"][0] == "Referral, friends"
    assert stored["2"][0] == "Trade show\nbooth 4\nhall B"
    assert stored["4"][0] == 'He said "call me"'
    # The bad date sits on the 6th physical line but in spreadsheet row 4.
    assert list(rejects(con)) == [4]
    assert rejects(con)[4] == "Created Date '2026-02-31' is not a date"


def test_crlf_file_with_multiline_cell_keeps_row_numbers(con, db_path):
    data = (
        "id,Lead Source,Created Date\r\n"  # row 1
        '1,"line one\r\nline two",2026-01-05\r\n'  # row 2 (two lines)
        '2,"a\r\nb\r\nc",2026-01-06\r\n'  # row 3 (three lines)
        "3,Web,2026-13-01\r\n"  # row 4: month 13
    )
    result = ingest_bytes(con, db_path, "crlf.csv", data.encode())
    assert (result.read, result.loaded, result.rejected) == (3, 2, 1)
    assert list(rejects(con)) == [4]
    assert leads_by_id(con)["1"][0] == "line one\r\nline two"


def test_row_with_too_many_cells_is_rejected_with_its_row_number(con, db_path):
    data = (
        "id,Lead Source,Created Date\n"  # row 1
        '1,"multi\nline",2026-01-05\n'  # row 2 (two physical lines)
        "2,Web,2026-01-06,surplus\n"  # row 3: four cells under three headers
        "3,Web,2026-02-30\n"  # row 4: 30 February
        "4,Web,2026-01-08\n"  # row 5
    )
    result = ingest_bytes(con, db_path, "wide.csv", data.encode())
    # read 4 = loaded 2 (ids 1 and 4) + rejected 2 (rows 3 and 4)
    assert (result.read, result.loaded, result.rejected, result.duplicate) == (4, 2, 2, 0)
    reasons = rejects(con)
    assert sorted(reasons) == [3, 4]
    assert "more cells" in reasons[3]
    assert reasons[4] == "Created Date '2026-02-30' is not a date"
    assert sorted(leads_by_id(con)) == ["1", "4"]


def test_row_with_too_few_cells_is_rejected_with_its_row_number(con, db_path):
    data = "id,Lead Source,Created Date\n1,Web,2026-01-05\n2,Web\n3,Web,2026-01-07\n"
    result = ingest_bytes(con, db_path, "narrow.csv", data.encode())
    assert (result.read, result.loaded, result.rejected) == (3, 2, 1)
    assert list(rejects(con)) == [3]
    assert "fewer cells" in rejects(con)[3]


def test_row_with_too_many_cells_and_accented_text_is_rejected(con, db_path):
    data = (
        "id,Lead Source,Created Date\n1,Web,2026-01-05\n"
        "2,Référence 𐀀𐀀𐀀𐀀𐀀𐀀𐀀𐀀𐀀𐀀𐀀𐀀𐀀𐀀𐀀𐀀,x,y,z,w\n"
    )
    result = ingest_bytes(con, db_path, "wide_utf8.csv", data.encode())
    assert (result.read, result.loaded, result.rejected) == (2, 1, 1)
    assert list(rejects(con)) == [3]


def test_utf16_export_with_bom(con, db_path):
    text = "id\tLead Source\tCreated Date\r\n1\tRéférence\t2026-01-05\r\n"
    result = ingest_bytes(con, db_path, "utf16.csv", text.encode("utf-16"))
    assert (result.read, result.loaded) == (1, 1)
    assert leads_by_id(con)["1"][0] == "Référence"


def test_utf16_bom_followed_by_junk_is_an_ingest_error(con, db_path):
    with pytest.raises(IngestError) as info:
        ingest_bytes(con, db_path, "odd.csv", b"\xff\xfe\x00")
    assert "odd.csv" in str(info.value)


def test_blank_line_counts_as_a_spreadsheet_row(con, db_path):
    data = (
        "id,Lead Source,Created Date\n"  # row 1
        "1,Web,2026-01-05\n"  # row 2
        "\n"  # row 3: an empty row in a spreadsheet
        "3,Web,2026-02-31\n"  # row 4
    )
    result = ingest_bytes(con, db_path, "blank.csv", data.encode())
    assert result.loaded == 1
    assert list(rejects(con)) == [4]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_empty_lines_are_not_rows_read_and_later_rows_keep_their_numbers(con, db_path, newline):
    lines = [
        "",  # row 1: empty, above the header
        "id,Lead Source,Created Date,Notes",  # row 2: the header
        '1,Web,2026-01-05,"call back{nl}{nl}after lunch"',  # row 3 (its empty line is in a cell)
        "",  # row 4: empty
        "",  # row 5: empty
        "2,Web,2026-02-31,",  # row 6: rejected, not a date
        "3,Web",  # row 7: rejected, too few cells
        "",  # row 8: empty
        "4,Web,2026-01-06,x",  # row 9
        "5,Web,,",  # row 10: rejected, no created date
        "",  # row 11: empty, the last line
    ]
    data = (newline.join(lines) + newline).replace("{nl}", newline)
    result = ingest_bytes(con, db_path, "empty_lines.csv", data.encode())
    # read 5 (rows 3, 6, 7, 9, 10: an empty line is no row read) = loaded 2 (ids 1, 4)
    # + rejected 3 (rows 6, 7, 10) + duplicate 0
    assert (result.read, result.loaded, result.rejected, result.duplicate) == (5, 2, 3, 0)
    assert sorted(rejects(con)) == [6, 7, 10]
    assert sorted(leads_by_id(con)) == ["1", "4"]


def test_empty_line_inside_a_quoted_cell_is_not_a_row(con, db_path):
    data = (
        "id,Lead Source,Created Date,Notes\n"  # row 1
        '1,Web,2026-01-05,"first\n\nsecond"\n'  # row 2: one row over four lines
        "2,Web,2026-02-31,\n"  # row 3
    )
    result = ingest_bytes(con, db_path, "notes.csv", data.encode())
    assert (result.read, result.loaded, result.rejected) == (2, 1, 1)
    assert list(rejects(con)) == [3]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 1 << 20])
def test_empty_lines_are_found_outside_quoted_cells_whatever_the_pieces(size):
    text = (
        b"\n"  # row 1: empty
        b"id,Notes\n"  # row 2
        b'1,"a\n\nb"\n'  # row 3: one row; its empty line is inside a quoted cell
        b"\n"  # row 4: empty
        b'2,"say ""hi""\n\n"\n'  # row 5: quotes doubled inside a quoted cell
        b'3,ab"c\n'  # row 6: a quote inside an unquoted cell opens nothing
        b"\n"  # row 7: empty
        b'4,""\n'  # row 8: an empty quoted cell is not an empty row
        b"\n"  # row 9: empty
    )
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    assert csv_reader._empty_lines(iter(pieces), ",") == [1, 4, 7, 9]


@pytest.mark.parametrize(
    "data, lines",
    [
        (b"id\n1\n2\n", 3),
        (b"id\n1\n2", 3),  # the last line has no line end
        (b"id\r\n1\r\n", 2),
        (b"id\r1\r2\r", 3),
        (b'id\n"a\nb"\n\n', 4),  # every line end counts, in a quoted cell or not
        (b"id\r\n1\n", None),  # CRLF here, LF there: not told from the bytes
        ("id\n1\n".encode("utf-16"), None),
    ],
)
def test_file_facts_count_lines(data, lines):
    assert files.scan_bytes(data).lines == lines


def test_quote_inside_unquoted_cell_is_kept(con, db_path):
    data = 'id,Lead Source,Created Date\n1,ab"c,2026-01-05\n2,"x""y",2026-01-06\n'
    result = ingest_bytes(con, db_path, "quote.csv", data.encode())
    assert_counts_add_up(result)
    assert result.read == 2
    assert leads_by_id(con)["2"][0] == 'x"y'


def test_duplicate_and_empty_header_names_still_load(con, db_path):
    data = "id,Lead Source,Lead Source,,Created Date\n1,Web,ignored,x,2026-01-05\n"
    result = ingest_bytes(con, db_path, "dupe_headers.csv", data.encode())
    assert (result.read, result.loaded) == (1, 1)
    # the first of two same-named columns is the one mapped
    assert leads_by_id(con)["1"][0] == "Web"


# --- files that cannot be used at all -----------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n\n", b"\xef\xbb\xbf"],
    ids=["zero-bytes", "whitespace", "bom-only"],
)
def test_empty_file_is_an_ingest_error_naming_the_file(con, db_path, data):
    with pytest.raises(IngestError) as info:
        ingest_bytes(con, db_path, "empty_export.csv", data)
    assert "empty_export.csv" in str(info.value)
    assert info.value.file_name == "empty_export.csv"
    assert con.execute("SELECT count(*) FROM uploads").fetchone()[0] == 0


@pytest.mark.parametrize(
    "data",
    [b"id,Lead Source,Created Date\n", b"id,Lead Source,Created Date", b"id\r\n"],
    ids=["header-newline", "header-no-newline", "single-column"],
)
def test_header_only_file_is_an_ingest_error_naming_the_file(con, db_path, data):
    with pytest.raises(IngestError) as info:
        ingest_bytes(con, db_path, "header_only.csv", data)
    assert "header_only.csv" in str(info.value)
    assert "no data" in str(info.value)
    assert con.execute("SELECT count(*) FROM uploads").fetchone()[0] == 0


def _junk(seed: int) -> bytes:
    return random.Random(seed).randbytes(4096)


@pytest.mark.parametrize(
    "name,data",
    [
        ("junk.csv", _junk(1)),
        ("junk2.csv", _junk(2)),
        ("picture.csv", b"\x89PNG\r\n\x1a\n" + _junk(3)),
        ("broken.xlsx", b"PK\x03\x04" + _junk(4)),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + _junk(5)),
        ("nul.csv", b"id,Lead Source\n" + b"\x00" * 64 + b"\n"),
    ],
    ids=["random", "random2", "png", "bad-zip", "xls", "mostly-nul"],
)
def test_binary_junk_is_an_ingest_error_naming_the_file(con, db_path, name, data):
    with pytest.raises(IngestError) as info:
        ingest_bytes(con, db_path, name, data)
    assert name in str(info.value)
    assert info.value.message
    assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == 0


# --- XLSX ---------------------------------------------------------------------------------------


def write_xlsx(path: Path, rows: list[list], blank_rows_above: int = 0) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for _ in range(blank_rows_above):
        sheet.append([])
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def test_xlsx_dates_numbers_and_text(con, db_path):
    path = db_path.parent / "deals.xlsx"
    write_xlsx(
        path,
        [
            ["Lead ID", "Lead Source", "Created Date", "Amount", "Notes"],  # row 1
            ["L1", "Referral", dt.datetime(2026, 1, 5, 9, 30), 1200.5, "first"],  # row 2
            ["L2", "Cold Call", dt.date(2026, 2, 13), 300, "two\nlines"],  # row 3
            ["L3", "Web", "2026-02-31", None, "text date"],  # row 4: impossible date
            [1004, "web", dt.datetime(2026, 3, 1), "$1,200.00", None],  # row 5
        ],
    )
    result = ingest_file(con, path, IngestOptions(), db_path=db_path)
    # read 4 = loaded 3 + rejected 1 (row 4)
    assert (result.read, result.loaded, result.rejected, result.duplicate) == (4, 3, 1, 0)
    assert result.mapping["value"] == "Amount"
    rows = {
        crm_id: rest
        for crm_id, *rest in con.execute(
            "SELECT crm_id, channel, created_at, value FROM leads"
        ).fetchall()
    }
    assert rows["L1"] == ["referral", dt.datetime(2026, 1, 5, 9, 30), 1200.5]
    assert rows["L2"] == ["cold_call", dt.datetime(2026, 2, 13), 300.0]
    # a whole number typed into a cell is read as "1004", not "1004.0"
    assert rows["1004"] == ["web", dt.datetime(2026, 3, 1), 1200.0]
    assert rejects(con) == {4: "Created Date '2026-02-31' is not a date"}


def test_xlsx_with_blank_rows_above_the_header_keeps_sheet_row_numbers(con, db_path):
    path = db_path.parent / "offset.xlsx"
    write_xlsx(
        path,
        [
            ["Lead ID", "Lead Source", "Created Date"],  # sheet row 3
            ["A", "Web", dt.date(2026, 1, 5)],  # row 4
            ["B", "Web", "not a date"],  # row 5
        ],
        blank_rows_above=2,
    )
    result = ingest_file(con, path, IngestOptions(), db_path=db_path)
    assert (result.read, result.loaded, result.rejected) == (2, 1, 1)
    assert list(rejects(con)) == [5]


def test_xlsx_empty_rows_are_not_rows_read_and_keep_sheet_row_numbers(con, db_path):
    path = db_path.parent / "gaps.xlsx"
    write_xlsx(
        path,
        [
            ["Lead ID", "Lead Source", "Created Date"],  # row 1
            ["A", "Web", dt.date(2026, 1, 5)],  # row 2
            [],  # row 3: empty
            ["B", "Web", "not a date"],  # row 4: rejected
            [None, None, None],  # row 5: empty
            ["C", "Web", dt.date(2026, 1, 6)],  # row 6
            ["D", "Web", ""],  # row 7: rejected, no created date
        ],
    )
    result = ingest_file(con, path, IngestOptions(), db_path=db_path)
    # read 4 (rows 2, 4, 6, 7) = loaded 2 (A, C) + rejected 2 (rows 4, 7) + duplicate 0
    assert (result.read, result.loaded, result.rejected, result.duplicate) == (4, 2, 2, 0)
    assert sorted(rejects(con)) == [4, 7]


def test_empty_xlsx_is_an_ingest_error(con, db_path):
    path = db_path.parent / "blank.xlsx"
    write_xlsx(path, [])
    with pytest.raises(IngestError) as info:
        ingest_file(con, path, IngestOptions(), db_path=db_path)
    assert "blank.xlsx" in str(info.value)


def test_xlsx_header_only_is_an_ingest_error(con, db_path):
    path = db_path.parent / "header.xlsx"
    write_xlsx(path, [["Lead ID", "Lead Source", "Created Date"]])
    with pytest.raises(IngestError) as info:
        ingest_file(con, path, IngestOptions(), db_path=db_path)
    assert "header.xlsx" in str(info.value)


# --- read in pieces: the file is never held whole -----------------------------------------------


@pytest.fixture()
def tiny_pieces(monkeypatch):
    """Read files 7 bytes at a time, so pieces end inside a UTF-8 or UTF-16 character, between
    the CR and LF of a line end, and inside a BOM's neighbours; sniff from the first 256 bytes."""
    monkeypatch.setattr(files, "CHUNK_BYTES", 7)
    monkeypatch.setattr(files, "HEAD_BYTES", 256)


def _old_text(data: bytes, lf_only: bool) -> tuple[bytes, str]:
    """What the reader staged before it read in pieces: the whole text decoded at once."""
    text, encoding = files.decode_text(data, "x.csv")
    if lf_only:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.encode("utf-8"), encoding


SAMPLES = {
    "utf8": "id,Name\r\n1,Référence ✓ 𐀀\r\n2,Überweisung\n3,x\r4,y\n".encode(),
    "utf8-bom": b"\xef\xbb\xbf" + "id,Name\r\n1,Ü\r\n2,é\r\n".encode(),
    "cp1252": b"id,Name\r\n1,\x93Caf\xe9\x94 \x80\r\n2,Owner\x92s\r\n3,\x81\x8d\x8f\x90\x9d\r\n",
    "cp1252-bom": b"\xef\xbb\xbfid,Name\n1,Caf\xe9\n",
    "utf8-then-cp1252": "id,Name\n1,Référence\n".encode() + b"2,Caf\xe9\n",
    "utf8-truncated": "id,Name\n1,Réf".encode()[:-1],
    "utf16-le": "id\tName\r\n1\tRéférence 𐀀\r\n2\tčř\r\n".encode("utf-16"),
    "utf16-be": b"\xfe\xff" + "id,Name\r1,Ωmega\r".encode("utf-16-be"),
    "cr-only": b"id,Name\r1,a\r2,\"b\r\nc\"\r",
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("lf_only", [False, True], ids=["as-is", "lf"])
def test_text_read_in_pieces_is_the_text_read_whole(tmp_path, tiny_pieces, name, lf_only):
    data = SAMPLES[name]
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    facts = files.scan_file(path, "x.csv")
    assert facts == files.scan_bytes(data)
    assert facts.size == len(data) and facts.head == data[:256]
    expected, encoding = _old_text(data, lf_only)
    assert files.encoding_of(facts, "x.csv") == encoding
    copy = files.Utf8Copy(path, encoding, len(data), "x.csv")
    assert b"".join(copy.pieces(lf_only)) == expected
    # each sample fits in the head: what is sniffed is the whole text
    assert files.head_text(facts, encoding, "x.csv") == files.decode_text(data, "x.csv")[0]


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe\x00", b"\xff\xfe" + "id,x\n1,2\n".encode("utf-16-le") + b"\x00\xd8A\x00b\x00",
     b"\xff\xfe" + "id,x\n".encode("utf-16-le") * 40 + b"\x00\xdc"],
    ids=["odd-byte", "lone-surrogate", "late-junk"],
)
def test_bad_utf16_read_in_pieces_names_the_same_byte(tmp_path, tiny_pieces, data):
    with pytest.raises(IngestError) as whole:
        files.decode_text(data, "x.csv")
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    facts = files.scan_file(path, "x.csv")
    with pytest.raises(IngestError) as pieces:
        files.head_text(facts, "utf-16", "x.csv")
        b"".join(files.Utf8Copy(path, "utf-16", len(data), "x.csv").pieces(False))
    assert pieces.value.message == whole.value.message


def test_nul_byte_late_in_the_file_is_dropped_and_counted(con, db_path, tiny_pieces):
    # SPEC 3: a NUL inside a text file's cell is dropped and counted, not a refusal
    data = (b"\xef\xbb\xbfid,Lead Source,Created Date\n"
            + b"".join(b"%d,Web,2026-01-05\n" % i for i in range(100, 150))
            + b"2,W\x00eb,2026-01-05\n")
    result = ingest_bytes(con, db_path, "nul.csv", data)
    assert (result.read, result.loaded, result.duplicate) == (51, 51, 0)
    assert result.notes[0].startswith("1 NUL bytes")
    assert con.execute("SELECT channel FROM leads WHERE crm_id = '2'").fetchone() == ("web",)


def test_nul_bytes_in_utf16_text_are_dropped_too(con, db_path):
    text = "id,Lead Source,Created Date\r\n1,W\x00eb,2026-01-05\r\n"
    result = ingest_bytes(con, db_path, "nul16.csv", text.encode("utf-16"))
    assert result.loaded == 1
    assert result.notes[0].startswith("1 NUL bytes")


def _cp1252_export(rows: int) -> bytes:
    lines = [b"id,Lead Source,Created Date,Amount"]
    for i in range(rows):
        lines.append(b"%d,Caf\xe9 \x93%d\x94,2026-01-%02d 10:%02d:00,\"\x80%d,000.50\"" % (
            i, i % 7, 1 + i % 28, i % 60, i % 9))
    return b"\r\n".join(lines) + b"\r\n"


def test_a_large_cp1252_export_is_converted_in_pieces(con, db_path, monkeypatch):
    # 64 KB pieces and a 128 KB head over a ~3.3 MB file: the only bytes that are not UTF-8
    # come well after the head, so the encoding must be judged on the whole file, as before.
    import tracemalloc

    monkeypatch.setattr(files, "CHUNK_BYTES", 64 << 10)
    monkeypatch.setattr(files, "HEAD_BYTES", 128 << 10)
    ascii_rows = b"".join(b"a%d,Web,2026-02-01,1\r\n" % i for i in range(10000))
    data = _cp1252_export(60000).replace(b"\r\n", b"\r\n" + ascii_rows, 1)
    assert len(data) > 3_000_000 and data[: 200 << 10].isascii()
    tracemalloc.start()
    try:
        result = ingest_bytes(con, db_path, "big_cp1252.csv", data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (result.read, result.loaded, result.rejected) == (70000, 70000, 0)
    # neither the bytes nor the text of the file were held whole in Python (they were: 2x its size)
    assert peak < len(data) // 3
    stored = leads_by_id(con)
    # lead 29999: 29999 % 7 = 4, day 1 + 29999 % 28 = 12, minute 29999 % 60 = 59
    assert stored["29999"] == ("Café \u201c4\u201d", dt.datetime(2026, 1, 12, 10, 59))
    assert stored["a9999"] == ("Web", dt.datetime(2026, 2, 1))
    values = dict(con.execute("SELECT crm_id, value FROM leads").fetchall())
    assert values["29999"] == pytest.approx(2000.5)  # 29999 % 9 = 2: "€2,000.50"


def test_mixed_line_ends_read_in_pieces(con, db_path, tiny_pieces):
    # CRLF, then LF, with a CRLF inside a quoted cell; pieces split the CR from its LF
    data = (
        b"id,Lead Source,Created Date\r\n1,Web,2026-01-05\r\n"
        b'2,"Two\r\nlines",2026-01-06\n3,Caf\xc3\xa9,2026-01-07\n'
    )
    result = ingest_bytes(con, db_path, "mixed.csv", data)
    assert (result.read, result.loaded, result.rejected) == (3, 3, 0)
    stored = leads_by_id(con)
    assert stored["3"] == ("Café", dt.datetime(2026, 1, 7))
    assert stored["2"][0] in ("Two\nlines", "Two\r\nlines")


def test_cr_only_export_read_in_pieces(con, db_path, tiny_pieces):
    data = b'id,Lead Source,Created Date\r1,"Trade\r\nshow",2026-01-05\r2,Web,2026-01-06\r'
    result = ingest_bytes(con, db_path, "mac.csv", data)
    assert (result.read, result.loaded, result.rejected) == (2, 2, 0)
    assert leads_by_id(con)["1"] == ("Trade\nshow", dt.datetime(2026, 1, 5))


def test_utf16_export_read_in_pieces(con, db_path, tiny_pieces):
    text = "id\tLead Source\tCreated Date\r\n" + "".join(
        f"{i}\tRéférence 𐀀 {i}\t2026-01-{1 + i % 28:02d}\r\n" for i in range(40)
    )
    result = ingest_bytes(con, db_path, "utf16.csv", text.encode("utf-16"))
    assert (result.read, result.loaded) == (40, 40)
    assert leads_by_id(con)["39"] == ("Référence 𐀀 39", dt.datetime(2026, 1, 12))


def test_file_that_changes_while_it_is_read_is_refused(con, db_path, monkeypatch):
    from funnel.store import raw_uploads

    path = db_path.parent / "growing.csv"
    path.write_bytes(b"id,Lead Source,Created Date\n1,Web,2026-01-05\n")
    real_keep = raw_uploads.keep

    def keep_after_append(root, source, sha256):
        with open(path, "ab") as out:  # the export is still being written
            out.write(b"2,Web,2026-01-06\n")
        return real_keep(root, source, sha256)

    monkeypatch.setattr(raw_uploads, "keep", keep_after_append)
    with pytest.raises(IngestError) as info:
        ingest_file(con, path, IngestOptions(), db_path=db_path)
    assert "changed while it was being read" in info.value.message
    assert con.execute("SELECT count(*) FROM uploads").fetchone()[0] == 0
    root = raw_uploads.folder(db_path)
    assert [p for p in root.iterdir() if raw_uploads.SHA256.fullmatch(p.name)] == []
