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
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

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
RECENT_WEEKS = 4  # "current" spend = the average week of the last four weeks of spend data

CURVE_MIN_WEEKS = 12
CURVE_MIN_VARIATION = 0.2  # standard deviation of log weekly cost (about +-20%)
CURVE_MIN_EXPONENT = 0.05
VALUE_PRIOR_WINS = 3.0  # a channel's mean deal value is shrunk as if by 3 wins at the pooled mean
LEADS_NEEDED_CAP = 10_000
MIN_WEEKLY_COST = 0.01  # a channel that cost less than this a week cannot be compared
EPS = 1e-9

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


# --- response curve --------------------------------------------------------------------------


def weekly_cost(money: float, hours: float, hourly_rate: float) -> float:
    """Money plus hours costed at the hourly rate."""
    return float(money) + float(hours) * float(hourly_rate)


def fit_response_curve(
    periods: Sequence[SpendPeriod],
    hourly_rate: float,
    fixed_cost: float = 0.0,
    interval: float = DEFAULT_INTERVAL,
) -> CurveFit:
    """Fit leads per week = a * cost^b by least squares on logs, where the history allows it.

    Needs :data:`CURVE_MIN_WEEKS` periods with a cost and a spread of weekly cost of at least
    :data:`CURVE_MIN_VARIATION` (standard deviation of its log). The curve is used only when the
    exponent is credibly above 0 (leads visibly follow spend; the lower end of its ``interval``
    t-interval is above 0) and its estimate is below 1 (diminishing returns). ``leads + 0.5``
    keeps weeks without leads in the fit.
    """
    rows = [
        (weekly_cost(p.money, p.hours, hourly_rate) * 7 / p.days + fixed_cost, 7 * p.leads / p.days)
        for p in periods
        if p.days > 0
    ]
    rows = [(c, n) for c, n in rows if c > 0]
    n = len(rows)
    unit = "weeks" if all(p.days == 7 for p in periods) else "periods"
    if n < CURVE_MIN_WEEKS:
        return CurveFit("too_few_weeks", n, note=(
            f"{n} {unit} of spend: a response curve needs {CURVE_MIN_WEEKS} with varying spend, "
            "so the data does not allow one; a constant cost per lead is assumed."))
    x = np.log([c for c, _ in rows])
    y = np.log([v + 0.5 for _, v in rows])
    variation = float(np.std(x, ddof=1))
    if variation < CURVE_MIN_VARIATION:
        return CurveFit("flat_spend", n, variation, note=(
            f"spend varied only about {variation:.0%} from {unit[:-1]} to {unit[:-1]} over {n} "
            f"{unit}: too little to see how leads respond, so the data does not allow a response "
            "curve; a constant cost per lead is assumed."))
    xc = x - x.mean()
    sxx = float(np.sum(xc * xc))
    b = float(np.sum(xc * (y - y.mean())) / sxx)
    resid = y - y.mean() - b * xc
    se = float(math.sqrt(max(np.sum(resid * resid), 0.0) / (n - 2) / sxx))
    t = float(sps.t.ppf(1 - (1 - interval) / 2, n - 2))
    low, high = b - t * se, b + t * se
    fit = {"weeks": n, "variation": variation, "exponent": b, "exponent_se": se,
           "exponent_low": low, "exponent_high": high}
    if low <= 0:
        return CurveFit("no_response", **fit, note=(
            f"leads did not clearly rise with spend over these {n} {unit} (exponent {b:.2f}, "
            f"{low:.2f} to {high:.2f}), so the data does not allow a response curve; "
            "a constant cost per lead is assumed."))
    if b >= 1:
        return CurveFit("no_diminishing_returns", **fit, note=(
            f"leads rose at least in step with spend over these {n} {unit} (exponent {b:.2f}): "
            "no diminishing returns seen in the range tried; a constant cost per lead is "
            "assumed."))
    return CurveFit("fitted", **fit, note=(
        f"leads grow like spend^{b:.2f} ({low:.2f}-{high:.2f}, fitted on {n} {unit}): "
        "each extra unit of spend brings fewer leads than the last."))


# --- the posterior model ---------------------------------------------------------------------


