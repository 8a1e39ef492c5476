"""funnel.metrics.stats against hand-computed cases, closed forms and large-sample
approximations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from funnel.metrics import stats

Z = 1.959964


def phi(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


# --- Wilson ----------------------------------------------------------------------------------


def test_wilson_hand_values():
    # 3 of 8 (the example): p = 0.375, z^2 = 3.841459, denominator 1 + z^2/8 = 1.480182,
    # centre 0.375 + z^2/16 = 0.615091, half z*sqrt(0.375*0.625/8 + z^2/256) = 0.412537
    # -> (0.615091 - 0.412537) / 1.480182 = 0.136844, (0.615091 + 0.412537) / 1.480182 = 0.694258
    low, high = stats.wilson(3, 8)
    assert low == pytest.approx(0.136844, abs=1e-6)
    assert high == pytest.approx(0.694258, abs=1e-6)


def test_wilson_edges():
    assert stats.wilson(0, 0) == (None, None)
    # 0 of 1: [0, z^2 / (1 + z^2)] = [0, 3.841459 / 4.841459] = [0, 0.793451]
    low, high = stats.wilson(0, 1)
    assert low == 0.0 and high == pytest.approx(0.793451, abs=1e-6)
    # n of n mirrors 0 of n
    assert stats.wilson(5, 5)[0] == pytest.approx(1 - stats.wilson(0, 5)[1])


# --- cohort maturity -------------------------------------------------------------------------


def cohort_rows(**overrides):
    base = {"cohort_week": pd.Timestamp("2024-01-01"), "channel": "referral", "leads": 10,
            "won": 3, "lost": 2, "open": 5, "age_days": 40, "channel_wins": 12,
            "channel_p90_days": 35.0, "all_wins": 50, "all_p90_days": 60.0}
    return {**base, **overrides}


def test_cohort_maturity_bases():
    df = pd.DataFrame([
        cohort_rows(),                                       # 12 wins: own p90 35 <= 40 days
        cohort_rows(channel="cold_call", channel_wins=3, channel_p90_days=5.0),  # pooled: 60
        cohort_rows(channel="web", channel_wins=0, channel_p90_days=None,
                    all_wins=4, all_p90_days=20.0),          # 4 wins in all: default 90
        cohort_rows(channel="event", age_days=35),           # exactly at its horizon: mature
    ])
    out = stats.cohort_maturity(df)
    assert out["horizon_basis"].tolist() == ["channel", "all channels", "default", "channel"]
    assert out["horizon_days"].tolist() == [35.0, 60.0, 90.0, 35.0]
    assert out["is_mature"].tolist() == [True, False, False, True]
    # 3 of 10: 0.3, Wilson by hand: denominator 1 + z^2/10 = 1.384146, centre 0.3 + z^2/20 =
    # 0.492073, half z*sqrt(0.021 + z^2/400) = 1.959964 * 0.174939 = 0.342874
    # -> [0.149199 / 1.384146, 0.834947 / 1.384146] = [0.107791, 0.603222]
    assert out["conversion_rate"].iloc[0] == pytest.approx(0.3)
    assert out["ci_low"].iloc[0] == pytest.approx(0.107791, abs=1e-5)
    assert out["ci_high"].iloc[0] == pytest.approx(0.603222, abs=1e-5)
    assert "is_mature" not in df  # the input is left as it was


def test_cohort_maturity_min_wins_is_a_parameter():
    df = pd.DataFrame([cohort_rows(channel_wins=3, channel_p90_days=28.1, age_days=30)])
    out = stats.cohort_maturity(df, min_wins=3)
    assert out["horizon_basis"].tolist() == ["channel"] and out["is_mature"].tolist() == [True]


# --- Kaplan-Meier ----------------------------------------------------------------------------

# Six leads: won after 10, 20.5 and 30 days; censored (lost or still open) at 22, 55 and 76.
DAYS = [10, 20.5, 22, 30, 55, 76]
WON = [True, True, False, True, False, False]


def test_kaplan_meier_hand_case():
    km = stats.kaplan_meier(DAYS, WON)
    curve = km["curve"].set_index("days")
    # t=10: 6 at risk, 1 win -> S = 5/6; t=20.5: 5 at risk -> 5/6 * 4/5 = 4/6;
    # 22 censored leaves 3 at risk; t=30: 4/6 * 2/3 = 8/18 = 0.4444
    assert curve.loc[0.0, "survival"] == 1.0
    assert curve.loc[10.0, "survival"] == pytest.approx(5 / 6)
    assert curve.loc[20.5, "survival"] == pytest.approx(4 / 6)
    assert curve.loc[30.0, "survival"] == pytest.approx(8 / 18)
    assert curve.loc[76.0, "survival"] == pytest.approx(8 / 18)
    assert (km["leads"], km["wins"]) == (6, 3)
    # the median: the first time S <= 0.5
    assert km["median_days"] == 30.0


def test_kaplan_meier_greenwood_log_log_band():
    km = stats.kaplan_meier(DAYS, WON)
    curve = km["curve"].set_index("days")
    # At t=10: Greenwood sum d/(n(n-d)) = 1/(6*5) = 1/30; log-log: se = sqrt(1/30) / |ln S|
    # with S = 5/6; band S^exp(+-z*se)
    s = 5 / 6
    se = math.sqrt(1 / 30) / abs(math.log(s))
    assert curve.loc[10.0, "ci_low"] == pytest.approx(s ** math.exp(Z * se), rel=1e-4)
    assert curve.loc[10.0, "ci_high"] == pytest.approx(s ** math.exp(-Z * se), rel=1e-4)
    # At t=30: sum = 1/30 + 1/(5*4) + 1/(3*2) = 0.25, S = 8/18
    s = 8 / 18
    se = math.sqrt(0.25) / abs(math.log(s))
    high = s ** math.exp(-Z * se)  # 0.784908: above 0.5, and the curve ends here
    assert curve.loc[30.0, "ci_high"] == pytest.approx(high, rel=1e-4)
    # median interval: the lower band is <= 0.5 already at 10 (0.2731); the upper band never
    # reaches 0.5 -> not estimable
    assert km["median_ci_low"] == 10.0
    assert km["median_ci_high"] is None


def test_kaplan_meier_counts_equal_repeated_rows():
    grouped = stats.kaplan_meier([5, 8, 8], [True, False, True], counts=[2, 1, 3])
    expanded = stats.kaplan_meier([5, 5, 8, 8, 8, 8], [True] * 2 + [False] + [True] * 3)
    pd.testing.assert_frame_equal(grouped["curve"], expanded["curve"])
    # 6 at risk; t=5: 2 wins -> 4/6; t=8: 4 at risk, 3 wins -> 4/6 * 1/4 = 1/6
    assert grouped["curve"]["survival"].iloc[-1] == pytest.approx(1 / 6)
    assert grouped["median_days"] == 8.0


def test_kaplan_meier_without_wins_or_leads():
    km = stats.kaplan_meier([3, 7], [False, False])
    assert km["median_days"] is None and km["wins"] == 0
    assert km["curve"]["survival"].tolist() == [1.0, 1.0, 1.0]
    empty = stats.kaplan_meier([], [])
    assert empty["curve"].empty and empty["median_days"] is None


def _scipy_kaplan_meier(days, won, counts) -> pd.DataFrame:
    """The curve as it was computed before: one value per lead (np.repeat), then
    scipy.stats.ecdf on CensoredData and its log-log band (the reference)."""
    import warnings

    from scipy import stats as sps

    days = np.repeat(np.asarray(days, dtype=float), counts)
    won = np.repeat(np.asarray(won, dtype=bool), counts)
    sf = sps.ecdf(sps.CensoredData(uncensored=days[won], right=days[~won])).sf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(confidence_level=0.95, method="log-log")
    survival = np.asarray(sf.probabilities, dtype=float)
    low = np.asarray(band.low.probabilities, dtype=float)
    high = np.asarray(band.high.probabilities, dtype=float)
    low = np.where(np.isnan(low) & (survival >= 1.0), 1.0, low)
    high = np.where(np.isnan(high) & (survival >= 1.0), 1.0, high)
    low = np.where(np.isnan(low) & (survival <= 0.0), 0.0, low)
    return pd.DataFrame({"days": np.asarray(sf.quantiles, dtype=float), "survival": survival,
                         "ci_low": low, "ci_high": high})


@pytest.mark.parametrize("seed", range(12))
def test_kaplan_meier_on_grouped_rows_equals_scipy_on_one_row_per_lead(seed):
    pytest.importorskip("scipy")
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 400))
    # few distinct durations (ties between wins, between censored, and across both), some
    # groups of 0 leads, all-won (uncensored) and never-won samples among the seeds
    days = rng.integers(0, 60, size).astype(float) / rng.choice([1, 2, 24])
    won = rng.random(size) < [0.3, 1.0, 0.0, 0.6][seed % 4]
    counts = rng.integers(0 if seed % 3 == 0 else 1, 40, size)
    if counts.sum() == 0:
        counts[0] = 1
    km = stats.kaplan_meier(days, won, counts)
    expected = _scipy_kaplan_meier(days, won, counts)
    curve = km["curve"]
    if curve["days"].iloc[0] == 0.0 and expected["days"].iloc[0] > 0:
        curve = curve.iloc[1:].reset_index(drop=True)  # the (0, 1) start both get
    assert curve["days"].tolist() == expected["days"].tolist()
    for column in ("survival", "ci_low", "ci_high"):
        np.testing.assert_allclose(curve[column], expected[column], rtol=0, atol=1e-12,
                                   equal_nan=True, err_msg=column)
    assert (km["leads"], km["wins"]) == (int(counts.sum()), int(counts[won].sum()))
    for key, column in (("median_days", "survival"), ("median_ci_low", "ci_low"),
                        ("median_ci_high", "ci_high")):
        hit = expected[column].to_numpy() <= 0.5
        reached = float(expected["days"].to_numpy()[hit][0]) if hit.any() else None
        assert km[key] == reached, key


def test_kaplan_meier_needs_no_scipy(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "scipy", None)  # any import of scipy now fails
    monkeypatch.setitem(sys.modules, "scipy.stats", None)
    km = stats.kaplan_meier(DAYS, WON)
    assert km["median_days"] == 30.0


def test_time_to_win_per_channel_and_grid():
    rows = pd.DataFrame({
        "channel": ["b", "b", "a", "a", "a", "a", "a", "a"],
        "days": [2.0, 4.0, 10, 20.5, 22, 30, 55, 76],
        "is_won": [True, False, True, True, False, True, False, False],
        "leads": [1, 1, 1, 1, 1, 1, 1, 1],
    })
    summary, curves = stats.time_to_win(rows)
    assert summary["channel"].tolist() == ["b", "a"]  # the order of the rows
    assert summary.loc[1, "median_days"] == 30.0
    # b: 2 leads, a win at 2 -> S = 1/2: median 2
    assert summary.loc[0, "median_days"] == 2.0
    a = curves[curves["channel"] == "a"].set_index("days")
    assert a.index.tolist() == [float(d) for d in range(77)]  # every whole day 0..76
    assert a.loc[9.0, "survival"] == 1.0 and a.loc[10.0, "survival"] == pytest.approx(5 / 6)
    assert a.loc[21.0, "survival"] == pytest.approx(4 / 6)  # the step at 20.5 applies from 21
    assert a.loc[30.0, "won_share"] == pytest.approx(10 / 18)


def test_step_curve_grid_is_capped():
    curve = pd.DataFrame({"days": [0.0, 1000.0, 2500.0], "survival": [1.0, 0.8, 0.6],
                          "ci_low": [1.0, 0.7, 0.5], "ci_high": [1.0, 0.9, 0.7]})
    grid = stats.step_curve_on_grid(curve, max_points=101)
    # 2500 days / 100 steps = 25-day steps: 0, 25, ..., 2500 -> 101 points
    assert len(grid) == 101 and grid["days"].iloc[1] == 25.0
    assert grid.set_index("days").loc[975.0, "survival"] == 1.0
    assert grid.set_index("days").loc[1000.0, "survival"] == 0.8


# --- head-to-head ----------------------------------------------------------------------------


def closed_form_p_a_better(alpha_a, beta_a, alpha_b, beta_b) -> float:
    """P(X_A > X_B) for Beta variables with integer alpha_b (Evan Miller's formula):
    P(X_B > X_A) = sum_{i<alpha_b} B(alpha_a+i, beta_a+beta_b) /
                   ((beta_b+i) B(1+i, beta_b) B(alpha_a, beta_a))."""
    def log_beta(a, b):
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    total = sum(math.exp(log_beta(alpha_a + i, beta_a + beta_b) - math.log(beta_b + i)
                         - log_beta(1 + i, beta_b) - log_beta(alpha_a, beta_a))
                for i in range(alpha_b))
    return 1 - total


def test_closed_form_by_hand():
    # A 3 of 6 -> Beta(4, 4); B 1 of 5 -> Beta(2, 5). B(4,4) = 1/140;
    # i=0: B(4,9) / (5 * B(1,5) * B(4,4)) = (1/1980) / (5 * 1/5 / 140) = 140/1980 = 0.0707071
    # i=1: B(5,9) / (6 * B(2,5) * B(4,4)) = (1/6435) / (6/30/140) = 700/6435 = 0.1087801
    # P(A > B) = 1 - 0.1794872 = 0.8205128
    assert closed_form_p_a_better(4, 4, 2, 5) == pytest.approx(0.8205128, abs=1e-7)


def test_head_to_head_small_sample_matches_closed_form():
    h = stats.head_to_head(3, 6, 1, 5, "Referral", "Cold call")
    # Monte Carlo with 200,000 draws: standard error sqrt(0.82 * 0.18 / 2e5) = 0.00086
    assert h["p_a_better"] == pytest.approx(0.8205128, abs=0.003)
    assert stats.prob_a_better(4, 4, 2, 5) == pytest.approx(0.8205128, abs=1e-4)
    # posterior mean difference: 4/8 - 2/7 = 0.2142857
    assert h["difference_mean"] == pytest.approx(0.5 - 2 / 7, abs=0.002)


def test_head_to_head_large_sample_matches_normal_approximation():
    h = stats.head_to_head(300, 1000, 250, 1000)
    # posteriors Beta(301, 701), Beta(251, 751): means 0.300399, 0.250499, difference 0.049900;
    # variances ab/((a+b)^2 (a+b+1)): 2.09531e-4, 1.87188e-4 -> sd of difference 0.019918
    mean = 301 / 1002 - 251 / 1002
    sd = math.sqrt(301 * 701 / (1002**2 * 1003) + 251 * 751 / (1002**2 * 1003))
    assert h["p_a_better"] == pytest.approx(phi(mean / sd), abs=0.003)  # 0.99389
    assert h["difference_mean"] == pytest.approx(mean, abs=0.001)
    assert h["difference_ci_low"] == pytest.approx(mean - Z * sd, abs=0.002)   # 0.01086
    assert h["difference_ci_high"] == pytest.approx(mean + Z * sd, abs=0.002)  # 0.08894
    assert h["extra_leads_a"] == 0 and h["reachable"]  # already past 95%


def test_head_to_head_is_deterministic():
    first = stats.head_to_head(12, 40, 8, 40)
    assert stats.head_to_head(12, 40, 8, 40) == first
    other = stats.head_to_head(12, 40, 8, 40, seed=8)
    assert other["p_a_better"] != first["p_a_better"]
    assert other["p_a_better"] == pytest.approx(first["p_a_better"], abs=0.005)


def test_extra_leads_to_reach_certainty():
    h = stats.head_to_head(12, 40, 8, 40)
    extra = h["extra_leads_a"]
    assert h["reachable"] and extra == h["extra_leads_b"]  # equal samples scale alike

    def p_at(extra_leads):
        k = 1 + extra_leads / 40
        return stats.prob_a_better(1 + 12 * k, 1 + 28 * k, 1 + 8 * k, 1 + 32 * k)

    assert p_at(extra) >= 0.95 and p_at(extra - 2) < 0.95
    # normal check: rates 0.3 vs 0.2, sd of the difference sqrt((0.21 + 0.16) / (40 k));
    # 0.1 / sd = 1.644854 at k = 2.50, i.e. ~60 more each; the uniform prior pulls both rates
    # toward 0.5 a little, so a few more
    assert 55 <= extra <= 70


def test_extra_leads_when_b_leads_and_when_unreachable():
    h = stats.head_to_head(8, 40, 12, 40)
    assert h["p_a_better"] < 0.5 and h["reachable"] and h["extra_leads_a"] > 0
    same = stats.head_to_head(10, 100, 10, 100)
    assert not same["reachable"] and same["extra_leads_a"] is None
    empty = stats.head_to_head(0, 0, 3, 10, "Referral", "Cold call")
    assert not empty["reachable"]
    assert empty["sentence"] == "No referral leads in this period: nothing to compare."


def test_head_to_head_sentence():
    h = stats.head_to_head(300, 1000, 40, 1000, "Referral", "Cold call")
    # Wilson 300/1000: [0.2723, 0.3293]; 40/1000: [0.0295, 0.0541]
    # P(referral better) > 0.99: said as "almost certain", not as a percentage
    assert h["sentence"] == (
        "Referral converts 30% (27–33%) vs cold call 4% (3–5%); it is almost certain that "
        "referral is better.")
    h = stats.head_to_head(12, 40, 8, 40, "Referral", "Cold call")
    # Wilson 12/40: [0.1799, 0.4527]; 8/40: [0.1049, 0.3472]; P(A > B) about 0.82: "likely"
    assert h["sentence"].startswith(
        "Referral converts 30% (18–45%) vs cold call 20% (10–35%); it is likely that referral "
        "is better.")
    assert f"About {h['extra_leads_a']} more referral" in h["sentence"]  # 63: two figures


def test_monte_carlo_uses_the_given_generator():
    rng = np.random.default_rng(stats.DEFAULT_SEED)
    a = rng.beta(4, 4, size=stats.DRAWS)
    b = rng.beta(2, 5, size=stats.DRAWS)
    assert stats.head_to_head(3, 6, 1, 5)["p_a_better"] == float(np.mean(a - b > 0))
