"""The decision log: allocations the owner accepted or edited, planned against actual, and each
forecast scored once the period's leads have had time to convert (issue 5).

- :func:`record_decision` stores a :class:`funnel.allocation.Recommendation` (or the owner's
  edit of it) with its forecast, one row per channel, in the ``decisions`` table.
- :func:`planned_vs_actual`: week by week, planned money and hours against those recorded in
  the spend data, and forecast leads against actual leads.
- :func:`score_decisions`: per channel, did the wins of the period's leads fall inside the
  forecast interval? A channel is scored once its leads are mature: the period's last day plus
  the channel's 90th percentile of days to win, kept between 4 and 8 weeks.

Every query lives in ``queries/decisions/``; :func:`score_outcomes` is pure.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import duckdb
import pandas as pd

from funnel.allocation.recommend import AllocationError, Recommendation
from funnel.store import connection as store

MIN_HORIZON_DAYS = 28  # a decision is never scored before its leads are 4 weeks old ...
MAX_HORIZON_DAYS = 56  # ... and always by 8 weeks
MIN_WINS_FOR_HORIZON = 10  # wins a channel needs for its own days-to-win percentile
FOLLOWED_TOLERANCE = 0.2  # actual spend within 20% of the plan: the plan was followed


def next_monday(day: dt.date) -> dt.date:
    """The first Monday after ``day`` (a week later when ``day`` is a Monday)."""
    return day + dt.timedelta(days=7 - day.weekday())


def record_decision(
    con: duckdb.DuckDBPyConnection,
    rec: Recommendation,
    shares: Mapping[str, float] | None = None,
    *,
    period_start: dt.date | None = None,
    note: str | None = None,
    decided_at: dt.datetime | None = None,
) -> int:
    """Store ``rec`` as accepted (``shares`` None) or as edited (``shares``: channel -> share,
    as for :meth:`Recommendation.what_if`), with the forecast of that split; returns the new
    decision_id. The period starts ``period_start`` (default: the Monday after the store's
    as-of date) and lasts the recommendation's forecast weeks."""
    if not rec.channels:
        raise AllocationError("nothing to record: the recommendation has no channel")
    planned = rec.what_if(shares if shares is not None else rec.recommended_shares)
    frame = planned.channels
    weeks = rec.settings.forecast_weeks
    start = period_start or next_monday(rec.as_of or dt.date.today())
    end = start + dt.timedelta(days=7 * weeks - 1)
    by_channel = {c.channel: c for c in rec.channels}
    params = {
        "decided_at": decided_at or dt.datetime.now().replace(microsecond=0),
        "period_start": start,
        "period_end": end,
        "note": note or None,
        "hourly_rate": rec.settings.hourly_rate,
        "channels": list(frame["channel"]),
        "planned_shares": _floats(frame["share"]),
        "planned_amounts": _floats(frame["amount"]),
        "planned_money": _floats(frame["money"]),
        "planned_hours": _floats(frame["hours"]),
        "recommended_shares": [by_channel[c].recommended_share for c in frame["channel"]],
        "current_shares": [by_channel[c].current_share for c in frame["channel"]],
        "forecast_wins": _floats(frame["expected_wins"]),
        "forecast_low": _floats(frame["expected_wins_low"]),
        "forecast_high": _floats(frame["expected_wins_high"]),
        "forecast_leads": _floats(frame["expected_leads"]),
    }
    with store.transaction(con):
        decision_id = int(store.fetch_one(con, "decisions/next_decision_id")[0])
        store.run(con, "decisions/insert_decision", {"decision_id": decision_id, **params})
        store.bump_revision(con)
    return decision_id


def delete_decision(con: duckdb.DuckDBPyConnection, decision_id: int) -> None:
    """Remove a decision recorded by mistake."""
    with store.transaction(con):
        store.run(con, "decisions/delete_decision", {"decision_id": int(decision_id)})
        store.bump_revision(con)


