"""Honest statistics on small samples: pure functions on numbers and DataFrames (no database).

- :func:`wilson`: the Wilson score interval of a proportion.
- :func:`cohort_maturity`: which created-week cohorts are old enough to be judged.
- :func:`kaplan_meier` / :func:`time_to_win`: time to win with open and lost leads censored.
- :func:`head_to_head`: a Bayesian comparison of two channels' conversion.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd

from funnel import format as fmt

Z95 = 1.959964  # 97.5th percentile of the standard normal: a two-sided 95% interval

# A channel's or an owner's conversion is judged on this many leads or more; fewer: "too few
# leads to judge" (the Overview's finding and the Sales tables read the same number).
MIN_LEADS_TO_JUDGE = 30

# Cohort maturity: a channel's own 90th percentile of days-to-win is trusted from this many wins;
# below it the pooled percentile of all channels is used, and with too few wins anywhere a
# default horizon.
MIN_WINS_FOR_HORIZON = 10
DEFAULT_HORIZON_DAYS = 90.0

# Head-to-head
PRIOR = (1.0, 1.0)  # Beta(1, 1): uniform on the conversion rate
DRAWS = 200_000
DEFAULT_SEED = 20240101
CERTAINTY = 0.95
MAX_SCALE = 100.0  # "not reachable" beyond 100x the leads each channel has now
_QUANTILE_POINTS = 4000

# Time to win: the curves handed to charts are read off at most this many days per channel
CURVE_POINTS = 1000


def wilson(won: float, n: float, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval for ``won`` successes out of ``n``; ``(None, None)`` when n = 0."""
    if n <= 0:
        return None, None
    p = won / n
    denominator = 1 + z * z / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - half) / denominator), min(1.0, (centre + half) / denominator)


# --- cohort maturity -------------------------------------------------------------------------


def cohort_maturity(
    cohorts: pd.DataFrame,
    min_wins: int = MIN_WINS_FOR_HORIZON,
    default_days: float = DEFAULT_HORIZON_DAYS,
) -> pd.DataFrame:
    """Mark each created-week cohort mature once it is older than its channel's win horizon.

    ``cohorts`` has the columns of ``queries/metrics/weekly_cohorts.sql`` (cohort_week, channel,
    leads, won, lost, open, age_days, channel_wins, channel_p90_days, all_wins, all_p90_days).
    The horizon is the channel's own 90th percentile of days-to-win when it has at least
    ``min_wins`` wins, else the pooled percentile of all channels when that has ``min_wins``,
    else ``default_days``. Returns a copy with conversion_rate, ci_low, ci_high (Wilson),
    horizon_days, horizon_basis ('channel', 'all channels' or 'default') and is_mature
    (age_days >= horizon_days) added.
    """
    out = cohorts.copy()
    horizons, bases = [], []
    for row in out.itertuples(index=False):
        if row.channel_wins >= min_wins and _present(row.channel_p90_days):
            horizons.append(float(row.channel_p90_days))
            bases.append("channel")
        elif row.all_wins >= min_wins and _present(row.all_p90_days):
            horizons.append(float(row.all_p90_days))
            bases.append("all channels")
        else:
            horizons.append(float(default_days))
            bases.append("default")
    pairs = list(zip(out["won"], out["leads"], strict=True))
    intervals = [wilson(w, n) for w, n in pairs]
    out["conversion_rate"] = [w / n if n else None for w, n in pairs]
    out["ci_low"] = [lo for lo, _ in intervals]
    out["ci_high"] = [hi for _, hi in intervals]
    out["horizon_days"] = horizons
    out["horizon_basis"] = bases
    out["is_mature"] = out["age_days"].astype(float) >= out["horizon_days"]
    return out


def _present(value) -> bool:
    return value is not None and not pd.isna(value)


# --- Kaplan-Meier ----------------------------------------------------------------------------


