"""Funnel on DuckLake (issue 19): the same app, the same queries, several writers.

- The report (`report --format json`) of the demo's uploads is the same bytes on a lake, with
  its catalog in Postgres or in a catalog file, as on a DuckDB file.
- Four offices ingest their weekly exports at the same time into one lake whose catalog is in
  Postgres, while a dashboard process reads throughout: every upload lands once, with rows
  read = loaded + rejected + duplicate; commits that met another writer's are retried with a
  message; no read sees half an upload.
- A commit that conflicts is refused whole, saying it can be tried again.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from conftest import ROOT, funnel_cli
from offices import lead_counts, write_office

from funnel.store import connection as store

OFFICES = 4


def _ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def file_report(tmp_path_factory) -> str:
    """The demo's report on a DuckDB file (made once for the module)."""
    file_db = str(tmp_path_factory.mktemp("file") / "funnel.duckdb")
    _ok(funnel_cli("demo", "--db", file_db))
    return _ok(funnel_cli("report", "--db", file_db, "--format", "json"))


def test_report_on_a_lake_is_the_file_stores_byte_for_byte(any_lake, file_report):
    _ok(funnel_cli("demo", "--db", any_lake))
    on_file = file_report
    on_lake = _ok(funnel_cli("report", "--db", any_lake, "--format", "json"))
    assert json.loads(on_lake)["headline"]["leads"] == 1494  # the demo's deals
    assert on_lake == on_file


