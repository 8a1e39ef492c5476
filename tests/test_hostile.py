"""The hostile input corpus (``tests/hostile/corpus.py``) and DuckDB's file limits (issue 8).

- Every corpus file gets a clear answer: loaded (read = loaded + rejected + duplicate) or an
  IngestError naming the file, never another exception; a refused file leaves the store's counts
  and its raw-uploads folder as they were, and no message shows a server path.
- Through the command line the refusals exit 1 with ``error: FILE: ...`` and no traceback; the
  XML bomb and the oversized-range workbook are refused without the process growing (the range
  one used to abort the whole process inside python-calamine).
- The upload cap is checked before a byte is read.
- The store's DuckDB reads no file but the one being ingested: ``/etc/passwd`` cannot be read
  through the connection the app and the CLI use, nor written, attached or installed.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

import duckdb
import pytest

from funnel.errors import IngestError
from funnel.ingest.core import IngestOptions
from funnel.ingest.upload import ingest_file, preview
from funnel.store import connection as store
from funnel.store import raw_uploads

ROOT = Path(__file__).resolve().parent.parent


def load_corpus():
    if "hostile_corpus" in sys.modules:
        return sys.modules["hostile_corpus"]
    spec = importlib.util.spec_from_file_location(
        "hostile_corpus", ROOT / "tests" / "hostile" / "corpus.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["hostile_corpus"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


corpus = load_corpus()
CASES = corpus.cases()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One store and the whole corpus written once for this module."""
    folder = tmp_path_factory.mktemp("hostile")
    files = {case.name: path for case, path in corpus.write_corpus(folder / "corpus")}
    db = folder / "store" / "hostile.duckdb"
    con = store.connect(db)
    yield con, db, files
    con.close()


def state(con, db: Path) -> tuple:
    counts = tuple(
        con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("uploads", "leads", "lead_events", "rejected_rows", "channel_map")
    )
    root = raw_uploads.folder(db)
    names = sorted(p.name for p in root.iterdir()) if root.exists() else []
    return counts, [n for n in names if n not in ("manifest.jsonl", ".gitignore")]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_corpus_file_gets_a_clear_answer(shared, case, monkeypatch):
    con, db, files = shared
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    before = state(con, db)
    try:
        result = ingest_file(con, files[case.name], IngestOptions(**case.options), db_path=db,
                             file_name=case.name)
    except IngestError as exc:
        assert case.expect == "refused", f"refused: {exc}"
        assert exc.file_name == case.name
        assert str(exc).startswith(f"{case.name}: ") and exc.message.strip()
        assert str(db.parent) not in exc.message and "/tmp" not in exc.message  # no server path
        assert state(con, db) == before  # no partial state
        return
    assert case.expect == "loaded", f"loaded: {result}"
    assert result.read >= 1
    assert result.read == result.loaded + result.rejected + result.duplicate
    if case.rows is not None:
        assert result.read == case.rows  # no record lost or split


def test_after_the_corpus_the_store_is_whole_and_works(shared):
    con, db, _ = shared
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {"uploads", "leads", "lead_events", "rejected_rows", "channels", "channel_map",
            "stage_map", "channel_spend", "decisions"} <= tables
    path = db.parent / "normal.csv"
    path.write_text("id,Lead Source,Created Date\nN1,Web,2026-03-02\n", encoding="utf-8")
    assert ingest_file(con, path, IngestOptions(), db_path=db).loaded == 1
    # no staging copy or partial file was left behind
    leftovers = [p.name for p in raw_uploads.folder(db).iterdir()
                 if not raw_uploads.SHA256.fullmatch(p.name)]
    assert sorted(leftovers) == [".gitignore", "manifest.jsonl"]


@pytest.mark.parametrize("name, values", [("sql_in_headers_and_values.csv", corpus.SQL),
                                           ("formula_cells.csv", corpus.FORMULAS)])
def test_hostile_values_are_stored_as_given(shared, con, db_path, name, values):
    _, _, files = shared
    case = next(c for c in CASES if c.name == name)
    ingest_file(con, files[name], IngestOptions(**case.options), db_path=db_path)
    stored = {r[0] for r in con.execute("SELECT channel_raw FROM leads").fetchall()}
    assert set(values) == stored  # exactly as in the file


# --- through the command line ------------------------------------------------------------------

CLI_CASES = ["nul_bytes.csv", "binary_junk.csv", "xml_bomb.xlsx", "far_cell.xlsx",
             "shared_strings_bomb.xlsx", "zip_bomb.xlsx", "over_upload_cap.csv",
             "unterminated_quote.csv", "ten_mb_cell.csv", "far_cell_moved_sheet.xlsx",
             "far_cell_sheet_without_xml.xlsx", "sst_bomb_after_comment.xlsx",
             "sst_bomb_padded.xlsx"]


@pytest.fixture(scope="module")
def cli_baseline_mb(tmp_path_factory) -> float:
    """Peak memory of the command line ingesting a three-row file."""
    folder = tmp_path_factory.mktemp("baseline")
    path = folder / "small.csv"
    path.write_text(corpus._csv(corpus.ROWS), encoding="utf-8")
    ok, what, peak = corpus.run_cli(corpus.Case("small.csv", "", "loaded", None), path,
                                    folder / "s.duckdb")
    assert ok, what
    return peak


