"""Channel allocation: where next period's money and hours should go, and why (issue 5).

The core is pure and deterministic with a seed: :func:`allocate` takes one
:class:`ChannelInput` per channel and :class:`Settings`, and returns a :class:`Recommendation`.
:func:`load_inputs` is the only part that reads the store (through :mod:`funnel.metrics` and
``queries/allocation/``). The method in plain words: ``docs/ALLOCATION.md``.

Per channel, with every amount per week and hours costed at the owner's hourly rate:

- conversion ~ Beta(1 + won, 1 + lost-or-open) over leads old enough to judge (mature cohorts);
- leads per unit of cost ~ Gamma(leads + 1/2, cost) over the spend history, bent by a
  diminishing-returns curve leads = a * cost^b where the history allows one;
- deal value ~ the mean of won deals, shrunk towards all channels' mean.

Recommended shares follow the Thompson-sampling probability that each channel is the best per
unit of cost, inside guardrails: locks, caps, no move for a channel with too few judged leads,
at most ``max_change`` share points and ``max_growth`` times its recent spend per period, a
minimum exploration share, and no move on a coin flip (a channel gains only when it is
``confidence``-likely to beat the current mix per unit of cost, loses only when as likely to
trail it).

Where the parts live (public names re-exported here, so ``from funnel.allocation import X``
keeps working): the dataclasses and defaults in :mod:`funnel.allocation.types`, the response
curve and posterior draws in :mod:`funnel.allocation.model`, the guardrails and the choice of
shares in :mod:`funnel.allocation.guardrails`, each channel's plan in
:mod:`funnel.allocation.plans`, and every sentence and number format in
:mod:`funnel.allocation.words`. This module keeps :func:`allocate`, which puts them together,
and reading the store.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from funnel import format as fmt
from funnel.allocation.guardrails import (
    EPS,
    MIN_WEEKLY_COST,
    choose_shares,
    current_split,
    usable,
)
from funnel.allocation.model import (
    CURVE_MIN_EXPONENT,
    CURVE_MIN_VARIATION,
    CURVE_MIN_WEEKS,
    VALUE_PRIOR_WINS,
    Model,
    draw_model,
    fit_response_curve,
    weekly_cost,
)
from funnel.allocation.plans import plan
from funnel.allocation.types import (
    DEFAULT_CONFIDENCE,
    DEFAULT_DRAWS,
    DEFAULT_FORECAST_WEEKS,
    DEFAULT_HOURLY_RATE,
    DEFAULT_INTERVAL,
    DEFAULT_MAX_CHANGE,
    DEFAULT_MAX_GROWTH,
    DEFAULT_MIN_LEADS,
    DEFAULT_MIN_SHARE,
    DEFAULT_SEED,
    OBJECTIVES,
    AllocationError,
    ChannelInput,
    ChannelPlan,
    CurveFit,
    Excluded,
    Inputs,
    Settings,
    SpendPeriod,
    WhatIf,
)
from funnel.allocation.words import (
    GUARDRAIL_WORDS,
    LEADS_NEEDED_CAP,
    TextContext,
    mix_notes,
    names_text,
    summary,
    what_if_sentence,
)
from funnel.jsonsafe import json_float

__all__ = [
    "CURVE_MIN_EXPONENT",
    "CURVE_MIN_VARIATION",
    "CURVE_MIN_WEEKS",
    "DEFAULT_CONFIDENCE",
    "DEFAULT_DRAWS",
    "DEFAULT_FORECAST_WEEKS",
    "DEFAULT_HOURLY_RATE",
    "DEFAULT_INTERVAL",
    "DEFAULT_MAX_CHANGE",
    "DEFAULT_MAX_GROWTH",
    "DEFAULT_MIN_LEADS",
    "DEFAULT_MIN_SHARE",
    "DEFAULT_SEED",
    "EPS",
    "LEADS_NEEDED_CAP",
    "MIN_WEEKLY_COST",
    "OBJECTIVES",
    "RECENT_WEEKS",
    "VALUE_PRIOR_WINS",
    "AllocationError",
    "ChannelInput",
    "ChannelPlan",
    "CurveFit",
    "Excluded",
    "Inputs",
    "Recommendation",
    "Settings",
    "SpendPeriod",
    "WhatIf",
    "allocate",
    "channel_inputs_from_frames",
    "fit_response_curve",
    "load_inputs",
    "recommend",
    "recommendation_frame",
    "report_records",
    "weekly_cost",
    "what_if",
]

RECENT_WEEKS = 4  # "current" spend = the average week of the last four weeks of spend data


# --- the allocator ---------------------------------------------------------------------------



@dataclass(frozen=True)
class Recommendation:
    """The allocation for next period: one :class:`ChannelPlan` per channel with spend.

    ``pool``: the weekly budget in money (hours at the hourly rate); ``pool_money`` and
    ``pool_hours`` its parts. ``plan_money``/``plan_hours``: what the recommended split spends.
    ``extra_*``: effect of the whole recommendation against the current split over
    ``settings.forecast_weeks`` weeks. ``relaxed``: guardrails that had to give way so the
    shares could sum to 1 (normally empty).
    """

    channels: tuple[ChannelPlan, ...]
    excluded: tuple[Excluded, ...]
    settings: Settings
    as_of: dt.date | None
    objective: str
    pool: float
    pool_money: float
    pool_hours: float
    plan_money: float
    plan_hours: float
    extra_wins: float
    extra_wins_low: float
    extra_wins_high: float
    extra_value: float | None
    extra_value_low: float | None
    extra_value_high: float | None
    summary: str
    notes: tuple[str, ...]
    relaxed: tuple[str, ...]
    model: Model | None = field(default=None, repr=False, compare=False)

    @property
    def current_shares(self) -> dict[str, float]:
        return {c.channel: c.current_share for c in self.channels}

    @property
    def recommended_shares(self) -> dict[str, float]:
        return {c.channel: c.recommended_share for c in self.channels}

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-safe dict per channel, for the report's ``allocation`` array."""
        return [c.to_record() for c in self.channels]

    def to_frame(self) -> pd.DataFrame:
        """The recommendation as a DataFrame, one row per channel (the columns of
        :meth:`to_records`; response_curve flattened to curve_status and curve_note)."""
        import pandas as pd  # not at module level: the CLI reads the defaults above at start-up

        rows = []
        for record in self.to_records():
            curve = record.pop("response_curve")
            record["curve_status"] = curve["status"]
            record["curve_exponent"] = curve["exponent"]
            record["curve_note"] = curve["note"]
            rows.append(record)
        return pd.DataFrame(rows)

    def summary_record(self) -> dict[str, Any]:
        """Everything but the per-channel rows, JSON-safe: settings, budget, totals, notes."""
        s = self.settings
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "objective": self.objective,
            "forecast_weeks": s.forecast_weeks,
            "interval": s.interval,
            "hourly_rate": s.hourly_rate,
            "currency": s.currency,
            "budget": {"total": json_float(self.pool), "money": json_float(self.pool_money),
                       "hours": json_float(self.pool_hours)},
            "plan": {"money": json_float(self.plan_money), "hours": json_float(self.plan_hours)},
            "guardrails": {
                "min_share": s.min_share, "max_change": s.max_change,
                "max_growth": s.max_growth, "min_leads": s.min_leads,
                "confidence": s.confidence, "locked": sorted(s.locked),
                "caps": dict(sorted(s.caps.items())),
                "fixed_costs": dict(sorted(s.fixed_costs.items())),
            },
            "extra_wins": json_float(self.extra_wins),
            "extra_wins_low": json_float(self.extra_wins_low),
            "extra_wins_high": json_float(self.extra_wins_high),
            "extra_value": json_float(self.extra_value),
            "extra_value_low": json_float(self.extra_value_low),
            "extra_value_high": json_float(self.extra_value_high),
            "summary": self.summary,
            "notes": list(self.notes),
            "relaxed": list(self.relaxed),
            "excluded": [{"channel": e.channel, "label": e.label, "reason": e.reason}
                         for e in self.excluded],
            "seed": s.seed,
            "draws": s.draws,
        }

    def what_if(self, shares: Mapping[str, float]) -> WhatIf:
        """The expected effect of splitting this budget by ``shares`` (channel -> share, for
        what-if sliders). Channels not named keep their recommended share; shares are scaled
        to sum to 1. Deterministic: the same shares give the same answer."""
        if self.model is None or not self.channels:
            raise AllocationError("nothing to allocate: no channel with spend")
        merged = {c.channel: c.recommended_share for c in self.channels}
        unknown = sorted(set(shares) - set(merged))
        if unknown:
            raise AllocationError(
                f"unknown channel {', '.join(unknown)}; channels: {', '.join(merged)}"
            )
        merged.update({k: float(v) for k, v in shares.items()})
        if any(v < 0 or not math.isfinite(v) for v in merged.values()):
            raise AllocationError("shares must be finite and 0 or more")
        total = sum(merged.values())
        if total <= 0:
            raise AllocationError("shares must not all be 0")
        normalised = {k: v / total for k, v in merged.items()}
        figures = self.model.what_if(normalised)  # the numbers; the words are words'
        return replace(figures, sentence=what_if_sentence(figures, self.model.weeks,
                                                          self.model.currency))


