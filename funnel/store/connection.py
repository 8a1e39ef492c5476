"""The one gateway to the DuckDB store: connections, named queries, migrations.

Every query lives in ``queries/<group>/<name>.sql`` and runs through :func:`run` with bound
parameters. Identifiers taken from a file's header go through :func:`quote_ident` only.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from funnel import synonyms
from funnel.store import address, lake, raw_uploads

ROOT = Path(__file__).resolve().parents[2]  # the project: funnel/store/connection.py
QUERIES_DIR = ROOT / "queries"
DEFAULT_DB = ROOT / "data" / "funnel.duckdb"

# Position in this list + 1 is the schema version a migration brings the store to.
MIGRATIONS = [
    "schema/001_initial.sql",
    "schema/002_decisions.sql",
    "schema/003_lead_progress.sql",
    "schema/004_cell_warnings.sql",
    "schema/005_middle_layer.sql",
    "schema/006_follow_up.sql",
    "schema/007_owner_mappings.sql",
    "schema/008_stage_spells.sql",
]
SCHEMA_VERSION = len(MIGRATIONS)
SPELLS_MIGRATION = "schema/008_stage_spells.sql"  # stage_spells becomes a kept table
SPELLS_VERSION = MIGRATIONS.index(SPELLS_MIGRATION) + 1
_TABLE_MACRO = re.compile(
    r"^\s*CREATE\s+(OR\s+REPLACE\s+)?(TEMP\s+)?MACRO\b[^(]*\([^)]*\)\s+AS\s+TABLE\b", re.I)


class StoreBusyError(RuntimeError):
    """Another process holds the database file open for writing."""


# another writer of a lake store committed first: the transaction can be tried again
StoreConflictError = lake.StoreConflictError


def default_db_path() -> Path:
    """The store: ``$FUNNEL_DB`` if set, else ``data/funnel.duckdb`` in the project. A lake
    address (``ducklake:...``, funnel.store.address) comes back as a path that stays as it is."""
    return address.as_path(os.environ.get("FUNNEL_DB") or DEFAULT_DB)


def _config() -> dict[str, Any]:
    return {
        "threads": int(os.environ.get("FUNNEL_THREADS") or max(1, os.cpu_count() or 1)),
        "memory_limit": os.environ.get("FUNNEL_MEMORY_LIMIT", "2GB"),
        "preserve_insertion_order": True,
    }


def connect(
    path: str | Path | None = None, read_only: bool = False, upgrade: bool = True
) -> duckdb.DuckDBPyConnection:
    """Open the store with Funnel's settings, creating or migrating its schema when writable.
    A read-only open of a store from an older Funnel migrates it first, unless ``upgrade`` is
    False (checking a backup: it must be read as it was written).

    Use one connection per process and ``con.cursor()`` per thread or query. ``path`` may be
    a lake address (funnel.store.address): the same store on DuckLake (funnel.store.lake).
    """
    if address.is_lake(path or default_db_path()):
        return _connect_lake(str(path or default_db_path()), read_only, upgrade)
    db = Path(path) if path else default_db_path()
    if not read_only:
        db.parent.mkdir(parents=True, exist_ok=True)
        owner_only(db)
    con = _open(db, read_only)
    if read_only and upgrade and 0 < schema_version(con) < SCHEMA_VERSION:
        # a store written by an older Funnel: queries expect the newer columns, so migrate it
        # once through a short-lived writable connection (skipped if another process holds it:
        # a writer of this version has migrated it already)
        con.close()
        with contextlib.suppress(StoreBusyError):
            connect(db).close()
        con = _open(db, read_only)
    if not read_only:
        fresh = schema_version(con) == 0
        migrate(con)
        if fresh:  # a new file where a store may have been: its manifest no longer applies
            raw_uploads.retire_manifest(raw_uploads.folder(db))
        else:  # bytes kept by an upload a killed process never committed (none of a store
            # just made: its folder may hold a lost store's uploads, for a rebuild)
            root = raw_uploads.folder(db)
            known = {sha for (sha,) in fetch_all(con, "uploads/kept_sha256")}
            raw_uploads.sweep_orphans(root, known | raw_uploads.listed_sha256(root))
    limit_file_access(con, db)
    return con


def _connect_lake(db: str, read_only: bool, upgrade: bool) -> lake.LakeConnection:
    """Open (creating or migrating it when needed) the lake store ``db`` names."""
    where = address.parse_lake(db)
    os.umask(0o077)  # the Parquet files, the key and the kept uploads: this account's own
    try:
        raw = lake.open_lake(where, _config())
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():  # a catalog file is one process's at a time
            raise StoreBusyError(
                f"{where.catalog} is open in another process; a catalog in Postgres takes "
                "several writers"
            ) from exc
        raise
    con = lake.LakeConnection(raw, where, _lake_macros(), prepared=False)
    version = schema_version(con)
    if version == SCHEMA_VERSION or (read_only and not upgrade):
        con.prepare()
    else:
        for attempt in range(1, 4):
            try:
                migrate(con)
                break
            except StoreConflictError:
                # another process made or upgraded the lake at the same moment: read it again
                # on this connection (a new one in this process hung in DuckLake's attach)
                if attempt == 3:
                    con.close()
                    raise
    if not read_only:  # as for a file store: a new lake retires the manifest, an old one sweeps
        root = raw_uploads.folder(db)
        if version == 0:
            raw_uploads.retire_manifest(root)
        else:
            known = {sha for (sha,) in fetch_all(con, "uploads/kept_sha256")}
            raw_uploads.sweep_orphans(root, known | raw_uploads.listed_sha256(root))
    limit_file_access(con, db)
    return con


def _lake_macros() -> tuple[str, ...]:
    migrations = tuple(sql_text(m.removesuffix(".sql")) for m in MIGRATIONS)
    lake.check_sequences(migrations)
    return lake.temp_macros(migrations)


def owner_only(db: Path) -> None:
    """The store, its write-ahead log, its key and DuckDB's spill folder readable by this
    account alone: they hold the leads (the spill files, during a big ingest, e-mails in
    clear). The process's umask is set to 077 (DuckDB creates the log and spill files as it
    goes, with the umask's mode), and what exists already is tightened."""
    os.umask(0o077)
    for path in (db, Path(f"{db}.wal"), Path(f"{db}.key"), Path(f"{db}.tmp")):
        with contextlib.suppress(OSError):
            if path.exists() and path.stat().st_mode & 0o077:
                path.chmod(0o700 if path.is_dir() else 0o600)


