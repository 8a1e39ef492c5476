"""The allocator's inputs and outputs: the dataclasses
:func:`funnel.allocation.recommend.allocate` takes (:class:`SpendPeriod`, :class:`ChannelInput`,
:class:`Settings`, with their ``DEFAULT_*`` values) and returns (:class:`Recommendation`,
:class:`ChannelPlan`, :class:`CurveFit`, :class:`Excluded`, :class:`WhatIf`), :class:`Inputs` as
:func:`funnel.allocation.recommend.load_inputs` gathers them, and :class:`AllocationError`.
These only check settings and shares and make records JSON-safe: the arithmetic lives in
:mod:`funnel.allocation.model`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from funnel import format as fmt
from funnel.jsonsafe import json_float
from funnel.metrics.costs import DEFAULT_HOURLY_RATE

if TYPE_CHECKING:
    import pandas as pd


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
        """The label to show: the stored one, else the channel in words ('Welingak website'),
        never its slug (SPEC 5)."""
        from funnel.format import channel_label

        return channel_label(self.channel, self.label)


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
    # the store's currency mark at the time the settings are made (funnel.format.in_currency)
    currency: str = field(default_factory=lambda: fmt.current_mark())

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
    """What :func:`funnel.allocation.recommend.load_inputs` gathered: one ChannelInput per
    channel with leads or spend."""

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
            "exponent": json_float(self.exponent),
            "exponent_low": json_float(self.exponent_low),
            "exponent_high": json_float(self.exponent_high),
            "note": self.note,
        }


@dataclass(frozen=True)
class ChannelPlan:
    """The recommendation for one channel. Amounts are per week (money plus hours costed at the
    hourly rate); wins and values count the eventual wins of the leads that ``forecast_weeks``
    weeks at that amount bring. ``status``: gain, cut, hold, locked or too_few_leads.

    The figures a person compares with other pages share their definitions: ``conversion`` is
    won / leads over the ``judged_leads`` (leads old enough to judge, all the history) with
    their Wilson 95% interval (``funnel.metrics.stats.wilson``, as the Sales page); the cost per
    lead (``cost_per_lead`` money only, ``cost_per_lead_with_hours`` money plus hours at the
    hourly rate and any fixed costs) comes from ``funnel.metrics.costs`` over the spend
    history. The model's own conversion draws stay inside the model."""

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
    conversion: float | None
    conversion_low: float | None
    conversion_high: float | None
    cost_per_lead: float | None
    cost_per_lead_with_hours: float | None
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
                out[name] = json_float(value)
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




