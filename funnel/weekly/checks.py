"""Noise bands: whether a week's number is outside what ordinary weeks do. Counts (leads, wins)
by the exact conditional test of two Poisson counts, the close rate by a Beta-binomial, the won
value by a seeded compound-Poisson simulation; each a :class:`Check` a reader can trust at
99 weeks in 100."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special as spsp

ALPHA = 0.01  # a change is flagged when an ordinary week would land that far out < 1% of the time


VALUE_DRAWS = 20_000


SEED = 20261116


# --- noise bands ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One metric of one channel against its noise band."""

    status: str  # 'flagged', 'normal', 'no_baseline', 'not_tested'
    band_low: float | None = None
    band_high: float | None = None
    p_value: float | None = None
    direction: str = ""  # 'up' or 'down' when flagged

    @property
    def is_flagged(self) -> bool:
        return self.status == "flagged"


def _tails_flag(lower: float, upper: float, alpha: float) -> tuple[bool, str, float]:
    """Equal-tailed two-sided decision from P(X <= observed) and P(X >= observed)."""
    p_value = min(1.0, 2 * min(lower, upper))
    flagged = min(lower, upper) < alpha / 2
    direction = ("down" if lower < upper else "up") if flagged else ""
    return flagged, direction, p_value


def count_check(k: int, base_total: int, base_weeks: int, dispersion: float = 1.0,
                alpha: float = ALPHA) -> Check:
    """Is ``k`` this week unusual given ``base_total`` over the ``base_weeks`` weeks before?

    Exact conditional test of two Poisson counts: if both periods share one weekly rate, then
    given the total n = k + base_total, this week's share k ~ Binomial(n, 1 / (1 + base_weeks)).
    Flagged when either tail P(X <= k) or P(X >= k) is below alpha / 2. The band is every count
    this week could have had without being flagged (same baseline). A ``dispersion`` above 1
    (a lumpy channel, see :func:`dispersion`) divides both counts by it first (quasi-Poisson),
    which widens the band by about its square root.
    """
    if base_weeks <= 0:
        return Check("no_baseline")
    p0 = 1.0 / (1 + base_weeks)
    lower, upper = _binomial_tails(np.array([k]), base_total, p0, dispersion)
    flagged, direction, p_value = _tails_flag(float(lower[0]), float(upper[0]), alpha)
    mean = base_total / base_weeks
    top = int(mean + 12 * math.sqrt(dispersion * (mean + 1)) + 20)
    ks = np.arange(0, max(top, k) + 1)
    lows, highs = _binomial_tails(ks, base_total, p0, dispersion)
    ok = (lows >= alpha / 2) & (highs >= alpha / 2)
    low, high = (int(ks[ok].min()), int(ks[ok].max())) if ok.any() else (None, None)
    return Check("flagged" if flagged else "normal", low, high, p_value, direction)


def _binomial_tails(ks: np.ndarray, base_total: int, p0: float,
                    dispersion: float) -> tuple[np.ndarray, np.ndarray]:
    """P(X <= k) and P(X >= k) for X ~ Binomial(k + base_total, p0), counts divided by
    ``dispersion``; through the regularised incomplete beta function, which is the binomial's
    CDF at whole counts and extends it smoothly to the fractional ones a dispersion makes."""
    k = ks.astype(float) / dispersion
    n = (ks + base_total).astype(float) / dispersion
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(n - k > 0, spsp.betainc(np.maximum(n - k, 1e-12), k + 1, 1 - p0), 1.0)
        upper = np.where(k > 0, spsp.betainc(np.maximum(k, 1e-12), n - k + 1, p0), 1.0)
    return lower, upper


def dispersion(history: list[int] | np.ndarray, min_weeks: int = 6,
               significance: float = 0.05) -> float:
    """How many times more a channel's weekly counts vary than Poisson noise alone, or 1.

    From the weeks before the chosen one (up to :data:`TREND_WEEKS`): variance / mean, used only
    when at least ``min_weeks`` weeks exist and the Poisson dispersion test (the sum of squared
    deviations over the mean ~ chi-squared with weeks - 1 degrees of freedom) rejects plain
    Poisson at ``significance``; events around trade shows are the typical case.
    """
    counts = np.asarray(history, dtype=float)
    if counts.size < min_weeks or counts.mean() <= 0:
        return 1.0
    ratio = counts.var(ddof=1) / counts.mean()
    statistic = (counts.size - 1) * ratio
    if ratio <= 1 or spsp.chdtrc(counts.size - 1, statistic) >= significance:
        return 1.0
    return float(ratio)


