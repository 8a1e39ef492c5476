"""Ingest a spend file (channel, period, money and/or hours) into ``channel_spend``.

Columns are found by name: a channel column, a period start (``Week starting``, ``Period``,
``Date``, ``Month``), an optional period end, money (``Money spent``, ``Spend``, ``Cost``) and
hours (``Hours spent``, ``Hours``). A period with no end is a week (start + 6 days). Rows for a
channel and period already stored are replaced, so re-uploading a corrected file is safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from funnel.errors import IngestError
from funnel.ingest import dates, staged_sql, staging
from funnel.store import connection as store
from funnel.synonyms import slug

SPEND_HEURISTICS = {
    "channel": r"^(channel|source|lead_source|marketing_channel)$|channel",
    "period_start": r"^(week|week_start|week_starting|week_of|period|period_start|start|"
    r"start_date|date|month|from)$|week_start|period_start",
    "period_end": r"^(period_end|end|end_date|to|until)$|period_end",
    "money": r"^(money|money_spent|spend|spent|cost|costs|amount|budget|ad_spend)$"
    r"|money|spend|cost",
    "hours": r"^(hours|hours_spent|time_spent|hrs)$|hours",
}


@dataclass
class SpendResult:
    file: str
    read: int
    loaded: int
    rejected: list[dict]
    columns: dict[str, str]


def map_spend_columns(headers: list[str]) -> dict[str, str]:
    """Spend field -> header, by name."""
    out: dict[str, str] = {}
    for fld, pattern in SPEND_HEURISTICS.items():
        regex = re.compile(pattern)
        for header in headers:
            if header not in out.values() and regex.search(slug(header)):
                out[fld] = header
                break
    return out


def ingest_spend(
    con: duckdb.DuckDBPyConnection, path: Path, file_name: str | None = None
) -> SpendResult:
    """Load a spend file; raises IngestError when its columns cannot be found."""
    name = file_name or path.name
    staged = staging.stage_file(con, path, path.read_bytes(), name)
    columns = map_spend_columns(staged.headers)
    missing = [f for f in ("channel", "period_start") if f not in columns]
    if missing or not ({"money", "hours"} & set(columns)):
        raise IngestError(
            name,
            "a spend file needs a channel column, a period start (e.g. 'Week starting') and "
            f"money and/or hours columns; found columns: {', '.join(staged.headers)}",
        )
    rowid_base = store.fetch_one(con, "ingest/raw_rowid_base")[0] or 0
    con.execute(staged_sql.spend_staged_table(columns, list(SPEND_HEURISTICS)),
                {"rowid_base": rowid_base})
    families = dates.choose_spend_family(con)
    with store.transaction(con):
        store.run(con, "spend/typed_spend", {"formats": dates.formats_of(families)})
        store.run(con, "spend/replace_spend")
        store.bump_revision(con)
    rejected = store.fetch_df(con, "spend/spend_rejects").to_dict("records")
    loaded = int(store.fetch_one(con, "spend/spend_loaded_count")[0])
    return SpendResult(name, staged.rows_read, loaded, rejected, columns)
