"""Issue 16 (high): no workbook can take the dashboard down. The XLSX reader runs in a process
of its own with an address-space and CPU limit; when it dies (python-calamine aborts the whole
process on a failed allocation) the upload is refused with a clear message, this process goes
on, and the store is unchanged. The guards before it read every part of the zip, wherever the
workbook's relationships put it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hostile import corpus

from funnel.errors import IngestError
from funnel.ingest import xlsx
from funnel.ingest.core import IngestOptions
from funnel.ingest.upload import ingest_file
from funnel.store import raw_uploads


def counts(con) -> tuple:
    return con.execute("SELECT (SELECT count(*) FROM uploads), (SELECT count(*) FROM leads)"
                       ).fetchone()


def dense_workbook(path: Path, rows: int, cols: int) -> Path:
    """A workbook of rows x cols numeric cells, written straight into the zip (openpyxl would
    take minutes): within every guard, heavy for the reader."""
    base = zipfile.ZipFile(io.BytesIO(corpus._xlsx([["a", "b"]])))
    letters = [chr(65 + c).encode() for c in range(cols)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name in base.namelist():
            data = base.read(name)
            if name != "xl/worksheets/sheet1.xml":
                out.writestr(name, data)
                continue
            head, rest = data.split(b"<sheetData>", 1)
            with out.open(name, "w") as sheet:
                sheet.write(head + b"<sheetData>")
                for r in range(1, rows + 1):
                    sheet.write(b'<row r="%d">' % r + b"".join(
                        b'<c r="%s%d"><v>%d</v></c>' % (letters[c], r, c) for c in range(cols))
                        + b"</row>")
                sheet.write(b"</sheetData>" + rest.split(b"</sheetData>", 1)[1])
    return path


def test_a_reader_that_dies_is_a_refusal_and_this_process_goes_on(con, db_path, monkeypatch):
    # the guards are switched off: the far cell reaches python-calamine, which aborts (SIGABRT:
    # 'memory allocation of ... failed') in its own process
    monkeypatch.setattr(xlsx, "check_workbook", lambda path, name: None)
    path = db_path.parent / "far.xlsx"
    corpus._moved_sheet("xl/data/sheet1.xml")(path)
    before = counts(con)
    with pytest.raises(IngestError, match="needs more than the .* MB"):
        ingest_file(con, path, IngestOptions(), db_path=db_path)
    assert counts(con) == before
    # the process and the store go on: a good workbook loads right after
    good = db_path.parent / "good.xlsx"
    good.write_bytes(corpus._xlsx(corpus.XLSX_ROWS))
    assert ingest_file(con, good, IngestOptions(), db_path=db_path).loaded == 3


def test_a_workbook_within_every_guard_but_too_heavy_to_read_is_refused(
    con, db_path, monkeypatch
):
    # 2,000,000 cells (100,000 rows x 20): python-calamine needs ~250 MB; given 100 MB its
    # process dies, and the upload is refused in words
    path = dense_workbook(db_path.parent / "dense.xlsx", 100_000, 20)
    monkeypatch.setenv("FUNNEL_XLSX_MEMORY_MB", "100")
    with pytest.raises(IngestError) as caught:
        ingest_file(con, path, IngestOptions(), db_path=db_path)
    assert "needs more than the 100 MB" in caught.value.message
    assert "save the sheet as CSV" in caught.value.message
    assert counts(con) == (0, 0)


def test_the_guards_read_parts_at_any_path(tmp_path):
    for name, build in [
        ("moved.xlsx", corpus._moved_sheet("xl/data/sheet1.xml")),
        ("no_ext.xlsx", corpus._moved_sheet("xl/worksheets/sheet1")),
    ]:
        path = tmp_path / name
        build(path)
        with pytest.raises(IngestError, match="spans 1,048,576 rows x 16,384 columns"):
            xlsx.check_workbook(path, name)


@pytest.mark.parametrize("strings", [
    corpus._sst_bomb(b"<!--" + b"x" * 5000 + b"-->"),
    corpus._sst_bomb(padding=5000),
], ids=["after-a-5KB-comment", "padded-with-5000-spaces"])
def test_the_shared_strings_count_is_read_wherever_the_tag_is(tmp_path, strings):
    path = tmp_path / "sst.xlsx"
    corpus._patched_xlsx(corpus._shared_strings_bomb, {"xl/sharedStrings.xml": strings})(path)
    with pytest.raises(IngestError, match="claims 4,000,000,000 strings"):
        xlsx.check_workbook(path, "sst.xlsx")


def test_a_workbook_is_read_once_from_preview_to_load(con, db_path, monkeypatch):
    from funnel.ingest.upload import preview

    path = db_path.parent / "leads.xlsx"
    path.write_bytes(corpus._xlsx(corpus.XLSX_ROWS))
    runs = []
    real = xlsx._run_reader
    monkeypatch.setattr(xlsx, "_run_reader", lambda *a: runs.append(a) or real(*a))
    preview(con, path, IngestOptions(), file_name="leads.xlsx")
    result = ingest_file(con, path, IngestOptions(), db_path=db_path)
    assert result.loaded == 3
    assert len(runs) == 1  # the preview's text served the load
    # and none of its text is left behind once loaded
    root = raw_uploads.folder(db_path)
    assert not [p for p in root.iterdir() if p.name.startswith(xlsx.CACHE_PREFIX)]
