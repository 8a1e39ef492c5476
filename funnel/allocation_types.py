"""The allocator's inputs and outputs: the dataclasses :func:`funnel.allocation.allocate` takes
(:class:`SpendPeriod`, :class:`ChannelInput`, :class:`Settings`, with their ``DEFAULT_*`` values)
and returns (:class:`Recommendation`, :class:`ChannelPlan`, :class:`CurveFit`,
:class:`Excluded`, :class:`WhatIf`), :class:`Inputs` as :func:`funnel.allocation.load_inputs`
gathers them, and :class:`AllocationError`. These only check settings and shares and make
records JSON-safe: the arithmetic lives in :mod:`funnel.allocation_model`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from funnel.allocation_model import _Model

DEFAULT_HOURLY_RATE = 30.0
DEFAULT_MIN_SHARE = 0.05  # exploration floor: no funded channel is cut below this share
DEFAULT_MAX_CHANGE = 0.20  # share points a channel may gain or lose in one period
DEFAULT_MAX_GROWTH = 2.0  # a channel gets at most this many times its recent spend
DEFAULT_MIN_LEADS = 30  # judged leads before a channel's share may move
DEFAULT_CONFIDENCE = 0.8  # P(beats / trails the current mix) needed to move money in / out
DEFAULT_FORECAST_WEEKS = 4
DEFAULT_INTERVAL = 0.9
DEFAULT_DRAWS = 20_000
DEFAULT_SEED = 20240101

OBJECTIVES = ("auto", "won_value", "wins")


class AllocationError(ValueError):
    """Settings or inputs the allocator cannot honour (contradictory caps and locks, bad values)."""


# --- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendPeriod:
    """One spend period of a channel: its length, what it cost, and the leads it brought."""

    days: int
    money: float
    hours: float
    leads: int


@dataclass(frozen=True)
class ChannelInput:
    """What the allocator knows about one channel.

    ``judged_leads``/``judged_won``: leads old enough to judge (mature created-week cohorts) and
    how many of them were won: the conversion evidence. ``history_*``: leads created, money and
    hours spent over ``history_weeks`` weeks of spend data: the cost evidence. ``current_*``:
    money and hours in an average recent week (the split being reallocated). ``value_*``: won
    deals with a value, their mean and standard deviation. ``periods``: the spend history
    period by period, for the response curve (optional).
    """

    channel: str
    judged_leads: int
    judged_won: int
    history_leads: int
    history_money: float
    history_hours: float
    history_weeks: float
    current_money: float
    current_hours: float
    value_count: int = 0
    value_mean: float | None = None
    value_sd: float | None = None
    periods: tuple[SpendPeriod, ...] = ()
    label: str | None = None

    @property
    def name(self) -> str:
        """The label to show (the slug when no label is known)."""
        return self.label or self.channel


@dataclass(frozen=True)
class Settings:
    """The owner's choices. Money amounts are per week, shares are fractions of the budget.

    ``budget_money``/``budget_hours``: next week's budget (None = what was spent in a recent
    week). ``fixed_costs``: money per week a channel costs beyond the spend file (referral fees,
    an event stand), counted as part of its cost. ``caps``: the most share a channel may have.
    ``objective``: rank channels by won value ('won_value') or wins ('wins') per unit of cost;
    'auto' uses won value when deal values are known.
    """

    hourly_rate: float = DEFAULT_HOURLY_RATE
    budget_money: float | None = None
    budget_hours: float | None = None
    fixed_costs: Mapping[str, float] = field(default_factory=dict)
    locked: frozenset[str] = frozenset()
    caps: Mapping[str, float] = field(default_factory=dict)
    min_share: float = DEFAULT_MIN_SHARE
    max_change: float = DEFAULT_MAX_CHANGE
    max_growth: float | None = DEFAULT_MAX_GROWTH
    min_leads: int = DEFAULT_MIN_LEADS
    confidence: float = DEFAULT_CONFIDENCE
    objective: str = "auto"
    forecast_weeks: int = DEFAULT_FORECAST_WEEKS
    interval: float = DEFAULT_INTERVAL
    draws: int = DEFAULT_DRAWS
    seed: int = DEFAULT_SEED
    currency: str = "$"

    def cache_key(self) -> tuple:
        """A hashable summary of every setting (for caches such as ``st.cache_data``)."""
        return tuple(
            tuple(sorted(v.items())) if isinstance(v, Mapping)
            else tuple(sorted(v)) if isinstance(v, frozenset | set) else v
            for v in (getattr(self, f) for f in self.__dataclass_fields__)
        )

    def validate(self) -> None:
        """Raise :class:`AllocationError` naming the first setting out of range."""
        checks = [
            (self.hourly_rate >= 0, "hourly rate must be 0 or more"),
            (self.budget_money is None or self.budget_money >= 0, "budget must be 0 or more"),
            (self.budget_hours is None or self.budget_hours >= 0, "hours must be 0 or more"),
            (all(v >= 0 for v in self.fixed_costs.values()), "fixed costs must be 0 or more"),
            (all(0 <= v <= 1 for v in self.caps.values()), "caps are shares between 0 and 1"),
            (0 <= self.min_share <= 1, "min share must be between 0 and 1"),
            (0 <= self.max_change <= 1, "max change must be between 0 and 1"),
            (self.max_growth is None or self.max_growth >= 1, "max growth must be 1 or more"),
            (self.min_leads >= 0, "min leads must be 0 or more"),
            (0.5 <= self.confidence < 1, "confidence must be in [0.5, 1)"),
            (self.objective in OBJECTIVES, f"objective must be one of {', '.join(OBJECTIVES)}"),
            (self.forecast_weeks >= 1, "forecast weeks must be 1 or more"),
            (0 < self.interval < 1, "interval must be between 0 and 1"),
            (self.draws >= 100, "draws must be 100 or more"),
        ]
        for ok, message in checks:
            if not ok:
                raise AllocationError(message)


@dataclass(frozen=True)
class Inputs:
    """What :func:`funnel.allocation.load_inputs` gathered: one ChannelInput per channel with
    leads or spend."""

    channels: tuple[ChannelInput, ...]
    as_of: dt.date | None


# --- outputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurveFit:
    """A channel's diminishing-returns response curve (leads per week = a * cost^exponent).

    ``status``: 'fitted', or why not: 'too_few_weeks', 'flat_spend', 'no_response',
    'no_diminishing_returns'. ``note`` says it in words.
    """

    status: str
    weeks: int
    variation: float | None = None
    exponent: float | None = None
    exponent_se: float | None = None
    exponent_low: float | None = None
    exponent_high: float | None = None
    note: str = ""

    @property
    def fitted(self) -> bool:
        return self.status == "fitted"

    def to_record(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "weeks": self.weeks,
            "exponent": _json_float(self.exponent),
            "exponent_low": _json_float(self.exponent_low),
            "exponent_high": _json_float(self.exponent_high),
            "note": self.note,
        }


@dataclass(frozen=True)
class ChannelPlan:
    """The recommendation for one channel. Amounts are per week (money plus hours costed at the
    hourly rate); wins and values count the eventual wins of the leads that ``forecast_weeks``
    weeks at that amount bring. ``status``: gain, cut, hold, locked or too_few_leads."""

    channel: str
    label: str
    status: str
    current_share: float
    recommended_share: float
    current_amount: float
    recommended_amount: float
    current_money: float
    current_hours: float
    recommended_money: float
    recommended_hours: float
    expected_extra_wins: float
    expected_extra_wins_low: float
    expected_extra_wins_high: float
    expected_extra_value: float | None
    expected_extra_value_low: float | None
    expected_extra_value_high: float | None
    forecast_wins: float
    forecast_wins_low: float
    forecast_wins_high: float
    judged_leads: int
    judged_won: int
    leads_needed: int
    conversion: float
    conversion_low: float
    conversion_high: float
    cost_per_lead: float | None
    value_per_win: float | None
    value_per_lead: float | None
    value_per_cost: float | None
    value_per_cost_low: float | None
    value_per_cost_high: float | None
    wins_per_cost: float
    p_best: float
    p_beats_mix: float
    break_even_conversion: float | None
    response_curve: CurveFit
    limits: tuple[str, ...]
    reason: str
    what_would_change: str

    def to_record(self) -> dict[str, Any]:
        """A JSON-safe dict (one object of the report's ``allocation`` array)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, CurveFit):
                out[name] = value.to_record()
            elif isinstance(value, tuple):
                out[name] = list(value)
            elif isinstance(value, float):
                out[name] = _json_float(value)
            else:
                out[name] = value
        return out


@dataclass(frozen=True)
class Excluded:
    """A channel left out of the allocation, and why."""

    channel: str
    label: str
    reason: str


@dataclass(frozen=True)
class WhatIf:
    """The expected effect of a split of the budget (see :meth:`Recommendation.what_if`).

    ``channels`` columns: channel, label, share, amount, money, hours, expected_leads,
    expected_wins, expected_wins_low, expected_wins_high (a predictive interval: what may
    actually happen), extra_wins, extra_wins_low, extra_wins_high, extra_value,
    extra_value_low, extra_value_high (against the current split, parameter uncertainty).
    """

    shares: dict[str, float]
    channels: pd.DataFrame
    expected_wins: float
    expected_wins_low: float
    expected_wins_high: float
    extra_wins: float
    extra_wins_low: float
    extra_wins_high: float
    extra_value: float | None
    extra_value_low: float | None
    extra_value_high: float | None
    sentence: str


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
    model: _Model | None = field(default=None, repr=False, compare=False)

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
            "budget": {"total": _json_float(self.pool), "money": _json_float(self.pool_money),
                       "hours": _json_float(self.pool_hours)},
            "plan": {"money": _json_float(self.plan_money), "hours": _json_float(self.plan_hours)},
            "guardrails": {
                "min_share": s.min_share, "max_change": s.max_change,
                "max_growth": s.max_growth, "min_leads": s.min_leads,
                "confidence": s.confidence, "locked": sorted(s.locked),
                "caps": dict(sorted(s.caps.items())),
                "fixed_costs": dict(sorted(s.fixed_costs.items())),
            },
            "extra_wins": _json_float(self.extra_wins),
            "extra_wins_low": _json_float(self.extra_wins_low),
            "extra_wins_high": _json_float(self.extra_wins_high),
            "extra_value": _json_float(self.extra_value),
            "extra_value_low": _json_float(self.extra_value_low),
            "extra_value_high": _json_float(self.extra_value_high),
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
        return self.model.what_if(normalised)


def _json_float(x: Any) -> float | None:
    """A float json.dumps accepts: None for NaN/inf, 0.0 for rounding dust."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return 0.0 if abs(x) < 1e-12 else x
