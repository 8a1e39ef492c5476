"""Date formats of CRM exports, and the choice of one family of formats per column (SPEC 3).

A column's family is the one that parses most of its values; month-first and day-first are told
apart by values that can only be one (``13/02/2026``), and a column that cannot tell follows the
other date columns of the file, else month-first (US).
"""

from __future__ import annotations

import duckdb

from funnel.store import connection as store

_TIMES = [
    "",
    " %H:%M:%S",
    " %H:%M",
    "T%H:%M:%S",
    "T%H:%M:%S.%f",
    " %H:%M:%S.%f",
    "T%H:%M:%SZ",
    "T%H:%M:%S.%fZ",
    " %I:%M %p",
    " %I:%M:%S %p",
    ", %I:%M %p",
    ", %H:%M",
]


# Salesforce API exports write UTC with its offset (2024-03-14T10:22:33.000+0000): ISO only. A
# format more costs every value of the family's vote (try_strptime reads its list per value).
_ISO_TIMES = [*_TIMES, "T%H:%M:%S.%f+0000", "T%H:%M:%S+0000"]


def _with_times(*dates: str, times: list[str] = _TIMES) -> list[str]:
    return [d + t for d in dates for t in times]


FAMILIES: dict[str, list[str]] = {
    "iso": _with_times("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", times=_ISO_TIMES),
    # two-digit years first: %Y reads '02/23/26' as year 26, %y as 2026 (SPEC 3: Python's %y),
    # and %y fails on a four-digit year, which %Y then reads
    "us": _with_times("%m/%d/%y", "%m/%d/%Y", "%m-%d-%Y"),
    "day_first": _with_times("%d/%m/%y", "%d/%m/%Y", "%d.%m.%y", "%d.%m.%Y", "%d-%m-%Y"),
    "text": _with_times(
        "%d %b, %Y",
        "%d %b %Y",
        "%b %d, %Y",
        "%b %d %Y",
        "%d %B %Y",
        "%B %d, %Y",
        "%d-%b-%y",
        "%d-%b-%Y",
        "%a, %d %b %Y",
        "%d %B, %Y",
    ),
}
EXCEL = "excel_serial"
ORDER = ["iso", "us", "day_first", "text", EXCEL]
# Families whose formats never read one value two ways (the date separator, the 'T', the ', ',
# seconds, a fraction, a 'Z' or AM/PM tell them apart): the order they are tried in changes no
# result, only the cost. A try that fails costs ~10x one that succeeds (1M values: 0.3 s of CPU
# per failed format), so the formats a column uses go first. Not "us" and friends: %Y also
# reads the two-digit year that %y reads as 20xx, so %y must come first there.
EXCLUSIVE_FAMILIES = ("iso",)


def choose_families(con: duckdb.DuckDBPyConnection, fields: list[str]) -> dict[str, str]:
    """Per staged date field (e.g. ``created_at``), the family of formats its values follow."""
    if not fields:
        return {}
    store.run(con, "ingest/date_sample", {"fields": fields})
    rows = store.fetch_all(con, "ingest/date_format_votes", FAMILIES)
    votes: dict[str, dict[str, int]] = {f: {} for f in fields}
    for fld, *counts in rows:
        votes[fld] = dict(zip(ORDER, (int(n) for n in counts), strict=True))
    chosen: dict[str, str] = {}
    for fld in fields:
        counts = votes[fld]
        best = max(ORDER, key=lambda fam: (counts.get(fam, 0), -ORDER.index(fam)))
        chosen[fld] = best
    # A column that cannot tell month-first from day-first follows one that can.
    decided = {
        fam
        for fld, fam in chosen.items()
        if fam in ("us", "day_first") and votes[fld].get("us", 0) != votes[fld].get("day_first", 0)
    }
    if len(decided) == 1:
        family = decided.pop()
        for fld, fam in chosen.items():
            if fam in ("us", "day_first") and votes[fld].get("us") == votes[fld].get("day_first"):
                chosen[fld] = family
    return chosen


def formats_of(family: str) -> list[str]:
    """The strptime formats of a family (a never-matching one for Excel serials)."""
    return FAMILIES.get(family, ["%Y-%m-%d"])


def formats_in_use_order(
    con: duckdb.DuckDBPyConnection, families: dict[str, str]
) -> dict[str, list[str]]:
    """Per date field, the formats of its family, those its sampled values use first when the
    order changes no result (EXCLUSIVE_FAMILIES); reads the sample :func:`choose_families` took."""
    orders = {fld: formats_of(fam) for fld, fam in families.items()}
    for family in EXCLUSIVE_FAMILIES:
        fields = {fld for fld, fam in families.items() if fam == family}
        counts: dict[str, dict[str, int]] = {fld: {} for fld in fields}
        covered = dict.fromkeys(fields, 0)
        for fmt in FAMILIES[family]:
            if not fields:
                break
            rows = store.fetch_all(con, "ingest/date_format_matches", {"format": fmt})
            fields &= {fld for fld, _, _ in rows}  # a field with no sampled value is left as is
            for fld, matched, sampled in rows:
                if fld in fields:
                    counts[fld][fmt] = int(matched)
                    covered[fld] += int(matched)
                    if covered[fld] >= sampled:  # every sampled value has its format
                        fields.discard(fld)
        for fld, used in counts.items():
            if used:
                orders[fld] = sorted(FAMILIES[family], key=lambda f, u=used: -u.get(f, 0))
    return orders


def choose_spend_family(con: duckdb.DuckDBPyConnection) -> str:
    """The family of date formats of a staged spend file's period column."""
    row = store.fetch_one(con, "spend/period_format_votes", FAMILIES)
    counts = dict(zip(ORDER, (int(n) for n in row), strict=True))
    return max(ORDER, key=lambda fam: (counts.get(fam, 0), -ORDER.index(fam)))