@dataclass(eq=False)
class _Model:
    """Posterior draws for the allocated channels (columns, sorted by channel)."""

    channels: list[str]
    labels: list[str]
    anchor: np.ndarray  # mean weekly cost over the spend history
    p: np.ndarray  # (draws, channels): conversion
    lam: np.ndarray  # leads per unit of cost at the anchor
    b: np.ndarray  # response exponent (1 = constant cost per lead)
    v: np.ndarray | None  # mean deal value of a win
    current: np.ndarray  # current weekly amount
    money_per_amount: np.ndarray  # money in one unit of amount (the rest is hours)
    hours_per_amount: np.ndarray
    pool: float
    weeks: int
    interval: float
    seed: int
    currency: str

    def weekly_leads(self, amounts: np.ndarray) -> np.ndarray:
        ratio = np.asarray(amounts, dtype=float) / self.anchor
        return self.lam * self.anchor * np.power(ratio, self.b)

    def wins(self, amounts: np.ndarray) -> np.ndarray:
        """Expected eventual wins of ``weeks`` weeks of leads, per draw and channel."""
        return self.weeks * self.p * self.weekly_leads(amounts)

    def per_lead_won(self, amounts: np.ndarray, by_value: bool) -> np.ndarray:
        """Marginal leads per unit of cost at these weekly amounts, times the value of a win
        when ``by_value``: efficiency without the conversion factor."""
        at = np.where(np.asarray(amounts, dtype=float) > 0, amounts, self.anchor)
        marginal = self.lam * self.b * np.power(at / self.anchor, self.b - 1)
        return marginal * self.v if by_value and self.v is not None else marginal

    def efficiency(self, amounts: np.ndarray, by_value: bool) -> np.ndarray:
        """Marginal wins (or won value) per unit of cost at these weekly amounts."""
        return self.p * self.per_lead_won(amounts, by_value)

    def interval_of(self, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tail = (1 - self.interval) / 2
        low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
        return low, high

    def predictive_wins(self, amounts: np.ndarray) -> np.ndarray:
        """Draws of the wins that may actually happen (Poisson leads, binomial wins)."""
        rng = np.random.default_rng([self.seed, 1])
        leads = rng.poisson(self.weeks * self.weekly_leads(amounts))
        return rng.binomial(leads, self.p)

    def what_if(self, shares: Mapping[str, float]) -> WhatIf:
        s = np.array([shares[c] for c in self.channels], dtype=float)
        amounts = s * self.pool
        wins_new, wins_now = self.wins(amounts), self.wins(self.current)
        extra = wins_new - wins_now
        extra_low, extra_high = self.interval_of(extra)
        pred = self.predictive_wins(amounts)
        pred_low, pred_high = self.interval_of(pred)
        total_extra = extra.sum(axis=1)
        t_low, t_high = self.interval_of(total_extra)
        p_low, p_high = self.interval_of(pred.sum(axis=1))
        frame = pd.DataFrame({
            "channel": self.channels,
            "label": self.labels,
            "share": s,
            "amount": amounts,
            "money": amounts * self.money_per_amount,
            "hours": amounts * self.hours_per_amount,
            "expected_leads": (self.weeks * self.weekly_leads(amounts)).mean(axis=0),
            "expected_wins": wins_new.mean(axis=0),
            "expected_wins_low": pred_low,
            "expected_wins_high": pred_high,
            "extra_wins": extra.mean(axis=0),
            "extra_wins_low": extra_low,
            "extra_wins_high": extra_high,
        })
        value = None
        if self.v is not None:
            extra_value = extra * self.v
            v_low, v_high = self.interval_of(extra_value)
            frame["extra_value"] = extra_value.mean(axis=0)
            frame["extra_value_low"] = v_low
            frame["extra_value_high"] = v_high
            total_value = extra_value.sum(axis=1)
            value = (float(total_value.mean()), *map(float, self.interval_of(total_value)))
        else:
            frame["extra_value"] = frame["extra_value_low"] = frame["extra_value_high"] = None
        mean = float(total_extra.mean())
        sentence = (
            f"This split is expected to bring {float(wins_new.sum(axis=1).mean()):.1f} wins "
            f"({float(p_low):.0f}-{float(p_high):.0f} may actually happen) from {self.weeks} "
            f"weeks of leads: {_signed(mean)} ({_signed(float(t_low))} to "
            f"{_signed(float(t_high))}) against the current split"
        )
        if value is not None:
            sentence += f", {_signed_money(value[0], self.currency)} won value"
        return WhatIf(
            shares=dict(zip(self.channels, map(float, s), strict=True)),
            channels=frame,
            expected_wins=float(wins_new.sum(axis=1).mean()),
            expected_wins_low=float(p_low),
            expected_wins_high=float(p_high),
            extra_wins=mean,
            extra_wins_low=float(t_low),
            extra_wins_high=float(t_high),
            extra_value=None if value is None else value[0],
            extra_value_low=None if value is None else value[1],
            extra_value_high=None if value is None else value[2],
            sentence=sentence + ".",
        )


def _value_params(chans: Sequence[ChannelInput]) -> tuple[list[tuple[float, float]], bool]:
    """Per channel (mean, standard error) of the value of a win, shrunk to the pooled mean."""
    known = [c for c in chans if c.value_count > 0 and c.value_mean is not None]
    if not known:
        return [], False
    n_all = sum(c.value_count for c in known)
    pooled = sum(c.value_count * float(c.value_mean) for c in known) / n_all
    spread = sum(
        max(c.value_count - 1, 0) * float(c.value_sd or 0.0) ** 2
        + c.value_count * (float(c.value_mean) - pooled) ** 2
        for c in known
    )
    pooled_var = spread / max(n_all - 1, 1)
    k = VALUE_PRIOR_WINS
    out = []
    for c in chans:
        n = c.value_count if c.value_mean is not None else 0
        mean = float(c.value_mean) if n else 0.0
        sd = float(c.value_sd) if n > 1 and c.value_sd is not None else math.sqrt(pooled_var)
        shrunk = (n * mean + k * pooled) / (n + k)
        var = (n * sd * sd + k * pooled_var) / (n + k)
        out.append((shrunk, math.sqrt(var / (n + k))))
    return out, True


def _draw_model(
    chans: Sequence[ChannelInput],
    curves: Sequence[CurveFit],
    anchor: np.ndarray,
    costs_history: np.ndarray,
    settings: Settings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(settings.seed)
    size = (settings.draws, len(chans))
    won = np.array([c.judged_won for c in chans], dtype=float)
    lost = np.array([c.judged_leads - c.judged_won for c in chans], dtype=float)
    p = rng.beta(1.0 + won, 1.0 + lost, size=size)
    leads = np.array([c.history_leads for c in chans], dtype=float)
    lam = rng.gamma(leads + 0.5, 1.0 / costs_history, size=size)
    b = np.ones(size)
    for j, curve in enumerate(curves):
        if curve.fitted:
            raw = rng.normal(curve.exponent, curve.exponent_se, size=settings.draws)
            b[:, j] = np.clip(raw, CURVE_MIN_EXPONENT, 1.0)
    params, has_values = _value_params(chans)
    v = None
    if has_values:
        v = np.zeros(size)
        for j, (mean, se) in enumerate(params):
            if mean > 0 and se > 0:
                v[:, j] = rng.gamma((mean / se) ** 2, se * se / mean, size=settings.draws)
            else:
                v[:, j] = max(mean, 0.0)
    return p, lam, b, v


# --- guardrails ------------------------------------------------------------------------------

# Softest first: when caps and locks leave no split that keeps every guardrail, these give way
# in this order (and the recommendation says so).
_SOFT_GUARDRAILS = ("evidence", "min_share", "max_growth", "max_change", "min_leads")


def _bounds(
    current: np.ndarray,
    growth_hi: np.ndarray,
    locked: np.ndarray,
    frozen: np.ndarray,
    caps: np.ndarray,
    can_gain: np.ndarray,
    can_lose: np.ndarray,
    settings: Settings,
    active: set[str],
) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.zeros(len(current)), np.ones(len(current))
    for i, c in enumerate(current):
        if locked[i]:
            lo[i] = hi[i] = c
            continue
        if frozen[i] and "min_leads" in active:
            lo[i] = hi[i] = c
        else:
            if "max_change" in active:
                lo[i] = max(0.0, c - settings.max_change)
                hi[i] = min(1.0, c + settings.max_change)
            if "max_growth" in active:
                hi[i] = min(hi[i], max(growth_hi[i], c))
            if "min_share" in active:  # never cut below the floor (nor raise a channel to it)
                lo[i] = max(lo[i], min(settings.min_share, c, hi[i]))
            if "evidence" in active:
                if not can_gain[i]:
                    hi[i] = min(hi[i], max(c, lo[i]))
                if not can_lose[i]:
                    lo[i] = max(lo[i], min(c, hi[i]))
        hi[i] = min(hi[i], caps[i])  # a cap the owner set wins over every default guardrail
        lo[i] = min(lo[i], hi[i])
    return lo, hi


def _project(target: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The split nearest ``target`` (least squares) with lo <= s <= hi and sum(s) = 1."""
    def total(mu: float) -> float:
        return float(np.clip(target + mu, lo, hi).sum())

    a, b = -2.0, 2.0
    for _ in range(200):
        mid = (a + b) / 2
        a, b = (mid, b) if total(mid) < 1 else (a, mid)
    s = np.clip(target + b, lo, hi)
    residual = 1.0 - s.sum()  # rounding only: hand it to channels with room
    for i in np.argsort(-(hi - s) if residual > 0 else -(s - lo)):
        if abs(residual) < 1e-15:
            break
        room = hi[i] - s[i] if residual > 0 else s[i] - lo[i]
        step = math.copysign(min(abs(residual), room), residual)
        s[i] += step
        residual -= step
    return s


# --- the allocator ---------------------------------------------------------------------------


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
    chans, excluded = _usable(channels, settings)
    unknown = sorted((set(settings.locked) | set(settings.caps) | set(settings.fixed_costs))
                     - set(names))
    notes = [f"no channel named {u!r} in the data: its lock, cap or fixed cost is ignored"
             for u in unknown]
    if not chans:
        return _empty(settings, as_of, excluded, notes, "Nothing to allocate: no channel has "
                      "money or hours recorded. Ingest a spend file (channel, week, money and/or "
                      "hours) first.")
    split = _current_split(chans, settings)
    notes.extend(split.notes)
    if split.pool <= 0:
        return _empty(settings, as_of, excluded, notes, "Nothing to allocate: the budget is 0.")

    curves = [fit_response_curve(c.periods, settings.hourly_rate, f, settings.interval)
              for c, f in zip(chans, split.fixed, strict=True)]
    p, lam, b, v = _draw_model(chans, curves, split.anchor, split.hist_cost, settings)
    objective = settings.objective
    if objective == "auto":
        objective = "won_value" if v is not None else "wins"
    if objective == "won_value" and v is None:
        notes.append("no won deal has a value: channels are ranked by wins per unit of cost")
        objective = "wins"
    model = _Model(
        channels=[c.channel for c in chans], labels=[c.name for c in chans],
        anchor=split.anchor, p=p, lam=lam, b=b, v=v, current=split.current,
        money_per_amount=split.money_per_amount, hours_per_amount=split.hours_per_amount,
        pool=split.pool, weeks=settings.forecast_weeks, interval=settings.interval,
        seed=settings.seed, currency=settings.currency,
    )
    choice = _choose_shares(chans, model, split, settings, by_value=objective == "won_value")
    if choice.relaxed:
        notes.append("caps and locks left no split inside every guardrail, so these gave way: "
                     + ", ".join(_GUARDRAIL_WORDS[g] for g in choice.relaxed))

    amounts = choice.shares * split.pool
    extra = model.wins(amounts) - model.wins(split.current)
    pred = model.predictive_wins(amounts)
    ctx = _TextContext(settings, objective, chans, model, split.shares, choice.shares, amounts,
                       extra, choice.eff, choice.mix, choice.p_best, choice.p_beats,
                       choice.frozen, choice.locked, choice.caps, choice.growth_hi, split.pool)
    plans = tuple(_plan(ctx, i, curves[i], pred[:, i]) for i in range(len(chans)))
    total = extra.sum(axis=1)
    t_low, t_high = model.interval_of(total)
    value = (None, None, None)
    if v is not None:
        total_value = (extra * v).sum(axis=1)
        value = (float(total_value.mean()), *map(float, model.interval_of(total_value)))
    plan_money = float((amounts * split.money_per_amount).sum())
    plan_hours = float((amounts * split.hours_per_amount).sum())
    notes.extend(_mix_notes(settings, split.pool_money, split.pool_hours, plan_money, plan_hours))
    assumed = [p.label.lower() for p in plans if p.status == "gain" and not p.response_curve.fitted]
    if assumed:
        notes.append(
            f"the gains for {_names_text(assumed)} assume extra spend brings leads at the past "
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
        summary=_summary(ctx, float(total.mean()), float(t_low), float(t_high), value),
        notes=tuple(notes), relaxed=choice.relaxed, model=model,
    )


def _usable(
    channels: Sequence[ChannelInput], settings: Settings
) -> tuple[list[ChannelInput], list[Excluded]]:
    """The channels with a cost to compare (sorted by slug), and the others with the reason."""
    chans, excluded = [], []
    for c in sorted(channels, key=lambda c: c.channel):
        fixed = settings.fixed_costs.get(c.channel, 0.0)
        cost = (weekly_cost(c.history_money, c.history_hours, settings.hourly_rate)
                + fixed * c.history_weeks)
        if c.history_weeks <= 0 or (c.history_money <= 0 and c.history_hours <= 0 and not fixed):
            excluded.append(Excluded(c.channel, c.name, "no money or hours recorded in the spend "
                                     "data: add it to the spend file to plan for it"))
        elif cost <= 0:
            excluded.append(Excluded(c.channel, c.name, "costs nothing at an hourly rate of 0: "
                                     "set the hourly rate to compare it"))
        elif cost < MIN_WEEKLY_COST * c.history_weeks:
            excluded.append(Excluded(c.channel, c.name, "next to nothing was spent on it, so "
                                     "its cost per lead cannot be compared"))
        else:
            chans.append(c)
    return chans, excluded


@dataclass(eq=False)
class _Split:
    """Weekly costs of the allocated channels (money plus hours at the hourly rate)."""

    fixed: np.ndarray  # fixed costs a week
    hist_cost: np.ndarray  # over the whole spend history
    anchor: np.ndarray  # an average week of the history
    current: np.ndarray  # an average recent week
    shares: np.ndarray  # current / current.sum()
    money_per_amount: np.ndarray  # money in one unit of amount (the rest is hours)
    hours_per_amount: np.ndarray  # hours in one unit of amount
    pool_money: float
    pool_hours: float
    pool: float
    notes: list[str]


def _current_split(chans: Sequence[ChannelInput], s: Settings) -> _Split:
    rate = s.hourly_rate
    notes: list[str] = []
    fixed = np.array([s.fixed_costs.get(c.channel, 0.0) for c in chans])
    weeks = np.array([c.history_weeks for c in chans], dtype=float)
    hist_money = np.array([c.history_money for c in chans], dtype=float)
    hist_hours = np.array([c.history_hours for c in chans], dtype=float)
    hist_cost = hist_money + hist_hours * rate + fixed * weeks
    active_now = np.array([c.current_money > 0 or c.current_hours > 0 for c in chans])
    cur_money = np.array([c.current_money for c in chans]) + np.where(active_now, fixed, 0.0)
    cur_hours = np.array([c.current_hours for c in chans], dtype=float)
    if (cur_money + cur_hours * rate).sum() <= 0:
        notes.append("no spend in the recent weeks: the current split is the average week of "
                     "the whole spend history")
        cur_money, cur_hours = hist_money / weeks + fixed, hist_hours / weeks
    current = cur_money + cur_hours * rate
    # a channel keeps its own mix of money and hours (its history's when it is not running now)
    mix_money = np.where(current > 0, cur_money, hist_money / weeks + fixed)
    mix_hours = np.where(current > 0, cur_hours, hist_hours / weeks)
    mix_total = mix_money + mix_hours * rate
    safe_total = np.where(mix_total > 0, mix_total, 1.0)
    pool_money = float(s.budget_money if s.budget_money is not None else cur_money.sum())
    pool_hours = float(s.budget_hours if s.budget_hours is not None else cur_hours.sum())
    return _Split(
        fixed=fixed, hist_cost=hist_cost, anchor=hist_cost / weeks, current=current,
        shares=current / current.sum(),
        money_per_amount=np.where(mix_total > 0, mix_money / safe_total, 1.0),
        hours_per_amount=np.where(mix_total > 0, mix_hours / safe_total, 0.0),
        pool_money=pool_money, pool_hours=pool_hours, pool=pool_money + pool_hours * rate,
        notes=notes,
    )


@dataclass(eq=False)
class _Choice:
    """The recommended shares and the evidence behind them."""

    shares: np.ndarray
    relaxed: tuple[str, ...]
    eff: np.ndarray  # (draws, channels): value or wins per unit of cost at the current amounts
    mix: np.ndarray  # (draws,): the same for the current mix of the channels that can move
    p_best: np.ndarray
    p_beats: np.ndarray
    locked: np.ndarray
    frozen: np.ndarray
    caps: np.ndarray
    growth_hi: np.ndarray


def _choose_shares(
    chans: Sequence[ChannelInput], model: _Model, split: _Split, s: Settings, by_value: bool
) -> _Choice:
    """Thompson-sampling target shares, kept inside the guardrails."""
    n, now = len(chans), split.shares
    eff = model.efficiency(split.current, by_value)
    locked = np.array([c.channel in s.locked for c in chans])
    frozen = np.array([c.judged_leads < s.min_leads for c in chans]) & ~locked
    movable = ~locked & ~frozen
    # Thompson sampling: how often each channel is the best per unit of cost
    p_best = np.bincount(np.argmax(eff, axis=1), minlength=n) / s.draws
    target = np.zeros(n)
    if movable.any():
        best_movable = np.flatnonzero(movable)[np.argmax(eff[:, movable], axis=1)]
        target = np.bincount(best_movable, minlength=n) / s.draws * (1.0 - now[~movable].sum())
    # "the mix": what a unit of cost does now in the channels whose share can move
    weights = np.where(movable, now, 0.0)
    weights = weights / weights.sum() if weights.sum() > 0 else now
    mix = eff @ weights
    p_beats = (eff > mix[:, None]).mean(axis=0)
    caps = np.array([s.caps.get(c.channel, 1.0) for c in chans])
    growth_hi = np.ones(n)
    if s.max_growth is not None:  # in shares, so a bigger budget is not held back
        usual = np.maximum(now, split.anchor / split.anchor.sum())
        growth_hi = np.minimum(1.0, s.max_growth * usual)

    def bounds(active: set[str]) -> tuple[np.ndarray, np.ndarray]:
        return _bounds(now, growth_hi, locked, frozen, caps, p_beats >= s.confidence,
                       p_beats <= 1 - s.confidence, s, active)

    def feasible(active: set[str]) -> bool:
        lo, hi = bounds(active)
        return lo.sum() <= 1 + EPS and hi.sum() >= 1 - EPS

    active = set(_SOFT_GUARDRAILS)
    relaxed: list[str] = []
    for guardrail in _SOFT_GUARDRAILS:  # give way softest first, only as far as needed ...
        if feasible(active):
            break
        active.discard(guardrail)
        relaxed.append(guardrail)
    if not feasible(active):
        lo, hi = bounds(active)
        raise AllocationError(_infeasible_message(chans, locked, caps, lo, hi))
    for guardrail in reversed(relaxed[:-1]):  # ... and restore those that did not need to
        if feasible(active | {guardrail}):
            active.add(guardrail)
            relaxed.remove(guardrail)
    shares = _project(target, *bounds(active))
    unchanged = np.abs(shares - now) < 1e-12
    shares[unchanged] = now[unchanged]
    return _Choice(shares, tuple(relaxed), eff, mix, p_best, p_beats, locked, frozen, caps,
                   growth_hi)


def _empty(settings, as_of, excluded, notes, summary) -> Recommendation:
    return Recommendation(
        channels=(), excluded=tuple(excluded), settings=settings, as_of=as_of,
        objective=settings.objective, pool=0.0, pool_money=0.0, pool_hours=0.0, plan_money=0.0,
        plan_hours=0.0, extra_wins=0.0, extra_wins_low=0.0, extra_wins_high=0.0,
        extra_value=None, extra_value_low=None, extra_value_high=None, summary=summary,
        notes=tuple(notes), relaxed=(), model=None,
    )


def _infeasible_message(chans, locked, caps, lo, hi) -> str:
    locked_names = [c.name for c, is_locked in zip(chans, locked, strict=True) if is_locked]
    capped = [f"{c.name} {cap:.0%}" for c, cap in zip(chans, caps, strict=True) if cap < 1]
    short = 1 - hi.sum() if hi.sum() < 1 else lo.sum() - 1
    return (
        f"locks ({', '.join(locked_names) or 'none'}) and caps ({', '.join(capped) or 'none'}) "
        f"leave {short:.0%} of the budget with nowhere to go: raise a cap or unlock a channel"
    )


_GUARDRAIL_WORDS = {
    "evidence": "moves only on clear evidence",
    "min_share": "the minimum exploration share",
    "max_growth": "the limit on growth per period",
    "max_change": "the limit on change per period",
    "min_leads": "no move for channels with too few judged leads",
}


def _mix_notes(settings, pool_money, pool_hours, plan_money, plan_hours) -> list[str]:
    cur = settings.currency
    notes = [f"hours are costed at {_money(settings.hourly_rate, cur)} an hour"]
    hours_gap = plan_hours - pool_hours
    money_gap = plan_money - pool_money
    if abs(hours_gap) * settings.hourly_rate > 0.05 * (pool_money + pool_hours
                                                      * settings.hourly_rate):
        more_less = "more" if hours_gap > 0 else "fewer"
        notes.append(
            f"this plan trades money for hours: it needs {abs(hours_gap):.1f} {more_less} hours "
            f"a week ({plan_hours:.1f} against a budget of {pool_hours:.1f}) and "
            f"{_money(abs(money_gap), cur)} {'more' if money_gap > 0 else 'less'} money "
            f"({_money(plan_money, cur)} against {_money(pool_money, cur)}); if that trade is "
            "not possible, lock the channels that cannot change or raise the hourly rate"
        )
    return notes


# --- words -----------------------------------------------------------------------------------


@dataclass(eq=False)
class _TextContext:
    settings: Settings
    objective: str
    chans: list[ChannelInput]
    model: _Model
    before: np.ndarray
    after: np.ndarray
    amounts: np.ndarray
    extra: np.ndarray
    eff: np.ndarray
    mix: np.ndarray
    p_best: np.ndarray
    p_beats: np.ndarray
    frozen: np.ndarray
    locked: np.ndarray
    caps: np.ndarray
    growth_hi: np.ndarray
    pool: float

    @property
    def gains(self) -> np.ndarray:
        return np.where(self.after - self.before > 1e-9, self.after - self.before, 0.0)

    @property
    def cuts(self) -> np.ndarray:
        return np.where(self.before - self.after > 1e-9, self.before - self.after, 0.0)

    @property
    def per_cost(self) -> str:
        return "per dollar" if self.settings.currency == "$" else "per unit of cost"


def _plan(ctx: _TextContext, i: int, curve: CurveFit, predictive: np.ndarray) -> ChannelPlan:
    c, m, s = ctx.chans[i], ctx.model, ctx.settings
    extra = ctx.extra[:, i]
    e_low, e_high = m.interval_of(extra)
    value = (None, None, None)
    value_per_win = value_per_lead = None
    vpc = (None, None, None)
    eff_wins = ctx.model.efficiency(ctx.model.current, by_value=False)[:, i]
    if m.v is not None:
        ev = extra * m.v[:, i]
        value = (float(ev.mean()), *map(float, m.interval_of(ev)))
        value_per_win = float(m.v[:, i].mean())
        value_per_lead = float((m.p[:, i] * m.v[:, i]).mean())
        vpc_draws = eff_wins * m.v[:, i]
        vpc = (float(vpc_draws.mean()), *map(float, m.interval_of(vpc_draws)))
    f_low, f_high = m.interval_of(predictive)
    p_low, p_high = m.interval_of(m.p[:, i])
    status = _status(ctx, i)
    limits = _limits(ctx, i)
    break_even = _break_even(ctx, i)
    hist_cost = m.anchor[i] * c.history_weeks
    leads_needed = max(0, s.min_leads - c.judged_leads) if status == "too_few_leads" else 0
    plan = ChannelPlan(
        channel=c.channel,
        label=c.name,
        status=status,
        current_share=float(ctx.before[i]),
        recommended_share=float(ctx.after[i]),
        current_amount=float(m.current[i]),
        recommended_amount=float(ctx.amounts[i]),
        current_money=float(m.current[i] * m.money_per_amount[i]),
        current_hours=float(m.current[i] * m.hours_per_amount[i]),
        recommended_money=float(ctx.amounts[i] * m.money_per_amount[i]),
        recommended_hours=float(ctx.amounts[i] * m.hours_per_amount[i]),
        expected_extra_wins=float(extra.mean()),
        expected_extra_wins_low=float(e_low),
        expected_extra_wins_high=float(e_high),
        expected_extra_value=value[0],
        expected_extra_value_low=value[1],
        expected_extra_value_high=value[2],
        forecast_wins=float(m.wins(ctx.amounts)[:, i].mean()),
        forecast_wins_low=float(f_low),
        forecast_wins_high=float(f_high),
        judged_leads=int(c.judged_leads),
        judged_won=int(c.judged_won),
        leads_needed=int(leads_needed),
        conversion=float(m.p[:, i].mean()),
        conversion_low=float(p_low),
        conversion_high=float(p_high),
        cost_per_lead=float(hist_cost / c.history_leads) if c.history_leads else None,
        value_per_win=value_per_win,
        value_per_lead=value_per_lead,
        value_per_cost=vpc[0],
        value_per_cost_low=vpc[1],
        value_per_cost_high=vpc[2],
        wins_per_cost=float(eff_wins.mean()),
        p_best=float(ctx.p_best[i]),
        p_beats_mix=float(ctx.p_beats[i]),
        break_even_conversion=break_even,
        response_curve=curve,
        limits=limits,
        reason="",
        what_would_change="",
    )
    return _with_words(ctx, i, plan)


def _status(ctx: _TextContext, i: int) -> str:
    if ctx.locked[i]:
        return "locked"
    if ctx.frozen[i] and abs(ctx.after[i] - ctx.before[i]) <= 1e-9:
        return "too_few_leads"
    if ctx.after[i] > ctx.before[i] + 1e-9:
        return "gain"
    if ctx.after[i] < ctx.before[i] - 1e-9:
        return "cut"
    return "hold"


def _limits(ctx: _TextContext, i: int) -> tuple[str, ...]:
    """The guardrails the recommended share sits against."""
    s, a, c = ctx.settings, ctx.after[i], ctx.before[i]
    out = []
    if ctx.locked[i]:
        out.append("locked")
    if ctx.frozen[i]:
        out.append("min_leads")
    if ctx.caps[i] < 1 and a >= ctx.caps[i] - 1e-9:
        out.append("cap")
    if abs(abs(a - c) - s.max_change) < 1e-9 and a != c:
        out.append("max_change")
    if s.max_growth is not None and a > c and a >= ctx.growth_hi[i] - 1e-9:
        out.append("max_growth")
    floor = min(s.min_share, c)
    if c > 0 and abs(a - floor) < 1e-9 and ctx.p_beats[i] <= 1 - s.confidence:
        out.append("min_share")
    return tuple(out)


def _break_even(ctx: _TextContext, i: int) -> float | None:
    """The conversion at which the channel would match the current mix per unit of cost."""
    m = ctx.model
    rest = m.per_lead_won(m.current, ctx.objective == "won_value")[:, i]
    if float(rest.mean()) <= 0:
        return None
    return float(ctx.mix.mean() / rest.mean())


def _leads_to_settle(c: ChannelInput, p_hat: float, p_star: float, confidence: float) -> int | None:
    """Roughly how many more judged leads would tell whether the rate is above or below p_star."""
    gap = abs(p_hat - p_star)
    if gap < 1e-6:
        return None
    z = float(sps.norm.ppf(confidence))
    needed = z * z * p_hat * (1 - p_hat) / (gap * gap) - c.judged_leads
    needed = max(10, math.ceil(needed))
    return needed if needed <= LEADS_NEEDED_CAP else None


def _with_words(ctx: _TextContext, i: int, plan: ChannelPlan) -> ChannelPlan:
    reason = _reason(ctx, i, plan)
    change = _what_would_change(ctx, i, plan)
    return replace(plan, reason=reason, what_would_change=change)


def _reason(ctx: _TextContext, i: int, plan: ChannelPlan) -> str:
    s, weeks = ctx.settings, ctx.settings.forecast_weeks
    low = plan.label.lower()
    share_now, share_new = _pct(plan.current_share), _pct(plan.recommended_share)
    now_amount = _amount_phrase(plan.current_money, plan.current_hours, s.currency)
    if plan.status == "locked":
        return f"Keep {low} at {now_amount} a week ({share_now} of the budget): locked by you."
    if plan.status == "too_few_leads":
        judged = (f"only {plan.judged_leads} of its leads are" if plan.judged_leads
                  else "none of its leads is yet")
        return (f"Keep {low} at {share_now} of the budget: {judged} old enough to judge; it "
                f"needs {plan.leads_needed} more before its share moves.")
    limit_words = _limit_words(plan, s)
    if plan.status == "gain":
        donors = _names([j for j in np.argsort(-ctx.cuts) if ctx.cuts[j] > 0], ctx)
        new_amount = _amount_phrase(plan.recommended_money, plan.recommended_hours, s.currency)
        if plan.p_beats_mix < s.confidence:
            why = "the caps and locks you set leave that money nowhere else to go"
        elif plan.p_best >= 0.2:
            why = f"it is the best channel {ctx.per_cost} in {_prob(plan.p_best)} of simulations"
        else:
            why = (f"it beats the current mix {ctx.per_cost} with {_prob(plan.p_beats_mix)} "
                   "probability")
        return (f"Raise {low} from {now_amount} to {new_amount} a week ({share_now} to "
                f"{share_new} of the budget), taking from {donors}: {why}; expected "
                f"{_wins_range(plan)} wins from {weeks} weeks of leads{limit_words}.")
    if plan.status == "cut":
        receivers = [j for j in np.argsort(-ctx.gains) if ctx.gains[j] > 0]
        net = _pair_effect(ctx, i)
        moved = _moved_phrase(plan, s)
        names = _names(receivers, ctx)
        fraction = _share_of(ctx, i)
        parts = ", ".join(
            f"{ctx.chans[j].name.lower()} {_signed(float(ctx.extra[:, j].mean()) * fraction)}"
            for j in receivers[:3]
        )
        if plan.p_beats_mix <= 1 - s.confidence:
            why = (f"{low} does worse {ctx.per_cost} than the current mix with "
                   f"{_prob(1 - plan.p_beats_mix)} probability")
        elif "cap" in plan.limits:
            why = f"you capped {low} at {_pct(s.caps.get(plan.channel, 1.0))}"
        else:
            why = "the guardrails you set require it"
        limit_words = _limit_words(plan, s, skip=("cap",) if "cap" in why else ())
        effect = (f"add {_range_text(*net)} wins" if net[0] >= 0 else
                  f"cost {_range_text(-net[0], -net[2], -net[1], signed=False)} wins")
        return (f"Moving {moved} to {names} is expected to {effect} "
                f"from {weeks} weeks of leads ({parts}, {low} "
                f"{_signed(plan.expected_extra_wins)}): {why}{limit_words}.")
    why = _hold_why(ctx, i, plan)
    return f"Keep {low} at {now_amount} a week ({share_now} of the budget): {why}."


def _hold_why(ctx: _TextContext, i: int, plan: ChannelPlan) -> str:
    s = ctx.settings
    if plan.p_beats_mix >= s.confidence:
        best = int(np.argmax(ctx.p_best))
        if ctx.cuts.sum() <= 0:
            return (f"it beats the current mix {ctx.per_cost} ({_prob(plan.p_beats_mix)} likely), "
                    "but no channel is clearly worse to take from")
        if best != i:
            return (f"it beats the current mix {ctx.per_cost} ({_prob(plan.p_beats_mix)} likely), "
                    f"but {ctx.chans[best].name.lower()} is likely better still")
        return (f"it beats the current mix {ctx.per_cost} ({_prob(plan.p_beats_mix)} likely), "
                "but it is at its limit for this period")
    if plan.p_beats_mix <= 1 - s.confidence:
        if "min_share" in plan.limits:
            return (f"it does worse {ctx.per_cost} than the current mix "
                    f"({_prob(1 - plan.p_beats_mix)} likely), but it is at the "
                    f"{_pct(s.min_share)} exploration floor, kept so its numbers stay current")
        return (f"it does worse {ctx.per_cost} than the current mix "
                f"({_prob(1 - plan.p_beats_mix)} likely), but the channels that would take its "
                "money are at their limits this period")
    return (f"the evidence is not clear enough: it beats the current mix {ctx.per_cost} in "
            f"{_prob(plan.p_beats_mix)} of simulations, and money moves in only from "
            f"{_pct(s.confidence)} and out only from {_pct(1 - s.confidence)} or less")


def _limit_words(plan: ChannelPlan, s: Settings, skip: tuple[str, ...] = ()) -> str:
    words = {
        "cap": f"capped at {_pct(s.caps.get(plan.channel, 1.0))} by you",
        "max_change": f"limited to {round(100 * s.max_change)} share points a period",
        "max_growth": f"limited to {s.max_growth or 0:g}x its usual share in one period",
        "min_share": f"kept at the {_pct(s.min_share)} exploration floor",
    }
    found = [words[k] for k in plan.limits if k in words and k not in skip]
    return f" ({'; '.join(found)})" if found else ""


def _what_would_change(ctx: _TextContext, i: int, plan: ChannelPlan) -> str:
    s, low = ctx.settings, plan.label.lower()
    if plan.status == "locked":
        return f"Unlock {low} to let the evidence move it."
    if plan.status == "too_few_leads":
        return (f"Its share can move once {plan.leads_needed} more of its leads are old enough "
                f"to judge ({s.min_leads} in all).")
    if plan.status == "cut" and "cap" in plan.limits and plan.p_beats_mix > 1 - s.confidence:
        return f"Raise or remove your cap on {low} to let it keep its share."
    if plan.status == "gain" and plan.p_beats_mix < s.confidence:
        return (f"{plan.label} gains only because your caps and locks leave the money nowhere "
                "else; lift them and it would not.")
    conv = (f"now {_pct(plan.conversion)}, {_pct(plan.conversion_low)}-"
            f"{_pct(plan.conversion_high)}")
    p_star = plan.break_even_conversion
    cpl = plan.cost_per_lead
    cpl_star = None
    if cpl is not None and float(ctx.mix.mean()) > 0:
        cpl_star = cpl * float(ctx.eff[:, i].mean()) / float(ctx.mix.mean())
    if p_star is None:
        return "It would need leads that convert before the allocator could judge it."
    cost_text = ""
    if cpl is not None and cpl_star is not None:
        cur = s.currency
        cost_text = f" or a lead cost {{}} {_money(cpl_star, cur)} (now {_money(cpl, cur)})"
    if plan.status == "gain" or (plan.status == "hold" and plan.p_beats_mix >= s.confidence):
        verb = "stop gaining" if plan.status == "gain" else "stop beating the mix"
        return (f"{plan.label} would {verb} if its conversion proved below {_pct(p_star)} "
                f"({conv}){cost_text.format('more than')}.")
    if plan.status == "cut" or plan.p_beats_mix <= 1 - s.confidence:
        verb = "keep its share" if plan.status == "cut" else "stop trailing the mix"
        return (f"{plan.label} would {verb} if its conversion rose above {_pct(p_star)} "
                f"({conv}){cost_text.format('less than')}.")
    needed = _leads_to_settle(ctx.chans[i], plan.conversion, p_star, s.confidence)
    settle = (f"; about {needed:,} more judged leads would tell" if needed else
              "; it sits at break-even, so more leads would hardly tell")
    return (f"{plan.label} beats the mix {ctx.per_cost} if it converts above {_pct(p_star)} "
            f"({conv}){settle}.")


def _share_of(ctx: _TextContext, i: int) -> float:
    total = ctx.cuts.sum()
    return float(ctx.cuts[i] / total) if total > 0 else 0.0


def _pair_effect(ctx: _TextContext, i: int) -> tuple[float, float, float]:
    """Net extra wins of moving donor i's cut to the receivers (their gains pro rata)."""
    fraction = _share_of(ctx, i)
    receivers = ctx.gains > 0
    draws = ctx.extra[:, receivers].sum(axis=1) * fraction + ctx.extra[:, i]
    low, high = ctx.model.interval_of(draws)
    return float(draws.mean()), float(low), float(high)


def _summary(ctx: _TextContext, mean: float, low: float, high: float, value) -> str:
    s = ctx.settings
    moved = ctx.gains.sum()
    if moved <= 1e-9:
        return "Keep the current split: " + _why_no_move(ctx) + "."
    donors = _names([j for j in np.argsort(-ctx.cuts) if ctx.cuts[j] > 0], ctx)
    receivers = _names([j for j in np.argsort(-ctx.gains) if ctx.gains[j] > 0], ctx)
    base = float(ctx.model.wins(ctx.model.current).sum(axis=1).mean())
    effect = (f"{_range_text(mean, low, high)} wins more" if mean >= 0 else
              f"{_range_text(-mean, -high, -low, signed=False)} fewer wins")
    text = (f"Move {_pct(moved)} of the weekly budget ({_money(moved * ctx.pool, s.currency)} "
            f"a week) from {donors} to {receivers}: the next {s.forecast_weeks} weeks of leads "
            f"are expected to bring {effect} than the current split (about {base:.0f})")
    if value[0] is not None:
        v_low, v_high = (_signed_money(x, s.currency) for x in value[1:])
        text += f" and {_signed_money(value[0], s.currency)} ({v_low} to {v_high}) won value"
    return text + "."


def _why_no_move(ctx: _TextContext) -> str:
    s = ctx.settings
    movable = ~ctx.locked & ~ctx.frozen
    if not movable.any():
        return "every channel is locked or has too few judged leads to move"
    better = [j for j in np.flatnonzero(movable) if ctx.p_beats[j] >= s.confidence]
    worse = [j for j in np.flatnonzero(movable) if ctx.p_beats[j] <= 1 - s.confidence]
    if better and not worse:
        verb = "looks" if len(better) == 1 else "look"
        return (f"{_names(better, ctx)} {verb} better {ctx.per_cost} than the current mix, but "
                "no channel is clearly worse to take money from")
    if worse and not better:
        verb = "looks" if len(worse) == 1 else "look"
        return (f"{_names(worse, ctx)} {verb} worse {ctx.per_cost} than the current mix, but "
                "no channel is clearly better to give their money to")
    if better and worse:
        return "the guardrails leave no room to move money this period"
    return (f"no channel is clearly better or worse {ctx.per_cost} than the current mix "
            f"({_pct(s.confidence)} likelihood needed to move money)")


def _names(indices, ctx: _TextContext) -> str:
    return _names_text([ctx.chans[j].name.lower() for j in indices])


def _names_text(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b and 3 others'."""
    if len(names) > 3:
        names = [*names[:2], f"{len(names) - 2} others"]
    if len(names) <= 1:
        return "".join(names) or "no channel"
    return ", ".join(names[:-1]) + " and " + names[-1]


def _moved_phrase(plan: ChannelPlan, s: Settings) -> str:
    """'4.1 of cold call's 20.3 hours a week' (or money, whichever is most of its cost)."""
    low = plan.label.lower()
    moved_hours = plan.current_hours - plan.recommended_hours
    moved_money = plan.current_money - plan.recommended_money
    hours_cost = plan.current_hours * s.hourly_rate
    if hours_cost >= plan.current_money and plan.current_hours > 0:
        text = f"{moved_hours:.1f} of {_possessive(low)} {plan.current_hours:.1f} hours a week"
        if plan.current_money >= 0.1 * plan.current_amount and moved_money >= 0.5:
            text += (f" (and {_money(moved_money, s.currency)} of its "
                     f"{_money(plan.current_money, s.currency)})")
        return text
    text = (f"{_money(moved_money, s.currency)} of {_possessive(low)} "
            f"{_money(plan.current_money, s.currency)} a week")
    if hours_cost >= 0.1 * plan.current_amount and moved_hours >= 0.05:
        text += f" (and {moved_hours:.1f} of its {plan.current_hours:.1f} hours)"
    return text


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def _amount_phrase(money: float, hours: float, currency: str) -> str:
    parts = []
    if hours >= 0.05:
        parts.append(f"{hours:.1f} hours")
    if money >= 0.5 or not parts:
        parts.append(_money(money, currency))
    return " + ".join(parts)


def _wins_range(plan: ChannelPlan) -> str:
    return _range_text(plan.expected_extra_wins, plan.expected_extra_wins_low,
                       plan.expected_extra_wins_high)


def _range_text(mean: float, low: float, high: float, signed: bool = True) -> str:
    return f"{_signed(mean) if signed else f'{mean:.1f}'} ({low:.1f} to {high:.1f})"


def _signed(x: float) -> str:
    return f"{'+' if x >= 0.05 else ('-' if x <= -0.05 else '')}{abs(x):.1f}"


def _pct(x: float | None) -> str:
    """0.238 -> '24%', 0.046 -> '4.6%', 0.05 -> '5%'."""
    if x is None:
        return "n/a"
    value = 100 * x
    text = f"{value:.1f}" if 0 < abs(value) < 10 else f"{value:.0f}"
    return text.removesuffix(".0") + "%"


def _prob(x: float) -> str:
    """A probability from simulations: never '100%' or '0%' (it is an estimate)."""
    if x > 0.999:
        return ">99.9%"
    if x < 0.001:
        return "<0.1%"
    return f"{100 * x:.1f}%" if x >= 0.99 or x <= 0.01 else _pct(x)


def _money(x: float, currency: str = "$") -> str:
    return f"{currency}{x:,.2f}" if 0 < abs(x) < 10 else f"{currency}{x:,.0f}"


def _signed_money(x: float | None, currency: str = "$") -> str:
    if x is None:
        return "n/a"
    sign = "+" if x >= 0.5 else ("-" if x <= -0.5 else "")
    return f"{sign}{_money(abs(x), currency)}"


def _json_float(x: Any) -> float | None:
    """A float json.dumps accepts: None for NaN/inf, 0.0 for rounding dust."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return 0.0 if abs(x) < 1e-12 else x


# --- reading the store -----------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """What :func:`load_inputs` gathered: one ChannelInput per channel with leads or spend."""

    channels: tuple[ChannelInput, ...]
    as_of: dt.date | None


def channel_inputs_from_frames(
    cohorts: pd.DataFrame,
    periods: pd.DataFrame,
    values: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    recent_weeks: int = RECENT_WEEKS,
) -> tuple[ChannelInput, ...]:
    """Build ChannelInputs from DataFrames (pure): ``cohorts`` as
    :func:`funnel.metrics.weekly_cohorts` (channel, leads, won, is_mature), ``periods`` as
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
    (:func:`funnel.metrics.weekly_cohorts`), spend periods and deal values
    (``queries/allocation/``), labels and the as-of date."""
    from funnel import metrics, store, synonyms

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