def rate_check(won: int, closed: int, base_won: int, base_closed: int,
               alpha: float = ALPHA) -> Check:
    """Is ``won`` of ``closed`` this week unusual given ``base_won`` of ``base_closed`` before?

    Beta-binomial: the weeks before give a Beta(1 + base_won, 1 + base_lost) belief about the
    close rate; this week's wins out of its closed deals then follow a Beta-binomial. Flagged
    when either tail is below alpha / 2; the band (as rates) is the wins that would not be.
    """
    if closed <= 0:
        return Check("not_tested")
    if base_closed <= 0:
        return Check("no_baseline")
    # the whole distribution once (scipy's betabinom.cdf sums the pmf anew for every k)
    pmf = _beta_binomial_pmf(closed, 1 + base_won, 1 + base_closed - base_won)
    cdf = np.minimum(np.cumsum(pmf), 1.0)  # P(X <= k)
    sf = np.minimum(np.cumsum(pmf[::-1])[::-1], 1.0)  # P(X >= k)
    flagged, direction, p_value = _tails_flag(float(cdf[won]), float(sf[won]), alpha)
    ks = np.arange(0, closed + 1)
    ok = (cdf >= alpha / 2) & (sf >= alpha / 2)
    return Check("flagged" if flagged else "normal", float(ks[ok].min()) / closed,
                 float(ks[ok].max()) / closed, p_value, direction)


def _beta_binomial_pmf(n: int, a: float, b: float) -> np.ndarray:
    """P(X = k) for k = 0..n when X ~ BetaBinomial(n, a, b), from log-gamma and log-beta
    (what scipy.stats.betabinom.pmf computes, without importing scipy.stats)."""
    k = np.arange(0, n + 1, dtype=float)
    log_choose = spsp.gammaln(n + 1) - spsp.gammaln(k + 1) - spsp.gammaln(n - k + 1)
    return np.exp(log_choose + spsp.betaln(k + a, n - k + b) - spsp.betaln(a, b))


def value_check(value: float, base_wins: int, base_weeks: int, deal_values: list[float],
                seed: int, alpha: float = ALPHA, draws: int = VALUE_DRAWS) -> Check:
    """Is this week's won value unusual given ``base_wins`` over the ``base_weeks`` weeks before
    and the values of past won deals (``deal_values``)?

    Compound Poisson, simulated: a weekly rate of wins ~ Gamma(base_wins + 1/2, 1/base_weeks)
    (the Poisson rates the weeks before support), a number of wins ~ Poisson(rate), each win's
    value drawn from ``deal_values``. Flagged when either tail is below alpha / 2; the band is
    the central 1 - alpha of the simulated values.
    """
    if base_weeks <= 0:
        return Check("no_baseline")
    values = np.asarray(deal_values, dtype=float)
    if values.size == 0:
        # no won deal to learn values from: the wins check speaks for this week
        return Check("normal", 0.0, 0.0) if value == 0 else Check("no_baseline")
    rng = np.random.default_rng(seed)
    rates = rng.gamma(base_wins + 0.5, 1.0 / base_weeks, size=draws)
    wins = rng.poisson(rates)
    if wins.sum() > 5_000_000:  # a very large store: the sum of many wins is near normal
        mean, var = values.mean(), values.var()
        sums = wins * mean + np.sqrt(wins * var) * rng.standard_normal(draws)
    else:
        picks = rng.choice(values, size=int(wins.sum()))
        sums = np.bincount(np.repeat(np.arange(draws), wins), weights=picks, minlength=draws)
    tolerance = 1e-6 * max(1.0, abs(value))
    lower = float(np.mean(sums <= value + tolerance))
    upper = float(np.mean(sums >= value - tolerance))
    flagged, direction, p_value = _tails_flag(lower, upper, alpha)
    low, high = np.quantile(sums, [alpha / 2, 1 - alpha / 2])
    return Check("flagged" if flagged else "normal", float(low), float(high), p_value, direction)
