"""The Allocation page's glue: cached allocator runs, the owner's inputs turned into
:class:`funnel.allocation.Settings`, the recommendation, what-if and decision log as tables and
sentences a person reads, and the stored spend as an editable table (Upload page).

No widgets here: the pages draw them and hand their values in. Reads take a reader cursor and
are cached by the store's revision; writes take the writer cursor the page passes.

- The allocator's inputs come from the store
  (:func:`funnel.allocation.recommend.load_inputs`, cached by revision);
  :func:`funnel.allocation.recommend.allocate` is pure and seeded, so its result is cached by
  revision and ``Settings.cache_key()``. The result holds the posterior draws (a few MB), so it
  lives in ``st.cache_resource`` (shared, never copied, never mutated) rather than being pickled
  on every slider move.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from funnel import format as fmt
from funnel.allocation import decisions
from funnel.allocation import recommend as allocation
from funnel.allocation.recommend import AllocationError, Inputs, Recommendation, Settings, WhatIf
from funnel.app import state as app_state
from funnel.ingest import spend
from funnel.metrics import costs
from funnel.safe_text import md_text, md_texts, neutralise
from funnel.store import connection as store

# Columns of the per-channel settings editor (index: channel slug).
CHANNEL_COL = "Channel"
FIXED_COL = "Fixed cost a week ($)"
LOCK_COL = "Keep its share (lock)"
CAP_COL = "Most share it may get (%)"

STATUS_WORDS = {
    "gain": "Raise",
    "cut": "Cut",
    "hold": "Keep",
    "locked": "Keep (locked)",
    "too_few_leads": "Keep (too few leads)",
}
VERDICT_WORDS = {
    "inside": "Inside the forecast",
    "above": "Above the forecast (better)",
    "below": "Below the forecast (worse)",
}
SPEND_EDITS_NAME = "spend edited in the app"
JUDGED_COL = "Judged leads"
JUDGED_HELP = ("Leads old enough to judge (their week's cohort is mature): the evidence on "
               "conversion. A channel needs enough of them before its share moves.")
MINUS = "−"
# The allocator's conversion covers other leads than the Sales page's: its label says which.
CONVERSION_COL = "Conversion of leads old enough to judge (95% interval)"


# --- cached allocator runs -------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=32)
def _inputs(_handle: app_state.StoreHandle, db: str, rev: int) -> Inputs:
    with app_state.reader(_handle) as cur:
        return allocation.load_inputs(cur)


def inputs() -> Inputs:
    """The allocator's inputs from the store (every channel with leads or spend), cached."""
    return _inputs(app_state.handle(), str(app_state.db_path()), app_state.revision())


@st.cache_resource(show_spinner="Weighing the channels…", max_entries=32)
def _recommend(_inputs: Inputs, db: str, rev: int, key: tuple, _settings: Settings
               ) -> Recommendation:
    return allocation.allocate(_inputs.channels, _settings, _inputs.as_of)


def has_spend(inp: Inputs) -> bool:
    """True when some channel has spend periods stored (else there is nothing to allocate)."""
    return any(c.history_weeks > 0 for c in inp.channels)


def recommend(settings: Settings) -> Recommendation:
    """The recommendation for ``settings`` (raises AllocationError for contradictory ones)."""
    settings.validate()
    db, rev = str(app_state.db_path()), app_state.revision()
    return _recommend(_inputs(app_state.handle(), db, rev), db, rev, settings.cache_key(),
                      settings)


@st.cache_data(show_spinner=False, max_entries=256)
def _what_if(_rec: Recommendation, db: str, rec_key: tuple,
             shares: tuple[tuple[str, float], ...]) -> WhatIf:
    return _rec.what_if(dict(shares))


def _rec_key(rec: Recommendation) -> tuple:
    """What tells one recommendation from another: its settings and what it saw and said."""
    return (rec.settings.cache_key(), rec.as_of, rec.summary, rec.pool,
            tuple(sorted(rec.current_shares.items())),
            tuple(sorted(rec.recommended_shares.items())))


def effect(rec: Recommendation, shares: Mapping[str, float]) -> WhatIf:
    """``rec.what_if(shares)``, cached (about 0.1 s each: the sliders rerun the page often)."""
    return _what_if(rec, str(app_state.db_path()), _rec_key(rec),
                    tuple(sorted((c, float(v)) for c, v in shares.items())))


def settings_digest(settings: Settings) -> str:
    """A short stable name for a set of settings (widget keys that follow the settings)."""
    return hashlib.sha1(repr(settings.cache_key()).encode()).hexdigest()[:10]


