"""Restore of a backup: refuses an existing store unless forced (the replaced one is kept as
``<db>.replaced-<time>``); checks the archive's sha256 and row counts first."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from funnel.backup.archive import (
    MEMBER_DB,
    MEMBER_KEY,
    BackupError,
    _check_counts,
    busy,
    table_counts,
    unpack,
)
from funnel.store import connection as store
from funnel.store import pii, raw_uploads

# ---------------------------------------------------------------------------- restore


def restore_store(archive: Path, db_path: Path, *, force: bool = False) -> dict:
    """Put the store of ``archive`` at ``db_path``; an existing store only with ``force`` (it
    is moved aside, never deleted). Returns backup.json plus where things went."""

    archive, db_path = Path(archive).absolute(), Path(db_path).absolute()
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist")
    wal = Path(str(db_path) + ".wal")
    exists = db_path.exists() or wal.exists()
    if exists and not force:
        raise BackupError(
            f"{db_path} exists; restore refuses to overwrite a store. Restore to another --db, "
            "or add --force (the current store is kept as <db>.replaced-<time>)."
        )
    if db_path.exists():
        _refuse_if_busy(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{db_path.name}.restore-", dir=db_path.parent))
    result: dict = {}
    try:
        meta = unpack(archive, tmp)
        if int(meta.get("schema_version") or 0) > store.SCHEMA_VERSION:
            raise BackupError(
                f"{archive} was written by a newer Funnel (schema {meta['schema_version']} > "
                f"{store.SCHEMA_VERSION}); upgrade Funnel to restore it"
            )
        _check_counts(tmp / MEMBER_DB, meta, archive)
        key, uploads = pii.key_path(db_path), raw_uploads.folder(db_path)
        new_key, new_uploads = tmp / MEMBER_KEY, tmp / "uploads"
        if (new_key.exists() and key.exists() and not exists
                and key.read_bytes() != new_key.read_bytes()):
            raise BackupError(f"{key} exists and differs from the backup's key; move it away")
        if exists:
            aside = db_path.with_name(f"{db_path.name}.replaced-{time.strftime('%Y%m%d-%H%M%S')}")
            moves = [(db_path, aside), (wal, Path(str(aside) + ".wal"))]
            if new_key.exists():
                moves.append((key, pii.key_path(aside)))
            if new_uploads.exists():
                moves.append((uploads, raw_uploads.folder(aside)))
            for src, dst in moves:
                if src.exists():
                    os.replace(src, dst)
            result["replaced"] = str(aside)
        os.replace(tmp / MEMBER_DB, db_path)
        if new_key.exists():
            os.replace(new_key, key)
        elif not key.exists() and not os.environ.get("FUNNEL_PII_KEY"):
            result["warning"] = (
                f"the backup holds no PII key: put the original store's key at {key} (or set "
                "FUNNEL_PII_KEY), or e-mails and phones of new uploads will not match stored leads"
            )
        else:  # a key is already there (or in the environment): it may not be the store's
            result["warning"] = (
                "the backup holds no PII key, so the store uses the key already beside it "
                f"({'FUNNEL_PII_KEY' if os.environ.get('FUNNEL_PII_KEY') else key}): if that is "
                "not the key the store was made with, e-mails and phones of new uploads will not "
                "match stored leads"
            )
        if new_uploads.exists() and not uploads.exists():
            os.replace(new_uploads, uploads)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    con = store.connect(db_path)  # migrates a backup of an older schema
    try:
        result["counts"] = table_counts(con)
    finally:
        con.close()
    return {**meta, **result}


def _refuse_if_busy(db_path: Path) -> None:
    """Fail at once when the dashboard or an ingest holds the store open."""
    import duckdb


    try:
        store.connect(db_path, read_only=True).close()
    except store.StoreBusyError as exc:
        raise busy(db_path) from exc
    except (duckdb.Error, RuntimeError):
        pass  # a damaged store is what a restore replaces