def test_four_offices_write_at_once_while_the_dashboard_reads(pg_lake, tmp_path):
    exports = {n: write_office(tmp_path, n) for n in range(1, OFFICES + 1)}
    after_each = lead_counts(exports[1])  # the same for every office (only IDs differ)
    store.connect(pg_lake).close()  # the lake is made once, before the offices connect

    stop, seen = tmp_path / "stop", tmp_path / "reads.json"
    reader = subprocess.Popen([sys.executable, str(ROOT / "tests" / "lake" / "reader.py"),
                               pg_lake, str(stop), str(seen)], cwd=ROOT)
    time.sleep(3)  # the dashboard is up before the first upload
    start = time.monotonic()
    writers = {
        n: subprocess.Popen(
            [sys.executable, "-m", "funnel", "ingest", *map(str, files), "--db", pg_lake,
             "--json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n, files in exports.items()
    }
    results = {n: w.communicate(timeout=600) for n, w in writers.items()}
    seconds = time.monotonic() - start
    time.sleep(1)  # a read or two after the last commit
    stop.touch()
    assert reader.wait(timeout=120) == 0
    reads = json.loads(seen.read_text())

    retries = 0
    for n, (out, err) in results.items():
        assert writers[n].returncode == 0, f"office {n}: {out}\n{err}"
        lines = [json.loads(line) for line in out.splitlines()]
        assert [r["file"] for r in lines] == [str(p) for p in exports[n]]
        for r in lines:
            assert not r["already_ingested"] and not r.get("error")
            assert r["read"] == r["loaded"] + r["rejected"] + r["duplicate"], r
            assert r["rejected"] == 1 and r["duplicate"] == 1, r
        retries += err.count("trying again")
        assert "Traceback" not in err, err
    print(f"\n4 offices x 2 uploads in {seconds:.1f} s, {retries} commit(s) retried, "
          f"{len(reads)} dashboard reads")

    con = store.connect(pg_lake, read_only=True)
    try:
        uploads = con.execute(
            "SELECT upload_id, file_name, rows_read, rows_loaded, rows_rejected, rows_duplicate "
            "FROM uploads").fetchall()
        per_office = dict(con.execute(
            "SELECT crm_id::BIGINT // 100000, count(*) FROM leads GROUP BY 1").fetchall())
        leads = con.execute("SELECT count(*), count(DISTINCT lead_key) FROM leads").fetchone()
    finally:
        con.close()
    # every upload landed once: 8 rows, 8 ids, every file once
    assert len(uploads) == 2 * OFFICES
    assert len({u[0] for u in uploads}) == 2 * OFFICES
    assert sorted(u[1] for u in uploads) == sorted(str(p) for ps in exports.values() for p in ps)
    assert all(u[2] == u[3] + u[4] + u[5] for u in uploads)
    assert per_office == {n: after_each[-1] for n in exports}
    assert leads[0] == leads[1] == OFFICES * after_each[-1]

    # the dashboard read throughout and never saw half an upload
    assert len(reads) >= 5, reads
    allowed = {0, *after_each}
    for read in reads:
        assert read["bad_uploads"] == 0 and read["orphan_leads"] == 0, read
        assert all(v in allowed for v in read["offices"].values()), read
        assert read["dashboard_leads"] >= sum(read["offices"].values()) or not read["offices"]
    assert reads[0]["uploads"] == 0 and reads[-1]["uploads"] == 2 * OFFICES
    assert len({r["uploads"] for r in reads}) > 2, "the reads saw no upload land"
    # with four writers whose every upload moves the store's revision, commits meet
    assert retries >= 1


def test_a_conflicting_commit_is_refused_whole(pg_lake):
    first, second = store.connect(pg_lake), store.connect(pg_lake)
    try:
        before = store.revision(first)
        with (pytest.raises(store.StoreConflictError, match="tried again"),
              store.transaction(first)):
            store.bump_revision(first)
            store.run(first, "settings/set_setting", {"key": "currency", "value": "EUR"})
            with store.transaction(second):  # commits while the first is open
                store.bump_revision(second)
        assert store.revision(first) == before + 1  # the second's bump only
        currency = first.execute(
            "SELECT value FROM store_settings WHERE key = 'currency'").fetchall()
        assert ("EUR",) not in currency
    finally:
        first.close()
        second.close()


def test_migrate_a_file_to_a_lake_and_back_keeps_every_row_and_the_report(pg_lake, tmp_path):
    file_db, back = str(tmp_path / "funnel.duckdb"), str(tmp_path / "back.duckdb")
    _ok(funnel_cli("demo", "--db", file_db))
    # through a Parquet folder too: the way between duckdb 2.x and the lake's 1.4.x
    folder = str(tmp_path / "portable") + "/"
    to_folder = _ok(funnel_cli("migrate", "--from", file_db, "--to", folder))
    to_lake = _ok(funnel_cli("migrate", "--from", folder, "--to", pg_lake))
    to_file = _ok(funnel_cli("migrate", "--from", pg_lake, "--to", back))
    for out in (to_folder, to_lake, to_file):
        assert "counts checked: 3 uploads, 1,494 leads, 2,981 events" in out
    reports = [_ok(funnel_cli("report", "--db", db, "--format", "json"))
               for db in (file_db, pg_lake, back)]
    assert reports[0] == reports[1] == reports[2]
    # the key went along: an e-mail hashes alike in the lake, so a new upload matches
    assert (tmp_path / "lake.key").read_bytes() == (tmp_path / "funnel.duckdb.key").read_bytes()

    again = funnel_cli("migrate", "--from", file_db, "--to", pg_lake)
    assert again.returncode == 1 and "already holds data" in again.stderr
    # the file's upload numbers go on after the copied ones
    week = write_office(tmp_path, 7)[0]
    added = json.loads(_ok(funnel_cli("ingest", str(week), "--db", back, "--json")))
    assert added["upload_id"] == 4 and added["loaded"] > 0


@pytest.mark.parametrize("command", ["backup", "restore", "rebuild"])
def test_backup_restore_rebuild_say_what_to_do_for_a_lake(file_lake, tmp_path, command):
    args = {"backup": ["--db", file_lake, "--out", str(tmp_path / "b.tar.gz")],
            "restore": ["--from", str(tmp_path / "b.tar.gz"), "--db", file_lake],
            "rebuild": ["--from", file_lake, "--db", str(tmp_path / "new.duckdb")]}[command]
    done = funnel_cli(command, *args)
    assert done.returncode == 1
    assert "lake" in done.stderr and "python -m funnel migrate" in done.stderr
    assert "Traceback" not in done.stderr


def test_lake_ddl_takes_the_schemas_forms(file_lake):
    """What migrations write (001-006, and 007's forms: no key, literal defaults, an ADD COLUMN
    with a default, macros, INSERT ... SELECT) in the form DuckLake takes, run on a lake."""
    from funnel.store import lake

    ddl = lake.lake_ddl
    assert ddl("CREATE SEQUENCE IF NOT EXISTS s START 1;") is None
    assert ddl("ALTER TABLE t ALTER COLUMN a SET NOT NULL;") is None
    assert ddl("CREATE OR REPLACE MACRO twice(x) AS x * 2;") == (
        "CREATE OR REPLACE TEMP MACRO twice(x) AS x * 2;")
    made = ddl("CREATE TABLE IF NOT EXISTS t (\n    id INTEGER PRIMARY KEY DEFAULT nextval('s'),"
               "\n    done BOOLEAN NOT NULL DEFAULT FALSE,\n    seen_at TIMESTAMP NOT NULL DEFAULT "
               "current_timestamp,\n    k VARCHAR NOT NULL,\n    PRIMARY KEY (k)\n);")
    assert made == ("CREATE TABLE IF NOT EXISTS t (\n    id INTEGER,\n    done BOOLEAN NOT NULL "
                    "DEFAULT 'false',\n    seen_at TIMESTAMP NOT NULL,\n    k VARCHAR NOT NULL\n);")
    added = "ALTER TABLE t ADD COLUMN origin VARCHAR DEFAULT 'default';"
    assert ddl(added) == added
    con = store.connect(file_lake)
    try:
        with store.transaction(con):
            steps = (made, "INSERT INTO t (id, done, seen_at, k) VALUES (1, true, now(), 'a')",
                     added, ddl("CREATE OR REPLACE MACRO twice(x) AS x * 2;"),
                     "INSERT INTO t (id, seen_at, k) SELECT twice(id), now(), 'b' FROM t")
            for statement in steps:
                con.execute(statement)
        assert con.execute("SELECT id, done, origin FROM t ORDER BY id").fetchall() == [
            (1, True, "default"), (2, False, "default")]
    finally:
        con.close()


def test_offices_opening_a_new_lake_at_once_make_it_once(pg_lake):
    opening = [subprocess.Popen([sys.executable, "-m", "funnel", "uploads", "list", "--db",
                                 pg_lake, "--json"], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(3)]
    done = [(p.wait(timeout=300), *p.communicate()) for p in opening]
    assert all(rc == 0 for rc, _, _ in done), done
    con = store.connect(pg_lake, read_only=True)
    try:
        versions = con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
        channels = con.execute("SELECT count(*), count(DISTINCT channel) FROM channels").fetchone()
    finally:
        con.close()
    assert versions == [(v,) for v in range(1, store.SCHEMA_VERSION + 1)]
    assert channels[0] == channels[1] > 0