@pytest.mark.parametrize("name", CLI_CASES)
def test_the_command_line_answers_clearly_without_growing(shared, tmp_path, name,
                                                          cli_baseline_mb):
    _, _, files = shared
    case = next(c for c in CASES if c.name == name)
    ok, what, peak = corpus.run_cli(case, files[name], tmp_path / "cli.duckdb")
    assert ok, what
    # a bomb is refused before anything big is allocated (a 10 MB cell may take a little)
    assert peak < cli_baseline_mb + 200, f"{name}: peak {peak:.0f} MB, {what}"


def test_the_upload_cap_is_checked_before_reading(shared, monkeypatch):
    con, db, files = shared
    path = files["over_upload_cap.csv"]

    def no_reading(self):
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    started = time.monotonic()
    for action in (lambda: ingest_file(con, path, IngestOptions(), db_path=db),
                   lambda: preview(con, path)):
        with pytest.raises(IngestError, match="over the 200 MB upload cap"):
            action()
    assert time.monotonic() - started < 2


def test_the_upload_cap_follows_the_setting(con, db_path, monkeypatch):
    path = db_path.parent / "w.csv"
    path.write_text(corpus._csv(corpus.ROWS * 1000), encoding="utf-8")  # ~150 KB
    monkeypatch.setenv("FUNNEL_MAX_UPLOAD_MB", "0.1")
    with pytest.raises(IngestError, match=r"over the 0\.1 MB upload cap"):
        ingest_file(con, path, IngestOptions(), db_path=db_path)
    monkeypatch.setenv("FUNNEL_MAX_UPLOAD_MB", "1")
    assert ingest_file(con, path, IngestOptions(), db_path=db_path).read == 3000


# --- DuckDB reaches no other file ----------------------------------------------------------------

OUTSIDE = [
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "COPY (SELECT 1) TO '{tmp}/out.csv'",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "INSTALL httpfs",
    "SELECT * FROM read_csv('{uploads}/../funnel.duckdb.key')",
    "SET enable_external_access = true",
    "SET allowed_directories = ['/']",
]


def assert_locked(con, tmp: Path, db: Path) -> None:
    uploads = raw_uploads.folder(db)
    for sql in OUTSIDE:
        with pytest.raises(duckdb.Error):
            con.execute(sql.format(tmp=tmp, uploads=uploads)).fetchall()
    assert not (tmp / "out.csv").exists() and not (tmp / "other.duckdb").exists()


def test_the_store_connection_cannot_read_other_files(con, db_path, tmp_path):
    assert_locked(con, tmp_path, db_path)
    cursor = con.cursor()  # the app takes a cursor per query: the same limits
    assert_locked(cursor, tmp_path, db_path)
    cursor.close()
    read_only = None
    con.close()
    read_only = store.connect(db_path, read_only=True)
    try:
        assert_locked(read_only, tmp_path, db_path)
    finally:
        read_only.close()


def test_ingest_and_reports_still_work_under_the_limits(con, db_path, tmp_path):
    from funnel import report

    path = tmp_path / "outside" / "w.csv"  # a file outside the store's folder
    path.parent.mkdir()
    path.write_text(corpus._csv(corpus.ROWS), encoding="utf-8")
    assert ingest_file(con, path, IngestOptions(), db_path=db_path).loaded == 3
    data = report.build_report(con)
    assert sum(r["leads"] for r in data["marketing"]["leads_by_channel"]) == 3


def test_the_dashboard_connection_is_limited_too(db_path, tmp_path, monkeypatch):
    from funnel.app import state as app_state

    monkeypatch.setenv("FUNNEL_DB", str(db_path))
    store.connect(db_path).close()
    handle = app_state._open(str(db_path))
    try:
        assert_locked(handle.con.cursor(), tmp_path, db_path)
    finally:
        app_state._open.clear()


def test_a_kept_upload_is_read_in_place_and_nothing_else_is_staged(con, db_path, tmp_path,
                                                                   monkeypatch):
    path = tmp_path / "w.csv"
    path.write_text(corpus._csv(corpus.ROWS), encoding="utf-8")
    seen: list[str] = []
    real_run = store.run

    def spy(c, name, params=None):
        if name == "ingest/stage_csv":
            seen.append(params["path"])
        return real_run(c, name, params)

    monkeypatch.setattr(store, "run", spy)
    ingest_file(con, path, IngestOptions(), db_path=db_path)
    root = raw_uploads.folder(db_path)
    assert len(seen) == 1 and Path(seen[0]).parent == root  # the kept raw bytes, no copy
    monkeypatch.setenv("FUNNEL_KEEP_RAW", "0")
    other = tmp_path / "x.csv"
    other.write_text(corpus._csv(corpus.ROWS[:1]), encoding="utf-8")
    ingest_file(con, other, IngestOptions(), db_path=db_path)
    assert Path(seen[1]).parent.parent == root  # a private copy inside the folder...
    assert not Path(seen[1]).exists()  # ...deleted once read
    assert not any(p.name.startswith("tmp-") for p in root.iterdir())
    assert os.stat(root).st_mode & 0o777 == 0o700
