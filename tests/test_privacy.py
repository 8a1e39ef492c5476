"""Personal data (issue 8, item 6): names, e-mails and phones never in clear outside the raw
uploads folder, which exists to hold them (owner-only) and can be switched off.

A file with names, e-mails and phones (some rows rejected, so their raw rows are stored
redacted) is ingested with the command line; then none of those values appears in:
the database file, its write-ahead log (read while an ingest's changes are still only there),
what the ingest printed, every export (``report`` json/md/html, ``weekly`` md/html/json and
csv files), the rejected-rows CSV the Upload page offers, and any other file the store or the
ingest left behind, temp folder included. With ``FUNNEL_KEEP_RAW=0`` that holds for every file.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from funnel.ingest import upload
from funnel.ingest.core import IngestOptions
from funnel.ingest.upload import ingest_file
from funnel.store import connection as store
from funnel.store import raw_uploads

ROOT = Path(__file__).resolve().parent.parent

PEOPLE = [
    # first, last, e-mail, phone
    ("Zebediah", "Quackenbush", "zeb.quackenbush@example.org", "+1 (555) 010-9911"),
    ("Philippa", "Oddfellow", "p.oddfellow@example.net", "555.010.4477"),
    ("Ignatius", "Wrenfield", "IGNATIUS.W@Example.com", "0044 20 7946 0958"),
    ("Marisol", "Thistlewood", "marisol@thistlewood.example", "(555) 010-3320"),
]
WEEKS = [dt.date(2026, 10, 5) + dt.timedelta(days=7 * i) for i in range(8)]
STAGES = ["New", "Contacted", "Qualified", "Proposal", "Closed Won", "Closed Lost"]
SOURCES = ["Referral", "Web", "Cold call", "Trade show"]


def export_text() -> str:
    lines = ["Lead ID,First Name,Last Name,Email,Phone,Lead Source,Created Date,Stage,Amount,"
             "Close Date,Owner"]
    for i in range(200):
        first, last, email, phone = PEOPLE[i % len(PEOPLE)]
        email = email.replace("@", f"+{i}@") if i >= len(PEOPLE) else email
        created = WEEKS[i % len(WEEKS)] + dt.timedelta(days=i % 5)
        stage = STAGES[i % len(STAGES)]
        close = (created + dt.timedelta(days=9)).isoformat() if stage.startswith("Closed") else ""
        lines.append(f"{i + 1},{first},{last},{email},\"{phone}\",{SOURCES[i % 4]},"
                     f"{created.isoformat()},{stage},{100 + i},{close},Owner {i % 3}")
    # rejected rows: their raw rows are kept, personal cells redacted
    for n, (first, last, email, phone) in enumerate(PEOPLE):
        lines.append(f"R{n},{first},{last},{email},\"{phone}\",Web,2026-02-31,New,,,Owner 1")
    lines.append("X1,Philippa,Oddfellow,p.oddfellow@example.net,555-010-4477,Web,2026-10-06,New,"
                 ",,Owner 1,surplus cell")  # a broken row: one cell too many
    return "\n".join(lines) + "\n"


def secrets() -> list[bytes]:
    out = set()
    for first, last, email, phone in PEOPLE:
        digits = "".join(ch for ch in phone if ch.isdigit())
        out |= {first, last, email, email.split("@")[0], phone, digits, digits[-7:]}
    return sorted(s.encode() for s in out)


SECRETS = secrets()


def leaks(data: bytes) -> list[bytes]:
    low = data.lower()
    return [s for s in SECRETS if s.lower() in low]


def utf16_leaks(data: bytes) -> list[bytes]:
    return [s for s in SECRETS if s.decode().encode("utf-16-le").lower() in data.lower()]


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "funnel", *args], cwd=ROOT, env=env,
                          capture_output=True, timeout=300)


@pytest.fixture()
def private_env(tmp_path) -> dict[str, str]:
    """The command line's environment, with a temp folder of its own to inspect afterwards."""
    tmp = tmp_path / "process-tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("FUNNEL_PII_KEY", "FUNNEL_DB")}
    env.update({"TMPDIR": str(tmp), "PYTHONPATH": str(ROOT)})
    return env