# --- the owner's inputs ----------------------------------------------------------------------


def constraints_table(inp: Inputs) -> pd.DataFrame:
    """One row per channel with spend data for the settings editor: fixed cost, lock, cap;
    the biggest recent spend first (index: channel slug). Channels without spend data cannot
    be planned, so they are not offered."""
    chans = sorted((c for c in inp.channels if c.history_weeks > 0),
                   key=lambda c: (-(c.current_money + c.current_hours), c.channel))
    return pd.DataFrame(
        {
            CHANNEL_COL: [fmt.channel_label(c.channel, c.label) for c in chans],
            FIXED_COL: [None] * len(chans),
            LOCK_COL: [False] * len(chans),
            CAP_COL: [None] * len(chans),
        },
        index=pd.Index([c.channel for c in chans], name="channel"),
    ).astype({FIXED_COL: "float64", CAP_COL: "float64"})


def settings_from(
    hourly_rate: float | None,
    budget_money: float | None,
    budget_hours: float | None,
    constraints: pd.DataFrame | None = None,
    max_change_pts: float | None = None,
    min_leads: int | None = None,
) -> Settings:
    """Settings from the page's widgets: amounts a week, caps and the change limit in percent;
    an empty cell means 'no fixed cost' / 'no cap'."""
    fixed: dict[str, float] = {}
    caps: dict[str, float] = {}
    locked: set[str] = set()
    for channel, row in (constraints if constraints is not None else pd.DataFrame()).iterrows():
        if fmt.finite(row.get(FIXED_COL)) and float(row[FIXED_COL]) > 0:
            fixed[str(channel)] = float(row[FIXED_COL])
        if fmt.finite(row.get(CAP_COL)):
            caps[str(channel)] = float(row[CAP_COL]) / 100
        if bool(row.get(LOCK_COL)) and not fmt.is_missing(row.get(LOCK_COL)):
            locked.add(str(channel))
    base = Settings()
    return Settings(
        hourly_rate=float(hourly_rate) if fmt.finite(hourly_rate) else base.hourly_rate,
        budget_money=float(budget_money) if fmt.finite(budget_money) else None,
        budget_hours=float(budget_hours) if fmt.finite(budget_hours) else None,
        fixed_costs=fixed,
        locked=frozenset(locked),
        caps=caps,
        max_change=float(max_change_pts) / 100 if fmt.finite(max_change_pts)
        else base.max_change,
        min_leads=int(min_leads) if fmt.finite(min_leads) else base.min_leads,
    )


# --- words and numbers -----------------------------------------------------------------------


def with_range(mean: float | None, low: float | None, high: float | None,
               money: bool = False) -> str:
    """'about 16 more (12 to 21)': an expected change and its likely range, rounded to what
    the simulations carry (:func:`funnel.format.more_or_fewer`); 'no change' for none."""
    if not fmt.finite(mean):
        return fmt.MISSING
    if money:
        return fmt.money_more_or_less(mean, low, high, noun="")
    return fmt.more_or_fewer(mean, low, high, noun="")


def per_week(money: float, hours: float) -> str:
    """'2.7 h + $25', '$550' or '20.1 h': what a channel costs a week (as the allocator's
    sentences and the allocate note say it, :func:`funnel.format.money_and_hours`)."""
    return fmt.money_and_hours(money, hours, short=True)


def sentence(text: str) -> str:
    """A note from the allocator as a sentence (capital first, full stop last)."""
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def interval_words(rec: Recommendation) -> str:
    """'likely range': the simulations' range that holds the outcome 9 times in 10."""
    return "likely range"


def range_note(rec: Recommendation) -> str:
    """'it holds the outcome 9 times in 10'."""
    return f"it holds the outcome {round(10 * rec.settings.interval)} times in 10"


def headline_metrics(rec: Recommendation) -> list[tuple[str, str, str]]:
    """(label, value, note) for the numbers under the headline sentence."""
    s = rec.settings
    weeks = f"from the next {s.forecast_weeks} weeks of leads"
    now = effect(rec, rec.current_shares)
    out = [(
        "Extra wins expected",
        fmt.signed_about_count(rec.extra_wins),
        f"Likely range {fmt.about_count_range(rec.extra_wins_low, rec.extra_wins_high)} "
        f"({range_note(rec)}), {weeks}, on top of about {fmt.about_count(now.expected_wins)} "
        "with today's split.",
    )]
    if fmt.finite(rec.extra_value):
        out.append((
            "Extra won value expected",
            fmt.signed_about_money(rec.extra_value),
            f"Likely range {fmt.about_money_range(rec.extra_value_low, rec.extra_value_high)}, "
            f"{weeks}.",
        ))
    out.append((
        "Budget a week",
        fmt.money(rec.pool),
        f"{per_week(rec.pool_money, rec.pool_hours)}, hours at {fmt.money(s.hourly_rate)} an "
        "hour" + ("" if s.budget_money is not None or s.budget_hours is not None
                  else "; what an average recent week cost") + ".",
    ))
    return out


