"""Where a store lives: a DuckDB file (the default), or a DuckLake (Parquet files and a catalog
in Postgres or in a DuckDB file), named by one string in ``--db`` / ``$FUNNEL_DB``:

- ``data/funnel.duckdb``: a path, today's one-file store;
- ``ducklake:postgres:<libpq conninfo> data_path=<folder>``: a lake whose catalog is a Postgres
  database and whose Parquet files are in ``<folder>`` (a folder every office reaches);
- ``ducklake:<catalog file> [data_path=<folder>]``: a lake whose catalog is a DuckDB file (one
  machine; Parquet files in ``<catalog file>.files/`` unless a folder is named).

A lake store's key and kept raw uploads, which a file store keeps beside its file as
``<db>.key`` and ``<db>.uploads/``, are kept beside its data folder (``<data>.key``,
``<data>.uploads/``) or its catalog file. Imports nothing of Funnel.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PREFIX = "ducklake:"
DATA_PATH = " data_path="


@dataclass(frozen=True)
class Lake:
    """A DuckLake store: its catalog (``postgres:<conninfo>`` or a catalog file) and the folder
    of its Parquet files."""

    catalog: str
    data_path: Path

    @property
    def on_postgres(self) -> bool:
        return self.catalog.startswith("postgres:")

    @property
    def home(self) -> Path:
        """The path a store file would have: its key and kept uploads sit beside it."""
        if self.on_postgres:
            return self.data_path
        return Path(self.catalog).expanduser().absolute()

    @property
    def attach_target(self) -> str:
        """What DuckDB's ATTACH (or connect) is given."""
        return PREFIX + self.catalog

    def __str__(self) -> str:
        return f"{PREFIX}{self.catalog}{DATA_PATH}{self.data_path}/"


class LakeAddress(type(Path())):
    """A lake's address where the code expects a store path (``$FUNNEL_DB``, ``--db``): it is
    no file, so resolving it changes nothing."""

    def resolve(self, strict: bool = False) -> LakeAddress:
        return self

    def absolute(self) -> LakeAddress:
        return self

    def expanduser(self) -> LakeAddress:
        return self


def is_lake(db: str | os.PathLike | None) -> bool:
    """Whether ``db`` names a DuckLake store rather than a DuckDB file."""
    return db is not None and str(db).startswith(PREFIX)


def parse_lake(db: str | os.PathLike) -> Lake:
    """The lake ``db`` names; ValueError saying what to write when it names none."""
    text = str(db)
    if not text.startswith(PREFIX):
        raise ValueError(f"{text!r} is not a lake address (it starts with {PREFIX!r})")
    catalog, sep, data = text[len(PREFIX):].partition(DATA_PATH)
    catalog = catalog.strip()
    if not catalog or catalog == "postgres:":
        raise ValueError(
            f"{text!r} names no catalog: write ducklake:postgres:dbname=NAME host=HOST "
            "data_path=FOLDER, or ducklake:CATALOG_FILE"
        )
    if sep and data.strip():
        data_path = Path(data.strip()).expanduser().absolute()
    elif catalog.startswith("postgres:"):
        raise ValueError(
            f"{text!r} names no folder for the lake's Parquet files: add data_path=FOLDER "
            "(a folder every office reaches)"
        )
    else:  # DuckLake's own default for a catalog file
        data_path = Path(catalog + ".files").expanduser().absolute()
    return Lake(catalog, data_path)


def as_path(db: str | os.PathLike) -> Path:
    """``db`` as the path-like object the rest of Funnel passes around."""
    return LakeAddress(str(db)) if is_lake(db) else Path(db)


def home(db: str | os.PathLike) -> Path:
    """The path whose ``.key`` and ``.uploads`` hold the store's key and kept raw uploads."""
    return parse_lake(db).home if is_lake(db) else Path(db)
