"""Rebuild of a store: every upload of the old store ingested again, in order, from the raw
bytes kept in ``<old>.uploads`` with the mapping and settings it recorded; the owner's
synonyms, spend and decision log copied. When the old store cannot be opened, its uploads
come from ``<old>.uploads/manifest.jsonl``. It replays ingest, so it sits above it."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from funnel.backup.archive import (
    BackupError,
    busy,
    first_line,
    table_counts,
)
from funnel.ingest.core import IngestOptions, upload_records
from funnel.ingest.mapping import FIELDS
from funnel.ingest.upload import ingest_file
from funnel.store import connection as store
from funnel.store import pii, raw_uploads

OLD_TABLES = (
    "channels", "channel_map", "stage_map", "channel_spend", "decisions", "store_settings",
    "lost_reason_map", "forecasts",
)


# ---------------------------------------------------------------------------- rebuild


def rebuild_store(
    new_db: Path, old_db: Path, *, skip_missing: bool = False, echo=print
) -> dict:
    """Ingest every upload of ``old_db`` again into a new store at ``new_db`` from the raw
    bytes kept beside ``old_db``, in upload order, with the mapping and settings recorded."""

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


    reason = None
    if old_db.exists():
        try:
            old = store.connect(old_db, read_only=True)
        except store.StoreBusyError as exc:
            raise busy(old_db) from exc
        except (duckdb.Error, RuntimeError) as exc:
            reason = first_line(exc)
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

    for name in OLD_TABLES:
        if name not in tables:  # the old schema had no such table: an empty one of the new
            tables[name] = con.table(name).limit(0).to_arrow_table()
        con.register(f"old_{name}", tables[name])
    try:
        with store.transaction(con):
            store.run(con, "backup/copy_settings")
    finally:
        for name in OLD_TABLES:
            con.unregister(f"old_{name}")
    last = int(store.fetch_one(con, "backup/max_decision_id")[0])
    if last:
        store.run(con, "backup/advance_decision_ids", {"last": last})


def _replay(con, new_db: Path, old_root: Path, rec: dict, echo) -> list[str]:
    """Ingest one recorded upload again; the ways its counts differ from the original's."""

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