def moved_channels(rec: Recommendation) -> pd.DataFrame:
    """The plan's channels, biggest gain first and biggest cut last."""
    df = rec.to_frame()
    if df.empty:
        return df
    change = df["recommended_share"] - df["current_share"]
    return df.assign(change=change).sort_values(["change", "current_share"],
                                                ascending=[False, False])


def status_words(status: str, leads_needed: int = 0) -> str:
    """What to do with a channel, in a word or three."""
    if status == "too_few_leads" and leads_needed:
        return f"Keep (needs {fmt.count(leads_needed)} more lead{'s' * (leads_needed != 1)})"
    return STATUS_WORDS.get(status, fmt.humanize(status))


def plan_table(rec: Recommendation) -> pd.DataFrame:
    """The recommendation per channel in numbers: shares, amounts a week, expected extra wins
    and won value with their interval, and the evidence behind them (judged leads); the words
    are in :func:`reasons_table`. Same row order."""
    df = moved_channels(rec)
    range_words = f"({interval_words(rec)})"  # explained by the page's help card
    table = pd.DataFrame(
        {
            "Channel": [fmt.channel_label(c, lab) for c, lab in
                        zip(df["channel"], df["label"], strict=True)],
            "What to do": [status_words(s, n) for s, n in
                           zip(df["status"], df["leads_needed"], strict=True)],
            "Share (now → plan)": [
                f"{fmt.pct(a)} → {fmt.pct(b)}" for a, b in
                zip(df["current_share"], df["recommended_share"], strict=True)],
            "A week (now → plan)": [
                f"{per_week(m0, h0)} → {per_week(m1, h1)}" for m0, h0, m1, h1 in
                zip(df["current_money"], df["current_hours"], df["recommended_money"],
                    df["recommended_hours"], strict=True)],
            f"Extra wins {range_words}": [
                with_range(m, lo, hi) for m, lo, hi in
                zip(df["expected_extra_wins"], df["expected_extra_wins_low"],
                    df["expected_extra_wins_high"], strict=True)],
            JUDGED_COL: [fmt.count(v) for v in df["judged_leads"]],
            CONVERSION_COL: [fmt.pct_with_range(r, lo, hi) for r, lo, hi in
                             zip(df["conversion"], df["conversion_low"], df["conversion_high"],
                                 strict=True)],
            costs.with_hours_name(rec.settings.hourly_rate, rec.settings.currency): [
                fmt.money(v) for v in df["cost_per_lead_with_hours"]],
        }
    )
    if df["expected_extra_value"].notna().any():
        table.insert(5, f"Extra won value {range_words}", [
            with_range(m, lo, hi, money=True) for m, lo, hi in
            zip(df["expected_extra_value"], df["expected_extra_value_low"],
                df["expected_extra_value_high"], strict=True)])
    return table


def figures_caption(inp: Inputs, rec: Recommendation) -> str:
    """Which leads and costs the plan's figures cover, in words (they are not the sidebar's
    selection, so they may differ from the Sales and Marketing pages)."""
    weeks = max((c.history_weeks for c in inp.channels), default=0.0)
    rate = fmt.money(rec.settings.hourly_rate)
    return (f"Conversion here is over all {weeks:.0f} weeks of data, counting only the leads old "
            "enough to judge (their week has had time to convert); cost per lead is over all "
            f"{weeks:.0f} weeks of spend, money and hours at {rate} an hour. The Sales and "
            "Marketing pages count the sidebar's period, young leads too, and cost per lead "
            "there is shown both as money only and with hours.")


def reasons_table(rec: Recommendation) -> pd.DataFrame:
    """Per channel, in words: why the recommendation does what it does, and what would change
    it (same row order as :func:`plan_table`). For ``st.table``, whose cells are Markdown: each
    cell is plain text (:func:`funnel.safe_text.md_text`; labels are the owner's words)."""
    df = moved_channels(rec)
    return pd.DataFrame(
        {
            "Channel": md_texts(fmt.channel_label(c, lab) for c, lab in
                                zip(df["channel"], df["label"], strict=True)),
            "Why": md_texts(df["reason"]),
            "What would change this": md_texts(df["what_would_change"]),
        }
    )


