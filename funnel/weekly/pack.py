"""The weekly review pack (issue 6): what changed this week, whether it is real, what is hot,
and what the last meeting decided. Pure: no Streamlit; the page, the exports and the CLI read
the :class:`WeeklyPack` that :func:`weekly_pack` returns.

What a week counts (its Monday to Sunday, ISO weeks):

- **new leads**: leads created in the week (marketing);
- **deals won** / **won value**: deals won in the week, by their won date, whenever created;
- **close rate**: won / (won + lost) among deals won or lost in the week. Not the conversion of
  the week's new leads: those are days old, so that rate would always read as a collapse.

Each is compared with the trailing average of the 4 weeks before (weeks with data only) and
flagged only when it falls outside its noise band, a range that ordinary weeks stay inside 99
times in 100 (see :data:`TESTS`, said for an owner, and docs/WEEKLY.md for the statistics):

- counts (leads, wins): Poisson, the exact conditional test of two Poisson counts;
- close rate: Beta-binomial, this week's wins of its closed deals against a Beta belief;
- won value: compound Poisson, a seeded simulation of the number of wins and their values.

The pack also carries the decision the meeting takes (issue 15): the head-to-head of the pair
the Sales page compares (``funnel.app.findings.default_pair``: referral against cold call when
both exist) over every lead up to the week's end, the allocation advice on the data up to then
with what would change it, and the last decision with its score.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from funnel import format as fmt
from funnel.allocation import recommend as allocation
from funnel.app import findings  # pure (no Streamlit): the pair the Sales page compares
from funnel.metrics import metrics
from funnel.store import connection as store
from funnel.store import currency as money
from funnel.weekly.checks import (
    ALPHA,
    SEED,
    VALUE_DRAWS,
    Check,
    count_check,
    dispersion,
    rate_check,
    value_check,
)
from funnel.weekly.week import (
    Week,
    resolve_week,
)

TRAILING_WEEKS = 4  # the baseline: the 4 weeks before the chosen one


TREND_WEEKS = 12  # weeks before the chosen one shown in the trend chart


HOT_LEADS_SHOWN = 10


MIN_DEAL_VALUES = 8  # fewer won deals in a channel's history: its value check uses all channels'


MOVED_SHOWN = 8  # at most this many flagged changes are spelled out in the headline


NORMAL = "within normal variation"


# Next action per temperature of an open lead (issue 6): what it wants, and how.
TEMPERATURE_ACTIONS: dict[str, tuple[str, str]] = {
    "cold": ("Introduce the business", "mailing, promotion"),
    "warm": ("Follow up", "call, letter, seminar"),
    "hot": ("Close", "call, presentation, proposal"),
}


METRIC_LABELS = {
    "leads": "New leads",
    "wins": "Deals won",
    "close_rate": "Close rate",
    "won_value": "Won value",
}


_BAND = f"{100 * (1 - ALPHA):.0f}%"


# How each check works, in an owner's words (the statistics are in docs/WEEKLY.md: an exact
# conditional test of two Poisson counts, a Beta-binomial for the close rate, a seeded compound
# Poisson simulation for won value).
_COUNT_TEST = (f"this week's count against the average of the {TRAILING_WEEKS} weeks before, "
               "allowing for the luck that makes counts jump from week to week; the normal "
               f"range holds {_BAND} of ordinary weeks")
TESTS = {
    "leads": _COUNT_TEST,
    "wins": _COUNT_TEST,
    "close_rate": "this week's wins out of the deals it decided, against the close rate of the "
    f"{TRAILING_WEEKS} weeks before, allowing for how few deals a week decides; the normal "
    f"range holds {_BAND} of ordinary weeks",
    "won_value": f"this week's won value against {VALUE_DRAWS:,} made-up ordinary weeks, each "
    f"with as many wins as the {TRAILING_WEEKS} weeks before would bring and each win worth "
    f"what one of the channel's won deals of the {TREND_WEEKS} weeks before was worth (every "
    f"channel's deals when it has fewer than {MIN_DEAL_VALUES}); the normal range holds "
    f"{_BAND} of them",
}


CHANGE_COLUMNS = [
    "channel", "label", "kind", "is_total", "metric", "metric_label", "this_week", "last_week",
    "trailing_mean", "baseline_weeks", "this_week_closed", "last_week_closed", "trailing_closed",
    "band_low", "band_high", "dispersion", "p_value", "direction", "is_flagged", "status",
    "verdict", "test",
]


# --- the pack ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Advice:
    """The allocation advice in words (``funnel.allocation.recommend``, default settings, the
    data up to the week's end): its summary and, per channel it moves, what to do, why and what
    would change it. ``available`` False (with the reason as ``summary``) without spend data."""

    available: bool
    summary: str
    moves: tuple[tuple[str, str, str, str], ...] = ()  # (channel words, to do, why, change)

    def to_dict(self) -> dict[str, Any]:
        return {"available": self.available, "summary": self.summary,
                "moves": [dict(zip(("label", "to_do", "why", "what_would_change"), m,
                                   strict=True)) for m in self.moves]}



@dataclass
class WeeklyPack:
    """Everything the weekly review shows. DataFrames are documented on :func:`weekly_pack`."""

    week: Week
    as_of: dt.date
    is_complete: bool
    baseline_weeks: list[Week]
    closing_baseline_weeks: list[Week]
    changes: pd.DataFrame
    trend: pd.DataFrame
    pipeline: pd.DataFrame
    hot_leads: pd.DataFrame
    hot_by_owner: pd.DataFrame
    hot_total: int
    stale_total: int
    stale_after_days: float | None
    decisions: pd.DataFrame
    decisions_note: str
    cohort: dict[str, int]  # this week's new leads: leads, won, lost, open (so far)
    wins_without_date: str | None = None  # metrics.coverage_notes' "wins_by_week" note
    head_to_head: dict[str, Any] | None = None  # metrics.head_to_head of the Sales page's pair
    advice: Advice | None = None  # the allocation advice on the data up to the week's end
    moved: list[str] = field(default_factory=list)
    agenda: list[str] = field(default_factory=list)
    currency: str | None = None  # the store's currency (ISO code; None: no file named one)

    @property
    def one_week(self) -> bool:
        """True when the data has no week before this one: nothing to compare with yet."""
        return not self.baseline_weeks

    @property
    def title(self) -> str:
        return f"Weekly review {self.week} ({self.week.dates()})"

    @property
    def baseline_text(self) -> str:
        """'the 4 weeks before (19 Oct – 15 Nov)'."""
        if not self.baseline_weeks:
            return "nothing yet: this is the first week of data"
        first, last = self.baseline_weeks[-1], self.baseline_weeks[0]
        n = len(self.baseline_weeks)
        span = f"{fmt.short_date(first.start)} – {fmt.short_date(last.end)}"
        return f"the {n} week{'s' if n > 1 else ''} before ({span})"

    def total(self, metric: str) -> pd.Series:
        """The all-channels row of ``changes`` for one metric."""
        rows = self.changes[self.changes["is_total"] & (self.changes["metric"] == metric)]
        return rows.iloc[0]

    def to_dict(self) -> dict[str, Any]:
        """The pack as JSON-safe data (dates ISO, NaN as None)."""
        return {
            "week": str(self.week),
            "week_start": self.week.start.isoformat(),
            "week_end": self.week.end.isoformat(),
            "as_of": self.as_of.isoformat(),
            "is_complete": self.is_complete,
            "baseline_weeks": [str(w) for w in self.baseline_weeks],
            "closing_baseline_weeks": [str(w) for w in self.closing_baseline_weeks],
            "tests": dict(TESTS),
            "alpha": ALPHA,
            "moved": list(self.moved),
            "agenda": list(self.agenda),
            "changes": _records(self.changes),
            "trend": _records(self.trend),
            "pipeline": _records(self.pipeline),
            "hot_leads": _records(self.hot_leads),
            "hot_by_owner": _records(self.hot_by_owner),
            "hot_total": self.hot_total,
            "stale_total": self.stale_total,
            "stale_after_days": self.stale_after_days,
            "decisions": _records(self.decisions),
            "decisions_note": self.decisions_note,
            "cohort": dict(self.cohort),
            "head_to_head": _json(self.head_to_head) if self.head_to_head else None,
            "advice": self.advice.to_dict() if self.advice else None,
        }


def weekly_pack(con, week: str | Week | None = None) -> WeeklyPack:
    """The weekly review for ``week`` (ISO, like ``'2026-W47'``; default: the last complete week
    on the store's as-of date). Raises :class:`WeekError` for a malformed week or one outside
    the data.

    - ``changes``: one row per channel (and the all-channels total, ``is_total``) x metric
      (leads, wins, close_rate, won_value): this_week, last_week, trailing_mean (the average of
      the baseline weeks; for close_rate the pooled rate), the closed-deal counts behind a close
      rate, band_low/band_high (the noise band for this week), p_value, direction ('up'/'down'
      when flagged), is_flagged, status, verdict (words), test (which test).
    - ``trend``: all channels per week, the chosen week and up to 12 before: week, week_start,
      week_offset, leads, won, lost, won_value.
    - ``pipeline``: open leads now (at the as-of date) by temperature, with the next action.
    - ``hot_leads``: the oldest hot leads: crm_id, channel, label, owner, value, created_on,
      days_open, hot_since, days_hot, is_stale. ``hot_by_owner``: owner, hot_leads, stale_leads.
    - ``decisions``: the last meeting's decisions and how they are doing (see decisions_note).
    """
    chosen, first, as_of = resolve_week(con, week)
    first_week = Week.of(first)
    horizon = store.fetch_one(con, "weekly/win_horizon")
    p90_days = _float(horizon[0])
    # the wins of leads created before the data starts are missing: the first weeks undercount
    # wins, so they are no baseline for the closing metrics
    ramp_start = first + dt.timedelta(days=math.ceil(p90_days or 0))
    rows = store.fetch_df(con, "weekly/channel_weeks",
                          {"week_start": chosen.start, "weeks_back": TREND_WEEKS})
    rows["week_start"] = pd.to_datetime(rows["week_start"]).dt.date
    rows = rows[rows["week_start"] >= first_week.start]
    baseline = [chosen.shifted(-i) for i in range(1, TRAILING_WEEKS + 1)
                if chosen.shifted(-i) >= first_week]
    closing = [w for w in baseline if w.start >= ramp_start]
    is_complete = chosen.end <= as_of
    changes = _changes(rows, ramp_start, is_complete)

    trend = rows[rows["is_total"]].sort_values("week_offset", ascending=False)
    trend = trend.assign(week=[str(Week.of(d)) for d in trend["week_start"]])[
        ["week", "week_start", "week_offset", "leads", "won", "lost", "won_value"]
    ].reset_index(drop=True)

    pipeline = _pipeline(con)
    stale = {"as_of": as_of, "stale_after_days": p90_days}
    hot = store.fetch_df(con, "weekly/oldest_hot_leads", {**stale, "limit": HOT_LEADS_SHOWN})
    by_owner = store.fetch_df(con, "weekly/hot_by_owner", stale)
    cohort = store.fetch_one(con, "weekly/week_cohort",
                             {"start": chosen.start, "end": chosen.end})
    decisions, decisions_note = _decisions(con, chosen, as_of)
    pack = WeeklyPack(
        week=chosen, as_of=as_of, is_complete=is_complete, baseline_weeks=baseline,
        closing_baseline_weeks=closing, changes=changes, trend=trend, pipeline=pipeline,
        hot_leads=hot, hot_by_owner=by_owner,
        hot_total=int(pipeline.loc[pipeline["temperature"] == "hot", "open_leads"].sum()),
        stale_total=int(by_owner["stale_leads"].sum()), stale_after_days=p90_days,
        decisions=decisions, decisions_note=decisions_note,
        cohort=dict(zip(("leads", "won", "lost", "open"), map(int, cohort), strict=True)),
        # wins are counted in the week they were won: a win the files give no date for is in
        # no week (the whole store: the pack covers every channel and owner)
        wins_without_date=metrics.coverage_notes(metrics.data_coverage(con))["wins_by_week"],
        head_to_head=_head_to_head(con, chosen),
        advice=_advice(con, chosen),
        currency=money.store_currency(con),
    )
    pack.moved = _moved(pack)
    pack.agenda = _agenda(pack)
    return pack


def _changes(rows: pd.DataFrame, ramp_start: dt.date, is_complete: bool) -> pd.DataFrame:
    """One row per channel (and total) x metric, with its check."""
    out: list[dict[str, Any]] = []
    closing_ok = rows["week_start"] >= ramp_start
    pooled = [v for lst in rows.loc[rows["is_total"] & (rows["week_offset"] >= 1) & closing_ok,
                                    "won_values"] for v in lst]
    keys = rows[["channel", "is_total", "label", "kind"]].drop_duplicates(
        subset=["channel", "is_total"])
    for key in keys.itertuples(index=False):
        mask = rows["is_total"] if key.is_total else (
            ~rows["is_total"] & (rows["channel"] == key.channel))
        part = rows[mask].set_index("week_offset")
        if 0 not in part.index:
            continue
        this = part.loc[0]
        history = part[part.index >= 1]
        recent = history[history.index <= TRAILING_WEEKS]
        if not key.is_total and (this[["leads", "won", "lost"]].sum()
                                 + recent[["leads", "won", "lost"]].to_numpy().sum()) == 0:
            continue  # seen only in the trend's older weeks
        windows = {
            "opening": (recent, history),
            "closing": (recent[recent["week_start"] >= ramp_start],
                        history[history["week_start"] >= ramp_start]),
        }
        last = part.loc[1] if 1 in part.index else None
        channel = None if key.is_total else key.channel
        label = "All channels" if key.is_total else fmt.channel_label(key.channel, key.label)
        common = {"channel": channel, "label": label, "kind": None if key.is_total else key.kind,
                  "is_total": bool(key.is_total)}
        seed = SEED + zlib.crc32(str(channel).encode())
        for metric in METRIC_LABELS:
            base, hist = windows["opening" if metric == "leads" else "closing"]
            out.append({**common, **_metric_row(metric, this, last, base, hist, is_complete,
                                                seed, pooled)})
    df = pd.DataFrame(out, columns=CHANGE_COLUMNS)
    order = (df[df["metric"] == "leads"]
             .assign(volume=lambda d: d["this_week"] + d["trailing_mean"].fillna(0))
             .sort_values(["is_total", "volume", "label"], ascending=[True, False, True]))
    rank = {(c, t): i for i, (c, t) in enumerate(zip(order["channel"], order["is_total"],
                                                       strict=True))}
    df["_rank"] = [rank[(c, t)] for c, t in zip(df["channel"], df["is_total"], strict=True)]
    df["_m"] = df["metric"].map({m: i for i, m in enumerate(METRIC_LABELS)})
    return df.sort_values(["_rank", "_m"]).drop(columns=["_rank", "_m"]).reset_index(drop=True)


def _metric_row(metric: str, this, last, base: pd.DataFrame, history: pd.DataFrame,
                is_complete: bool, seed: int, pooled_values: list[float]) -> dict[str, Any]:
    """One metric of one channel: this week, last week, the baseline's average and the check.

    ``base``: the baseline weeks' rows (up to 4); ``history``: up to 12 weeks before, for the
    dispersion of counts and the deal values.
    """
    base_weeks = len(base)
    row: dict[str, Any] = {"metric": metric, "metric_label": METRIC_LABELS[metric],
                           "baseline_weeks": base_weeks,
                           "test": TESTS[metric], "this_week_closed": None,
                           "last_week_closed": None, "trailing_closed": None, "dispersion": 1.0}
    if metric in ("leads", "wins"):
        column = "leads" if metric == "leads" else "won"
        k, total = int(this[column]), int(base[column].sum())
        spread = dispersion(history[column].to_numpy())
        row.update(this_week=k, last_week=None if last is None else int(last[column]),
                   trailing_mean=total / base_weeks if base_weeks else None, dispersion=spread)
        check = count_check(k, total, base_weeks, spread)
    elif metric == "close_rate":
        won, closed = int(this["won"]), int(this["won"] + this["lost"])
        base_won = int(base["won"].sum())
        base_closed = int(base["won"].sum() + base["lost"].sum())
        last_closed = None if last is None else int(last["won"] + last["lost"])
        row.update(
            this_week=won / closed if closed else None,
            last_week=int(last["won"]) / last_closed if last_closed else None,
            trailing_mean=base_won / base_closed if base_closed else None,
            this_week_closed=closed, last_week_closed=last_closed,
            trailing_closed=base_closed if base_weeks else None,
        )
        check = rate_check(won, closed, base_won, base_closed)
    else:
        values = [v for lst in history["won_values"] for v in lst]
        if len(values) < MIN_DEAL_VALUES:
            values = pooled_values
        value = float(this["won_value"])
        row.update(this_week=value, last_week=None if last is None else float(last["won_value"]),
                   trailing_mean=float(base["won_value"].sum()) / base_weeks
                   if base_weeks else None)
        check = value_check(value, int(base["won"].sum()), base_weeks, values, seed)
    if not is_complete and check.status in ("flagged", "normal"):
        check = Check("not_tested")
    row.update(band_low=check.band_low, band_high=check.band_high, p_value=check.p_value,
               direction=check.direction, is_flagged=check.is_flagged, status=check.status,
               verdict=_verdict_text(metric, check, row["this_week"]))
    return row


def _verdict_text(metric: str, check: Check, this_week) -> str:
    if check.status == "flagged":
        return f"{'▲ Up' if check.direction == 'up' else '▼ Down'}: outside normal variation"
    if check.status == "normal":
        return NORMAL
    if check.status == "no_baseline":
        return "nothing to compare with yet"
    if metric == "close_rate" and this_week is None:
        return "no deals closed this week"
    return "week not over: not tested"


def band_text(metric: str, low, high) -> str:
    """A noise band in words: '14–39', '10–62%', '$0–$12.4k'."""
    if fmt.is_missing(low) or fmt.is_missing(high):
        return fmt.MISSING
    if metric == "close_rate":
        return fmt.pct_range(low, high)
    if metric == "won_value":
        return f"{fmt.money_short(low)}–{fmt.money_short(high)}"
    return f"{fmt.count(low)}–{fmt.count(high)}"


def value_text(metric: str, value) -> str:
    """One metric's value in words: '14', '24%', '$23,200'."""
    if metric == "close_rate":
        return fmt.pct(value)
    if metric == "won_value":
        return fmt.money(value)
    return fmt.count(value)


def mean_text(metric: str, value) -> str:
    """A trailing average: one decimal for counts ('25.5'), else as :func:`value_text`."""
    if metric in ("leads", "wins") and not fmt.is_missing(value):
        number = float(value)
        return f"{number:,.0f}" if number == int(number) else f"{number:,.1f}"
    return value_text(metric, value)


def _moved(pack: WeeklyPack) -> list[str]:
    """Sentences for the flagged changes, all-channels first, then by channel size."""
    flagged = pack.changes[pack.changes["is_flagged"]]
    flagged = pd.concat([flagged[flagged["is_total"]], flagged[~flagged["is_total"]]])
    out = [moved_sentence(row._asdict()) for row in flagged.itertuples(index=False)]
    if len(out) > MOVED_SHOWN:
        rest = len(out) - MOVED_SHOWN
        out = out[:MOVED_SHOWN] + [f"…and {rest} more in the tables below."]
    return out


def moved_sentence(row: dict[str, Any]) -> str:
    """A flagged change in words: 'Referral: new leads up, 20 this week against an average of
    5 over the 4 weeks before (normal range 0–13).'"""
    metric = row["metric"]
    what = METRIC_LABELS[metric].lower()
    this = value_text(metric, row["this_week"])
    if metric == "close_rate":
        this += f" of {fmt.count(row['this_week_closed'])} closed"
        before = (f"{value_text(metric, row['trailing_mean'])} of "
                  f"{fmt.count(row['trailing_closed'])} closed over the "
                  f"{row['baseline_weeks']} weeks before")
    else:
        n = row["baseline_weeks"]
        before = (f"an average of {mean_text(metric, row['trailing_mean'])} over the "
                  f"{n} week{'s' if n != 1 else ''} before")
    return (f"{row['label']}: {what} {row['direction']}, {this} this week against {before} "
            f"(normal range {band_text(metric, row['band_low'], row['band_high'])}).")


def _pipeline(con) -> pd.DataFrame:
    """Open leads now by temperature, with what each wants next."""
    df = metrics.open_by_temperature(con).drop(columns=["next_action"], errors="ignore")
    df["stages"] = [", ".join(s) for s in df["stages"]]
    df["action"] = df["temperature"].map(lambda t: TEMPERATURE_ACTIONS.get(t, ("", ""))[0])
    df["how"] = df["temperature"].map(lambda t: TEMPERATURE_ACTIONS.get(t, ("", ""))[1])
    return df


def _agenda(pack: WeeklyPack) -> list[str]:
    """What the meeting should decide, from what moved, what is hot and the decision log."""
    items: list[str] = []
    flagged = pack.changes[pack.changes["is_flagged"]]
    flagged = pd.concat([flagged[flagged["is_total"]], flagged[~flagged["is_total"]]])
    if not pack.is_complete:
        items.append(f"This week is not over (data to {fmt.date(pack.as_of)}): read its numbers "
                     "as partial; nothing is flagged until it ends.")
    elif pack.one_week:
        items.append("This is the first week of data: nothing to compare it with yet, so "
                     "nothing is flagged. Next week's pack compares with this one.")
    elif flagged.empty:
        items.append("Nothing moved beyond normal variation: no channel needs a change on this "
                     "week's numbers alone.")
    else:
        ups = flagged[flagged["direction"] == "up"]
        downs = flagged[flagged["direction"] == "down"]
        if len(downs):
            items.append("Find the cause of each drop above (a campaign paused, a holiday, an "
                         "owner away, a data problem) and decide whether to fix it: "
                         + _names(downs) + ".")
        if len(ups):
            items.append("Find what lifted each rise above and whether it can be repeated: "
                         + _names(ups) + ".")
    if pack.head_to_head is not None:
        items.append(head_to_head_text(pack.head_to_head))
    if pack.advice is not None and pack.advice.available:
        items.append("Where next week's money and hours go (Allocation): "
                     + pack.advice.summary[:1].lower() + pack.advice.summary[1:])
    if pack.stale_total:
        owners = ", ".join(f"{o} {n}" for o, n in zip(pack.hot_by_owner["owner"].fillna(
            "no owner"), pack.hot_by_owner["stale_leads"], strict=True) if n)
        items.append(
            f"{fmt.count(pack.stale_total)} of {fmt.count(pack.hot_total)} hot deals have been "
            f"open longer than 90% of won deals took to win ({fmt.days(pack.stale_after_days)}): "
            f"close them (call, presentation, proposal) or mark them lost. By owner: {owners}.")
    elif pack.hot_total:
        items.append(f"{fmt.count(pack.hot_total)} hot deals: close them (call, presentation, "
                     "proposal); none has been open unusually long.")
    temps = dict(zip(pack.pipeline["temperature"], pack.pipeline["open_leads"], strict=True))
    if temps.get("warm"):
        items.append(f"{fmt.count(temps['warm'])} warm leads want a follow-up (call, letter, "
                     "seminar).")
    if temps.get("cold"):
        items.append(f"{fmt.count(temps['cold'])} cold leads want an introduction to the "
                     "business (mailing, promotion).")
    if pack.decisions.empty:
        items.append("Record today's decision on the Allocation page (accept the plan, or your "
                     "own split), so next week's pack can show how it did.")
    else:
        items.append("Review the last decision (below) against its forecast: keep, adjust or "
                     "stop each channel's share.")
    return items


def head_to_head_text(result: dict[str, Any]) -> str:
    """The head-to-head finding as the pack says it: 'Referral against cold call, every lead
    up to 22 Nov: Referral converts 28% (22–35%) vs cold call 8% (5–11%); ...'."""
    a, b = result["a"]["label"], result["b"]["label"]
    return (f"{a} against {fmt.in_sentence(b)}, all leads up to {fmt.date(result['up_to'])}: "
            f"{result['sentence']}")


def _head_to_head(con, week: Week) -> dict[str, Any] | None:
    """The Sales page's head-to-head pair (referral against cold call when both exist) over
    every lead that came in up to the week's end; None with fewer than two channels."""
    conversion = metrics.conversion_by_channel(con, None, week.end)
    pair = findings.default_pair(list(conversion["channel"]))
    if pair is None:
        return None
    result = metrics.head_to_head(con, pair[0], pair[1], None, week.end, conversion=conversion)
    return {**result, "up_to": week.end}


ADVICE_TO_DO = {"gain": "Raise", "cut": "Cut"}


def _advice(con, week: Week) -> Advice:
    """The allocation advice at default settings on the data up to the week's end."""
    try:
        rec = allocation.recommend(con, end=week.end)
    except (allocation.AllocationError, duckdb.CatalogException) as exc:
        return Advice(False, f"No allocation advice: {exc}.")
    if not rec.channels:
        return Advice(False, rec.summary)
    moves = tuple((fmt.channel_label(c.channel, c.label), ADVICE_TO_DO[c.status], c.reason,
                   c.what_would_change)
                  for c in sorted(rec.channels, key=lambda c: c.current_share - c.recommended_share)
                  if c.status in ADVICE_TO_DO)
    return Advice(True, rec.summary, moves)


def _names(rows: pd.DataFrame) -> str:
    return "; ".join(f"{r.label} {METRIC_LABELS[r.metric].lower()}"
                     for r in rows.itertuples(index=False))


# --- decisions -----------------------------------------------------------------------------

NO_DECISIONS = "No decisions recorded yet."


SPEND_TOLERANCE = 0.2  # spend this far off the plan so far: the plan was not followed


DECISION_COLUMNS = [
    "decision_id", "decided_at", "period_start", "period_end", "channel", "label",
    "current_share", "planned_share", "planned_amount", "planned_to_date", "actual_amount",
    "forecast_leads", "expected_leads_to_date", "actual_leads", "forecast_wins",
    "forecast_low", "forecast_high", "actual_wins", "status", "scored_from",
]


def _decisions(con, week: Week, as_of: dt.date) -> tuple[pd.DataFrame, str]:
    """The last meeting's decision (the newest one decided on or before the week's Sunday) per
    channel, with how it is doing so far: from the decision log of issue 5."""
    try:
        from funnel.allocation import decisions as decision_log
    except ImportError:  # the decision log is not part of this build
        return pd.DataFrame(columns=DECISION_COLUMNS), NO_DECISIONS
    try:
        log = decision_log.decision_log(con)
    except duckdb.CatalogException:  # a store from before the decision log (schema 1)
        return pd.DataFrame(columns=DECISION_COLUMNS), NO_DECISIONS
    decided = pd.to_datetime(log["decided_at"]).dt.date
    log = log[decided <= week.end]
    if log.empty:
        return pd.DataFrame(columns=DECISION_COLUMNS), (
            NO_DECISIONS if decided.empty else f"No decision recorded on or before "
            f"{fmt.date(week.end)}; the first one is from {fmt.date(decided.min())}.")
    decision_id = int(log["decision_id"].max())
    outcomes = decision_log.decision_outcomes(con, decision_id)
    labels = outcomes["label"] if "label" in outcomes else [None] * len(outcomes)
    outcomes["label"] = [fmt.channel_label(c, lab) for c, lab in
                         zip(outcomes["channel"], labels, strict=True)]
    scored = decision_log.score_outcomes(outcomes)
    current = log[log["decision_id"] == decision_id].set_index("channel")["current_share"]
    scored["current_share"] = scored["channel"].map(current)
    start = pd.to_datetime(scored["period_start"]).dt.date
    end = pd.to_datetime(scored["period_end"]).dt.date
    elapsed = [max(0, (min(as_of, e) - s).days + 1) for s, e in zip(start, end, strict=True)]
    length = [(e - s).days + 1 for s, e in zip(start, end, strict=True)]
    scored["expected_leads_to_date"] = [float(f) * n / total for f, n, total in
                                        zip(scored["forecast_leads"], elapsed, length,
                                            strict=True)]
    scored["planned_to_date"] = [float(a) * n / 7 for a, n in
                                 zip(scored["planned_amount"], elapsed, strict=True)]
    summary = decision_log.decision_summary(scored)
    note = str(summary["sentence"].iloc[0]) if len(summary) else ""
    return scored[DECISION_COLUMNS].reset_index(drop=True), note


def _float(value: object) -> float | None:
    return None if fmt.is_missing(value) else float(value)


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if fmt.is_missing(value) if not isinstance(value, list | tuple | np.ndarray) else False:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        midnight = value.time() == dt.time(0)
        return value.date().isoformat() if midnight else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.ndarray | list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, np.generic):
        return _json(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _json(v) for k, v in row.items()} for row in df.to_dict(orient="records")]
