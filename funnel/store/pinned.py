"""The pair of channels the owner pinned for the head-to-head (issue 15): "Worth discussing"
on the Overview, the Sales page's head to head and the weekly pack compare these two. Kept in
``store_settings`` (so backups and rebuilds keep it) as a JSON list of two channel slugs."""

from __future__ import annotations

import json

import duckdb

from funnel.store import connection as store

KEY = "pinned_pair"


def pinned_pair(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """The pinned (a, b), or None when the owner pinned none (or unpinned it)."""
    row = store.fetch_one(con, "settings/get_setting", {"key": KEY})
    if not row:
        return None
    try:
        pair = json.loads(row[0])
    except ValueError:
        return None
    if isinstance(pair, list) and len(pair) == 2 and all(isinstance(c, str) for c in pair):
        return pair[0], pair[1]
    return None


def pin_pair(con: duckdb.DuckDBPyConnection, a: str, b: str) -> None:
    """Pin channels ``a`` against ``b`` (slugs; two different channels)."""
    if a == b:
        raise ValueError("pin two different channels")
    _store(con, json.dumps([a, b]))


def unpin_pair(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the pinned pair: the default choice applies again."""
    _store(con, "null")


def _store(con: duckdb.DuckDBPyConnection, value: str) -> None:
    with store.transaction(con):
        store.run(con, "settings/set_setting", {"key": KEY, "value": value})
        store.bump_revision(con)  # every page's cached choice of pair is read again
