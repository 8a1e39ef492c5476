"""The store: schema versioning and migration without data loss, settings, identifier quoting."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from funnel.store import connection as store

# Leads of a version-2 store (before leads.furthest_position and leads.hot_since), with the
# progress migration 003 must work out from their events, by hand:
#   key  stage     events (stage at day of March 2026)            furthest        hot since
#   A    lost      new 1, contacted 2, proposal 5, lost 9         4 proposal      5 Mar
#   B    won       new 1, qualified 3, won 8                      5 won           -
#   C    proposal  new 1 (its proposal event missing)             4 its stage     -
#   D    new       (no events at all)                             1 new           -
#   E    proposal  new 1, proposal 4, qualified 6, proposal 10    4               4 Mar (first)
#   F    lost      new 1, lost 2                                  1 (lost aside)  -
#   G    contacted new 1, contacted 2, contacted 3 (a copy)       2               -
V2_LEADS = {
    "A": ("lost", [("new", 1), ("contacted", 2), ("proposal", 5), ("lost", 9)]),
    "B": ("won", [("new", 1), ("qualified", 3), ("won", 8)]),
    "C": ("proposal", [("new", 1)]),
    "D": ("new", []),
    "E": ("proposal", [("new", 1), ("proposal", 4), ("qualified", 6), ("proposal", 10)]),
    "F": ("lost", [("new", 1), ("lost", 2)]),
    "G": ("contacted", [("new", 1), ("contacted", 2), ("contacted", 3)]),
}
V2_PROGRESS = {
    "A": (4, dt.datetime(2026, 3, 5)),
    "B": (5, None),
    "C": (4, None),
    "D": (1, None),
    "E": (4, dt.datetime(2026, 3, 4)),
    "F": (1, None),
    "G": (2, None),
}


def make_version_2_store(path: Path, leads: dict = V2_LEADS) -> None:
    """A store as Funnel wrote it at schema version 2 (migrations 001 and 002 only, defaults
    seeded), holding ``leads``: key -> (stage, [(event stage, day of March 2026)])."""
    con = duckdb.connect(str(path))
    try:
        for version, name in enumerate(store.MIGRATIONS[:2], start=1):
            store.run(con, name.removesuffix(".sql"))
            store.run(con, "schema/record_version", {"version": version})
        store.seed_defaults(con)
        for key, (stage, events) in leads.items():
            con.execute(
                "INSERT INTO leads (lead_key, crm_id, channel, created_at, stage, first_upload_id,"
                " last_upload_id) VALUES (?, ?, 'referral', TIMESTAMP '2026-03-01', ?, 1, 1)",
                [key, key, stage],
            )
            for event, day in events:
                con.execute("INSERT INTO lead_events VALUES (?, ?, ?, 1)",
                            [key, event, dt.datetime(2026, 3, day)])
        # an event of a lead the store no longer holds changes nothing
        con.execute("INSERT INTO lead_events VALUES ('gone', 'won', TIMESTAMP '2026-03-02', 1)")
    finally:
        con.close()


def lead_progress(con) -> dict:
    rows = con.execute("SELECT lead_key, furthest_position, hot_since FROM leads").fetchall()
    return {key: (furthest, hot_since) for key, furthest, hot_since in rows}


def test_new_store_is_at_current_schema_version(con):
    assert store.schema_version(con) == store.SCHEMA_VERSION
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    for table in ["uploads", "leads", "lead_events", "rejected_rows", "channel_map", "stage_map",
                  "channel_spend", "channels", "stages"]:
        assert table in tables


def _settings(connection) -> tuple[int, str]:
    return connection.execute(
        "SELECT current_setting('threads'), current_setting('memory_limit')").fetchone()


def test_connection_settings_applied(db_path, monkeypatch):
    # The defaults: one thread per CPU, 2GB = 2,000,000,000 bytes, which DuckDB shows in GiB:
    # 2e9 / 2**30 = 1.86 -> '1.8 GiB' (its own, not DuckDB's default of 80% of the RAM).
    monkeypatch.delenv("FUNNEL_THREADS", raising=False)
    monkeypatch.delenv("FUNNEL_MEMORY_LIMIT", raising=False)
    con = store.connect(db_path)
    try:
        assert _settings(con) == (os.cpu_count(), "1.8 GiB")
    finally:
        con.close()
    # $FUNNEL_THREADS and $FUNNEL_MEMORY_LIMIT win: 512MB = 512e6 / 2**20 = 488.28 MiB.
    monkeypatch.setenv("FUNNEL_THREADS", "1")
    monkeypatch.setenv("FUNNEL_MEMORY_LIMIT", "512MB")
    con = store.connect(db_path)
    try:
        assert _settings(con) == (1, "488.2 MiB")
    finally:
        con.close()


def test_later_migration_keeps_existing_data(db_path, monkeypatch):
    con = store.connect(db_path)
    con.execute(
        "INSERT INTO leads (lead_key, channel, created_at, stage, first_upload_id, last_upload_id)"
        " VALUES ('id:1', 'referral', TIMESTAMP '2026-01-05', 'new', 1, 1)"
    )
    con.close()
    # A later release adds a migration that adds a column.
    real_sql_text = store.sql_text
    extra = "schema/999_test_column"
    monkeypatch.setattr(store, "MIGRATIONS", [*store.MIGRATIONS, extra + ".sql"])
    monkeypatch.setattr(store, "SCHEMA_VERSION", len(store.MIGRATIONS))
    monkeypatch.setattr(
        store, "sql_text",
        lambda name: "ALTER TABLE leads ADD COLUMN note VARCHAR;" if name == extra
        else real_sql_text(name),
    )
    con = store.connect(db_path)
    assert store.schema_version(con) == store.SCHEMA_VERSION
    rows = con.execute("SELECT lead_key, channel, note FROM leads").fetchall()
    assert rows == [("id:1", "referral", None)]
    con.close()


def test_version_2_store_gets_lead_progress_backfilled(db_path):
    make_version_2_store(db_path)
    con = store.connect(db_path)  # migrates 2 -> 3 (and any later)
    try:
        assert store.schema_version(con) == store.SCHEMA_VERSION
        assert lead_progress(con) == V2_PROGRESS
        # the rest of each lead is as it was
        assert con.execute("SELECT count(*), count(DISTINCT stage) FROM leads").fetchone() == (7, 5)
        # a row written without the column gets 1 (new); NULL is refused
        con.execute(
            "INSERT INTO leads (lead_key, channel, created_at, stage, first_upload_id,"
            " last_upload_id) VALUES ('H', 'referral', TIMESTAMP '2026-03-01', 'new', 1, 1)"
        )
        assert lead_progress(con)["H"] == (1, None)
        with pytest.raises(duckdb.ConstraintException):
            con.execute("UPDATE leads SET furthest_position = NULL WHERE lead_key = 'H'")
    finally:
        con.close()


def test_version_2_store_opened_read_only_is_migrated_first(db_path):
    # the report CLI and the benches open stores read-only; an older store would lack the
    # columns the queries read
    make_version_2_store(db_path)
    con = store.connect(db_path, read_only=True)
    try:
        assert store.schema_version(con) == store.SCHEMA_VERSION
        assert lead_progress(con) == V2_PROGRESS
    finally:
        con.close()


def test_new_store_has_lead_progress_columns(con):
    columns = {name: (kind, nullable) for name, kind, nullable in con.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_name = 'leads'").fetchall()}
    assert columns["furthest_position"] == ("INTEGER", "NO")
    assert columns["hot_since"] == ("TIMESTAMP", "YES")


def test_store_from_a_newer_release_is_refused(db_path):
    con = store.connect(db_path)
    con.execute("INSERT INTO schema_version (version) VALUES (9999)")
    con.close()
    with pytest.raises(RuntimeError, match="newer Funnel"):
        store.connect(db_path)


def test_second_writer_process_gets_a_clear_message(db_path, tmp_path):
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, time; c = duckdb.connect({str(db_path)!r}); print('ok', flush=True);"
         " time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(store.StoreBusyError, match="open for writing in another process"):
            store.connect(db_path)
    finally:
        holder.kill()
        holder.wait()


def test_quote_ident_survives_hostile_names():
    con = duckdb.connect()
    hostile = 'x"; DROP TABLE t; --'
    con.execute(f"CREATE TABLE t ({store.quote_ident(hostile)} INTEGER)")
    con.execute("INSERT INTO t VALUES (1)")
    assert con.execute(f"SELECT {store.quote_ident(hostile)} FROM t").fetchall() == [(1,)]
    assert [c[0] for c in con.execute("DESCRIBE t").fetchall()] == [hostile]