def decision_log(con: duckdb.DuckDBPyConnection, decision_id: int | None = None) -> pd.DataFrame:
    """The stored decisions, newest first.

    Columns: decision_id, decided_at, period_start, period_end, channel, current_share,
    recommended_share, planned_share, planned_amount, planned_money, planned_hours (per week),
    hourly_rate, forecast_leads, forecast_wins, forecast_low, forecast_high (whole period), note.
    """
    return store.fetch_df(con, "decisions/decision_log", {"decision_id": decision_id})


def planned_vs_actual(
    con: duckdb.DuckDBPyConnection, decision_id: int | None = None
) -> pd.DataFrame:
    """Week by week within each decision's period (up to the as-of date), plan against actual.

    Columns: decision_id, channel, week_start, week_end, planned_share, planned_money,
    planned_hours, planned_amount, actual_money, actual_hours, actual_amount (NULL without spend
    data for that week), forecast_leads, actual_leads, won_so_far.
    """
    return store.fetch_df(con, "decisions/planned_vs_actual", {"decision_id": decision_id})


def decision_outcomes(
    con: duckdb.DuckDBPyConnection, decision_id: int | None = None
) -> pd.DataFrame:
    """Per decision and channel, the forecast beside what happened so far (unscored); the
    columns of ``queries/decisions/decision_outcomes.sql``."""
    return store.fetch_df(con, "decisions/decision_outcomes", {"decision_id": decision_id})


def score_decisions(
    con: duckdb.DuckDBPyConnection, decision_id: int | None = None
) -> pd.DataFrame:
    """:func:`score_outcomes` of :func:`decision_outcomes`."""
    return score_outcomes(decision_outcomes(con, decision_id))


def score_outcomes(
    outcomes: pd.DataFrame,
    min_days: int = MIN_HORIZON_DAYS,
    max_days: int = MAX_HORIZON_DAYS,
    min_wins: int = MIN_WINS_FOR_HORIZON,
) -> pd.DataFrame:
    """Score each decision x channel once its leads are mature (pure).

    The horizon is the channel's 90th percentile of days to win when it has ``min_wins`` wins,
    else the pooled percentile when that has ``min_wins``, else ``max_days``; always kept within
    [``min_days``, ``max_days``]. A row is scored from ``period_end + horizon``; before that its
    status is 'waiting'. Scored rows are 'inside' (forecast_low <= actual_wins <=
    forecast_high), 'above' or 'below'. ``followed`` says whether the money and hours recorded
    for the period came within 20% of the plan (None without spend data): a forecast is a
    forecast of the plan, not of what was done instead.

    Adds: horizon_days, scored_from, status, is_scored, is_inside, followed, actual_amount,
    planned_total, sentence.
    """
    out = outcomes.copy()
    horizons, scored_from, status, followed, actual_amount, planned_total = [], [], [], [], [], []
    for row in out.itertuples(index=False):
        horizon = _horizon(row, min_days, max_days, min_wins)
        start, end = _date(row.period_start), _date(row.period_end)
        ready = end + dt.timedelta(days=math.ceil(horizon))
        as_of = _date(row.as_of_date) if _present(row.as_of_date) else None
        horizons.append(horizon)
        scored_from.append(ready)
        if as_of is None or as_of < ready:
            status.append("waiting")
        elif row.actual_wins < row.forecast_low:
            status.append("below")
        elif row.actual_wins > row.forecast_high:
            status.append("above")
        else:
            status.append("inside")
        planned = float(row.planned_amount) * ((end - start).days + 1) / 7
        planned_total.append(planned)
        if _present(row.actual_money) or _present(row.actual_hours):
            spent = _num(row.actual_money) + _num(row.actual_hours) * _num(row.hourly_rate)
            actual_amount.append(spent)
            followed.append(abs(spent - planned) <= FOLLOWED_TOLERANCE * planned
                            if planned > 0 else spent == 0)
        else:
            actual_amount.append(None)
            followed.append(None)
    out["horizon_days"] = horizons
    out["scored_from"] = scored_from
    out["status"] = status
    out["is_scored"] = out["status"] != "waiting"
    out["is_inside"] = out["status"] == "inside"
    out["followed"] = followed
    out["actual_amount"] = actual_amount
    out["planned_total"] = planned_total
    out["sentence"] = [_sentence(r) for r in out.itertuples(index=False)]
    return out


