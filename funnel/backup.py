"""Backup, restore and rebuild of a store (issue 8): ``python -m funnel backup|restore|rebuild``.

- ``backup --db PATH --out FILE``: CHECKPOINT (the write-ahead log folded into the file), then,
  still holding the store open (so no other process can write it), copy the file into a
  ``.tar.gz`` with its PII key (``--no-key`` leaves it out), optionally the raw uploads
  (``--with-uploads``), and ``backup.json`` (row counts, sha256). The archive is read back and
  checked before the command says it is done.
- ``restore --from FILE --db PATH``: refuses an existing store unless ``--force`` (which keeps the
  replaced one as ``<db>.replaced-<time>``); checks the sha256 and the row counts first.
- ``rebuild --from OLD --db NEW``: ingests every upload of OLD again, in order, from the raw bytes
  kept in ``<OLD>.uploads`` with the mapping and settings OLD recorded; copies the owner's
  synonyms, spend and decision log. When OLD cannot be opened, its uploads come from
  ``<OLD>.uploads/manifest.jsonl``.

Heavy modules are imported inside the functions (the CLI builds this parser on every command).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

FORMAT = "funnel-backup-1"
MEMBER_DB = "store.duckdb"
MEMBER_KEY = "store.duckdb.key"
MEMBER_META = "backup.json"
MEMBER_UPLOADS = "uploads/"
DB_HELP = "store file (default $FUNNEL_DB or data/funnel.duckdb)"
# the tables a backup counts (an older store has only some of them)
COUNTED_TABLES = (
    "cell_warnings", "channel_map", "channel_spend", "channels", "decisions", "lead_events",
    "leads", "rejected_rows", "schema_version", "stage_map", "stages", "store_settings", "uploads",
)
OLD_TABLES = (
    "channels", "channel_map", "stage_map", "channel_spend", "decisions", "store_settings",
)


class BackupError(Exception):
    """A backup, restore or rebuild that cannot be done; the message says why and what to do."""


# ---------------------------------------------------------------------------- backup


def table_counts(con) -> dict[str, int]:
    """Rows in each of the store's tables."""
    from funnel import store

    present = [n for (n,) in store.fetch_all(con, "backup/existing_tables",
                                               {"names": list(COUNTED_TABLES)})]
    return {
        name: int(store.fetch_one(con, "backup/table_counts", {"table_name": name})[0])
        for name in present
    }