def _open(db: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(db), read_only=read_only, config=_config())
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreBusyError(
                f"{db} is open for writing in another process (the dashboard or another ingest). "
                "Close it, or upload the file through the dashboard's Upload page, then try again."
            ) from exc
        raise


def limit_file_access(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    """Let DuckDB touch no file but the store's own and those in ``<db>.uploads/`` (where a file
    being ingested is staged): ``read_csv('/etc/passwd')``, COPY, ATTACH, INSTALL all fail.

    The setting is the database's, shared by every connection to it in this process, and cannot
    be undone while it is open: a second connect finds it already set.
    """
    external, _ = fetch_one(con, "backup/file_access")
    if str(external).lower() in ("false", "0"):
        return
    allowed = [str(raw_uploads.folder(db)) + os.sep]
    if address.is_lake(db):  # and the lake's Parquet files
        allowed.append(str(address.parse_lake(db).data_path) + os.sep)
    run(con, "backup/allow_directory", {"dirs": allowed})
    run(con, "backup/disable_external_access")


def uploads_folder(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The one directory this connection's DuckDB may read files from (``<db>.uploads``), or
    None when file access is not limited (a connection not made by :func:`connect`)."""
    external, allowed = fetch_one(con, "backup/file_access")
    if str(external).lower() not in ("false", "0"):
        return None
    # DuckDB adds its own spill folder (<db>.tmp) to the list: ours is the .uploads one
    folders = [Path(str(d).rstrip("/\\")) for d in allowed or []]
    return next((d for d in folders if d.name.endswith(".uploads")), None)


@cache
def sql_text(name: str) -> str:
    """The text of ``queries/<name>.sql``."""
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no query named {name!r} ({path})")
    return path.read_text(encoding="utf-8")


def _execute(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None):
    if isinstance(con, lake.LakeConnection) and (steps := lake.variant_steps(name)):
        return lake.run_variant(con, steps, params or {})  # DuckLake lacks what it uses
    return con.execute(sql_text(name), params or {})


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> None:
    """Execute the named statement(s) with bound parameters, reading any result to the end."""
    _execute(con, name, params).fetchall()


def fetch_df(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None):
    """Run the named query and return its whole result as a pandas DataFrame."""
    return _execute(con, name, params).df()


def fetch_all(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None):
    """Run the named query and return all rows as tuples."""
    return _execute(con, name, params).fetchall()


def fetch_one(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None):
    """Run the named query and return its first row (or None); the result is read to the end."""
    rows = fetch_all(con, name, params)
    return rows[0] if rows else None


def quote_ident(name: str) -> str:
    """Quote an identifier (e.g. a column header from a file) for DuckDB SQL."""
    return '"' + str(name).replace('"', '""') + '"'


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction: committed when the block ends, rolled back if it raises. On a lake
    store, a commit another writer's overlapping commit refused raises StoreConflictError
    (nothing was written: the whole block can be run again)."""
    con.execute("BEGIN TRANSACTION")
    try:
        lake.begin_write(con)
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    try:
        con.execute("COMMIT")
    except duckdb.Error as exc:
        lake.rollback_after_failed_commit(con)  # DuckDB ended the transaction already
        if lake.is_conflict(exc):
            raise StoreConflictError(
                "another upload or edit committed a change to the same rows first; nothing of "
                "this one was written, so it can be tried again"
            ) from exc
        raise


def revision(con: duckdb.DuckDBPyConnection) -> int:
    """A number that changes whenever the store's data changes."""
    return int(fetch_one(con, "schema/revision")[0])


def bump_revision(con: duckdb.DuckDBPyConnection) -> None:
    run(con, "schema/bump_revision")


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    if not fetch_one(con, "schema/has_version_table")[0]:
        return 0
    return int(fetch_one(con, "schema/current_version")[0])


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the store up to :data:`SCHEMA_VERSION`, keeping existing data; seed defaults."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise RuntimeError(
            f"this database was written by a newer Funnel (schema {current} > {SCHEMA_VERSION}); "
            "upgrade Funnel to open it"
        )
    if isinstance(con, lake.LakeConnection):
        _migrate_lake(con, current)
        return
    for version in range(current + 1, SCHEMA_VERSION + 1):
        with transaction(con):
            run(con, MIGRATIONS[version - 1].removesuffix(".sql"))
            run(con, "schema/record_version", {"version": version})
            if MIGRATIONS[version - 1] == SPELLS_MIGRATION:
                run(con, "spells/refresh_all")  # the stays of the events already stored
    if current < SCHEMA_VERSION or not _seeded(con):
        seed_defaults(con)


def _migrate_lake(con: lake.LakeConnection, current: int) -> None:
    """The migrations as DuckLake takes them (funnel.store.lake.lake_ddl), and the seeding, in
    one transaction: several processes opening a new lake at once make it once (the others'
    commits conflict, and they find it made when they open it again)."""
    if current == SCHEMA_VERSION and _seeded(con):
        con.prepare()  # made meanwhile by another process
        return
    with transaction(con):
        # an older lake: the macros its migrations made (TEMP: a connection's own) come first,
        # as the new migrations' macros and statements may use them
        done = tuple(sql_text(m.removesuffix(".sql")) for m in MIGRATIONS[:current])
        for macro in lake.temp_macros(done):
            con.execute(macro)
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in lake.statements(sql_text(MIGRATIONS[version - 1][:-4])):
                ddl = lake.lake_ddl(statement)
                # a table macro binds its tables when made, and a lake shows the tables this
                # transaction makes only once it commits: made by prepare() below
                if ddl and not _TABLE_MACRO.match(ddl):
                    con.execute(ddl)
            run(con, "schema/record_version", {"version": version})
        seed_defaults(con)
    con.prepare()  # the macros and sequences as the migrations left them
    if current < SPELLS_VERSION:
        with transaction(con):
            run(con, "spells/refresh_all")  # the stays of the events already stored


def _seeded(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(fetch_one(con, "schema/channel_count")[0])


def seed_defaults(con: duckdb.DuckDBPyConnection) -> None:
    """Insert the SPEC's canonical channels, stages and synonyms (owner edits are kept)."""
    chans = synonyms.CHANNELS
    run(
        con,
        "schema/seed_channels",
        {
            "channels": list(chans),
            "kinds": [c[0] for c in chans.values()],
            "labels": [c[1] for c in chans.values()],
        },
    )
    cmap = synonyms.default_channel_map()
    run(con, "schema/seed_channel_map", {"raw_slugs": list(cmap), "targets": list(cmap.values())})
    stages = synonyms.STAGES
    run(
        con,
        "schema/seed_stages",
        {
            "stages": list(stages),
            "positions": [s[0] for s in stages.values()],
            "temperatures": [s[1] for s in stages.values()],
            "labels": [s[2] for s in stages.values()],
        },
    )
    smap = synonyms.default_stage_map()
    run(con, "schema/seed_stage_map", {"raw_slugs": list(smap), "targets": list(smap.values())})