def decision_summary(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per decision from :func:`score_outcomes`: decision_id, decided_at, period_start,
    period_end, channels, scored, inside, waiting, forecast_wins, forecast_low_sum,
    forecast_high_sum, actual_wins, sentence. The totals' bounds are sums of the channels'
    bounds, so wider than the total's own interval: read them as a rough range."""
    rows = []
    for decision_id, group in scored.groupby("decision_id", sort=False):
        first = group.iloc[0]
        n_scored = int(group["is_scored"].sum())
        inside = int(group["is_inside"].sum())
        waiting = len(group) - n_scored
        forecast = float(group["forecast_wins"].sum())
        actual = int(group["actual_wins"].sum())
        period = f"{_date(first.period_start)} to {_date(first.period_end)}"
        if n_scored == 0:
            ready = max(group["scored_from"])
            text = (f"Decision {decision_id} ({period}): waiting until {ready} for its leads "
                    f"to convert; {actual} wins so far against {forecast:.1f} forecast.")
        else:
            text = (f"Decision {decision_id} ({period}): {inside} of {n_scored} scored channels "
                    f"inside their forecast; {actual} wins against {forecast:.1f} forecast")
            text += f"; {waiting} still waiting." if waiting else "."
        rows.append({
            "decision_id": int(decision_id),
            "decided_at": first.decided_at,
            "period_start": first.period_start,
            "period_end": first.period_end,
            "channels": len(group),
            "scored": n_scored,
            "inside": inside,
            "waiting": waiting,
            "forecast_wins": forecast,
            "forecast_low_sum": float(group["forecast_low"].sum()),
            "forecast_high_sum": float(group["forecast_high"].sum()),
            "actual_wins": actual,
            "sentence": text,
        })
    return pd.DataFrame(rows, columns=[
        "decision_id", "decided_at", "period_start", "period_end", "channels", "scored",
        "inside", "waiting", "forecast_wins", "forecast_low_sum", "forecast_high_sum",
        "actual_wins", "sentence",
    ])


def _horizon(row, min_days: int, max_days: int, min_wins: int) -> float:
    if row.channel_wins >= min_wins and _present(row.channel_p90_days):
        days = float(row.channel_p90_days)
    elif _present(row.all_wins) and row.all_wins >= min_wins and _present(row.all_p90_days):
        days = float(row.all_p90_days)
    else:
        days = float(max_days)
    return min(max(days, float(min_days)), float(max_days))


def _sentence(row) -> str:
    forecast = (f"{row.forecast_wins:.1f} wins forecast ({row.forecast_low:.0f}-"
                f"{row.forecast_high:.0f})")
    if row.status == "waiting":
        return (f"{row.label}: {row.actual_wins} wins so far from {row.actual_leads} leads; "
                f"{forecast}; scored from {row.scored_from}.")
    verdict = {"inside": "inside the forecast", "above": "above the forecast",
               "below": "below the forecast"}[row.status]
    text = (f"{row.label}: {row.actual_wins} wins from {row.actual_leads} leads, {verdict} "
            f"({forecast}).")
    if row.followed is False:
        text += " The plan was not followed (spend more than 20% off), so this says little."
    return text


def _floats(values) -> list[float]:
    return [float(v) for v in values]


def _present(value) -> bool:
    return value is not None and not pd.isna(value)


def _num(value) -> float:
    return float(value) if _present(value) else 0.0


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()
