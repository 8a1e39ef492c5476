"""Raw uploads kept, backup / restore, rebuild from raw bytes (issue 8, items 2-3).

- Every ingested file's bytes are kept once (by sha256) in ``<db>.uploads``, owner-only and
  git-ignored; a failed ingest keeps nothing; ``FUNNEL_KEEP_RAW=0`` keeps nothing at all.
- ``backup`` writes a checked .tar.gz; ``restore`` puts it back, refusing to overwrite a store
  without ``--force``, and refusing a damaged or foreign archive without touching anything.
- ``rebuild`` ingests every upload again from the raw bytes with its recorded options and yields
  the same leads, events and rejects, also when the old database file is gone (manifest).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from funnel.backup import archive, backup, restore
from funnel.cli.main import main
from funnel.errors import IngestError
from funnel.ingest import synonym_edits as synonym_store
from funnel.ingest.core import IngestOptions
from funnel.ingest.spend import ingest_spend
from funnel.ingest.upload import ingest_file
from funnel.store import connection as store
from funnel.store import raw_uploads

ROOT = Path(__file__).resolve().parent.parent

WEEK1 = (
    "id,Email,Phone,Lead Source,Created Date,Stage,Amount\n"
    "1,ann@example.com,555-0101,Referral,2026-01-05,Contacted,100\n"
    "2,bob@example.com,,Cold call,2026-01-06,New,\n"
    "3,cy@example.com,,Radio Jingle,2026-01-07,Qualified,50\n"  # unmapped channel: synonym later
    "4,,,Web,2026-02-31,New,\n"  # rejected: no such date
)
WEEK2 = (
    "id,Email,Lead Source,Created Date,Stage,Amount\n"
    "1,ann@example.com,Referral,2026-01-05,Closed Won,100\n"
    "2,bob@example.com,Cold call,2026-01-06,Closed Lost,\n"
    "5,dee@example.com,Web,2026-01-12,Proposal,300\n"
    "5,dee@example.com,Web,2026-01-12,Proposal,350\n"  # the earlier row 5 is a duplicate
)
# a sheet without created dates or a channel column: --set gives them
SHEET = "Deal,Status\n7,won\n8,open\n"
SPEND = "Channel,Week starting,Money spent\nReferral,2026-01-05,100\nCold call,2026-01-05,250\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def fill(con, db_path: Path) -> None:
    """Three uploads with different options, a synonym, spend and a decision."""
    folder = db_path.parent
    ingest_file(con, write(folder, "week1.csv", WEEK1), IngestOptions(as_of=dt.date(2026, 1, 10)),
                db_path=db_path)
    synonym_store.save_channel_synonym(con, "Radio Jingle", "advertising")
    ingest_file(con, write(folder, "week2.csv", WEEK2), IngestOptions(as_of=dt.date(2026, 1, 17)),
                db_path=db_path)
    ingest_file(
        con,
        write(folder, "sheet.csv", SHEET),
        IngestOptions(
            mapping={"id": "Deal", "status": "Status"},
            constants={"created_at": "2026-01-08", "channel": "partner"},
        ),
        db_path=db_path,
    )
    ingest_spend(con, write(folder, "spend.csv", SPEND))
    decision_id = int(store.fetch_one(con, "decisions/next_decision_id")[0])
    store.run(con, "decisions/insert_decision", {
        "decision_id": decision_id, "decided_at": dt.datetime(2026, 1, 18, 9),
        "period_start": dt.date(2026, 1, 19), "period_end": dt.date(2026, 2, 15), "note": "x",
        "hourly_rate": 30.0, "channels": ["referral"], "planned_shares": [1.0],
        "planned_amounts": [100.0], "planned_money": [100.0], "planned_hours": [0.0],
        "recommended_shares": [1.0], "current_shares": [0.5], "forecast_wins": [1.0],
        "forecast_low": [0.0], "forecast_high": [2.0], "forecast_leads": [4.0],
    })


LEAD_COLUMNS = ("lead_key, crm_id, channel, channel_raw, created_at, stage, stage_raw, won_at, "
                "lost_at, value, owner, email_hash, phone_hash, furthest_position, hot_since")


def snapshot(db: Path) -> dict:
    """Everything a person sees of a store, upload ids left out (a rebuild may renumber)."""
    con = store.connect(db, read_only=True)
    try:
        def rows(sql: str) -> list[tuple]:
            return sorted(con.execute(sql).fetchall(), key=repr)

        return {
            "leads": rows(f"SELECT {LEAD_COLUMNS} FROM leads"),
            "events": rows("SELECT lead_key, stage, occurred_at FROM lead_events"),
            "rejects": rows("SELECT row_number, column_name, reason, raw_row FROM rejected_rows"),
            "uploads": rows("SELECT file_name, sha256, options_hash, source, as_of, ingested_at, "
                            "rows_read, rows_loaded, rows_rejected, rows_duplicate, mapping "
                            "FROM uploads"),
            "channel_map": rows("SELECT * FROM channel_map"),
            "channels": rows("SELECT * FROM channels"),
            "spend": rows("SELECT channel, period_start, period_end, money, hours "
                          "FROM channel_spend"),
            "decisions": rows("SELECT * FROM decisions"),
        }
    finally:
        con.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- raw uploads ---------------------------------------------------------------------------------


def test_raw_bytes_are_kept_once_private_and_git_ignored(con, db_path):
    path = write(db_path.parent, "week1.csv", WEEK1)
    ingest_file(con, path, IngestOptions(), db_path=db_path)
    # the same bytes with other options: they replace the first upload, the same kept file
    ingest_file(con, path, IngestOptions(as_of=dt.date(2026, 1, 10)), db_path=db_path)
    root = raw_uploads.folder(db_path)
    kept = [p for p in root.iterdir() if raw_uploads.SHA256.fullmatch(p.name)]
    assert len(kept) == 1
    assert kept[0].read_bytes() == path.read_bytes()
    assert mode(root) == 0o700
    assert mode(kept[0]) == 0o600
    assert mode(root / "manifest.jsonl") == 0o600
    assert (root / ".gitignore").read_text().splitlines()[-1] == "*"
    (entry,) = raw_uploads.read_manifest(root)  # one upload, as read the second time
    assert entry["as_of"] == "2026-01-10"
    # nothing else was left there (no staging copies)
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [kept[0].name, ".gitignore", "manifest.jsonl"]
    )


def test_git_ignores_the_raw_uploads_folder(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    db = repo / "mystore.duckdb"
    con = store.connect(db)
    ingest_file(con, write(repo, "w.csv", WEEK1), IngestOptions(), db_path=db)
    con.close()
    out = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "mystore.duckdb.uploads" not in out
    assert "w.csv" in out  # git does see other files


def test_a_failed_ingest_keeps_no_raw_bytes(con, db_path):
    bad = write(db_path.parent, "bad.csv", "id,Lead Source,Created Date\n")  # header only
    with pytest.raises(IngestError):
        ingest_file(con, bad, IngestOptions(), db_path=db_path)
    mapped = write(db_path.parent, "m.csv", WEEK1)
    with pytest.raises(IngestError, match="no column"):
        ingest_file(con, mapped, IngestOptions(mapping={"channel": "Nope"}), db_path=db_path)
    root = raw_uploads.folder(db_path)
    assert not any(raw_uploads.SHA256.fullmatch(p.name) for p in root.iterdir())
    assert not (root / "manifest.jsonl").exists()


def test_keep_raw_off_keeps_nothing(con, db_path, monkeypatch):
    monkeypatch.setenv("FUNNEL_KEEP_RAW", "0")
    result = ingest_file(con, write(db_path.parent, "w.csv", WEEK1), IngestOptions(),
                         db_path=db_path)
    assert result.loaded == 3
    root = raw_uploads.folder(db_path)
    leftovers = [p.name for p in root.iterdir()] if root.exists() else []
    assert [n for n in leftovers if n != ".gitignore"] == []


def test_an_upload_ingested_before_bytes_were_kept_is_kept_when_seen_again(con, db_path,
                                                                           monkeypatch):
    path = write(db_path.parent, "w.csv", WEEK1)
    monkeypatch.setenv("FUNNEL_KEEP_RAW", "0")
    ingest_file(con, path, IngestOptions(), db_path=db_path)
    monkeypatch.delenv("FUNNEL_KEEP_RAW")
    assert ingest_file(con, path, IngestOptions(), db_path=db_path).already_ingested
    kept = [p for p in raw_uploads.folder(db_path).iterdir()
            if raw_uploads.SHA256.fullmatch(p.name)]
    assert [p.read_bytes() for p in kept] == [path.read_bytes()]


# --- backup and restore --------------------------------------------------------------------------


def run_cli(*args: str) -> int:
    return main(list(args))


def test_backup_and_restore_round_trip(db_path, tmp_path, capsys):
    con = store.connect(db_path)
    fill(con, db_path)
    con.close()
    before = snapshot(db_path)
    archive = tmp_path / "b" / "funnel.tar.gz"
    assert run_cli("backup", "--db", str(db_path), "--out", str(archive)) == 0
    assert "checked" in capsys.readouterr().out
    assert mode(archive) == 0o600
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["backup.json", "store.duckdb", "store.duckdb.key"]

    target = tmp_path / "restored" / "funnel.duckdb"
    assert run_cli("restore", "--from", str(archive), "--db", str(target)) == 0
    assert snapshot(target) == before
    assert (target.parent / "funnel.duckdb.key").read_bytes() == (
        db_path.parent / "funnel.duckdb.key"
    ).read_bytes()
    # the restored store takes new uploads and matches e-mails as before (same key)
    con = store.connect(target)
    result = ingest_file(
        con, write(tmp_path, "again.csv", "Email,Created Date,Stage\nann@example.com,2026-01-05,"
                   "Closed Won\n"), IngestOptions(), db_path=target,
    )
    assert result.loaded == 1
    assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == len(before["leads"])
    con.close()


def test_restoring_a_version_2_backup_backfills_lead_progress(db_path, tmp_path):
    import duckdb

    from tests.test_store import V2_PROGRESS, lead_progress, make_version_2_store

    make_version_2_store(db_path)  # leads without furthest_position / hot_since
    old = duckdb.connect(str(db_path))  # as Funnel 2 held it: not migrated
    try:
        meta = backup.backup_store(old, db_path, tmp_path / "v2.tar.gz")
    finally:
        old.close()
    assert meta["schema_version"] == 2
    target = tmp_path / "restored" / "funnel.duckdb"
    restore.restore_store(tmp_path / "v2.tar.gz", target)
    con = store.connect(target)
    try:
        assert store.schema_version(con) == store.SCHEMA_VERSION
        assert lead_progress(con) == V2_PROGRESS  # worked out by hand in tests/test_store.py
    finally:
        con.close()


def test_restore_refuses_an_existing_store_unless_forced(db_path, tmp_path, capsys):
    con = store.connect(db_path)
    fill(con, db_path)
    con.close()
    archive = tmp_path / "b.tar.gz"
    assert run_cli("backup", "--db", str(db_path), "--out", str(archive)) == 0
    before = snapshot(db_path)
    # the store changes after the backup
    con = store.connect(db_path)
    ingest_file(con, write(tmp_path, "x.csv", "id,Created Date\n99,2026-03-01\n"),
                IngestOptions(), db_path=db_path)
    con.close()
    changed = snapshot(db_path)
    capsys.readouterr()
    assert run_cli("restore", "--from", str(archive), "--db", str(db_path)) == 1
    assert "--force" in capsys.readouterr().err
    assert snapshot(db_path) == changed  # untouched
    assert run_cli("restore", "--from", str(archive), "--db", str(db_path), "--force") == 0
    assert snapshot(db_path) == before
    aside = [p for p in db_path.parent.iterdir() if p.name.startswith("funnel.duckdb.replaced-")
             and p.suffix not in (".key", ".wal", ".uploads")]
    assert len(aside) == 1 and snapshot(aside[0]) == changed  # kept, not deleted


def test_backup_out_exists_and_missing_store_are_clear_errors(db_path, tmp_path, capsys):
    assert run_cli("backup", "--db", str(tmp_path / "none.duckdb"), "--out",
                   str(tmp_path / "x.tar.gz")) == 1
    assert "does not exist" in capsys.readouterr().err
    store.connect(db_path).close()
    out = tmp_path / "x.tar.gz"
    out.write_bytes(b"keep me")
    assert run_cli("backup", "--db", str(db_path), "--out", str(out)) == 1
    assert "exists" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"


def test_backup_with_uploads_restores_them(db_path, tmp_path):
    con = store.connect(db_path)
    fill(con, db_path)
    con.close()
    archive = tmp_path / "b.tar.gz"
    assert run_cli("backup", "--db", str(db_path), "--out", str(archive), "--with-uploads") == 0
    target = tmp_path / "r" / "s.duckdb"
    assert run_cli("restore", "--from", str(archive), "--db", str(target)) == 0
    old = sorted(p.name for p in raw_uploads.folder(db_path).iterdir() if p.name != ".gitignore")
    new = sorted(p.name for p in raw_uploads.folder(target).iterdir() if p.name != ".gitignore")
    assert old == new and len(old) == 4  # three files and the manifest
    # and the restored store can be rebuilt from them
    assert run_cli("rebuild", "--from", str(target), "--db", str(tmp_path / "n.duckdb")) == 0


def damaged_archives(archive: Path, tmp_path: Path) -> dict[str, Path]:
    data = archive.read_bytes()
    flipped = tmp_path / "flipped.tar.gz"
    flipped.write_bytes(data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 0xFF])
                        + data[len(data) // 2 + 1:])
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(data[: len(data) // 3])
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(evil, "w:gz") as out:
        for member in src:
            out.addfile(member, src.extractfile(member))
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = 3
        out.addfile(info, io.BytesIO(b"bad"))
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(os.urandom(5000))
    return {"flipped": flipped, "truncated": truncated, "evil": evil, "junk": junk}


def test_restore_refuses_a_damaged_or_foreign_archive(db_path, tmp_path, capsys):
    con = store.connect(db_path)
    fill(con, db_path)
    con.close()
    archive = tmp_path / "b.tar.gz"
    assert run_cli("backup", "--db", str(db_path), "--out", str(archive)) == 0
    for name, bad in damaged_archives(archive, tmp_path).items():
        target = tmp_path / f"t_{name}" / "s.duckdb"
        capsys.readouterr()
        assert run_cli("restore", "--from", str(bad), "--db", str(target)) == 1, name
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err, (name, err)
        assert not target.exists(), name
        leftovers = [p.name for p in target.parent.iterdir()] if target.parent.exists() else []
        assert leftovers == [], (name, leftovers)
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert not (tmp_path / "escaped.txt").exists()


HOLDER = """
import sys, time
from funnel.store import connection as store
con = store.connect(sys.argv[1])
print("open", flush=True)
time.sleep(60)
"""


def test_backup_restore_rebuild_fail_at_once_while_another_process_writes(db_path, tmp_path,
                                                                          capsys):
    con = store.connect(db_path)
    ingest_file(con, write(db_path.parent, "w1.csv", WEEK1), IngestOptions(), db_path=db_path)
    con.close()
    archive = tmp_path / "before.tar.gz"
    assert run_cli("backup", "--db", str(db_path), "--out", str(archive)) == 0
    before = snapshot(db_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_path)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        for args in (
            ["backup", "--db", str(db_path), "--out", str(tmp_path / "b.tar.gz")],
            ["restore", "--from", str(archive), "--db", str(db_path), "--force"],
            ["rebuild", "--from", str(db_path), "--db", str(tmp_path / "n.duckdb")],
        ):
            capsys.readouterr()
            started = time.monotonic()
            assert run_cli(*args) == 1, args
            err = capsys.readouterr().err
            assert "open for writing in another process" in err and "Stop the dashboard" in err
            assert time.monotonic() - started < 10
        assert not (tmp_path / "b.tar.gz").exists() and not (tmp_path / "n.duckdb").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        holder.stdout.close()
    assert snapshot(db_path) == before


# --- rebuild -------------------------------------------------------------------------------------


def test_rebuild_from_raw_uploads_yields_the_same_store(db_path, tmp_path, capsys):
    con = store.connect(db_path)
    fill(con, db_path)
    con.close()
    before = snapshot(db_path)
    new = tmp_path / "rebuilt" / "new.duckdb"
    assert run_cli("rebuild", "--from", str(db_path), "--db", str(new)) == 0
    out = capsys.readouterr().out
    assert "3 uploads ingested again (0 skipped)" in out
    after = snapshot(new)
    assert after == before
    # the original file with its original options is still "already ingested"
    con = store.connect(new)
    again = ingest_file(con, db_path.parent / "week2.csv",
                        IngestOptions(as_of=dt.date(2026, 1, 17)), db_path=new)
    assert again.already_ingested
    # a new decision does not collide with the copied one
    assert store.fetch_one(con, "decisions/next_decision_id")[0] == 2
    con.close()


def test_rebuild_without_the_old_database_uses_the_manifest(db_path, tmp_path, capsys):
    con = store.connect(db_path)
    fill(con, db_path)
    con.close()
    before = snapshot(db_path)
    db_path.unlink()  # the database file is lost; its key and raw uploads are not
    new = tmp_path / "n.duckdb"
    assert run_cli("rebuild", "--from", str(db_path), "--db", str(new)) == 0
    out = capsys.readouterr().out
    assert "manifest.jsonl" in out
    after = snapshot(new)
    # the same uploads, leads and events; the owner's synonym, spend and decision are not in
    # the manifest, so the synonym-mapped channel keeps its own slug
    assert after["uploads"] == before["uploads"]
    assert after["events"] == before["events"]
    assert len(after["leads"]) == len(before["leads"])
    channels = {row[1]: row[2] for row in after["leads"]}
    assert channels["3"] == "radio_jingle"
    assert after["spend"] == [] and after["decisions"] == []


def test_rebuild_refuses_when_raw_bytes_are_missing(db_path, tmp_path, monkeypatch, capsys):
    con = store.connect(db_path)
    ingest_file(con, write(db_path.parent, "w1.csv", WEEK1), IngestOptions(), db_path=db_path)
    monkeypatch.setenv("FUNNEL_KEEP_RAW", "0")
    ingest_file(con, write(db_path.parent, "w2.csv", WEEK2), IngestOptions(), db_path=db_path)
    con.close()
    monkeypatch.delenv("FUNNEL_KEEP_RAW")
    new = tmp_path / "n.duckdb"
    assert run_cli("rebuild", "--from", str(db_path), "--db", str(new)) == 1
    assert "1 of 2 uploads have no raw bytes" in capsys.readouterr().err
    assert not new.exists()
    assert run_cli("rebuild", "--from", str(db_path), "--db", str(new), "--skip-missing") == 0
    assert "1 skipped" in capsys.readouterr().out


def test_rebuild_refuses_an_existing_target_and_a_missing_key(db_path, tmp_path, capsys):
    con = store.connect(db_path)
    ingest_file(con, write(db_path.parent, "w1.csv", WEEK1), IngestOptions(), db_path=db_path)
    con.close()
    existing = tmp_path / "e.duckdb"
    store.connect(existing).close()
    assert run_cli("rebuild", "--from", str(db_path), "--db", str(existing)) == 1
    assert "exists" in capsys.readouterr().err
    (db_path.parent / "funnel.duckdb.key").rename(tmp_path / "elsewhere.key")
    assert run_cli("rebuild", "--from", str(db_path), "--db", str(tmp_path / "n.duckdb")) == 1
    assert "key" in capsys.readouterr().err


def test_backup_module_is_what_the_cli_runs():
    parser_names = {"backup", "restore", "rebuild"}
    from funnel.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert parser_names <= set(sub.choices)
    assert archive.FORMAT == "funnel-backup-1"