def kaplan_meier(days, is_won, counts=None, confidence: float = 0.95) -> dict:
    """Kaplan-Meier estimate of the share of leads not yet won after t days.

    ``days``: duration of each lead (or group of identical leads, with ``counts``); ``is_won``:
    True where the lead was won at that time, False where it was censored (still open at the
    as-of date, or lost). Computed on the grouped rows as they come (no row per lead): at each
    distinct time t, n = leads with a duration >= t (at risk), d = wins at t, and
    S(t) = prod(1 - d/n); the pointwise interval is Greenwood's variance with the log-log
    transform (what ``scipy.stats.ecdf(...).sf.confidence_interval(method="log-log")`` gives,
    to rounding). The median is the first time the curve is at or below 0.5; its interval is
    where the interval's lower and upper curves first reach 0.5 (Brookmeyer-Crowley style, as
    lifelines does); ``None`` where not reached.

    Returns ``{"curve": DataFrame(days, survival, ci_low, ci_high), "leads", "wins",
    "median_days", "median_ci_low", "median_ci_high"}``; the curve starts at (0, 1).
    """
    days = np.asarray(days, dtype=float)
    won = np.asarray(is_won, dtype=bool)
    reps = (np.ones(len(days), dtype=np.int64) if counts is None
            else np.asarray(counts, dtype=np.int64))
    keep = reps > 0
    days, won, reps = days[keep], won[keep], reps[keep]
    if np.isnan(days).any() or np.isinf(days[won]).any():
        raise ValueError("kaplan_meier: durations must be numbers (a win's duration finite)")
    leads, wins = int(reps.sum()), int(reps[won].sum())
    result = {"leads": leads, "wins": wins,
              "median_days": None, "median_ci_low": None, "median_ci_high": None}
    start = pd.DataFrame({"days": [0.0], "survival": [1.0], "ci_low": [1.0], "ci_high": [1.0]})
    if leads == 0:
        result["curve"] = start.iloc[0:0]
        return result
    times, where = np.unique(days, return_inverse=True)
    at_time = np.zeros(len(times), dtype=np.int64)  # leads whose duration is this time
    np.add.at(at_time, where, reps)
    d = np.zeros(len(times), dtype=np.int64)  # wins at this time
    np.add.at(d, where[won], reps[won])
    n = np.cumsum(at_time[::-1])[::-1]  # at risk: leads with a duration >= this time
    # S = prod(1 - d/n); without censoring, the plain empirical survival function (as scipy
    # computes it: the same value, rounded the same way)
    survival = 1 - np.cumsum(d) / leads if wins == leads else np.cumprod((n - d) / n)
    low, high = _log_log_band(survival, n, d, confidence)
    low = np.where(np.isnan(low) & (survival >= 1.0), 1.0, low)
    high = np.where(np.isnan(high) & (survival >= 1.0), 1.0, high)
    low = np.where(np.isnan(low) & (survival <= 0.0), 0.0, low)
    curve = pd.DataFrame({"days": times, "survival": survival, "ci_low": low, "ci_high": high})
    if curve["days"].iloc[0] > 0:
        curve = pd.concat([start, curve], ignore_index=True)
    result["curve"] = curve
    result["median_days"] = _first_at_or_below(curve["days"], curve["survival"], 0.5)
    result["median_ci_low"] = _first_at_or_below(curve["days"], curve["ci_low"], 0.5)
    result["median_ci_high"] = _first_at_or_below(curve["days"], curve["ci_high"], 0.5)
    return result