def every_file(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.fixture()
def ingested(tmp_path, private_env):
    """The export ingested with the command line: (store, export file, what it printed)."""
    source = tmp_path / "input" / "crm_export.csv"
    source.parent.mkdir()
    source.write_text(export_text(), encoding="utf-8")
    db = tmp_path / "store" / "funnel.duckdb"
    printed = b""
    for extra in ([], ["--json"]):
        done = cli("ingest", str(source), "--db", str(db), "--as-of", "2026-11-30", *extra,
                   env=private_env)
        assert done.returncode == 0, done.stderr.decode()
        printed += done.stdout + done.stderr
    return db, source, printed


def test_the_ingest_loaded_rejected_and_printed_no_personal_data(ingested):
    db, _, printed = ingested
    con = store.connect(db, read_only=True)
    read, loaded, rejected = con.execute(
        "SELECT rows_read, rows_loaded, rows_rejected FROM uploads").fetchone()
    con.close()
    assert (read, loaded, rejected) == (205, 200, 5)
    assert leaks(printed) == []


def test_database_file_and_wal_hold_no_personal_data(tmp_path, monkeypatch):
    db = tmp_path / "store" / "funnel.duckdb"
    source = tmp_path / "crm_export.csv"
    source.write_text(export_text(), encoding="utf-8")
    monkeypatch.delenv("FUNNEL_PII_KEY", raising=False)
    monkeypatch.setattr(upload, "checkpoint", lambda con: None)  # keep the changes in the WAL
    con = store.connect(db)
    try:
        result = ingest_file(con, source, IngestOptions(), db_path=db)
        assert result.loaded == 200
        wal = Path(str(db) + ".wal")
        assert wal.exists() and wal.stat().st_size > 20_000  # the upload is in the WAL...
        assert b"Trade show" in wal.read_bytes()  # ...its values readable there
        assert leaks(wal.read_bytes()) == [] and utf16_leaks(wal.read_bytes()) == []
        assert leaks(db.read_bytes()) == []
    finally:
        con.close()  # folds the WAL into the file
    data = db.read_bytes()
    assert len(data) > 100_000 and leaks(data) == [] and utf16_leaks(data) == []


def test_exports_hold_no_personal_data(ingested, tmp_path, private_env):
    db, _, _ = ingested
    outputs: dict[str, bytes] = {}
    for fmt in ("json", "md", "html"):
        done = cli("report", "--db", str(db), "--format", fmt, env=private_env)
        assert done.returncode == 0, done.stderr.decode()
        outputs[f"report.{fmt}"] = done.stdout + done.stderr
    for fmt in ("md", "html", "json"):
        out = tmp_path / "exports" / f"weekly.{fmt}"
        out.parent.mkdir(exist_ok=True)
        done = cli("weekly", "--db", str(db), "--format", fmt, "--out", str(out), env=private_env)
        assert done.returncode == 0, done.stderr.decode()
        outputs[f"weekly.{fmt}"] = out.read_bytes() + done.stdout + done.stderr
    csv_dir = tmp_path / "exports" / "weekly-csv"
    done = cli("weekly", "--db", str(db), "--format", "csv", "--out", str(csv_dir),
               env=private_env)
    assert done.returncode == 0, done.stderr.decode()
    csv_files = every_file(csv_dir)
    assert csv_files
    for path in csv_files:
        outputs[path.name] = path.read_bytes()
    assert all(len(v) > 200 for k, v in outputs.items() if k.startswith("report")), outputs
    found = {name: leaks(data) for name, data in outputs.items() if leaks(data)}
    assert found == {}


def test_the_rejected_rows_csv_of_the_upload_page_holds_no_personal_data(ingested):
    from funnel.app import upload as app_upload

    db, _, _ = ingested
    con = store.connect(db, read_only=True)
    try:
        upload_id = con.execute("SELECT max(upload_id) FROM uploads").fetchone()[0]
        rows = app_upload.rejected_rows(con, upload_id)
    finally:
        con.close()
    assert len(rows) == 5
    data = app_upload.rejected_csv(rows)
    assert b"[redacted]" in data and b"2026-02-31" in data
    assert leaks(data) == []


def test_only_the_raw_uploads_folder_holds_personal_data_and_it_is_private(ingested, tmp_path,
                                                                           private_env):
    db, source, _ = ingested
    root = raw_uploads.folder(db)
    kept = [p for p in root.iterdir() if raw_uploads.SHA256.fullmatch(p.name)]
    assert [p.read_bytes() for p in kept] == [source.read_bytes()]  # by design, in clear
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in every_file(root))
    elsewhere = [p for p in every_file(tmp_path)
                 if p != source and root not in p.parents and leaks(p.read_bytes())]
    assert elsewhere == []
    assert every_file(Path(private_env["TMPDIR"])) == []  # nothing left in the temp folder


def test_with_keep_raw_off_no_file_holds_personal_data(tmp_path, private_env):
    source = tmp_path / "input" / "crm_export.csv"
    source.parent.mkdir()
    source.write_text(export_text(), encoding="utf-8")
    db = tmp_path / "store" / "funnel.duckdb"
    env = {**private_env, "FUNNEL_KEEP_RAW": "0"}
    done = cli("ingest", str(source), "--db", str(db), env=env)
    assert done.returncode == 0, done.stderr.decode()
    done = cli("report", "--db", str(db), "--format", "html", env=env)
    assert done.returncode == 0
    files = [p for p in every_file(tmp_path) if p != source]
    assert any(p == db for p in files)
    assert {str(p): leaks(p.read_bytes()) for p in files if leaks(p.read_bytes())} == {}


def test_personal_data_in_a_free_text_column_of_a_rejected_row(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    source = tmp_path / "notes.csv"
    source.write_text("id,Lead Source,Created Date,Notes\n"
                      "1,Web,2026-02-31,call zeb.quackenbush@example.org\n"
                      "2,Web,2026-02-28,\n", encoding="utf-8")
    monkeypatch.delenv("FUNNEL_PII_KEY", raising=False)
    con = store.connect(db)
    ingest_file(con, source, IngestOptions(), db_path=db)
    con.close()
    assert leaks(db.read_bytes()) == []
