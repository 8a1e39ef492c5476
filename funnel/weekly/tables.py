"""The weekly pack's display tables, in words an owner reads, shared by the Weekly page and the
exports: new leads, deals won, the pipeline, the oldest hot leads, the last decisions.

Cells hold the characters as they are (``st.dataframe``, CSV and HTML show them as text); the
columns in :data:`FROM_FILES` hold words from the files or a person (a channel kept as its own,
an owner, a CRM id), which the Markdown export escapes (:func:`funnel.safe_text.md_text`).
"""

from __future__ import annotations

import pandas as pd

from funnel import format as fmt
from funnel.weekly.pack import (
    METRIC_LABELS,
    NORMAL,
    SPEND_TOLERANCE,
    WeeklyPack,
    band_text,
    mean_text,
)

# Columns whose cells are words from a file or a person, not Funnel's own.
FROM_FILES = ("Channel", "CRM id", "Owner")


def decisions_table(pack: WeeklyPack) -> pd.DataFrame:
    """The last meeting's decision per channel in words: the plan, and how it is doing."""
    d = pack.decisions
    if d.empty:
        return pd.DataFrame()
    doing = []
    for r in d.itertuples(index=False):
        if r.status == "waiting":
            text = f"too early to score (from {fmt.date(r.scored_from)})"
        else:
            text = {"inside": "inside the forecast", "above": "above the forecast",
                    "below": "below the forecast"}.get(r.status, str(r.status))
        spent, plan = r.actual_amount, r.planned_to_date
        if not fmt.is_missing(spent) and plan > 0 and abs(spent - plan) > SPEND_TOLERANCE * plan:
            text += (f"; spending {'above' if spent > plan else 'below'} plan (more than "
                     f"{fmt.pct(SPEND_TOLERANCE)} off)")
        doing.append(text)
    return pd.DataFrame({
        "Channel": d["label"],
        "Share": [f"{fmt.pct(a)} → {fmt.pct(b)}" if not fmt.is_missing(a) else fmt.pct(b)
                  for a, b in zip(d["current_share"], d["planned_share"], strict=True)],
        "Plan per week": [fmt.money(v) for v in d["planned_amount"]],
        "Spent so far": [f"{fmt.money(a)} (plan {fmt.money(p)} by now)"
                         if not fmt.is_missing(a) else "no spend recorded"
                         for a, p in zip(d["actual_amount"], d["planned_to_date"], strict=True)],
        "Leads so far": [f"{fmt.count(a)} (forecast {fmt.count(f)} by now)"
                         for a, f in zip(d["actual_leads"], d["expected_leads_to_date"],
                                         strict=True)],
        "Wins so far": [f"{fmt.count(a)} (forecast about {fmt.about_count(f)}, "
                        f"{fmt.about_count_range(lo, hi)}, for the period)"
                        for a, f, lo, hi in zip(d["actual_wins"], d["forecast_wins"],
                                                d["forecast_low"], d["forecast_high"],
                                                strict=True)],
        "How it is doing": doing,
    })


def advice_table(pack: WeeklyPack) -> pd.DataFrame:
    """The allocation advice per channel it moves: what to do, why, what would change it."""
    moves = list(pack.advice.moves) if pack.advice is not None else []
    return pd.DataFrame(moves, columns=["Channel", "To do", "Why", "What would change it"])


# --- display tables (shared by the page and the exports) ----------------------------------


def leads_table(pack: WeeklyPack) -> pd.DataFrame:
    """New leads per channel in words: this week, last week, 4-week average, band, verdict."""
    rows = pack.changes[pack.changes["metric"] == "leads"]
    table = pd.DataFrame({
        "Channel": rows["label"],
        "This week": [fmt.count(v) for v in rows["this_week"]],
        "Last week": [fmt.count(v) for v in rows["last_week"]],
        f"{len(pack.baseline_weeks)}-week average": [mean_text("leads", v)
                                                     for v in rows["trailing_mean"]],
        "Normal range": [band_text("leads", lo, hi)
                         for lo, hi in zip(rows["band_low"], rows["band_high"], strict=True)],
        "Is it real?": rows["verdict"],
    }).reset_index(drop=True)
    if not pack.baseline_weeks:  # one week of data: no week before, no average, no range
        table = table.drop(columns=["Last week", "0-week average", "Normal range"])
    return table


