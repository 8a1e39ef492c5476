"""What the Overview page leads with: this week against last week, and the one comparison most
worth discussing. Pure functions over ``funnel.metrics`` results (no Streamlit, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from funnel import format as fmt

# A channel needs this many leads in the period to be put forward as the finding.
MIN_LEADS = 30
FALLBACK_MIN_LEADS = 10
# Channels that are not a channel a person could invest in.
NOT_ACTIONABLE = {"unknown", "other"}


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


def finding_pair(conversion: pd.DataFrame) -> tuple[str, str] | None:
    """The best- and worst-converting channels among those with enough leads, or None.

    ``conversion``: ``metrics.conversion_by_channel``. Channels 'unknown' and 'other' are left
    out; ties go to the channel with more leads.
    """
    pool = conversion[~conversion["channel"].isin(NOT_ACTIONABLE)]
    for minimum in (MIN_LEADS, FALLBACK_MIN_LEADS):
        ranked = pool[pool["leads"] >= minimum].sort_values(
            ["conversion_rate", "leads"], ascending=[False, False]
        )
        if len(ranked) >= 2:
            best, worst = ranked.iloc[0], ranked.iloc[-1]
            if best["conversion_rate"] > worst["conversion_rate"]:
                return str(best["channel"]), str(worst["channel"])
            return None
    return None


def default_pair(channels: list[str]) -> tuple[str, str] | None:
    """Referral vs cold call when both exist, else the two biggest channels."""
    if "referral" in channels and "cold_call" in channels:
        return "referral", "cold_call"
    if len(channels) >= 2:
        return channels[0], channels[1]
    return None


def action_sentence(result: dict) -> str:
    """What the finding suggests, in one line, when the better channel is clearly better."""
    a, b = result["a"], result["b"]
    if not a["leads"] or not b["leads"] or result["p_a_better"] < 0.95:
        return ""
    ratio = (a["conversion_rate"] / b["conversion_rate"]) if b["conversion_rate"] else None
    times = f"{ratio:.1f}x the rate of" if ratio and ratio >= 1.5 else "better than"
    return (f"{a['label']} leads close at {times} {fmt.in_sentence(b['label'])} leads: worth "
            f"asking whether time spent on {fmt.in_sentence(b['label'])} would bring more "
            f"customers through {fmt.in_sentence(a['label'])}.")
