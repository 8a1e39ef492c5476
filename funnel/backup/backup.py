"""Backup of a store (issue 8): CHECKPOINT (the write-ahead log folded into the file), then,
still holding the store open (so no other process can write it), copy the file into a
``.tar.gz`` with its PII key (unless left out), optionally the raw uploads, and ``backup.json``
(row counts, sha256). The archive is read back and checked before it is called done."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import tarfile
import time
from pathlib import Path

from funnel.backup.archive import (
    FORMAT,
    MEMBER_DB,
    MEMBER_KEY,
    MEMBER_META,
    MEMBER_UPLOADS,
    BackupError,
    _Hashing,
    first_line,
    table_counts,
    verify_archive,
)
from funnel.store import connection as store
from funnel.store import pii, raw_uploads


def backup_store(
    con, db_path: Path, out: Path, *, with_key: bool = True, with_uploads: bool = False,
    force: bool = False,
) -> dict:
    """Write a consistent copy of the store behind ``con`` (open on ``db_path``) to ``out``.

    ``con`` must be the only writer: in the CLI it is the process's own connection (DuckDB lets
    no other process write while it is open); in the dashboard it would be the writer cursor.
    """
    import duckdb


    db_path, out = Path(db_path).absolute(), Path(out).absolute()
    if out.exists() and not force:
        raise BackupError(f"{out} exists; choose another --out or add --force to replace it")
    if out == db_path:
        raise BackupError("--out is the store itself; choose another file")
    try:
        store.run(con, "backup/checkpoint")
    except duckdb.Error as exc:
        raise BackupError(
            f"{db_path} could not be checkpointed ({first_line(exc)}): another session is "
            "reading or writing it. Try again in a moment."
        ) from exc
    wal = Path(str(db_path) + ".wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise BackupError(f"{wal} is not empty after CHECKPOINT; try again in a moment")
    meta = {
        "format": FORMAT,
        "created_at": dt.datetime.now().isoformat(timespec="seconds"),
        "source": str(db_path),
        "schema_version": store.schema_version(con),
        "counts": table_counts(con),
        "key_included": False,
        "uploads_included": False,
    }
    key = pii.key_path(db_path)
    if with_key and os.environ.get("FUNNEL_PII_KEY"):
        meta["key_note"] = "the key came from $FUNNEL_PII_KEY: keep it, it is not in the backup"
    raw_root = raw_uploads.folder(db_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f".{out.name}.{os.getpid()}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(
            fileobj=raw, mode="w:gz", compresslevel=1
        ) as tar:
            meta["sha256"] = _add_file(tar, db_path, MEMBER_DB)
            if with_key and key.is_file() and not os.environ.get("FUNNEL_PII_KEY"):
                _add_file(tar, key, MEMBER_KEY)
                meta["key_included"] = True
            if with_uploads and raw_root.is_dir():
                for path in sorted(raw_root.iterdir()):
                    if path.is_file() and (
                        raw_uploads.SHA256.fullmatch(path.name) or path.name == "manifest.jsonl"
                    ):
                        _add_file(tar, path, MEMBER_UPLOADS + path.name)
                meta["uploads_included"] = True
            _add_bytes(tar, MEMBER_META, json.dumps(meta, indent=2).encode("utf-8"))
            tar.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(part, out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    verify_archive(out)
    meta["bytes"] = out.stat().st_size
    return meta


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> str:
    """Add ``path`` as ``name`` (mode 0600); returns its sha256, computed while it is read."""
    info = tarfile.TarInfo(name)
    info.size = path.stat().st_size
    info.mode = 0o600
    info.mtime = int(path.stat().st_mtime)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        tar.addfile(info, _Hashing(handle, digest))
    return digest.hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))