def backup_store(
    con, db_path: Path, out: Path, *, with_key: bool = True, with_uploads: bool = False,
    force: bool = False,
) -> dict:
    """Write a consistent copy of the store behind ``con`` (open on ``db_path``) to ``out``.

    ``con`` must be the only writer: in the CLI it is the process's own connection (DuckDB lets
    no other process write while it is open); in the dashboard it would be the writer cursor.
    """
    import duckdb

    from funnel import pii, raw_uploads, store

    db_path, out = Path(db_path).absolute(), Path(out).absolute()
    if out.exists() and not force:
        raise BackupError(f"{out} exists; choose another --out or add --force to replace it")
    if out == db_path:
        raise BackupError("--out is the store itself; choose another file")
    try:
        store.run(con, "backup/checkpoint")
    except duckdb.Error as exc:
        raise BackupError(
            f"{db_path} could not be checkpointed ({_first_line(exc)}): another session is "
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


class _Hashing:
    """A file wrapper that hashes what is read through it."""

    def __init__(self, handle, digest) -> None:
        self._handle, self._digest = handle, digest

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._digest.update(data)
        return data


# ---------------------------------------------------------------------------- reading archives


def _unpack(archive: Path, dest: Path) -> dict:
    """Extract a backup's known members into ``dest`` (nothing else is ever written); check the
    format and the store's sha256; returns backup.json."""
    from funnel import raw_uploads

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
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise BackupError(f"{archive} is not a readable Funnel backup: {_first_line(exc)}") from exc
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

    from funnel import store

    try:
        con = store.connect(db, read_only=True, upgrade=False)  # as backed up
    except (duckdb.Error, RuntimeError) as exc:
        raise BackupError(
            f"{archive}: the store inside cannot be opened: {_first_line(exc)}"
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
        meta = _unpack(Path(archive), Path(tmp))
        _check_counts(Path(tmp) / MEMBER_DB, meta, Path(archive))
    return meta


# ---------------------------------------------------------------------------- restore


def restore_store(archive: Path, db_path: Path, *, force: bool = False) -> dict:
    """Put the store of ``archive`` at ``db_path``; an existing store only with ``force`` (it
    is moved aside, never deleted). Returns backup.json plus where things went."""
    from funnel import pii, raw_uploads, store

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
        meta = _unpack(archive, tmp)
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

    from funnel import store

    try:
        store.connect(db_path, read_only=True).close()
    except store.StoreBusyError as exc:
        raise _busy(db_path) from exc
    except (duckdb.Error, RuntimeError):
        pass  # a damaged store is what a restore replaces


# ---------------------------------------------------------------------------- rebuild


def rebuild_store(
    new_db: Path, old_db: Path, *, skip_missing: bool = False, echo=print
) -> dict:
    """Ingest every upload of ``old_db`` again into a new store at ``new_db`` from the raw
    bytes kept beside ``old_db``, in upload order, with the mapping and settings recorded."""
    from funnel import pii, raw_uploads, store
    from funnel.ingest import upload_records

    new_db, old_db = Path(new_db).absolute(), Path(old_db).absolute()
    if new_db.exists() or Path(str(new_db) + ".wal").exists():
        raise BackupError(f"{new_db} exists; rebuild writes a new store: choose another --db")
    if new_db == old_db:
        raise BackupError("--db and --from are the same store")
    old_root = raw_uploads.folder(old_db)
    records, tables, origin = _old_uploads(old_db, old_root, echo)
    missing = [r for r in records if not (old_root / r["sha256"]).is_file()]
    if missing and not skip_missing:
        names = ", ".join(f"upload {r['upload_id']} ({r['file_name']})" for r in missing[:5])
        raise BackupError(
            f"{len(missing)} of {len(records)} uploads have no raw bytes in {old_root}: {names}"
            f"{' ...' if len(missing) > 5 else ''}. They were ingested with FUNNEL_KEEP_RAW=0 or "
            "before raw bytes were kept. Add --skip-missing to rebuild without them."
        )
    _copy_key(old_db, new_db)
    con = store.connect(new_db)
    differences: list[str] = []
    try:
        if tables:
            _copy_old_tables(con, tables)
        for rec in records:
            if rec in missing:
                echo(f"  skipped upload {rec['upload_id']} ({rec['file_name']}): no raw bytes")
                continue
            differences += _replay(con, new_db, old_root, rec, echo)
        raw_uploads.write_manifest(raw_uploads.folder(new_db), upload_records(con))
        counts = table_counts(con)
    finally:
        con.close()
    return {
        "origin": origin,
        "uploads": len(records) - len(missing),
        "skipped": len(missing),
        "differences": differences,
        "counts": counts,
        "key": str(pii.key_path(new_db)),
    }


def _old_uploads(old_db: Path, old_root: Path, echo) -> tuple[list[dict], dict, str]:
    """(upload records, the owner's tables as Arrow, where they came from)."""
    import duckdb

    from funnel import raw_uploads, store
    from funnel.ingest import upload_records

    reason = None
    if old_db.exists():
        try:
            old = store.connect(old_db, read_only=True)
        except store.StoreBusyError as exc:
            raise _busy(old_db) from exc
        except (duckdb.Error, RuntimeError) as exc:
            reason = _first_line(exc)
        else:
            try:
                records = upload_records(old)
                tables = {}
                for name in OLD_TABLES:
                    try:
                        tables[name] = old.table(name).to_arrow_table()
                    except duckdb.CatalogException:  # an older schema without it
                        continue
            finally:
                old.close()
            return records, tables, str(old_db)
    else:
        reason = "it does not exist"
    manifest = old_root / raw_uploads.MANIFEST
    if not manifest.is_file():
        raise BackupError(f"{old_db} cannot be opened ({reason}) and {manifest} does not exist")
    echo(
        f"{old_db} cannot be opened ({reason}): rebuilding from {manifest}; the owner's "
        "synonyms, spend and decision log are not in it."
    )
    return raw_uploads.read_manifest(old_root), {}, str(manifest)


def _copy_key(old_db: Path, new_db: Path) -> None:
    """The new store hashes e-mails and phones with the old store's key, so they still match."""
    from funnel import pii

    if os.environ.get("FUNNEL_PII_KEY"):
        return
    old_key, new_key = pii.key_path(old_db), pii.key_path(new_db)
    if not old_key.is_file():
        raise BackupError(
            f"{old_key} is missing: without the old store's key the rebuilt store's e-mail and "
            "phone hashes (and the leads matched by them) would differ. Put it back, or set "
            "FUNNEL_PII_KEY to the key the old store used."
        )
    if new_key.exists():
        if new_key.read_bytes() != old_key.read_bytes():
            raise BackupError(f"{new_key} exists and differs from {old_key}; move it away")
        return
    new_key.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(new_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(old_key.read_bytes())


def _copy_old_tables(con, tables: dict) -> None:
    from funnel import store

    for name in OLD_TABLES:
        if name not in tables:  # the old schema had no such table: an empty one of the new
            tables[name] = con.table(name).limit(0).to_arrow_table()
        con.register(f"old_{name}", tables[name])
    con.execute("BEGIN TRANSACTION")
    try:
        store.run(con, "backup/copy_settings")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in OLD_TABLES:
            con.unregister(f"old_{name}")
    last = int(store.fetch_one(con, "backup/max_decision_id")[0])
    if last:
        store.run(con, "backup/advance_decision_ids", {"last": last})


def _replay(con, new_db: Path, old_root: Path, rec: dict, echo) -> list[str]:
    """Ingest one recorded upload again; the ways its counts differ from the original's."""
    from funnel import store
    from funnel.ingest import IngestOptions, ingest_file
    from funnel.mapping import FIELDS

    mapping = rec.get("mapping") or {}
    settings = rec.get("settings") or {}
    as_of = rec.get("as_of") or settings.get("as_of")
    options = IngestOptions(
        # the mapping as recorded, field by field: a field it did not map stays unmapped
        mapping={f: mapping.get(f, "") for f in FIELDS},
        constants=dict(settings.get("set") or {}),
        as_of=dt.date.fromisoformat(str(as_of)[:10]) if as_of else None,
        no_means_open=bool(settings.get("no_means_open")),
    )
    result = ingest_file(
        con, old_root / rec["sha256"], options, db_path=new_db, file_name=rec["file_name"],
        must_load=False,
    )
    store.run(
        con,
        "backup/keep_upload_identity",
        {
            "upload_id": result.upload_id,
            "options_hash": rec["options_hash"],
            "ingested_at": str(rec["ingested_at"]),
        },
    )
    counts = (result.read, result.loaded, result.rejected, result.duplicate)
    before = tuple(int(rec.get(k) or 0) for k in (
        "rows_read", "rows_loaded", "rows_rejected", "rows_duplicate"))
    echo(
        f"  upload {rec['upload_id']} ({rec['file_name']}): read {counts[0]:,} = loaded "
        f"{counts[1]:,} + rejected {counts[2]:,} + duplicate {counts[3]:,}"
    )
    if counts != before:
        return [f"upload {rec['upload_id']} ({rec['file_name']}): {before} then, {counts} now"]
    return []


# ---------------------------------------------------------------------------- command line


def add_backup_parsers(sub) -> None:
    """Add ``backup``, ``restore`` and ``rebuild`` to ``funnel.cli``'s subparsers."""
    bak = sub.add_parser("backup", help="a consistent copy of the store in one .tar.gz file")
    bak.add_argument("--db", type=Path, help=DB_HELP)
    bak.add_argument("--out", type=Path, required=True, metavar="FILE",
                     help="the backup to write, e.g. funnel-2026-11-23.tar.gz")
    bak.add_argument("--no-key", action="store_true",
                     help="leave the PII key out (keep <db>.key safe elsewhere)")
    bak.add_argument("--with-uploads", action="store_true",
                     help="add the raw uploads (they hold names, e-mails and phones in clear)")
    bak.add_argument("--force", action="store_true", help="replace an existing --out file")

    res = sub.add_parser("restore", help="put a backup back as a store")
    res.add_argument("--from", dest="source", type=Path, required=True, metavar="FILE")
    res.add_argument("--db", type=Path, help=DB_HELP)
    res.add_argument("--force", action="store_true",
                     help="replace an existing store (it is kept as <db>.replaced-<time>)")

    reb = sub.add_parser("rebuild", help="a new store from the raw uploads kept beside an old one")
    reb.add_argument("--from", dest="source", type=Path, required=True, metavar="OLD",
                     help="the old store file (its raw uploads are in OLD.uploads)")
    reb.add_argument("--db", type=Path, required=True, metavar="NEW", help="the new store file")
    reb.add_argument("--skip-missing", action="store_true",
                     help="rebuild even if some uploads' raw bytes were not kept")


def run_command(args: argparse.Namespace) -> int:
    """Run backup / restore / rebuild; 0 done, 1 not done (the message says why)."""
    try:
        if args.command == "backup":
            return _backup(args)
        if args.command == "restore":
            return _restore(args)
        return _rebuild(args)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _backup(args) -> int:
    from funnel import store

    db = Path(args.db or store.default_db_path())
    if not db.exists():
        raise BackupError(f"{db} does not exist; nothing to back up")
    try:
        con = store.connect(db)
    except store.StoreBusyError as exc:
        raise _busy(db) from exc
    try:
        meta = backup_store(con, db, args.out, with_key=not args.no_key,
                            with_uploads=args.with_uploads, force=args.force)
    finally:
        con.close()
    counts = meta["counts"]
    print(f"backup of {db} written to {args.out} ({meta['bytes'] / 1048576:,.1f} MB), checked: "
          f"{counts['uploads']:,} uploads, {counts['leads']:,} leads, "
          f"{counts['lead_events']:,} events")
    if meta["key_included"]:
        print("  it holds the PII key: keep the file as private as the store (mode 0600)")
    elif meta.get("key_note"):
        print(f"  {meta['key_note']}")
    if meta["uploads_included"]:
        print("  it holds the raw uploads: names, e-mails and phones in clear")
    return 0


def _restore(args) -> int:
    from funnel import store

    db = Path(args.db or store.default_db_path())
    meta = restore_store(args.source, db, force=args.force)
    counts = meta["counts"]
    print(f"restored {args.source} (backup of {meta['created_at']}) to {db}: "
          f"{counts['uploads']:,} uploads, {counts['leads']:,} leads, "
          f"{counts['lead_events']:,} events")
    if meta.get("replaced"):
        print(f"  the store it replaced is kept as {meta['replaced']}")
    if meta.get("warning"):
        print(f"  warning: {meta['warning']}")
    return 0


def _rebuild(args) -> int:
    result = rebuild_store(args.db, args.source, skip_missing=args.skip_missing)
    counts = result["counts"]
    print(f"rebuilt {args.db} from {result['origin']}: {result['uploads']:,} uploads ingested "
          f"again ({result['skipped']:,} skipped), {counts['leads']:,} leads, "
          f"{counts['lead_events']:,} events")
    for line in result["differences"]:
        print(f"  differs: {line}")
    return 1 if result["differences"] else 0


def _busy(db: Path) -> BackupError:
    return BackupError(
        f"{db} is open for writing in another process (the dashboard or an ingest), and DuckDB "
        "lets one process at a time hold it. Stop the dashboard or let the ingest finish, then "
        "run this again."
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
