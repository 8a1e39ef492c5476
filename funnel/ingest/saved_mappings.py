"""Mappings an owner loaded their exports with, remembered per export shape (the file's set of
headers): the next file of that shape starts from the owner's mapping, not from detection.

The column mapping and the fixed values are kept, except fixed dates: a date typed for last
week's file ("these leads came in on 2024-01-01") is no truth about the next one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

import duckdb

from funnel.ingest.core import IngestOptions
from funnel.ingest.mapping import DATE_FIELDS
from funnel.store import connection as store


@dataclass(frozen=True)
class SavedMapping:
    """The mapping an export shape was last loaded with."""

    mapping: dict[str, str]  # field -> column ('' = a detected column the owner un-mapped)
    constants: dict[str, str] = field(default_factory=dict)
    no_means_open: bool = False
    file_name: str = ""
    saved_at: dt.datetime | None = None
    source: str = ""


def header_key(headers: list[str]) -> str:
    """The export shape of a file: its headers, trimmed, case and order aside."""
    names = sorted({str(h).strip().casefold() for h in headers})
    return hashlib.sha256("\x1f".join(names).encode("utf-8")).hexdigest()[:32]


def worth_saving(options: IngestOptions) -> bool:
    """Whether ``options`` say anything detection would not (a mapping or a kept fixed value)."""
    return bool(options.mapping or _kept_constants(options) or options.no_means_open)


def _kept_constants(options: IngestOptions) -> dict[str, str]:
    return {f: v for f, v in options.constants.items() if f not in DATE_FIELDS}


def save(
    con: duckdb.DuckDBPyConnection, headers: list[str], source: str, options: IngestOptions,
    file_name: str,
) -> None:
    """Remember ``options`` for files with these headers (the latest Load wins)."""
    store.run(con, "ingest/save_mapping", {
        "header_key": header_key(headers),
        "headers": json.dumps(list(headers)),
        "source": source,
        "mapping": json.dumps(options.mapping, sort_keys=True),
        "constants": json.dumps(_kept_constants(options), sort_keys=True),
        "no_means_open": options.no_means_open,
        "file_name": file_name,
    })


def find(con: duckdb.DuckDBPyConnection, headers: list[str]) -> SavedMapping | None:
    """The mapping saved for files with these headers, if any."""
    row = store.fetch_one(con, "ingest/saved_mapping", {"header_key": header_key(headers)})
    if not row:
        return None
    mapping, constants, no_means_open, file_name, saved_at, source = row
    known = {h for h in headers}
    columns = {f: c for f, c in json.loads(mapping).items() if c == "" or c in known}
    return SavedMapping(columns, json.loads(constants), bool(no_means_open), file_name,
                        saved_at, source)


def forget(con: duckdb.DuckDBPyConnection, headers: list[str]) -> None:
    """Forget the mapping saved for files with these headers (the owner's reset)."""
    store.run(con, "ingest/forget_mapping", {"header_key": header_key(headers)})
