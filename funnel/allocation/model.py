"""The allocator's model of each channel: the diminishing-returns response curve
(:func:`fit_response_curve`), deal values shrunk to the pooled mean, and the posterior draws
(:class:`Model`: conversion, leads per unit of cost, response exponent, value of a win) that
forecasts and what-ifs are read from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special as spsp  # scipy.stats costs ~0.6 s more to import

from funnel.allocation.types import (
    DEFAULT_INTERVAL,
    ChannelInput,
    CurveFit,
    Settings,
    SpendPeriod,
    WhatIf,
)

CURVE_MIN_WEEKS = 12
CURVE_MIN_VARIATION = 0.2  # standard deviation of log weekly cost (about +-20%)
CURVE_MIN_EXPONENT = 0.05
VALUE_PRIOR_WINS = 3.0  # a channel's mean deal value is shrunk as if by 3 wins at the pooled mean


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
    t = float(spsp.stdtrit(n - 2, 1 - (1 - interval) / 2))  # Student t quantile
    low, high = b - t * se, b + t * se
    fit = {"weeks": n, "variation": variation, "exponent": b, "exponent_se": se,
           "exponent_low": low, "exponent_high": high}
    if low <= 0:
        return CurveFit("no_response", **fit, note=(
            f"leads did not clearly rise with spend over these {n} {unit}, so the data does "
            "not allow a response curve; "
            "a constant cost per lead is assumed."))
    if b >= 1:
        return CurveFit("no_diminishing_returns", **fit, note=(
            f"leads rose at least in step with spend over these {n} {unit}: "
            "no diminishing returns seen in the range tried; a constant cost per lead is "
            "assumed."))
    return CurveFit("fitted", **fit, note=(
        f"over {n} {unit}, each extra unit of spend brought fewer leads than the last: twice "
        f"the spend brings about {round(10 * (2 ** b - 1)) * 10}% more leads, not twice as "
        "many."))


# --- the posterior model ---------------------------------------------------------------------


@dataclass(eq=False)
class Model:
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
            sentence="",  # allocation.words writes it
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


def draw_model(
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