def _log_log_band(
    survival: np.ndarray, n: np.ndarray, d: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Greenwood's variance, log(-log S) transformed: the pointwise band of S, clipped to
    [0, 1]; NaN where undefined (S = 1 before any win, S = 0 after the last lead)."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    with np.errstate(all="ignore"):  # log(1) = 0 divides; S = 0 and n = d give inf or NaN
        var = 1 / np.log(survival) ** 2 * np.cumsum(d / (n * (n - d)))
        se = np.sqrt(var)
        log_log = np.log(-np.log(survival))
        low = np.exp(-np.exp(log_log + z * se))
        high = np.exp(-np.exp(log_log - z * se))
    return np.clip(low, 0, 1), np.clip(high, 0, 1)


def step_curve_on_grid(curve: pd.DataFrame, max_points: int = CURVE_POINTS) -> pd.DataFrame:
    """The step curve's values at days 0, s, 2s, ... up to its last time (s = 1 day, or more
    to stay within ``max_points``), plus that last time; each value is the curve's value at the
    latest step at or before that day."""
    if curve.empty:
        return curve
    last = float(curve["days"].iloc[-1])
    step = max(1.0, math.ceil(last / max(1, max_points - 1)))
    grid = np.arange(0.0, last + 1e-9, step)
    if grid[-1] < last:
        grid = np.append(grid, last)
    index = np.searchsorted(curve["days"].to_numpy(), grid, side="right") - 1
    out = curve.iloc[np.maximum(index, 0)].reset_index(drop=True)
    out["days"] = grid
    return out


def _first_at_or_below(times: pd.Series, values: pd.Series, level: float) -> float | None:
    hit = values.to_numpy() <= level  # NaN compares False: an undefined bound is not reached
    return float(times.to_numpy()[hit][0]) if hit.any() else None


def time_to_win(
    rows: pd.DataFrame, max_points: int = CURVE_POINTS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kaplan-Meier per channel from ``time_to_win_rows`` (channel, days, is_won, leads).

    Returns ``(summary, curves)``: summary has one row per channel (channel, leads, wins,
    median_days, median_ci_low, median_ci_high), in the order channels first appear in
    ``rows``; curves has channel, days, survival, ci_low, ci_high, won_share (1 - survival),
    read off the step curve every whole day (every few days beyond ``max_points`` days) from 0
    to the channel's longest duration, so a chart gets at most ~``max_points`` points each.
    """
    summaries, curves = [], []
    for channel, group in rows.groupby("channel", sort=False):
        km = kaplan_meier(group["days"], group["is_won"], group["leads"])
        summaries.append({"channel": channel, **{k: v for k, v in km.items() if k != "curve"}})
        curves.append(step_curve_on_grid(km["curve"], max_points).assign(channel=channel))
    summary_cols = ["channel", "leads", "wins", "median_days", "median_ci_low", "median_ci_high"]
    curve_cols = ["channel", "days", "survival", "ci_low", "ci_high", "won_share"]
    summary = pd.DataFrame(summaries, columns=summary_cols)
    for col in summary_cols[3:]:  # None (not reached) becomes NaN in a float column
        summary[col] = pd.to_numeric(summary[col]).astype(float)
    if curves:
        curve = pd.concat(curves, ignore_index=True)
        curve["won_share"] = 1.0 - curve["survival"]
    else:
        curve = pd.DataFrame(columns=curve_cols)
    return summary, curve[curve_cols]


# --- head-to-head ----------------------------------------------------------------------------


def head_to_head(
    won_a: int,
    leads_a: int,
    won_b: int,
    leads_b: int,
    label_a: str = "A",
    label_b: str = "B",
    seed: int = DEFAULT_SEED,
    draws: int = DRAWS,
) -> dict:
    """Compare two channels' conversion (won of leads) with Beta(1, 1) posteriors.

    - ``p_a_better``: P(rate A > rate B), by seeded Monte Carlo (``draws`` pairs of posterior
      draws from ``numpy.random.default_rng(seed)``: the same inputs give the same answer).
    - ``difference_*``: posterior mean and 95% credible interval (2.5th-97.5th percentiles)
      of rate A - rate B, from the same draws.
    - ``extra_leads_a`` / ``extra_leads_b``: how many more leads of each would make the
      comparison 95% certain if both channels kept converting at their current rates: both
      samples are scaled by the same factor k (won and lost alike) and k is the smallest that
      brings P(A > B) to >= 0.95 (if A leads) or <= 0.05 (if B leads); that probability is
      computed by deterministic quantile integration. 0 when already settled; ``None`` with
      ``reachable`` False when the rates are equal, a channel has no leads, or k > 100.
    - ``sentence``: the result in plain words.
    """
    a = _side(won_a, leads_a, label_a)
    b = _side(won_b, leads_b, label_b)
    rng = np.random.default_rng(seed)
    draws_a = rng.beta(PRIOR[0] + won_a, PRIOR[1] + leads_a - won_a, size=draws)
    draws_b = rng.beta(PRIOR[0] + won_b, PRIOR[1] + leads_b - won_b, size=draws)
    diff = draws_a - draws_b
    p_better = float(np.mean(diff > 0))
    extra_a, extra_b, reachable = _extra_leads(won_a, leads_a, won_b, leads_b, p_better)
    out = {
        "a": a,
        "b": b,
        "p_a_better": p_better,
        "difference_mean": float(diff.mean()),
        "difference_ci_low": float(np.quantile(diff, 0.025)),
        "difference_ci_high": float(np.quantile(diff, 0.975)),
        "certainty_target": CERTAINTY,
        "extra_leads_a": extra_a,
        "extra_leads_b": extra_b,
        "reachable": reachable,
        "prior": "Beta(1,1)",
        "seed": seed,
        "draws": draws,
    }
    out["sentence"] = head_to_head_sentence(out)
    return out


def _side(won: int, leads: int, label: str) -> dict:
    low, high = wilson(won, leads)
    return {"label": label, "leads": int(leads), "won": int(won),
            "conversion_rate": won / leads if leads else None, "ci_low": low, "ci_high": high}


def prob_a_better(alpha_a: float, beta_a: float, alpha_b: float, beta_b: float) -> float:
    """P(X_A > X_B) for independent Beta variables, by integrating over B's quantiles.

    P = E[1 - F_A(X_B)] = integral over u in (0, 1) of sf_A(F_B^-1(u)): a midpoint rule on
    evenly spaced u. Deterministic, and accurate to ~1e-4 for the shapes met here.
    """
    u = (np.arange(_QUANTILE_POINTS) + 0.5) / _QUANTILE_POINTS
    # scipy.special's incomplete beta functions are what scipy.stats.beta.ppf / .sf call (same
    # numbers), without importing scipy.stats (~0.6 s on the dashboard's first comparison)
    from scipy import special as spsp

    x_b = spsp.betaincinv(alpha_b, beta_b, u)
    return float(np.mean(spsp.betaincc(alpha_a, beta_a, x_b)))


def _extra_leads(won_a, leads_a, won_b, leads_b, p_now) -> tuple[int | None, int | None, bool]:
    if min(p_now, 1 - p_now) <= 1 - CERTAINTY:
        return 0, 0, True
    if leads_a <= 0 or leads_b <= 0 or won_a / leads_a == won_b / leads_b:
        return None, None, False
    a_leads = won_a / leads_a > won_b / leads_b

    def settled(k: float) -> bool:
        p = prob_a_better(PRIOR[0] + k * won_a, PRIOR[1] + k * (leads_a - won_a),
                          PRIOR[0] + k * won_b, PRIOR[1] + k * (leads_b - won_b))
        return p >= CERTAINTY if a_leads else p <= 1 - CERTAINTY

    if not settled(MAX_SCALE):
        return None, None, False
    low, high = 1.0, MAX_SCALE
    while high - low > 1e-3 * low:  # P(A > B) grows with k at fixed rates: bisect
        mid = (low + high) / 2
        low, high = (low, mid) if settled(mid) else (mid, high)
    extra_a = max(1, math.ceil((high - 1) * leads_a))
    extra_b = max(1, math.ceil((high - 1) * leads_b))
    return extra_a, extra_b, True


def head_to_head_sentence(result: dict) -> str:
    """One plain sentence, e.g. "Referral converts 31% (26–36%) vs cold call 4% (2–6%); it is
    almost certain that referral is better." followed, when not yet settled, by the extra leads
    needed. The chance is said in words (:func:`funnel.format.chance_words`)."""
    a, b = result["a"], result["b"]
    missing = [fmt.in_sentence(side["label"]) for side in (a, b) if not side["leads"]]
    if missing:
        return f"No {' or '.join(missing)} leads in this period: nothing to compare."
    p = result["p_a_better"]
    text = (f"{a['label']} converts {fmt.pct(a['conversion_rate'])} "
            f"({fmt.pct_range(a['ci_low'], a['ci_high'])}) vs {fmt.in_sentence(b['label'])} "
            f"{fmt.pct(b['conversion_rate'])} ({fmt.pct_range(b['ci_low'], b['ci_high'])}); ")
    if 0.4 <= p <= 0.6:
        text += "too close to call."
    elif p > 0.5:
        text += fmt.chance_that(p, f"{fmt.in_sentence(a['label'])} is better") + "."
    else:
        text += fmt.chance_that(1 - p, f"{fmt.in_sentence(b['label'])} is better") + "."
    if result["extra_leads_a"] == 0:
        return text
    if not result["reachable"]:
        return text + " At these rates no realistic number of extra leads would settle it."
    return (text + f" About {fmt.about_count(fmt.round_figures(result['extra_leads_a']))} more "
            f"{fmt.in_sentence(a['label'])} and "
            f"{fmt.about_count(fmt.round_figures(result['extra_leads_b']))} more "
            f"{fmt.in_sentence(b['label'])} leads would make it {CERTAINTY:.0%} certain, if the "
            "rates hold.")
