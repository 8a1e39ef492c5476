"""ISO weeks (Monday to Sunday, written 2026-W47) and which of them a store's data can review:
the default week, the weeks available, a week checked against the data."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from funnel import format as fmt
from funnel.metrics import metrics
from funnel.store import connection as store


class WeekError(ValueError):
    """A week that is not an ISO week like 2026-W47, or one outside the store's data."""


class NoDataError(ValueError):
    """The store holds no leads yet: there is no week to review."""


_WEEK_RE = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week: Monday to Sunday, written ``2026-W47``."""

    year: int
    number: int

    def __post_init__(self) -> None:
        try:
            dt.date.fromisocalendar(self.year, self.number, 1)
        except ValueError:
            raise WeekError(f"{self.year} has no ISO week {self.number}") from None

    @classmethod
    def parse(cls, text: str) -> Week:
        """``'2026-W47'`` (or ``2026W47``, any case) -> Week; :class:`WeekError` otherwise."""
        match = _WEEK_RE.match(str(text))
        if not match:
            raise WeekError(f"'{text}' is not an ISO week; write it like 2026-W47")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Week:
        """The ISO week a date falls in."""
        year, number, _ = day.isocalendar()
        return cls(year, number)

    @property
    def start(self) -> dt.date:
        """Its Monday."""
        return dt.date.fromisocalendar(self.year, self.number, 1)

    @property
    def end(self) -> dt.date:
        """Its Sunday."""
        return self.start + dt.timedelta(days=6)

    def shifted(self, weeks: int) -> Week:
        """The week ``weeks`` later (earlier when negative)."""
        return Week.of(self.start + dt.timedelta(weeks=weeks))

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def dates(self) -> str:
        """'16–22 Nov 2026' (or '28 Dec 2026 – 3 Jan 2027')."""
        a, b = self.start, self.end
        if a.year != b.year:
            return f"{fmt.date(a)} – {fmt.date(b)}"
        if a.month != b.month:
            return f"{a.day} {a:%b} – {fmt.date(b)}"
        return f"{a.day}–{fmt.date(b)}"


def default_week(as_of: dt.date, first: dt.date | None = None) -> Week:
    """The last complete week on the as-of date (its own week when it is a Sunday); when the
    data starts after that week (``first``: the first created date), the as-of date's own
    week, not over yet (the pack says so)."""
    complete = Week.of(as_of - dt.timedelta(days=(as_of.weekday() + 1) % 7))
    if first is not None and complete.end < first:
        return Week.of(as_of)
    return complete


def data_span(con) -> tuple[dt.date | None, dt.date | None]:
    """(first created date, store as-of date), both None on an empty store."""
    first = store.fetch_one(con, "weekly/data_span")[0]
    as_of = metrics.as_of_date(con).iloc[0]["as_of_date"]
    return _date(first), _date(as_of)


def available_weeks(con) -> list[Week]:
    """Weeks a pack can be made for, newest first: from the first lead's week to the as-of's."""
    first, as_of = data_span(con)
    if first is None or as_of is None:
        return []
    week, last = Week.of(first), Week.of(as_of)
    weeks = []
    while week <= last:
        weeks.append(week)
        week = week.shifted(1)
    return weeks[::-1]


def resolve_week(con, week: str | Week | None) -> tuple[Week, dt.date, dt.date]:
    """(week, first created date, as-of date): ``week`` checked against the store's data."""
    first, as_of = data_span(con)
    if first is None or as_of is None:
        raise NoDataError("the store has no leads yet: ingest a CRM export first "
                          "(python -m funnel ingest FILE), or try the demo (python -m funnel demo)")
    if week is None:
        chosen = default_week(as_of, first)
        if chosen.end < first:  # data newer than its as-of date (an --as-of set too early):
            # review the last complete week of the data itself rather than fail
            last = _date(store.fetch_one(con, "weekly/data_span")[1]) or first
            chosen = default_week(last, first)
    else:
        chosen = week if isinstance(week, Week) else Week.parse(week)
    if week is not None and chosen.start > as_of:
        raise WeekError(f"{chosen} starts after the data's as-of date ({as_of}); "
                        f"the latest complete week is {default_week(as_of)}")
    if week is not None and chosen.end < first:
        raise WeekError(f"{chosen} ends before the first lead ({first}); "
                        f"the data starts in {Week.of(first)}")
    return chosen, first, as_of


# --- helpers -------------------------------------------------------------------------------


def _date(value: object) -> dt.date | None:
    return None if fmt.is_missing(value) else pd.Timestamp(value).date()
