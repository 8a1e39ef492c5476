"""Issue 16, the ingest and store side: each finding reproduced first, then refused or mended.

Personal data through the id, free text naming people in rejected rows, files readable by other
accounts, clear-text copies left behind, a ``rowid`` header, millions of broken rows, an empty
key file, tampered raw uploads in a backup, and messages that said the wrong thing.
"""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import time
from pathlib import Path

import pytest

from funnel.errors import IngestError
from funnel.ingest import core
from funnel.ingest.core import IngestOptions
from funnel.ingest.spend import ingest_spend
from funnel.ingest.upload import ingest_file
from funnel.store import connection as store
from funnel.store import raw_uploads, temp_uploads


def ingest_text(con, db_path: Path, name: str, text: str, **options):
    path = db_path.parent / name
    path.write_text(text, encoding="utf-8", newline="")
    result = ingest_file(con, path, IngestOptions(**options), db_path=db_path)
    assert result.read == result.loaded + result.rejected + result.duplicate
    return result


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- 4. personal data through the id --------------------------------------------------------


def test_an_id_that_is_an_email_or_a_phone_is_hashed_like_one(con, db_path):
    # mapped as the id by the owner: each value is still an e-mail or a phone, never a CRM id
    result = ingest_text(
        con, db_path, "ids.csv",
        "Customer,Lead Source,Created Date\n"
        "ann.miller@example.com,Web,2026-03-02\n"
        "+1 (555) 010-4477,Referral,2026-03-03\n"
        "C-1042,Web,2026-03-04\n",
        mapping={"id": "Customer"},
    )
    assert result.loaded == 3
    rows = con.execute("SELECT crm_id, email_hash IS NOT NULL, phone_hash IS NOT NULL FROM leads "
                       "ORDER BY created_at").fetchall()
    assert rows == [(None, True, False), (None, False, True), ("C-1042", False, False)]
    con.execute("CHECKPOINT")
    data = db_path.read_bytes()
    assert b"ann.miller@example.com" not in data and b"010-4477" not in data


def test_a_deal_title_naming_a_person_is_redacted_in_rejected_rows(con, db_path):
    ingest_text(
        con, db_path, "deals.csv",
        "Deal - ID,Deal - Title,Deal - Status,Deal - Stage,Deal - Deal created\n"
        "1,Robert Miller - Office deep clean,open,Lead In,2026-02-31 10:00:00\n"
        "2,Acme - Boiler,open,Lead In,2026-03-01 10:00:00\n",
    )
    (raw,) = con.execute("SELECT raw_row FROM rejected_rows").fetchone()
    assert json.loads(raw)["Deal - Title"] == "[redacted]"
    assert "Robert Miller" not in raw


# --- 7. files readable by other accounts ---------------------------------------------------------


def test_the_store_its_key_and_its_folders_are_owner_only(con, db_path):
    ingest_text(con, db_path, "a.csv", "id,Lead Source,Created Date\n1,Web,2026-03-02\n")
    assert mode(db_path) == 0o600
    assert mode(Path(f"{db_path}.key")) == 0o600
    assert mode(raw_uploads.folder(db_path)) == 0o700
    # the write-ahead log and DuckDB's spill files are made as the process's umask says
    assert os.umask(0o077) == 0o077


def test_an_existing_store_open_to_others_is_tightened(tmp_path):
    db = tmp_path / "loose.duckdb"
    store.connect(db).close()
    db.chmod(0o644)
    store.connect(db).close()
    assert mode(db) == 0o600


# --- 5. clear-text copies left behind ---------------------------------------------------------


