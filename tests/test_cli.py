"""The command line as a person runs it: ``python -m funnel ingest|demo`` in a subprocess (SPEC 5).

Exit codes: 0 success (rejects reported, not fatal), 1 a file that cannot be used at all (the
message names it), 2 usage.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"

GOOD = (
    "id,Lead Source,Created Date,Stage\n"  # row 1
    "1,Referral,2026-01-05,Contacted\n"  # row 2
    "2,Smoke Signals,2026-01-06,New\n"  # row 3: channel unmapped
    "3,Web,2026-02-31,New\n"  # row 4: rejected
    "1,Referral,2026-01-05,Qualified\n"  # row 5: id 1 again, the earlier row is a duplicate
)


def run_cli(*args: str, db: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FUNNEL_PII_KEY"}
    env["FUNNEL_DB"] = str(db)
    return subprocess.run(
        [sys.executable, "-m", "funnel", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture()
def store_path(tmp_path) -> Path:
    return tmp_path / "cli.duckdb"


@pytest.fixture()
def good_csv(tmp_path) -> Path:
    path = tmp_path / "export.csv"
    path.write_text(GOOD)
    return path


def count(db: Path, sql: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_ingest_prints_the_four_counts(store_path, good_csv):
    # FUNNEL_DB names the store: no --db needed
    proc = run_cli("ingest", str(good_csv), "--as-of", "2026-01-10", db=store_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # read 4 = loaded 2 (ids 1 and 2) + rejected 1 (row 4) + duplicate 1 (row 2)
    assert re.search(r"read 4\b", out)
    assert re.search(r"loaded 2\b", out)
    assert re.search(r"rejected 1\b", out)
    assert re.search(r"duplicate 1\b", out)
    assert str(good_csv) in out
    # the rejected row with its spreadsheet row number and reason
    assert "row 4" in out and "'2026-02-31' is not a date" in out
    # the unmapped channel value
    assert "Smoke Signals" in out
    assert count(store_path, "SELECT count(*) FROM leads") == 2


def test_ingest_json_prints_one_object_per_file(store_path, good_csv, tmp_path):
    second = tmp_path / "second.csv"
    second.write_text("id,Lead Source,Created Date\n10,Web,2026-01-07\n11,Web,2026-01-08\n")
    proc = run_cli(
        "ingest", str(good_csv), str(second), "--db", str(store_path), "--json", db=tmp_path / "x"
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 2
    first, other = (json.loads(line) for line in lines)
    keys = {"file", "source", "read", "loaded", "rejected", "duplicate", "already_ingested"}
    assert keys <= set(first) and keys <= set(other)
    assert first["file"] == str(good_csv)
    assert (first["read"], first["loaded"], first["rejected"], first["duplicate"]) == (4, 2, 1, 1)
    assert first["already_ingested"] is False
    assert first["source"] == "generic"
    assert (other["read"], other["loaded"], other["rejected"], other["duplicate"]) == (2, 2, 0, 0)
    # --db wins over FUNNEL_DB
    assert store_path.exists() and not (tmp_path / "x").exists()


def test_ingest_again_reports_already_ingested(store_path, good_csv):
    run_cli("ingest", str(good_csv), db=store_path)
    proc = run_cli("ingest", str(good_csv), "--json", db=store_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["already_ingested"] is True
    assert count(store_path, "SELECT count(*) FROM uploads") == 1


@pytest.mark.parametrize(
    "name,data",
    [
        ("missing.csv", None),
        ("empty.csv", b""),
        ("binary.csv", bytes(range(256)) * 16),
        ("header_only.csv", b"id,Lead Source,Created Date\n"),
    ],
    ids=["missing", "empty", "binary", "header-only"],
)
def test_unusable_file_exits_1_naming_the_file(store_path, tmp_path, name, data):
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    proc = run_cli("ingest", str(path), db=store_path)
    assert proc.returncode == 1
    assert name in proc.stderr
    assert "Traceback" not in proc.stderr


def test_one_unusable_file_does_not_stop_the_others(store_path, good_csv, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    proc = run_cli("ingest", str(empty), str(good_csv), "--json", db=store_path)
    assert proc.returncode == 1
    objects = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert objects[0]["file"] == str(empty) and "error" in objects[0]
    assert objects[1]["file"] == str(good_csv) and objects[1]["loaded"] == 2
    assert count(store_path, "SELECT count(*) FROM leads") == 2


@pytest.mark.parametrize(
    "args",
    [
        ["--map", "channel"],  # no '='
        ["--map", "=Lead Source"],  # no field
        ["--set", "created_at"],
        ["--as-of", "2026-13-01"],
        ["--as-of", "yesterday"],
    ],
    ids=["map-no-equals", "map-no-field", "set-no-equals", "as-of-month-13", "as-of-word"],
)
def test_usage_errors_exit_2(store_path, good_csv, args):
    proc = run_cli("ingest", str(good_csv), *args, db=store_path)
    assert proc.returncode == 2
    assert args[0] in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not store_path.exists()  # nothing was written


def test_usage_error_without_files_exits_2(store_path):
    proc = run_cli("ingest", db=store_path)
    assert proc.returncode == 2


def test_map_to_a_column_the_file_lacks_exits_1_naming_it(store_path, good_csv):
    proc = run_cli("ingest", str(good_csv), "--map", "channel=Origin", db=store_path)
    assert proc.returncode == 1
    assert "'Origin'" in proc.stderr and str(good_csv) in proc.stderr


def test_map_to_an_unknown_field_is_a_usage_error(store_path, good_csv):
    proc = run_cli("ingest", str(good_csv), "--map", "colour=Lead Source", db=store_path)
    assert proc.returncode == 2


def test_demo_builds_the_demo_store(tmp_path):
    db = tmp_path / "demo.duckdb"
    proc = run_cli("demo", "--db", str(db), db=tmp_path / "unused.duckdb")
    assert proc.returncode == 0, proc.stderr
    # expected: every deal id seen in any of the bundled weekly snapshots is one lead
    snapshots = sorted(DEMO.glob("pipedrive_deals_*.csv"))
    assert len(snapshots) == 3
    ids = set()
    for path in snapshots:
        ids |= set(pd.read_csv(path, dtype=str)["Deal - ID"])
    assert 1400 <= len(ids) <= 1600  # ~1,494
    assert count(db, "SELECT count(*) FROM leads") == len(ids)
    assert count(db, "SELECT count(*) FROM uploads") == 3
    spend = pd.read_csv(DEMO / "channel_spend.csv")
    assert count(db, "SELECT count(*) FROM channel_spend") == len(
        spend.drop_duplicates(["Channel", "Week starting"])
    )
    # the latest snapshot's won deals are won in the store
    latest = pd.read_csv(snapshots[-1], dtype=str)
    won = int((latest["Deal - Status"] == "won").sum())
    assert count(db, "SELECT count(*) FROM leads WHERE stage = 'won'") == won


def test_store_held_open_by_another_process_exits_1_with_a_clear_message(store_path, good_csv):
    # The dashboard holds the store open for writing: the CLI must say so, not crash.
    holder = duckdb.connect(str(store_path))
    try:
        proc = run_cli("ingest", str(good_csv), db=store_path)
    finally:
        holder.close()
    assert proc.returncode == 1
    assert str(store_path) in proc.stderr
    assert "another process" in proc.stderr
    assert "Traceback" not in proc.stderr
