"""The store: schema versioning and migration without data loss, settings, identifier quoting."""

from __future__ import annotations

import duckdb
import pytest

from funnel import store


def test_new_store_is_at_current_schema_version(con):
    assert store.schema_version(con) == store.SCHEMA_VERSION
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    for table in ["uploads", "leads", "lead_events", "rejected_rows", "channel_map", "stage_map",
                  "channel_spend", "channels", "stages"]:
        assert table in tables


def test_connection_settings_applied(con):
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    memory = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert int(threads) >= 1
    assert memory  # e.g. '1.8 GiB' for the 2GB default


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
