"""A store's rows copied into another store (``python -m funnel migrate``, issue 19): a DuckDB
file to a lake (``ducklake:...``) and back, with every table's rows counted on both sides.

A lake needs duckdb 1.4.x (requirements-lake.txt), and duckdb 1.4.x cannot open a file written
by duckdb 2.x. Between the two lines the store travels as a **folder of Parquet files** (one
per table, ``funnel-store.json`` with the schema version and the counts, the PII key): write
it with the main environment, read it with the lake's, or the other way round.

The PII key goes with the rows (e-mails and phones are stored as keyed hashes: a store whose
key differs could not match them again), and so do the kept raw uploads (``rebuild`` and a
re-ingest with other options read them).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from funnel.backup.archive import BackupError
from funnel.store import address, pii, raw_uploads
from funnel.store import connection as store

FOLDER_META = "funnel-store.json"
FOLDER_KEY = "store.key"
FOLDER_UPLOADS = "uploads"
FORMAT = "funnel-store-folder-1"
# a new store is seeded with these (the defaults): the copy replaces them with the source's
SEEDED = ("channels", "channel_map", "stages", "stage_map", "schema_version", "store_settings",
          "store_revision")


def is_folder(where: str) -> bool:
    """Whether ``where`` names a Parquet folder: an existing folder or a path ending in '/'."""
    return not address.is_lake(where) and (where.endswith(("/", os.sep)) or Path(where).is_dir())


def _arrow(relation):
    """A relation's rows as a pyarrow Table (named to_arrow_table from duckdb 2.0 on)."""
    to_table = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return to_table()


# --- reading ----------------------------------------------------------------------------------

