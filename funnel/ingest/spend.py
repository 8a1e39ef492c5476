"""Ingest a spend file (channel, period, money and/or hours) into ``channel_spend``.

Columns are found by name, or given (the Upload page's spend mapping, ``spend --map``): a
channel column, a period start (``Week starting``, ``Period``, ``Date``, ``Month``), an optional
period end, money (``Amount spent``, ``Spend``, ``Cost``, ``Budget``) and hours (``Hours spent``,
``Hours``). A period with no end is a week (start + 6 days), or a month when the column says
month or its values are months (``2026-11``, ``Nov 2026``). Rows of one channel and period are
added up (two sources mapping to one channel in the same week both count), and the result says
how many were; a channel and period already stored are replaced, so re-uploading a corrected
file is safe.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from funnel.errors import IngestError
from funnel.ingest import dates, files, staged_sql, staging
from funnel.store import connection as store
from funnel.synonyms import slug

# hours first: 'Hours spent' is hours, not money
SPEND_HEURISTICS = {
    "channel": r"^(channel|source|lead_source|marketing_channel)$|channel|source",
    "period_start": r"^(week|week_start|week_starting|week_of|period|period_start|start|"
    r"start_date|date|month|from)$|week_start|period_start|week|month",
    "period_end": r"^(period_end|end|end_date|to|until)$|period_end",
    "hours": r"^(hours|hours_spent|time_spent|hrs)$|hours",
    "money": r"^(money|money_spent|spend|spent|cost|costs|amount|budget|ad_spend)$"
    r"|money|spend|spent|cost|amount|budget",
}
SPEND_FIELDS = ["channel", "period_start", "period_end", "money", "hours"]
MONTH_FORMATS = ["%Y-%m", "%b %Y", "%B %Y", "%m/%Y", "%b-%y", "%b %y"]


@dataclass
class SpendResult:
    """What a spend file did: rows read, loaded (all counted) and rejected; the channel-periods
    stored and how many rows were added up into them; stored periods it replaced."""

    file: str
    read: int
    loaded: int
    rejected: list[dict]
    columns: dict[str, str]
    periods: int = 0  # channel and period pairs stored from the file
    combined: int = 0  # rows added to another row of the same channel and period
    replaced: int = 0  # channel and period pairs stored before, now replaced
    monthly: bool = False
    money: float = 0.0
    hours: float = 0.0
    samples: dict[str, list[str]] = field(default_factory=dict)


def map_spend_columns(headers: list[str], given: dict[str, str] | None = None) -> dict[str, str]:
    """Spend field -> header: those ``given`` ('' = not read), the rest by name."""
    given = dict(given or {})
    out: dict[str, str] = {f: c for f, c in given.items() if c}
    for fld, pattern in SPEND_HEURISTICS.items():
        if fld in given:
            continue
        regex = re.compile(pattern)
        for header in headers:
            if header not in out.values() and regex.search(slug(header)):
                out[fld] = header
                break
    return {f: out[f] for f in SPEND_FIELDS if f in out}


def detect_spend(
    con: duckdb.DuckDBPyConnection, path: Path, file_name: str | None = None
) -> tuple[list[str], dict[str, str]]:
    """A spend file's headers and the columns Funnel finds for each field by name (nothing is
    written; raises IngestError for a file that cannot be read)."""
    name = file_name or path.name
    files.check_upload_size(path, name)
    try:
        staged = staging.stage_file(con, path, None, name)
        return list(staged.headers), map_spend_columns(staged.headers)
    finally:
        with contextlib.suppress(duckdb.Error):
            files.drop_staging(con)


def ingest_spend(
    con: duckdb.DuckDBPyConnection, path: Path, file_name: str | None = None,
    columns: dict[str, str] | None = None, dry_run: bool = False,
) -> SpendResult:
    """Load a spend file (``columns``: field -> header the owner chose); raises IngestError when
    its columns cannot be found. ``dry_run``: do it all in a transaction that is rolled back,
    and say what it would do (the Upload page's preview)."""
    name = file_name or path.name
    files.check_upload_size(path, name)
    staged = staging.stage_file(con, path, None, name)
    try:
        mapped = map_spend_columns(staged.headers, columns)
        unknown = [c for c in mapped.values() if c not in staged.headers]
        if unknown:
            raise IngestError(name, f"it has no column '{unknown[0]}'; its columns are: "
                              f"{', '.join(staged.headers)}")
        missing = [f for f in ("channel", "period_start") if f not in mapped]
        if missing or not ({"money", "hours"} & set(mapped)):
            raise IngestError(
                name,
                "a spend file needs a channel column, a period start (e.g. 'Week starting') and "
                f"money and/or hours columns; found columns: {', '.join(staged.headers)}",
            )
        rowid_base = store.fetch_one(con, "ingest/raw_rowid_base")[0] or 0
        con.execute(staged_sql.spend_staged_table(mapped, SPEND_FIELDS),
                    {"rowid_base": rowid_base})
        family = dates.choose_spend_family(con)
        monthly = "month" in slug(mapped["period_start"])
        con.execute("BEGIN TRANSACTION")
        try:
            store.run(con, "spend/typed_spend", {"formats": dates.formats_of(family),
                                                 "month_formats": MONTH_FORMATS,
                                                 "monthly": monthly})
            replaced = int(store.fetch_one(con, "spend/spend_replaced_count")[0])
            store.run(con, "spend/delete_replaced_spend")
            store.run(con, "spend/insert_spend")
            store.bump_revision(con)
            loaded, periods, money, hours, months = store.fetch_one(con, "spend/spend_summary")
            rejected = store.fetch_df(con, "spend/spend_rejects").to_dict("records")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("ROLLBACK" if dry_run else "COMMIT")
    finally:
        with contextlib.suppress(duckdb.Error):
            files.drop_staging(con)
    return SpendResult(name, staged.rows_read, int(loaded), rejected, mapped,
                       periods=int(periods), combined=int(loaded) - int(periods),
                       replaced=replaced, monthly=bool(months),
                       money=float(money or 0.0), hours=float(hours or 0.0))


def combined_words(result: SpendResult) -> str:
    """'130 rows read: all 130 counted; 26 shared a channel and week with another row and were
    added to it (104 channel-weeks stored)' in words for a person."""
    unit = "month" if result.monthly else "week"
    text = (f"{result.read:,} rows read: {result.loaded:,} counted"
            + (f", {len(result.rejected):,} rejected" if result.rejected else "") + ".")
    if result.combined:
        verb = "was" if result.combined == 1 else "were"
        text += (f" {result.combined:,} of them shared a channel and {unit} with another row "
                 f"and {verb} added to it ({result.periods:,} channel-{unit}s stored); none was "
                 "left out.")
    if result.replaced:
        text += (f" {result.replaced:,} channel-{unit}s stored before were replaced by this "
                 "file's figures.")
    return text