def allocate(
    channels: Sequence[ChannelInput],
    settings: Settings | None = None,
    as_of: dt.date | None = None,
) -> Recommendation:
    """Recommend next period's split of money and hours across ``channels`` (pure, seeded)."""
    settings = settings or Settings()
    settings.validate()
    names = [c.channel for c in channels]
    if len(set(names)) != len(names):
        raise AllocationError("each channel may appear only once")
    chans, excluded = usable(channels, settings)
    unknown = sorted((set(settings.locked) | set(settings.caps) | set(settings.fixed_costs))
                     - set(names))
    notes = [f"no channel named {u!r} in the data: its lock, cap or fixed cost is ignored"
             for u in unknown]
    if not chans:
        return _empty(settings, as_of, excluded, notes, "Nothing to allocate: no channel has "
                      "money or hours recorded. Ingest a spend file (channel, week, money and/or "
                      "hours) first.")
    split = current_split(chans, settings)
    notes.extend(split.notes)
    if split.pool <= 0:
        return _empty(settings, as_of, excluded, notes, "Nothing to allocate: the budget is 0.")

    curves = [fit_response_curve(c.periods, settings.hourly_rate, f, settings.interval)
              for c, f in zip(chans, split.fixed, strict=True)]
    p, lam, b, v = draw_model(chans, curves, split.anchor, split.hist_cost, settings)
    objective = settings.objective
    if objective == "auto":
        objective = "won_value" if v is not None else "wins"
    if objective == "won_value" and v is None:
        notes.append("no won deal has a value: channels are ranked by wins per unit of cost")
        objective = "wins"
    model = Model(
        channels=[c.channel for c in chans], labels=[c.name for c in chans],
        anchor=split.anchor, p=p, lam=lam, b=b, v=v, current=split.current,
        money_per_amount=split.money_per_amount, hours_per_amount=split.hours_per_amount,
        pool=split.pool, weeks=settings.forecast_weeks, interval=settings.interval,
        seed=settings.seed, currency=settings.currency,
    )
    choice = choose_shares(chans, model, split, settings, by_value=objective == "won_value")
    if choice.relaxed:
        notes.append("caps and locks left no split inside every guardrail, so these gave way: "
                     + ", ".join(GUARDRAIL_WORDS[g] for g in choice.relaxed))

    amounts = choice.shares * split.pool
    extra = model.wins(amounts) - model.wins(split.current)
    pred = model.predictive_wins(amounts)
    ctx = TextContext(settings, objective, chans, model, split.shares, choice.shares, amounts,
                       extra, choice.eff, choice.mix, choice.p_best, choice.p_beats,
                       choice.frozen, choice.locked, choice.caps, choice.growth_hi, split.pool)
    plans = tuple(plan(ctx, i, curves[i], pred[:, i]) for i in range(len(chans)))
    total = extra.sum(axis=1)
    t_low, t_high = model.interval_of(total)
    value = (None, None, None)
    if v is not None:
        total_value = (extra * v).sum(axis=1)
        value = (float(total_value.mean()), *map(float, model.interval_of(total_value)))
    plan_money = float((amounts * split.money_per_amount).sum())
    plan_hours = float((amounts * split.hours_per_amount).sum())
    notes.extend(mix_notes(settings, split.pool_money, split.pool_hours, plan_money, plan_hours))
    assumed = [fmt.in_sentence(p.label) for p in plans
               if p.status == "gain" and not p.response_curve.fitted]
    if assumed:
        notes.append(
            f"the gains for {names_text(assumed)} assume extra spend brings leads at the past "
            "cost per lead: their history cannot show how leads respond to more spend, so read "
            "those gains as the optimistic end and move in steps"
        )
    return Recommendation(
        channels=plans, excluded=tuple(excluded), settings=settings, as_of=as_of,
        objective=objective, pool=split.pool, pool_money=split.pool_money,
        pool_hours=split.pool_hours, plan_money=plan_money, plan_hours=plan_hours,
        extra_wins=float(total.mean()), extra_wins_low=float(t_low),
        extra_wins_high=float(t_high), extra_value=value[0], extra_value_low=value[1],
        extra_value_high=value[2],
        summary=summary(ctx, float(total.mean()), float(t_low), float(t_high), value),
        notes=tuple(notes), relaxed=choice.relaxed, model=model,
    )


