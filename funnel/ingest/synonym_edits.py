"""The owner's own synonyms: see every raw channel and stage value with what it maps to and who
decided, map one (applied to stored leads at once), and undo a change (synonym_edits keeps what
each change replaced)."""

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


def synonym_table(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every raw channel and stage value in the store: kind, raw_value, raw_slug, target,
    target_label, decided_by ('default', 'user' or 'none'), leads."""
    return store.fetch_df(con, "synonyms/synonym_table")


def save_channel_synonym(
    con: duckdb.DuckDBPyConnection, raw_value: str, channel: str, kind: str = "unknown"
) -> int:
    """Map ``raw_value`` to ``channel`` (a new channel gets ``kind``); returns leads re-mapped.
    The change is noted with what the value mapped to before (see :func:`undo`)."""
    key = _slug(con, raw_value)
    target = _slug(con, channel)
    if not key or not target:
        raise ValueError("both the raw value and the channel need letters or digits")
    if kind not in ("inbound", "outbound", "unknown"):
        raise ValueError("kind is inbound, outbound or unknown")
    with store.transaction(con):
        before = store.fetch_one(con, "synonyms/channel_map_of", {"raw_slug": key})
        _record(con, "channel", raw_value, key, before, target)
        store.run(
            con,
            "synonyms/add_channel",
            {"channel": target, "kind": kind, "label": channel.strip() or target},
        )
        store.run(con, "synonyms/upsert_channel_map", {"raw_slug": key, "channel": target})
        changed = len(store.fetch_all(con, "synonyms/reapply_channel_map", {"raw_slug": key}))
        store.bump_revision(con)
    return changed


def _record(con, kind: str, raw_value: str, key: str, before, after: str) -> None:
    store.run(con, "synonyms/record_edit", {
        "kind": kind, "raw_value": raw_value, "raw_slug": key,
        "before_target": before[0] if before else None,
        "before_origin": before[1] if before else None,
        "after_target": after,
    })


def undo(con: duckdb.DuckDBPyConnection, kind: str, raw_value: str) -> dict | None:
    """Undo the latest change of the synonym of ``raw_value`` (``kind`` 'channel' or 'stage'):
    it maps to what it mapped to before, decided by whom it was then, and the stored leads
    follow at once. None when there is no change to undo; else {"target", "leads"}."""
    key = _slug(con, raw_value)
    with store.transaction(con):
        last = store.fetch_one(con, "synonyms/last_edit", {"kind": kind, "raw_slug": key})
        if not last:
            return None
        edited_at, before_target, before_origin, after_target = last
        if kind == "channel":
            if before_target is None:
                store.run(con, "synonyms/delete_channel_map", {"raw_slug": key})
            else:
                store.run(con, "synonyms/restore_channel_map",
                          {"raw_slug": key, "channel": before_target, "origin": before_origin})
            moved = len(store.fetch_all(con, "synonyms/reapply_channel_map", {"raw_slug": key}))
        else:
            if before_target is None:
                store.run(con, "synonyms/delete_stage_map", {"raw_slug": key})
            else:
                store.run(con, "synonyms/restore_stage_map",
                          {"raw_slug": key, "stage": before_target, "origin": before_origin})
            moved = _move_stage(con, key, after_target, before_target or "new")
        store.run(con, "synonyms/mark_undone",
                  {"kind": kind, "raw_slug": key, "edited_at": edited_at})
        store.bump_revision(con)
    return {"target": before_target, "leads": moved}


def _move_stage(con, key: str, from_stage: str, stage: str) -> int:
    """Move the leads a stage synonym placed at ``from_stage`` to ``stage``, with their event
    at it and their progress (as when an unmapped stage is first mapped)."""
    moved = len(store.fetch_all(con, "synonyms/move_stage_map",
                                {"raw_slug": key, "from_stage": from_stage, "stage": stage}))
    if moved:
        store.run(con, "synonyms/stage_map_events", {"raw_slug": key, "stage": stage})
        store.run(con, "synonyms/stage_map_progress", {"raw_slug": key, "stage": stage})
        store.run(con, "spells/refresh_all")  # the events changed: their stays too
    return moved


def save_stage_synonym(con: duckdb.DuckDBPyConnection, raw_value: str, stage: str) -> int:
    """Map ``raw_value`` to a canonical stage; the leads it placed (at 'new' while it was
    unmapped, else at the stage it mapped to) move. The change is noted (see :func:`undo`)."""
    key = _slug(con, raw_value)
    if stage not in STAGE_ORDER:
        raise ValueError(f"stage is one of {', '.join(STAGE_ORDER)}")
    if not key:
        raise ValueError("the raw value needs letters or digits")
    with store.transaction(con):
        before = store.fetch_one(con, "synonyms/stage_map_of", {"raw_slug": key})
        _record(con, "stage", raw_value, key, before, stage)
        store.run(con, "synonyms/upsert_stage_map", {"raw_slug": key, "stage": stage})
        changed = _move_stage(con, key, before[0] if before else "new", stage)
        store.bump_revision(con)
    return changed


def _slug(con: duckdb.DuckDBPyConnection, raw: str) -> str:
    """The key the store matches ``raw`` by: its SQL ``funnel_slug``, the one definition (a
    key computed any other way could differ on a character the two read apart)."""
    return str(store.fetch_one(con, "synonyms/slug_of", {"raw": raw})[0] or "")