def test_an_upload_waits_in_a_private_folder_of_this_process(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(temp_uploads.tempfile, "tempdir", None)
    sha, path = temp_uploads.keep(b"id,Lead Source\n1,Web\n", "../../etc/leads.csv")
    assert path.parent.parent == temp_uploads.base() / str(os.getpid())
    assert path.name == "leads.csv"  # no path out of the folder
    assert mode(path) == 0o600 and mode(temp_uploads.base()) == 0o700
    temp_uploads.forget(path)
    assert not path.parent.exists()


def test_the_folders_of_processes_that_are_gone_are_swept(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(temp_uploads.tempfile, "tempdir", None)
    monkeypatch.setattr(temp_uploads, "_swept", False)
    dead = temp_uploads.base() / "999999999"  # no such process
    dead.mkdir(parents=True, mode=0o700)
    (dead / "left.csv").write_text("leads in clear")
    temp_uploads.keep(b"x", "a.csv")
    assert not dead.exists()


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another account needs root")
def test_a_temp_folder_another_account_owns_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(temp_uploads.tempfile, "tempdir", None)
    theirs = temp_uploads.base()
    theirs.mkdir(mode=0o777)
    os.chown(theirs, 12345, -1)
    with pytest.raises(temp_uploads.TempFolderError, match="belongs to another account"):
        temp_uploads.keep(b"x", "a.csv")


def test_bytes_a_killed_upload_left_are_swept_when_the_store_opens(con, db_path):
    ingest_text(con, db_path, "a.csv", "id,Lead Source,Created Date\n1,Web,2026-03-02\n")
    con.close()
    root = raw_uploads.folder(db_path)
    orphan = root / ("ab" * 32)  # kept, never committed (the process died before COMMIT)
    orphan.write_bytes(b"leads in clear")
    old = time.time() - 2 * raw_uploads.STALE_SECONDS
    os.utime(orphan, (old, old))
    store.connect(db_path).close()
    assert not orphan.exists()
    assert len([p for p in root.iterdir() if raw_uploads.SHA256.fullmatch(p.name)]) == 1


# --- 8. a header named rowid ---------------------------------------------------------------------


def test_a_rowid_header_is_a_column_like_any_other(con, db_path):
    result = ingest_text(con, db_path, "rowid.csv",
                         "id,ROWID,rowid,Lead Source,Created Date\n1,a,b,Web,2026-03-02\n")
    assert result.loaded == 1
    spend = db_path.parent / "spend.csv"
    spend.write_text("Channel,Week starting,Money spent,rowid\nReferral,2026-08-03,10,x\n")
    assert ingest_spend(con, spend).loaded == 1


# --- 10. millions of broken rows -----------------------------------------------------------------


def test_an_upload_keeps_a_bounded_number_of_rejects_and_counts_them_all(
    con, db_path, monkeypatch
):
    monkeypatch.setattr(core, "KEEP_ROWS", 50)
    rows = "".join(f"{i},Web,2026-02-31\n" for i in range(80)) + "99,Web,2026-03-01\n"
    result = ingest_text(con, db_path, "bad.csv", "id,Lead Source,Created Date\n" + rows)
    # 81 rows = 1 loaded + 80 rejected, all counted; the first 50 (rows 2-51) kept
    assert (result.read, result.loaded, result.rejected) == (81, 1, 80)
    kept = [r for (r,) in con.execute("SELECT row_number FROM rejected_rows ORDER BY 1").fetchall()]
    assert kept == list(range(2, 52))


# --- 11. the key file ---------------------------------------------------------------------------


def test_an_empty_key_file_is_refused(con, db_path):
    Path(f"{db_path}.key").write_text("")
    with pytest.raises(IngestError, match="holds no usable key"):
        ingest_text(con, db_path, "a.csv", "id,Lead Source,Created Date\n1,Web,2026-03-02\n")


# --- 12. raw uploads in a backup ----------------------------------------------------------------


def test_a_backup_whose_raw_upload_does_not_match_its_name_is_refused(con, db_path, tmp_path):
    from funnel.backup import restore
    from funnel.backup.archive import BackupError
    from funnel.backup.backup import backup_store

    ingest_text(con, db_path, "a.csv", "id,Lead Source,Created Date\n1,Web,2026-03-02\n")
    archive = tmp_path / "b.tar.gz"
    backup_store(con, db_path, archive, with_uploads=True)
    tampered = tmp_path / "t.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w:gz") as out:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.startswith("uploads/") and not member.name.endswith(".jsonl"):
                data = data.replace(b"Web", b"Wob")
                member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    with pytest.raises(BackupError, match="does not match its sha256 name"):
        restore.restore_store(tampered, tmp_path / "r" / "r.duckdb")


def test_a_backup_without_its_key_beside_another_key_warns(con, db_path, tmp_path):
    from funnel.backup import restore
    from funnel.backup.backup import backup_store

    ingest_text(con, db_path, "a.csv", "id,Lead Source,Created Date\n1,Web,2026-03-02\n")
    archive = tmp_path / "nokey.tar.gz"
    backup_store(con, db_path, archive, with_key=False)
    target = tmp_path / "r" / "r.duckdb"
    target.parent.mkdir()
    Path(f"{target}.key").write_text("ab" * 32)
    result = restore.restore_store(archive, target)
    assert "uses the key already beside it" in result["warning"]


# --- 13. messages that said the wrong thing ----------------------------------------------------


def test_twenty_thousand_columns_are_refused_for_what_they_are(con, db_path):
    header = ",".join(f"c{i}" for i in range(20_000))
    with pytest.raises(IngestError, match="has 20,000 columns"):
        ingest_text(con, db_path, "wide.csv", header + "\n" + header + "\n")


def test_a_33_mb_cell_is_refused_for_what_it_is(con, db_path):
    big = "x" * (33 * 1024 * 1024)
    with pytest.raises(IngestError, match="has a row of over 30 MB"):
        ingest_text(con, db_path, "big.csv", f"id,Lead Source,Created Date,Notes\n1,Web,"
                                             f"2026-03-02,{big}\n")


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-be"])
def test_utf32_text_is_read_as_utf32(con, db_path, codec):
    text = "id,Lead Source,Created Date\n1,Café Ünïcode,2026-03-02\n"
    data = text.encode(codec)
    if codec == "utf-32-be":
        data = b"\x00\x00\xfe\xff" + data
    path = db_path.parent / "u32.csv"
    path.write_bytes(data)
    result = ingest_file(con, path, IngestOptions(), db_path=db_path)
    assert result.loaded == 1 and not result.notes  # no NUL bytes "dropped": real UTF-32
    assert con.execute("SELECT channel_raw FROM leads").fetchone() == ("Café Ünïcode",)
