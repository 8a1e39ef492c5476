"""A backup archive: its format (``.tar.gz`` holding the store, its key, the raw uploads and
``backup.json``), the tables it counts, and reading one back: unpacked and checked against
its sha256 and row counts."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
from pathlib import Path

from funnel.store import address, raw_uploads
from funnel.store import connection as store

FORMAT = "funnel-backup-1"


MEMBER_DB = "store.duckdb"


MEMBER_KEY = "store.duckdb.key"


MEMBER_META = "backup.json"


MEMBER_UPLOADS = "uploads/"


# the tables a backup counts (an older store has only some of them)
COUNTED_TABLES = (
    "cell_warnings", "channel_map", "channel_spend", "channels", "decisions", "forecasts",
    "lead_events", "leads", "lost_reason_map", "rejected_rows", "schema_version", "stage_map",
    "stages", "store_settings", "uploads",
)


class BackupError(Exception):
    """A backup, restore or rebuild that cannot be done; the message says why and what to do."""


# ---------------------------------------------------------------------------- backup


def table_counts(con) -> dict[str, int]:
    """Rows in each of the store's tables."""

    present = [n for (n,) in store.fetch_all(con, "backup/existing_tables",
                                               {"names": list(COUNTED_TABLES)})]
    return {
        name: int(store.fetch_one(con, "backup/table_counts", {"table_name": name})[0])
        for name in present
    }


class _Hashing:
    """A file wrapper that hashes what is read through it."""

    def __init__(self, handle, digest) -> None:
        self._handle, self._digest = handle, digest

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._digest.update(data)
        return data


def busy(db: Path) -> BackupError:
    return BackupError(
        f"{db} is open for writing in another process (the dashboard or an ingest), and DuckDB "
        "lets one process at a time hold it. Stop the dashboard or let the ingest finish, then "
        "run this again."
    )


def refuse_lake(command: str, *stores: object) -> None:
    """``backup``, ``restore`` and ``rebuild`` read and write DuckDB files: for a lake store
    (issue 19) a BackupError says what does the job instead."""
    lakes = [str(s) for s in stores if s is not None and address.is_lake(s)]
    if not lakes:
        return
    lake = lakes[0]
    where = address.parse_lake(lake)
    copy = f"python -m funnel migrate --from '{lake}' --to funnel-copy.duckdb"
    why = {
        "backup": (
            f"{lake} is a lake store: its catalog is {where.catalog!r} and its rows are Parquet "
            f"files in {where.data_path}. Back up both where they live (pg_dump of the catalog "
            "database, a snapshot of the folder or bucket, with its .key beside it), or copy "
            f"the lake into a file ({copy}) and back up that file "
            "(python -m funnel backup --db funnel-copy.duckdb --out ...)"),
        "restore": (
            "restore writes a DuckDB file, not a lake: restore into a new file (--db "
            f"restored.duckdb), then copy it into a new lake (python -m funnel migrate --from "
            f"restored.duckdb --to '{lake}')"),
        "rebuild": (
            "rebuild reads an old DuckDB file and ingests its kept uploads into a new file, not "
            f"a lake: for a lake, copy it into a file first ({copy}), rebuild from that, and "
            "migrate the rebuilt file into a new lake"),
    }[command]
    raise BackupError(why)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---------------------------------------------------------------------------- reading archives


def unpack(archive: Path, dest: Path) -> dict:
    """Extract a backup's known members into ``dest`` (nothing else is ever written); check the
    format and the store's sha256; returns backup.json."""

    meta = None
    digest = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = member.name
                if not member.isfile():
                    raise BackupError(f"{archive}: unexpected entry {name!r}; not a Funnel backup")
                if name == MEMBER_META:
                    meta = json.loads(tar.extractfile(member).read(1 << 20))
                    continue
                if name == MEMBER_DB:
                    target = dest / MEMBER_DB
                elif name == MEMBER_KEY:
                    target = dest / MEMBER_KEY
                elif name.startswith(MEMBER_UPLOADS) and (
                    raw_uploads.SHA256.fullmatch(name[len(MEMBER_UPLOADS):])
                    or name == MEMBER_UPLOADS + "manifest.jsonl"
                ):
                    (dest / "uploads").mkdir(mode=0o700, exist_ok=True)
                    target = dest / "uploads" / name[len(MEMBER_UPLOADS):]
                else:
                    raise BackupError(f"{archive}: unexpected entry {name!r}; not a Funnel backup")
                sha = _copy_out(tar.extractfile(member), target)
                if name == MEMBER_DB:
                    digest = sha
                elif target.parent.name == "uploads" and target.name != "manifest.jsonl" \
                        and sha != target.name:
                    # a raw upload is named by its sha256: one that is not was tampered with
                    raise BackupError(
                        f"{archive}: the kept upload {target.name[:12]}... does not match its "
                        "sha256 name; the backup is damaged or was altered"
                    )
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise BackupError(f"{archive} is not a readable Funnel backup: {first_line(exc)}") from exc
    if not meta or meta.get("format") != FORMAT:
        raise BackupError(f"{archive} is not a Funnel backup (no {MEMBER_META} of {FORMAT})")
    if digest is None or digest != meta.get("sha256"):
        raise BackupError(f"{archive}: the store inside does not match its sha256; it is damaged")
    return meta


def _copy_out(source, target: Path) -> str:
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _check_counts(db: Path, meta: dict, archive: Path) -> None:
    """Open the unpacked store read-only and compare its row counts with backup.json."""
    import duckdb


    try:
        con = store.connect(db, read_only=True, upgrade=False)  # as backed up
    except (duckdb.Error, RuntimeError) as exc:
        raise BackupError(
            f"{archive}: the store inside cannot be opened: {first_line(exc)}"
        ) from exc
    try:
        counts = table_counts(con)
    finally:
        con.close()
    if counts != meta.get("counts"):
        raise BackupError(f"{archive}: row counts differ from backup.json ({counts})")


def verify_archive(archive: Path) -> dict:
    """Unpack a backup into a temp folder, check its sha256 and row counts; its backup.json."""
    with tempfile.TemporaryDirectory(prefix="funnel-verify-", dir=Path(archive).parent) as tmp:
        meta = unpack(Path(archive), Path(tmp))
        _check_counts(Path(tmp) / MEMBER_DB, meta, Path(archive))
    return meta
