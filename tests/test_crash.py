"""SIGKILL during an ingest, at three moments of it (issue 8): the store opens, holds the state
before the upload or the whole upload, never part of it, its kept raw bytes are whole, and the
same ingest run again completes. ``python bench/crash_trials.py`` runs 20 such trials at random
moments; this is the fast version (60,000 rows, kills at 25%, 55% and 85% of a whole ingest).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_crash_trials():
    if "crash_trials" in sys.modules:
        return sys.modules["crash_trials"]
    path = ROOT / "bench" / "crash_trials.py"
    spec = importlib.util.spec_from_file_location("crash_trials", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["crash_trials"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return load_crash_trials().prepare(tmp_path_factory.mktemp("crash"), rows=60_000, seed=3)


@pytest.mark.parametrize("fraction", [0.25, 0.55, 0.85])
def test_sigkill_leaves_the_store_before_or_after(setup, fraction):
    crash = load_crash_trials()
    assert setup.before != setup.after
    trial = crash.run_trial(setup, int(fraction * 100), fraction * setup.full_seconds)
    assert trial.state in ("before", "after"), trial.note
    assert trial.raw_ok, "a kept raw upload does not hold the bytes its name says"
    assert trial.rerun_ok, trial.note
