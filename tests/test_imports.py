"""Start-up cost: the report and CLI paths must not import ``scipy.stats`` (about 0.6 s on the
project's machine, more than the 1M-lead report's own queries). The replacements from
``scipy.special`` must give the same numbers as the ``scipy.stats`` calls they replaced."""

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from funnel import weekly


@pytest.mark.parametrize("module", ["funnel.report", "funnel.cli", "funnel.allocation",
                                    "funnel.weekly"])
def test_report_path_does_not_import_scipy_stats(module):
    code = f"import sys, {module}; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("n,a,b", [(1, 1, 1), (10, 3, 8), (250, 41.0, 300.0), (3000, 500, 2000)])
def test_beta_binomial_pmf_matches_scipy(n, a, b):
    expected = stats.betabinom(n, a, b).pmf(np.arange(n + 1))
    np.testing.assert_allclose(weekly._beta_binomial_pmf(n, a, b), expected, rtol=1e-9,
                               atol=1e-15)
