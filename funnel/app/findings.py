"""What the Overview page leads with: this week against last week, and the one comparison most
worth discussing. Pure functions over ``funnel.metrics`` results (no Streamlit, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from funnel import format as fmt
from funnel.metrics import pairs


@dataclass(frozen=True)
class WeekFigures:
    """One week's headline numbers."""

    week: pd.Timestamp
    leads: int
    wins: int
    conversion: float | None


@dataclass(frozen=True)
class Headline:
    """The latest week and the week before it (None when the data has one week only)."""

    this: WeekFigures
    last: WeekFigures | None

    def delta_leads(self) -> int | None:
        return None if self.last is None else self.this.leads - self.last.leads

    def delta_wins(self) -> int | None:
        return None if self.last is None else self.this.wins - self.last.wins

    def delta_conversion(self) -> float | None:
        if self.last is None or self.this.conversion is None or self.last.conversion is None:
            return None
        return self.this.conversion - self.last.conversion


def _week(row: pd.Series) -> WeekFigures:
    rate = row["conversion_rate"]
    return WeekFigures(
        week=pd.Timestamp(row["week"]),
        leads=int(row["leads"]),
        wins=int(row["wins_closed"]),
        conversion=None if fmt.is_missing(rate) else float(rate),
    )


def weekly_headline(by_week: pd.DataFrame) -> Headline | None:
    """The last two weeks of ``metrics.headline_by_week`` (None when it is empty)."""
    if by_week.empty:
        return None
    rows = by_week.sort_values("week")
    this = _week(rows.iloc[-1])
    last = _week(rows.iloc[-2]) if len(rows) > 1 else None
    return Headline(this, last)


def finding_pair(conversion: pd.DataFrame, pinned: tuple[str, str] | None = None
                 ) -> tuple[str, str] | None:
    """The pair "Worth discussing" compares: :func:`funnel.metrics.pairs.finding_pair` (the
    owner's pinned pair, else referral against cold call, else the two biggest channels with
    a real difference)."""
    return pairs.finding_pair(conversion, pinned)


def default_pair(channels: list[str], pinned: tuple[str, str] | None = None
                 ) -> tuple[str, str] | None:
    """The Sales page's first head to head: :func:`funnel.metrics.pairs.default_pair`."""
    return pairs.default_pair(channels, pinned)


def action_sentence(result: dict) -> str:
    """What the finding suggests, in one line, when one channel is clearly better (either way
    round: a pinned pair may put the weaker first). The sentence always carries how many times
    the rate and the two rates, so it never reads "close at better than"."""
    a, b = result["a"], result["b"]
    p = result["p_a_better"]
    if not a["leads"] or not b["leads"] or 1 - pairs.REAL < p < pairs.REAL:
        return ""
    better, worse = (a, b) if p >= pairs.REAL else (b, a)
    rate_b, rate_w = better["conversion_rate"], worse["conversion_rate"]
    name_b, name_w = better["label"], fmt.in_sentence(worse["label"])
    if rate_w:
        ratio = rate_b / rate_w
        times = f"{ratio:.2f}" if ratio < 1.1 else f"{ratio:.1f}"
        how = (f"close at {times} times the rate of {name_w} leads "
               f"({fmt.pct(rate_b)} against {fmt.pct(rate_w)})")
    else:
        how = f"close at {fmt.pct(rate_b)}, while no {name_w} lead has closed yet"
    return (f"{name_b} leads {how}: worth asking whether time spent on {name_w} would bring "
            f"more customers through {fmt.in_sentence(name_b)}.")
