"""The owner's own synonyms: map a raw channel or stage value, and apply it to stored leads."""

from __future__ import annotations

import duckdb
import pandas as pd

from funnel.store import connection as store
from funnel.synonyms import STAGE_ORDER


def unmapped_values(con: duckdb.DuckDBPyConnection, upload_id: int | None = None) -> pd.DataFrame:
    """Raw channel/stage values no synonym maps yet: kind, raw_value, stored_as, leads."""
    return store.fetch_df(con, "ingest/unmapped_values", {"upload_id": upload_id})


def channel_choices(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Known channels (channel, kind, label) to offer when mapping a raw value."""
    return store.fetch_df(con, "synonyms/channel_choices")


def save_channel_synonym(
    con: duckdb.DuckDBPyConnection, raw_value: str, channel: str, kind: str = "unknown"
) -> int:
    """Map ``raw_value`` to ``channel`` (a new channel gets ``kind``); returns leads re-mapped."""
    key = _slug(con, raw_value)
    target = _slug(con, channel)
    if not key or not target:
        raise ValueError("both the raw value and the channel need letters or digits")
    if kind not in ("inbound", "outbound", "unknown"):
        raise ValueError("kind is inbound, outbound or unknown")
    with store.transaction(con):
        store.run(
            con,
            "synonyms/add_channel",
            {"channel": target, "kind": kind, "label": channel.strip() or target},
        )
        store.run(con, "synonyms/upsert_channel_map", {"raw_slug": key, "channel": target})
        changed = len(
            store.fetch_all(con, "synonyms/apply_channel_map", {"raw_slug": key, "channel": target})
        )
        store.bump_revision(con)
    return changed


def save_stage_synonym(con: duckdb.DuckDBPyConnection, raw_value: str, stage: str) -> int:
    """Map ``raw_value`` to a canonical stage; leads counted as 'new' because of it move."""
    key = _slug(con, raw_value)
    if stage not in STAGE_ORDER:
        raise ValueError(f"stage is one of {', '.join(STAGE_ORDER)}")
    if not key:
        raise ValueError("the raw value needs letters or digits")
    with store.transaction(con):
        store.run(con, "synonyms/upsert_stage_map", {"raw_slug": key, "stage": stage})
        changed = len(
            store.fetch_all(con, "synonyms/apply_stage_map", {"raw_slug": key, "stage": stage})
        )
        if changed:
            store.run(con, "synonyms/stage_map_events", {"raw_slug": key, "stage": stage})
            store.run(con, "synonyms/stage_map_progress", {"raw_slug": key, "stage": stage})
            store.run(con, "spells/refresh_all")  # the events changed: their stays too
        store.bump_revision(con)
    return changed


def _slug(con: duckdb.DuckDBPyConnection, raw: str) -> str:
    """The key the store matches ``raw`` by: its SQL ``funnel_slug``, the one definition (a
    key computed any other way could differ on a character the two read apart)."""
    return str(store.fetch_one(con, "synonyms/slug_of", {"raw": raw})[0] or "")