def _read_store(source: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The source's tables as pyarrow Tables, and their row counts."""
    if is_folder(source):
        return _read_folder(Path(source))
    if not address.is_lake(source) and not Path(source).is_file():
        raise BackupError(f"{source} does not exist; nothing to migrate")
    try:
        con = store.connect(source, read_only=True)
    except store.StoreBusyError as exc:
        raise BackupError(f"{exc}") from exc
    except Exception as exc:
        if "newer version of DuckDB" in str(exc) or "version number" in str(exc):
            raise BackupError(
                f"{source} was written by a newer duckdb than this one ({_duckdb_version()}): "
                "migrate it to a Parquet folder with the environment that wrote it "
                f"(python -m funnel migrate --from {source} --to FOLDER/), then from that "
                "folder here") from exc
        raise
    try:
        version = store.schema_version(con)
        if version != store.SCHEMA_VERSION:
            raise BackupError(
                f"{source} has schema {version}, this Funnel writes schema "
                f"{store.SCHEMA_VERSION}: migrate it with the Funnel that wrote it")
        names = [n for (n,) in store.fetch_all(con, "lake/store_tables")]
        tables = {name: _arrow(con.table(name)) for name in names}
    finally:
        con.close()
    return tables, {name: t.num_rows for name, t in tables.items()}


def _read_folder(folder: Path) -> tuple[dict[str, Any], dict[str, int]]:
    import pyarrow.parquet as pq

    meta_path = folder / FOLDER_META
    if not meta_path.is_file():
        raise BackupError(f"{folder} holds no {FOLDER_META}: it is not a store written by migrate")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT or meta.get("schema_version") != store.SCHEMA_VERSION:
        raise BackupError(
            f"{folder} holds a store of schema {meta.get('schema_version')} "
            f"({meta.get('format')}); this Funnel reads schema {store.SCHEMA_VERSION}: migrate "
            "it with the Funnel that wrote it")
    tables = {name: pq.read_table(folder / f"{name}.parquet") for name in meta["counts"]}
    counts = {name: t.num_rows for name, t in tables.items()}
    if counts != meta["counts"]:
        raise BackupError(f"{folder}: the Parquet files do not hold the rows {FOLDER_META} counts")
    return tables, counts


def _duckdb_version() -> str:
    import duckdb

    return duckdb.__version__


# --- writing ----------------------------------------------------------------------------------

def _write_folder(folder: Path, tables: dict[str, Any], counts: dict[str, int]) -> None:
    import pyarrow.parquet as pq

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
    meta = {"format": FORMAT, "schema_version": store.SCHEMA_VERSION, "counts": counts,
            "duckdb": _duckdb_version()}
    (folder / FOLDER_META).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    written = _read_folder(folder)[1]
    if written != counts:
        raise BackupError(f"{folder}: wrote {written}, expected {counts}")


def _write_store(target: str, tables: dict[str, Any], counts: dict[str, int]) -> None:
    con = store.connect(target)
    try:
        present = {n for (n,) in store.fetch_all(con, "lake/store_tables")}
        missing = sorted(set(tables) - present)
        if missing:
            raise BackupError(f"{target} has no table {', '.join(missing)}: not the same schema")
        held = {n for n in present - set(SEEDED) if _count(con, n)}
        if held:
            raise BackupError(
                f"{target} already holds data ({', '.join(sorted(held))}); migrate fills a new "
                "store: name one that does not exist yet")
        with store.transaction(con):
            for name, table in tables.items():
                # the identifier comes from the store's own catalog, quoted by the one helper
                con.execute(f"DELETE FROM {store.quote_ident(name)}")
                columns = con.table(name).columns
                con.from_arrow(table).select(*columns).insert_into(name)
            copied = {n: _count(con, n) for n in tables}
            if copied != counts:  # checked before the commit: nothing is left half copied
                raise BackupError(f"{target}: copied {copied}, expected {counts}; nothing kept")
            store.bump_revision(con)
        if not address.is_lake(target):  # a file's sequences go on past the copied numbers
            last_upload, last_decision = store.fetch_one(con, "lake/max_ids")
            store.run(con, "lake/advance_upload_ids", {"last": int(last_upload)})
            store.run(con, "backup/advance_decision_ids", {"last": int(last_decision)})
    finally:
        con.close()


def _count(con, table: str) -> int:
    return int(store.fetch_one(con, "backup/table_counts", {"table_name": table})[0])


# --- the key and the kept uploads -------------------------------------------------------------

def _key_file(where: str) -> Path:
    return Path(where) / FOLDER_KEY if is_folder(where) else pii.key_path(address.as_path(where))


def _uploads_dir(where: str) -> Path:
    return Path(where) / FOLDER_UPLOADS if is_folder(where) else raw_uploads.folder(where)


def _check_key(source: str, target: str) -> None:
    src, dst = _key_file(source), _key_file(target)
    if src.is_file() and dst.is_file() and src.read_bytes().strip() != dst.read_bytes().strip():
        raise BackupError(
            f"{dst} is another PII key than {src}: the copied e-mail and phone hashes would not "
            "match new uploads. Migrate to a new store, or move that key away first")


def _copy_key_and_uploads(source: str, target: str) -> None:
    src, dst = _key_file(source), _key_file(target)
    if src.is_file() and not dst.is_file():
        dst.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        dst.chmod(0o600)
    src_dir, dst_dir = _uploads_dir(source), _uploads_dir(target)
    if src_dir.is_dir():
        dst_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for entry in src_dir.iterdir():
            if entry.is_file() and (raw_uploads.SHA256.fullmatch(entry.name)
                                    or entry.name == raw_uploads.MANIFEST):
                shutil.copyfile(entry, dst_dir / entry.name)
                (dst_dir / entry.name).chmod(0o600)


def migrate_store(source: str, target: str) -> dict[str, int]:
    """Copy every table of ``source`` into the new store ``target`` (a file, a lake or a
    Parquet folder); the row counts, the same on both sides (checked)."""
    if str(source) == str(target):
        raise BackupError("--from and --to name the same store")
    _check_key(source, target)
    if is_folder(target) and Path(target).exists() and any(Path(target).iterdir()):
        raise BackupError(f"{target} is not empty; migrate writes a new folder")
    tables, counts = _read_store(source)
    # the key first: a new store made without it would make a key of its own
    _copy_key_and_uploads(source, target)
    if is_folder(target):
        _write_folder(Path(target), tables, counts)
    else:
        _write_store(target, tables, counts)
        _, after = _read_store(target)
        if {n: after.get(n) for n in counts} != counts:
            raise BackupError(f"{target}: the committed store counts {after}, expected {counts}")
    return counts
