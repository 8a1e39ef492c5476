"""Start-up cost: the report and CLI paths must not import ``scipy.stats`` (about 0.6 s on the
project's machine, more than the 1M-lead report's own queries). The replacements from
``scipy.special`` must give the same numbers as the ``scipy.stats`` calls they replaced."""

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from funnel.weekly import checks


@pytest.mark.parametrize("module", ["funnel.report", "funnel.cli.main",
                                    "funnel.allocation.recommend", "funnel.weekly.pack"])
def test_report_path_does_not_import_scipy_stats(module):
    code = f"import sys, {module}; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_the_command_line_starts_without_pandas():
    # every command imports what it needs when it runs: the parser alone (python -m funnel
    # --help, and the start of each command) loads neither pandas nor duckdb (1.2 s, 60 MB)
    code = ("import sys, funnel.cli.main; "
            "print(sorted(m for m in ('pandas', 'duckdb', 'plotly') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("n,a,b", [(1, 1, 1), (10, 3, 8), (250, 41.0, 300.0), (3000, 500, 2000)])
def test_beta_binomial_pmf_matches_scipy(n, a, b):
    expected = stats.betabinom(n, a, b).pmf(np.arange(n + 1))
    np.testing.assert_allclose(checks._beta_binomial_pmf(n, a, b), expected, rtol=1e-9,
                               atol=1e-15)


def test_head_to_head_not_yet_settled_does_not_import_scipy_stats():
    # an unsettled comparison integrates Beta quantiles (stats.prob_a_better): that must not
    # pull scipy.stats into the dashboard's process on its first comparison
    code = ("import sys; from funnel.metrics import stats; "
            "r = stats.head_to_head(12, 40, 8, 40); "
            "assert r['extra_leads_a'] is not None, r; print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("shape", [(3, 5, 2, 9), (501, 1500, 300, 1700), (1.5, 2.5, 40.2, 60.1)])
def test_prob_a_better_matches_scipy_stats(shape):
    from funnel.metrics import stats as fstats

    a, b, c, d = shape
    u = (np.arange(fstats._QUANTILE_POINTS) + 0.5) / fstats._QUANTILE_POINTS
    expected = float(np.mean(stats.beta.sf(stats.beta.ppf(u, c, d), a, b)))
    assert fstats.prob_a_better(a, b, c, d) == pytest.approx(expected, rel=1e-12, abs=1e-15)
