"""A store on DuckLake: Parquet files in a shared folder, the catalog in Postgres (or a catalog
file), several processes writing at once (issue 19). The same ``queries/`` files run on it as on
a DuckDB file; this module supplies what DuckLake's catalog cannot hold.

DuckLake (extension 0.3, duckdb 1.4.x) stores tables and views but no macros, no sequences, no
PRIMARY KEY/UNIQUE, only literal column defaults, and cannot SET NOT NULL on a column. So:

- **Macros** (``funnel_slug``, ``selected_leads``...) are the migrations' own definitions, created
  as TEMP macros on every connection and every cursor (:class:`LakeConnection`): a temp macro
  lives in the connection, and ``con.cursor()`` is a new connection.
- **Sequences** (``upload_id_seq``, ``decision_id_seq``) are TEMP sequences set past the highest
  id the transaction sees, at the start of every write transaction. Two writers that take the
  same id both bump ``store_revision``: DuckLake refuses the second commit (it deletes from a
  file the first one deleted from), and the writer retries with the next id.
- **DDL**: each migration is applied statement by statement through :func:`lake_ddl`, which drops
  PRIMARY KEYs, sequence and ``current_timestamp`` defaults and SET NOT NULL, and writes boolean
  defaults as the literals DuckLake takes. Uniqueness is kept by the writers (MERGE upserts, the
  revision row serialising writers), as it must be for any DuckLake table.
- **RETURNING** (DuckLake takes none): the few queries that use it have a variant, a folder
  ``queries/lake/<name>/`` of steps (one statement a file) run in order, whose one SELECT gives
  the rows the caller reads (:func:`run_variant`). Every other query file is the same text on
  both stores.
- **CHECKPOINT** is skipped: on a lake it is maintenance that merges and deletes files, which
  other writers may be using. Run it (or ``ducklake_merge_adjacent_files``) on a schedule.

The extensions come from the pip packages ``duckdb-ext-ducklake``, ``-postgres``, ``-parquet``
(requirements-lake.txt), loaded from their folder: nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import re
import time
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from funnel.store.address import Lake

EXTENSION_PACKAGE = "duckdb-ext-ducklake"

# sequence -> the table and column whose ids it hands out
SEQUENCES = {
    "upload_id_seq": ("uploads", "upload_id"),
    "decision_id_seq": ("decisions", "decision_id"),
}


class LakeUnavailableError(RuntimeError):
    """This Python cannot open a lake store (duckdb 2.x, or the extensions not installed)."""


class StoreConflictError(RuntimeError):
    """Another writer committed a change this transaction overlaps: try it again."""


@cache
def extension_directory() -> str:
    """The folder DuckDB finds the lake's extensions in (that of the pip packages)."""
    try:
        dist = importlib.metadata.distribution(EXTENSION_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise LakeUnavailableError(
            "a lake store needs the DuckLake extension, which is not installed here: "
            "pip install -r requirements-lake.txt (in its own environment: it pins duckdb 1.4.x)"
        ) from None
    folder = Path(str(dist.locate_file("duckdb_ext/extensions")))
    wanted = folder / f"v{duckdb.__version__}"
    if not wanted.is_dir():
        found = ", ".join(sorted(p.name for p in folder.glob("v*"))) or "none"
        raise LakeUnavailableError(
            f"the DuckLake extensions installed here are for duckdb {found}, not duckdb "
            f"{duckdb.__version__}: run lake stores with requirements-lake.txt's duckdb"
        )
    return str(folder)


def open_lake(lake: Lake, config: dict[str, Any], attempts: int = 20) -> duckdb.DuckDBPyConnection:
    """A raw connection whose default database is the lake (created, with its data folder,
    the first time). Several processes making a new lake at once: one makes its catalog, the
    others' making fails (the catalog's tables exist already) and they open it once made."""
    config = {**config, "extension_directory": extension_directory()}
    lake.data_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        try:
            return duckdb.connect(lake.attach_target, config=config)
        except duckdb.InvalidInputException as exc:
            if "data_path is not set" not in str(exc):
                raise
        # a new lake: DuckLake records its data folder when it is first attached with one
        boot = duckdb.connect(config=config)
        try:
            boot.execute(
                f"ATTACH {_literal(lake.attach_target)} AS new_lake "
                f"(DATA_PATH {_literal(str(lake.data_path) + os.sep)})"
            )
        except duckdb.Error as exc:
            if "Failed to initialize DuckLake" not in str(exc) or attempt == attempts:
                raise
            time.sleep(0.25 * attempt)  # another process is making it: open it once made
        finally:
            boot.close()
    raise AssertionError("unreachable")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- DDL ------------------------------------------------------------------------------------

_MACRO = re.compile(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?MACRO\b", re.I)
_SEQUENCE = re.compile(r"^\s*CREATE\s+SEQUENCE\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I)
_SET_NOT_NULL = re.compile(r"^\s*ALTER\s+TABLE\s+\w+\s+ALTER\s+COLUMN\s+\w+\s+SET\s+NOT\s+NULL",
                           re.I)
_TABLE_KEY = re.compile(r",\s*PRIMARY\s+KEY\s*\([^)]*\)", re.I)
_COLUMN_KEY = re.compile(r"\s+PRIMARY\s+KEY\b", re.I)
_COMPUTED_DEFAULT = re.compile(r"\s+DEFAULT\s+(nextval\s*\('[^']*'\)|current_timestamp\b)", re.I)
_BOOLEAN_DEFAULT = re.compile(r"\bDEFAULT\s+(TRUE|FALSE)\b", re.I)


_LEADING_COMMENTS = re.compile(r"^(\s*--[^\n]*(\n|$))*\s*")


def statements(sql: str) -> list[str]:
    """The statements of a .sql file, as DuckDB's parser splits them, without the comments
    before each."""
    out = [_LEADING_COMMENTS.sub("", s.query, count=1) for s in duckdb.extract_statements(sql)]
    return [s for s in out if s.strip()]


def lake_ddl(statement: str) -> str | None:
    """A migration statement as DuckLake takes it, or None when the lake does without it."""
    if _SEQUENCE.match(statement) or _SET_NOT_NULL.match(statement):
        return None
    if _MACRO.match(statement):
        return _MACRO.sub("CREATE OR REPLACE TEMP MACRO", statement, count=1)
    statement = _TABLE_KEY.sub("", statement)
    statement = _COLUMN_KEY.sub("", statement)
    statement = _COMPUTED_DEFAULT.sub("", statement)
    return _BOOLEAN_DEFAULT.sub(lambda m: f"DEFAULT '{m.group(1).lower()}'", statement)


def sequences_in(sql: str) -> list[str]:
    return [m.group(2) for s in statements(sql) if (m := _SEQUENCE.match(s))]


@cache
def temp_macros(migrations: tuple[str, ...]) -> tuple[str, ...]:
    """Every macro the migrations define, as TEMP macros, in order (later ones replace)."""
    out = []
    for sql in migrations:
        out += [lake_ddl(s) for s in statements(sql) if _MACRO.match(s)]
    return tuple(out)


def check_sequences(migrations: tuple[str, ...]) -> None:
    """Each sequence a migration creates must say which column's ids it hands out."""
    for sql in migrations:
        for name in sequences_in(sql):
            if name not in SEQUENCES:
                raise RuntimeError(f"sequence {name}: add it to funnel.store.lake.SEQUENCES")


def set_sequences(con: duckdb.DuckDBPyConnection) -> None:
    """TEMP sequences starting past the highest id this connection's transaction sees."""
    present = {name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() "
        "WHERE NOT temporary AND database_name = current_database()").fetchall()}
    for seq, (table, column) in SEQUENCES.items():
        last = 0
        if table in present:
            last = con.execute(f"SELECT coalesce(max({column}), 0) FROM {table}").fetchone()[0]
        con.execute(f"CREATE OR REPLACE TEMP SEQUENCE {seq} START {int(last) + 1}")


# --- queries DuckLake needs in another form -------------------------------------------------

VARIANTS_DIR = Path(__file__).resolve().parents[2] / "queries" / "lake"
_PARAM = re.compile(r"\$(\w+)")


@cache
def variant_steps(name: str) -> tuple[str, ...]:
    """The lake's form of query ``name``: the texts of ``queries/lake/<name>/*.sql`` in order
    (one statement each), or () when the query is the same on both stores."""
    folder = VARIANTS_DIR / name
    if not folder.is_dir():
        return ()
    return tuple(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.sql")))


class Rows:
    """A result read to the end: what ``fetchall()`` and ``df()`` give, as a DuckDB result."""

    def __init__(self, rows: list[tuple], columns: list[str]):
        self._rows = rows
        self._columns = columns

    def fetchall(self) -> list[tuple]:
        return list(self._rows)

    def fetchone(self) -> tuple | None:
        return self._rows[0] if self._rows else None

    def df(self):
        import pandas as pd

        return pd.DataFrame(self._rows, columns=self._columns)


def run_variant(con, steps: tuple[str, ...], params: dict[str, Any]) -> Rows:
    """Run a lake variant's steps in order, each with the parameters it names (DuckDB binds
    parameters to one statement); the rows of its one SELECT are the result."""
    result = Rows([], [])
    for text in steps:
        statement = statements(text)[0]
        names = set(_PARAM.findall(statement))
        cursor = con.execute(statement, {k: v for k, v in params.items() if k in names})
        rows = cursor.fetchall()
        if statement.lstrip()[:6].upper() == "SELECT":
            result = Rows(rows, [d[0] for d in cursor.description or []])
    return result


# --- connections ----------------------------------------------------------------------------

def _is_checkpoint(query: object) -> bool:
    return isinstance(query, str) and query.strip().rstrip(";").strip().upper() == "CHECKPOINT"


class LakeConnection:
    """A connection to a lake store: a DuckDB connection whose cursors get the store's temp
    macros and sequences too, and which skips CHECKPOINT. Everything else is DuckDB's."""

    def __init__(self, raw: duckdb.DuckDBPyConnection, lake: Lake, macros: tuple[str, ...],
                 prepared: bool = True):
        self._raw = raw
        self.lake = lake
        self._macros = macros
        self._prepared = prepared
        if prepared:
            self.prepare()

    def prepare(self) -> None:
        """Create the temp macros and sequences on this connection (once its tables exist:
        DuckDB binds the tables a macro reads when it is created)."""
        for macro in self._macros:
            self._raw.execute(macro)
        set_sequences(self._raw)
        self._prepared = True

    def cursor(self) -> LakeConnection:
        return LakeConnection(self._raw.cursor(), self.lake, self._macros, self._prepared)

    def execute(self, query, parameters=None):
        if _is_checkpoint(query):
            return self._raw.execute("SELECT 'lake maintenance is scheduled' AS skipped")
        return self._raw.execute(query, parameters)

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> LakeConnection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getattr__(self, name: str):
        return getattr(self._raw, name)


def begin_write(con) -> None:
    """At the start of a write transaction on a lake: sequences past the ids it sees."""
    if isinstance(con, LakeConnection):
        set_sequences(con._raw)


def is_conflict(exc: BaseException) -> bool:
    """Whether a failed commit met another writer's change (DuckLake's transaction conflict)."""
    text = str(exc)
    return isinstance(exc, duckdb.TransactionException) and (
        "Transaction conflict" in text or "Failed to commit DuckLake transaction" in text
    )


def rollback_after_failed_commit(con) -> None:
    """DuckDB has ended a transaction whose COMMIT failed; a ROLLBACK then finds none."""
    with contextlib.suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")