def sales_table(pack: WeeklyPack) -> pd.DataFrame:
    """Deals won, close rate and won value per channel in words, one verdict per channel."""
    n = len(pack.closing_baseline_weeks)
    by = {m: pack.changes[pack.changes["metric"] == m].reset_index(drop=True)
          for m in ("wins", "close_rate", "won_value")}
    wins, rate, value = by["wins"], by["close_rate"], by["won_value"]
    verdicts = []
    for i in range(len(wins)):
        flagged = [f"{METRIC_LABELS[m].lower()} {by[m].loc[i, 'direction']} (normal "
                   f"{band_text(m, by[m].loc[i, 'band_low'], by[m].loc[i, 'band_high'])})"
                   for m in by if by[m].loc[i, "is_flagged"]]
        if flagged:
            directions = {by[m].loc[i, "direction"] for m in by if by[m].loc[i, "is_flagged"]}
            arrow = "".join(a for d, a in (("up", "▲"), ("down", "▼")) if d in directions)
            text = "; ".join(flagged)
            verdicts.append(f"{arrow} {text[0].upper() + text[1:]}: outside normal variation")
        elif not pack.is_complete:
            verdicts.append("week not over: not tested")
        elif wins.loc[i, "status"] == "no_baseline":
            verdicts.append("nothing to compare with yet")
        else:
            verdicts.append(NORMAL)
    table = pd.DataFrame({
        "Channel": wins["label"],
        "Won": [fmt.count(v) for v in wins["this_week"]],
        "Last week": [fmt.count(v) for v in wins["last_week"]],
        f"{n}-week average": [mean_text("wins", v) for v in wins["trailing_mean"]],
        "Close rate": [_rate_of(r, c) for r, c in zip(rate["this_week"],
                                                      rate["this_week_closed"], strict=True)],
        f"{n}-week close rate": [_rate_of(r, c) for r, c in zip(
            rate["trailing_mean"], rate["trailing_closed"], strict=True)],
        "Won value": [fmt.money(v) for v in value["this_week"]],
        f"{n}-week average value": [fmt.money(v) for v in value["trailing_mean"]],
        "Is it real?": verdicts,
    })
    if not n:  # no week before old enough to compare with: no averages to show
        table = table.drop(columns=[f"{n}-week average", f"{n}-week close rate",
                                    f"{n}-week average value"])
        if not pack.baseline_weeks:
            table = table.drop(columns=["Last week"])
    return table


def _rate_of(rate, closed) -> str:
    if fmt.is_missing(closed) or not closed:
        return fmt.MISSING
    return f"{fmt.pct(rate)} of {fmt.count(closed)}"


def pipeline_table(pack: WeeklyPack) -> pd.DataFrame:
    """Open leads by temperature in words, with the next action."""
    p = pack.pipeline
    return pd.DataFrame({
        "Temperature": [fmt.TEMPERATURE_LABELS.get(t, fmt.humanize(t)) for t in p["temperature"]],
        "Stages": [", ".join(fmt.stage_label(s.strip()) for s in str(st).split(","))
                   for st in p["stages"]],
        "Open leads": [fmt.count(v) for v in p["open_leads"]],
        "Open value": [fmt.money(v) for v in p["open_value"]],
        "Median age": [fmt.days(v) for v in p["median_age_days"]],
        "Oldest": [fmt.days(v) for v in p["oldest_age_days"]],
        "Next action": [f"{a}: {h}" for a, h in zip(p["action"], p["how"], strict=True)],
    })


def hot_leads_table(pack: WeeklyPack) -> pd.DataFrame:
    """The oldest hot leads in words (no personal data: CRM id, channel, owner, ages)."""
    h = pack.hot_leads
    return pd.DataFrame({
        "CRM id": h["crm_id"].astype("string").fillna(fmt.MISSING),
        "Channel": [fmt.channel_label(c, lab) for c, lab in zip(h["channel"], h["label"],
                                                                strict=True)],
        "Owner": h["owner"].astype("string").fillna(fmt.MISSING),
        "Value": [fmt.money(v) for v in h["value"]],
        "Created": [fmt.date(v) for v in h["created_on"]],
        "Days open": [fmt.count(v) for v in h["days_open"]],
        "First seen hot": [fmt.date(v) for v in h["hot_since"]],
        "Going stale?": ["yes" if s else "" for s in h["is_stale"]],
    })