def _empty(settings, as_of, excluded, notes, summary) -> Recommendation:
    return Recommendation(
        channels=(), excluded=tuple(excluded), settings=settings, as_of=as_of,
        objective=settings.objective, pool=0.0, pool_money=0.0, pool_hours=0.0, plan_money=0.0,
        plan_hours=0.0, extra_wins=0.0, extra_wins_low=0.0, extra_wins_high=0.0,
        extra_value=None, extra_value_low=None, extra_value_high=None, summary=summary,
        notes=tuple(notes), relaxed=(), model=None,
    )


# --- reading the store -----------------------------------------------------------------------


def channel_inputs_from_frames(
    cohorts: pd.DataFrame,
    periods: pd.DataFrame,
    values: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    recent_weeks: int = RECENT_WEEKS,
) -> tuple[ChannelInput, ...]:
    """Build ChannelInputs from DataFrames (pure): ``cohorts`` as
    :func:`funnel.metrics.metrics.weekly_cohorts` (channel, leads, won, is_mature), ``periods`` as
    ``queries/allocation/spend_periods.sql`` (channel, period_start, period_end, days, money,
    hours, leads), ``values`` as ``queries/allocation/deal_values.sql``."""
    labels = labels or {}
    mature = cohorts[cohorts["is_mature"].astype(bool)] if len(cohorts) else cohorts
    judged = mature.groupby("channel")[["leads", "won"]].sum() if len(mature) else None
    value_rows = values.set_index("channel") if len(values) else None
    latest = pd.Timestamp(periods["period_end"].max()) if len(periods) else None
    window_start = latest - pd.Timedelta(days=7 * recent_weeks) if latest is not None else None
    names = sorted(set(cohorts["channel"]) | set(periods["channel"]))
    out = []
    for ch in names:
        rows = periods[periods["channel"] == ch]
        weeks = float(rows["days"].sum()) / 7 if len(rows) else 0.0
        cur_money = cur_hours = 0.0
        for r in rows.itertuples(index=False):
            end, start = pd.Timestamp(r.period_end), pd.Timestamp(r.period_start)
            overlap = (end - max(start, window_start + pd.Timedelta(days=1))).days + 1
            if overlap > 0:
                cur_money += float(r.money) * overlap / r.days
                cur_hours += float(r.hours) * overlap / r.days
        jl, jw = (0, 0)
        if judged is not None and ch in judged.index:
            jl, jw = int(judged.loc[ch, "leads"]), int(judged.loc[ch, "won"])
        vc, vm, vs = 0, None, None
        if value_rows is not None and ch in value_rows.index:
            row = value_rows.loc[ch]
            vc = int(row["won_with_value"])
            vm = float(row["value_mean"])
            vs = None if pd.isna(row["value_sd"]) else float(row["value_sd"])
        out.append(ChannelInput(
            channel=ch,
            judged_leads=jl,
            judged_won=jw,
            history_leads=int(rows["leads"].sum()) if len(rows) else 0,
            history_money=float(rows["money"].sum()) if len(rows) else 0.0,
            history_hours=float(rows["hours"].sum()) if len(rows) else 0.0,
            history_weeks=weeks,
            current_money=cur_money / recent_weeks,
            current_hours=cur_hours / recent_weeks,
            value_count=vc,
            value_mean=vm,
            value_sd=vs,
            periods=tuple(SpendPeriod(int(r.days), float(r.money), float(r.hours), int(r.leads))
                          for r in rows.itertuples(index=False)),
            label=labels.get(ch),
        ))
    return tuple(out)