def young_channels(rec: Recommendation) -> list[str]:
    """A sentence per channel with too few judged leads to move (Markdown; the channel's name
    as plain text)."""
    out = []
    for plan in rec.channels:
        if plan.status == "too_few_leads":
            name = md_text(fmt.channel_label(plan.channel, plan.label))
            need = plan.leads_needed
            out.append(f"**{name}** needs {fmt.count(need)} more lead{'s' * (need != 1)} old "
                       f"enough to judge ({fmt.count(plan.judged_leads)} of "
                       f"{fmt.count(plan.judged_leads + need)}) before its share can move.")
    return out


def excluded_text(rec: Recommendation) -> list[str]:
    """A sentence per channel left out of the plan (Markdown; names and reasons as plain
    text)."""
    return [f"**{md_text(fmt.channel_label(e.channel, e.label))}**: {md_text(e.reason)}."
            for e in rec.excluded]


def curve_notes(rec: Recommendation) -> list[str]:
    """What the spend history allows per channel: a response curve, or why not (Markdown;
    names and notes as plain text)."""
    return [f"**{md_text(fmt.channel_label(p.channel, p.label))}**: "
            f"{md_text(p.response_curve.note)}"
            for p in rec.channels if p.response_curve.note]


# --- what-if ---------------------------------------------------------------------------------


def slider_defaults(rec: Recommendation) -> dict[str, float]:
    """channel -> recommended share in percent (one decimal), where the sliders start; rounded
    so they add up to exactly 100% (largest remainders get the spare tenths)."""
    tenths = {p.channel: 1000 * p.recommended_share for p in rec.channels}
    floors = {c: math.floor(v) for c, v in tenths.items()}
    spare = 1000 - sum(floors.values())
    for c in sorted(tenths, key=lambda c: floors[c] - tenths[c])[:max(spare, 0)]:
        floors[c] += 1
    return {c: v / 10 for c, v in floors.items()}


def slider_channels(rec: Recommendation) -> list[tuple[str, str]]:
    """(channel, label) for the what-if sliders, biggest recommended share first."""
    plans = sorted(rec.channels, key=lambda p: (-p.recommended_share, p.channel))
    return [(p.channel, fmt.channel_label(p.channel, p.label)) for p in plans]


def what_if(rec: Recommendation, percents: Mapping[str, float]) -> tuple[WhatIf, str | None]:
    """The expected effect of the sliders' split, scaled to sum to 100%, and a note when the
    sliders did not add up (raises AllocationError when they are all 0)."""
    total = float(sum(percents.values()))
    if total <= 0:
        raise AllocationError("give at least one channel a share above 0%")
    if not is_edited(rec, percents):  # untouched sliders: the exact plan, not its rounding
        return effect(rec, rec.recommended_shares), None
    note = None
    if abs(total - 100) >= 0.05:
        note = (f"Your shares add up to {total:.1f}%: each is scaled by the same factor so "
                "they add up to 100%.")
    return effect(rec, {c: v / total for c, v in percents.items()}), note


def is_edited(rec: Recommendation, percents: Mapping[str, float]) -> bool:
    """True when the sliders differ from the recommendation (beyond slider rounding)."""
    defaults = slider_defaults(rec)
    total = float(sum(percents.values())) or 1.0
    return any(abs(100 * percents.get(c, 0.0) / total - v) > 0.06 for c, v in defaults.items())


def what_if_metrics(rec: Recommendation, w: WhatIf) -> list[tuple[str, str, str]]:
    """(label, value, note) for the what-if's effect."""
    weeks = rec.settings.forecast_weeks
    out = [
        ("Wins expected with your split", fmt.about_count(w.expected_wins),
         f"{fmt.about_count_range(w.expected_wins_low, w.expected_wins_high)} may actually "
         f"happen ({range_note(rec)}), from {weeks} weeks of leads."),
        ("Against today's split", fmt.signed_about_count(w.extra_wins),
         f"Likely range: {with_range(w.extra_wins, w.extra_wins_low, w.extra_wins_high)} "
         "wins."),
    ]
    if fmt.finite(w.extra_value):
        out.append(("Won value against today's split", fmt.signed_about_money(w.extra_value),
                    "Likely range: "
                    f"{with_range(w.extra_value, w.extra_value_low, w.extra_value_high, True)}."))
    return out