def load_inputs(con, start=None, end=None, recent_weeks: int = RECENT_WEEKS) -> Inputs:
    """Gather the allocator's inputs from the store: conversion of mature cohorts
    (:func:`funnel.metrics.metrics.weekly_cohorts`), spend periods and deal values
    (``queries/allocation/``), labels and the as-of date."""
    from funnel import synonyms
    from funnel.metrics import metrics
    from funnel.store import connection as store

    bounds = metrics.filter_params(start, end)
    params = {"start": bounds["start"], "end": bounds["end"], "channels": None}
    cohorts = metrics.weekly_cohorts(con, start, end)
    periods = store.fetch_df(con, "allocation/spend_periods", params)
    values = store.fetch_df(con, "allocation/deal_values", params)
    conversion = metrics.conversion_by_channel(con, start, end)
    labels = {ch: synonyms.CHANNELS.get(ch, (None, ch))[1] for ch in periods["channel"]}
    labels.update(dict(zip(conversion["channel"], conversion["label"], strict=True)))
    as_of = metrics.as_of_date(con)["as_of_date"].iloc[0]
    as_of = None if pd.isna(as_of) else pd.Timestamp(as_of).date()
    return Inputs(channel_inputs_from_frames(cohorts, periods, values, labels, recent_weeks), as_of)


def recommend(con, settings: Settings | None = None, start=None, end=None) -> Recommendation:
    """Load the inputs from the store and allocate: what the CLI, report and page call."""
    inputs = load_inputs(con, start, end)
    return allocate(inputs.channels, settings, inputs.as_of)


def what_if(rec: Recommendation, shares: Mapping[str, float]) -> WhatIf:
    """The expected effect of another split of ``rec``'s budget (see
    :meth:`Recommendation.what_if`): for what-if sliders."""
    return rec.what_if(shares)


def recommendation_frame(rec: Recommendation) -> pd.DataFrame:
    """The per-channel table the Allocation page shows (see :meth:`Recommendation.to_frame`)."""
    return rec.to_frame()


def report_records(con, start=None, end=None, settings: Settings | None = None) -> list[dict]:
    """The report's ``allocation`` array: one JSON-safe object per channel with spend
    ([] when no spend is recorded)."""
    return recommend(con, settings, start, end).to_records()