def what_if_table(rec: Recommendation, w: WhatIf) -> pd.DataFrame:
    """The sliders' split per channel: its share (after scaling), what it costs a week, the
    wins it may bring and the change against today's split."""
    df = w.channels
    recommended = rec.recommended_shares
    return pd.DataFrame(
        {
            "Channel": [fmt.channel_label(c, lab) for c, lab in
                        zip(df["channel"], df["label"], strict=True)],
            "Your share": [fmt.pct(v, 1) for v in df["share"]],
            "Recommended share": [fmt.pct(recommended[c], 1) for c in df["channel"]],
            "A week": [per_week(m, h) for m, h in zip(df["money"], df["hours"], strict=True)],
            "Wins expected (may happen)": [
                f"{fmt.about_count(m)} ({fmt.about_count_range(lo, hi)})" for m, lo, hi in
                zip(df["expected_wins"], df["expected_wins_low"], df["expected_wins_high"],
                    strict=True)],
            f"Against today's split ({interval_words(rec)})": [
                with_range(m, lo, hi) for m, lo, hi in
                zip(df["extra_wins"], df["extra_wins_low"], df["extra_wins_high"],
                    strict=True)],
        }
    )


def shares_from(percents: Mapping[str, float]) -> dict[str, float]:
    """The sliders' percentages as shares summing to 1 (for recording an edited plan)."""
    total = float(sum(percents.values()))
    if total <= 0:
        raise AllocationError("give at least one channel a share above 0%")
    return {c: float(v) / total for c, v in percents.items()}


# --- decisions -------------------------------------------------------------------------------


def record(con: duckdb.DuckDBPyConnection, rec: Recommendation,
           percents: Mapping[str, float] | None, note: str | None) -> int:
    """Store the recommendation (``percents`` None) or the sliders' split as a decision."""
    shares = None if percents is None else shares_from(percents)
    return decisions.record_decision(con, rec, shares, note=(note or "").strip() or None)


@st.cache_data(show_spinner=False, max_entries=32)
def _decision_data(_handle: app_state.StoreHandle, db: str, rev: int
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    with app_state.reader(_handle) as cur:
        scored = decisions.score_decisions(cur)
        weekly = decisions.planned_vs_actual(cur)
    return decisions.decision_summary(scored), scored, weekly


def decision_data() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(one row per decision, one row per decision and channel with its score, week-by-week
    planned vs actual), newest decision first; cached by revision."""
    return _decision_data(app_state.handle(), str(app_state.db_path()), app_state.revision())


def weeks_to_go(scored_from: object, as_of: object) -> int:
    """Whole weeks from the as-of date until a forecast can be scored (at least 1)."""
    if fmt.is_missing(as_of):
        return max(1, math.ceil((pd.Timestamp(scored_from) - pd.Timestamp.today()).days / 7))
    days = (pd.Timestamp(scored_from) - pd.Timestamp(as_of)).days
    return max(1, math.ceil(days / 7))


def too_early(scored_from: object, as_of: object) -> str:
    """'Too early to judge, 3 weeks to go'."""
    n = weeks_to_go(scored_from, as_of)
    return f"Too early to judge, {n} week{'s' * (n != 1)} to go"


def decision_title(row: pd.Series) -> str:
    """'Decision 2 · plan for 23 Nov – 20 Dec 2026 · decided 23 Nov 2026'."""
    return (f"Decision {int(row['decision_id'])} · plan for {fmt.short_date(row['period_start'])}"
            f" – {fmt.date(row['period_end'])} · decided {fmt.date(row['decided_at'])}")


def decision_verdict(row: pd.Series, channels: pd.DataFrame) -> str:
    """Did the forecast hold? In words, with the weeks to go while the leads are young."""
    forecast = (f"about {fmt.about_count(row['forecast_wins'])} wins forecast (roughly "
                f"{fmt.count(row['forecast_low_sum'])} to {fmt.count(row['forecast_high_sum'])})")
    actual = int(row["actual_wins"])
    as_of = channels["as_of_date"].iloc[0] if len(channels) else None
    if int(row["scored"]) == 0:
        ready = channels["scored_from"].max()
        return (f"{too_early(ready, as_of)} (scored from {fmt.date(ready)}, when the period's "
                f"leads have had time to convert). So far {fmt.count(actual)} "
                f"win{'s' * (actual != 1)} against {forecast}.")
    text = (f"{int(row['inside'])} of {int(row['scored'])} channels came in inside their "
            f"forecast: {fmt.count(actual)} wins against {forecast}.")
    waiting = channels[~channels["is_scored"].astype(bool)]
    if len(waiting):
        wait = too_early(waiting["scored_from"].max(), as_of).lower()
        text += f" {len(waiting)} still waiting ({wait})."
    if (channels["followed"] == False).any():  # noqa: E712 - None means no spend data
        text += " Where spend was more than 20% off the plan, the score says little."
    return text


def decision_table(channels: pd.DataFrame) -> pd.DataFrame:
    """One decision's channels: the plan, what was spent against it, leads and wins against the
    forecast, and the verdict once the leads are mature."""
    as_of = channels["as_of_date"].iloc[0] if len(channels) else None
    verdicts = [VERDICT_WORDS[s] if s in VERDICT_WORDS else too_early(r, as_of)
                for s, r in zip(channels["status"], channels["scored_from"], strict=True)]
    spent = []
    for actual, planned, followed in zip(channels["actual_amount"], channels["planned_total"],
                                         channels["followed"], strict=True):
        if not fmt.finite(actual):
            spent.append(f"no spend data (plan {fmt.money(planned)})")
            continue
        text = f"{fmt.money(actual)} of {fmt.money(planned)}"
        if followed is False:
            text += " (over 20% off)"
        spent.append(text)
    return pd.DataFrame(
        {
            "Channel": [fmt.channel_label(c, lab) for c, lab in
                        zip(channels["channel"], channels["label"], strict=True)],
            "Planned": [f"{fmt.pct(s)} · {per_week(m, h)} a week" for s, m, h in
                        zip(channels["planned_share"], channels["planned_money"],
                            channels["planned_hours"], strict=True)],
            "Spent of the plan": spent,
            "Leads: so far / forecast": [
                f"{fmt.count(a)} / {f:.0f}" for a, f in
                zip(channels["actual_leads"], channels["forecast_leads"], strict=True)],
            "Wins: so far / forecast (range)": [
                f"{fmt.count(a)} / about {fmt.about_count(m)} ({fmt.about_count_range(lo, hi)})"
                for a, m, lo, hi in zip(channels["actual_wins"], channels["forecast_wins"],
                                        channels["forecast_low"], channels["forecast_high"],
                                        strict=True)],
            "Did the forecast hold?": verdicts,
        }
    )


def weekly_table(weekly: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    """One decision's planned vs actual, week by week (money and hours, leads)."""
    return pd.DataFrame(
        {
            "Week": [fmt.week(v) for v in weekly["week_start"]],
            "Channel": [labels.get(c, fmt.channel_label(c)) for c in weekly["channel"]],
            "Planned": [per_week(m, h) for m, h in
                        zip(weekly["planned_money"], weekly["planned_hours"], strict=True)],
            "Spent": [per_week(m, h) if fmt.finite(m) or fmt.finite(h) else "no spend data"
                      for m, h in zip(weekly["actual_money"], weekly["actual_hours"],
                                      strict=True)],
            "Leads: forecast": [f"about {fmt.about_count(v)}" for v in weekly["forecast_leads"]],
            "Leads": [fmt.count(v) for v in weekly["actual_leads"]],
            "Won so far": [fmt.count(v) for v in weekly["won_so_far"]],
        }
    )


@dataclass(frozen=True)
class DecisionEntry:
    """One decision as the log shows it: title, the owner's note, the verdict in words, the
    per-channel table and the week-by-week planned against actual."""

    decision_id: int
    title: str
    note: str | None
    verdict: str
    channels: pd.DataFrame
    weeks: pd.DataFrame


def decision_entries() -> list[DecisionEntry]:
    """Every recorded decision, newest first, ready to lay out."""
    summary, scored, weekly = decision_data()
    labels = dict(zip(scored["channel"], scored["label"], strict=False))
    out = []
    for row in summary.to_dict("records"):
        channels = scored[scored["decision_id"] == row["decision_id"]]
        weeks = weekly[weekly["decision_id"] == row["decision_id"]]
        notes = channels["note"].dropna()
        out.append(DecisionEntry(
            decision_id=int(row["decision_id"]),
            title=decision_title(pd.Series(row)),
            note=str(notes.iloc[0]) if len(notes) else None,
            verdict=decision_verdict(pd.Series(row), channels),
            channels=decision_table(channels),
            weeks=weekly_table(weeks, labels),
        ))
    return out


def delete_decision(con: duckdb.DuckDBPyConnection, decision_id: int) -> None:
    """Remove a decision recorded by mistake."""
    decisions.delete_decision(con, int(decision_id))


# --- spend (the Upload page's spend section) -------------------------------------------------

SPEND_FIELD_WORDS = {"channel": "Channel", "period_start": "Period start",
                     "period_end": "Period end", "money": "Money", "hours": "Hours"}


SPEND_COLUMN_COL = "Column in your file"
TEMPLATE_WEEKS = 4  # weeks a spend template holds


def load_spend_file(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, columns: dict[str, str] | None = None,
    dry_run: bool = False,
) -> dict:
    """Ingest a spend file (``dry_run``: say what it would do, store nothing); what the page
    shows (JSON-safe for st.session_state). Raises IngestError when its columns cannot be
    found."""
    result = spend.ingest_spend(con, path, file_name=name, columns=columns, dry_run=dry_run)
    return {
        "file": result.file,
        "read": result.read,
        "loaded": result.loaded,
        "rejected": [{"Row in file": r["row_number"], "Why it was rejected": r["reason"]}
                     for r in result.rejected],
        "columns": {SPEND_FIELD_WORDS.get(k, k): v for k, v in result.columns.items()},
        "fields": dict(result.columns),
        "summary": spend.combined_words(result),
        "money": fmt.money(result.money, 2),
        "hours": fmt.count(result.hours),
    }


def detect_spend(con: duckdb.DuckDBPyConnection, path: Path, name: str
                 ) -> tuple[list[str], dict[str, str]]:
    """A spend file's headers and the column found for each spend field."""
    return spend.detect_spend(con, path, name)


def spend_mapping_table(fields: dict[str, str]) -> pd.DataFrame:
    """One row per spend field with the column it is read from (the spend mapping editor)."""
    return pd.DataFrame({
        "Field": [SPEND_FIELD_WORDS[f] for f in spend.SPEND_FIELDS],
        SPEND_COLUMN_COL: [fields.get(f, NO_SPEND_COLUMN) for f in spend.SPEND_FIELDS],
    }, index=pd.Index(spend.SPEND_FIELDS, name="field"))


NO_SPEND_COLUMN = "(not in this file)"


def spend_columns_from(edited: pd.DataFrame) -> dict[str, str]:
    """field -> column from the edited spend mapping ('' where the owner left a field out)."""
    out = {}
    for fld, row in edited.iterrows():
        column = row.get(SPEND_COLUMN_COL)
        out[str(fld)] = ("" if fmt.is_missing(column) or column == NO_SPEND_COLUMN
                         else str(column))
    return out


def spend_template_csv(con: duckdb.DuckDBPyConnection, as_of: dt.date | None) -> bytes:
    """A spend sheet to fill in: the store's channels for each of the last weeks up to the
    week of ``as_of`` (else this week), money and hours empty (UTF-8 with BOM, for Excel)."""
    rows = store.fetch_all(con, "spend/template_rows",
                           {"as_of": as_of or dt.date.today(), "weeks": TEMPLATE_WEEKS})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Channel", "Week starting", "Amount spent", "Hours"])
    for channel, week in rows:
        writer.writerow([neutralise(str(channel)), week.isoformat(), "", ""])
    return out.getvalue().encode("utf-8-sig")


@st.cache_data(show_spinner=False, max_entries=32)
def _spend_periods(_handle: app_state.StoreHandle, db: str, rev: int) -> pd.DataFrame:
    with app_state.reader(_handle) as cur:
        return store.fetch_df(cur, "allocation/spend_periods",
                              {"start": None, "end": None, "channels": None})


def spend_table() -> pd.DataFrame:
    """The stored spend per channel and period (newest first) as an editable table: money and
    hours can change; channel, dates and leads are shown for reference. Hidden columns keep the
    channel slug."""
    df = _spend_periods(app_state.handle(), str(app_state.db_path()), app_state.revision())
    labels = {c.channel: fmt.channel_label(c.channel, c.label) for c in inputs().channels}
    df = df.sort_values(["period_start", "channel"], ascending=[False, True],
                        ignore_index=True)
    return pd.DataFrame(
        {
            "channel": df["channel"].astype(str),
            "Channel": [labels.get(c, fmt.channel_label(c)) for c in df["channel"]],
            "From": pd.to_datetime(df["period_start"]).dt.date,
            "To": pd.to_datetime(df["period_end"]).dt.date,
            "Money ($)": df["money"].astype(float),
            "Hours": df["hours"].astype(float),
            "Leads that period": df["leads"].astype(int),
        }
    )


WEEK_MONEY = "Money this week ($)"
WEEK_HOURS = "Hours this week"


def plan_week(as_of: dt.date | None) -> dt.date:
    """The Monday of the week a typed plan is for: the week of the store's as-of date (the
    latest week the leads say anything about), else this week."""
    day = as_of or dt.date.today()
    return day - dt.timedelta(days=day.weekday())


def week_spend_table(week_start: dt.date) -> pd.DataFrame:
    """One row per channel with leads or spend: the money and hours stored for the week of
    ``week_start`` (empty where none), for the Allocation page's table to type into. Hidden
    column ``channel`` keeps the slug."""
    stored = spend_table()
    this_week = stored[stored["From"] == week_start].set_index("channel")
    names = app_state.channel_names()
    channels = [c.channel for c in inputs().channels if c.channel != "unknown"]
    return pd.DataFrame({
        "channel": channels,
        "Channel": [names.get(c, fmt.channel_label(c)) for c in channels],
        WEEK_MONEY: [this_week["Money ($)"].get(c) if c in this_week.index else None
                     for c in channels],
        WEEK_HOURS: [this_week["Hours"].get(c) if c in this_week.index else None
                     for c in channels],
    }).astype({WEEK_MONEY: "float64", WEEK_HOURS: "float64"})


def save_week_spend(con: duckdb.DuckDBPyConnection, edited: pd.DataFrame,
                    week_start: dt.date) -> dict:
    """Store the money and hours typed for the week of ``week_start`` (rows left empty are
    not stored), through the spend loader: the same checks as a file, that week replaced."""
    rows = edited[edited[WEEK_MONEY].notna() | edited[WEEK_HOURS].notna()]
    week_end = week_start + dt.timedelta(days=6)
    table = pd.DataFrame({"channel": rows["channel"], "From": week_start, "To": week_end,
                          "Channel": rows["Channel"], "Money ($)": rows[WEEK_MONEY],
                          "Hours": rows[WEEK_HOURS]})
    return save_spend_edits(con, table[["channel", "From", "To", "Channel", "Money ($)",
                                        "Hours"]])


def changed_spend(original: pd.DataFrame, edited: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`spend_table` whose money or hours were edited."""
    cols = ["Money ($)", "Hours"]
    before = original[cols].astype(float).fillna(-1.0)
    after = edited[cols].astype(float).fillna(-1.0)
    return edited[(before != after).any(axis=1)]


def save_spend_edits(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> dict:
    """Store edited spend rows through the spend loader (the same checks as a file; rows for the
    same channel and period are replaced)."""
    with tempfile.TemporaryDirectory(prefix="funnel-spend-") as tmp:
        path = Path(tmp) / "spend_edits.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["channel", "period_start", "period_end", "money", "hours"])
            for r in rows.itertuples(index=False):
                writer.writerow([r.channel, _iso(r.From), _iso(r.To), _cell(r[4]), _cell(r[5])])
        return load_spend_file(con, path, SPEND_EDITS_NAME)


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _cell(value: object) -> str:
    return "" if not fmt.finite(value) else repr(float(value))


# --- page text -------------------------------------------------------------------------------

def method_text(s: Settings) -> str:
    """The method in a few plain bullets, with the guardrails as set."""
    return f"""
- **What it compares.** For each channel: how many of its leads old enough to judge became
  customers, what a lead cost (money, plus hours at your hourly rate, plus fixed costs), and
  what a won deal was worth. From these it works out what a dollar brings in each channel.
- **How sure it is.** Each of those numbers is uncertain, so it tries {s.draws:,} plausible
  versions of every channel. How often a channel comes out best decides where money should go.
  Every forecast shows a likely range: the true effect should fall inside it about
  {round(10 * s.interval)} times in 10.
- **Small steps.** In one plan a channel gains or loses at most {fmt.pct(s.max_change)} of the
  budget, is never cut below {fmt.pct(s.min_share)} (so it keeps producing evidence), grows
  to at most {s.max_growth or 1:g} times its usual share, moves only when it is at least
  {fmt.pct(s.confidence)} likely to beat (or trail) today's mix, and does not move at all with
  fewer than {s.min_leads} leads to judge. Locks and caps you set always hold.
- **Limits.** It learns from the past: spend and leads moving together is not proof that one
  caused the other, and a channel given much more than it ever had may not keep its cost per
  lead. That is why it moves a step at a time and keeps a log: later meetings see whether the
  step paid off.
"""


def data_caption(inp: Inputs) -> str:
    """Where the numbers come from, for the page's caption."""
    df = _spend_periods(app_state.handle(), str(app_state.db_path()), app_state.revision())
    parts = []
    if len(df):
        weeks = max(c.history_weeks for c in inp.channels)
        parts.append(f"Spend data: {weeks:.0f} weeks up to {fmt.date(df['period_end'].max())}")
    if inp.as_of:
        parts.append(f"leads as of {fmt.date(inp.as_of)}")
    parts.append("amounts are per week; the sidebar filters do not apply here: the plan "
                 "covers every channel and all the history")
    return " · ".join(parts)
