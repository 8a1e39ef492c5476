"""Shared fixtures: a fresh store per test, the demo store (built once per session, copied per
test), fresh Streamlit caches, the browser check, and the real exports of ../shared/data/real."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from app_helpers import CHROMIUM, copy_store

from funnel.store import connection as store

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real"


@pytest.fixture()
def db_path(tmp_path, monkeypatch) -> Path:
    """A store file in a temp dir; its PII key lives next to it."""
    path = tmp_path / "funnel.duckdb"
    monkeypatch.setenv("FUNNEL_DB", str(path))
    monkeypatch.delenv("FUNNEL_PII_KEY", raising=False)
    return path


@pytest.fixture()
def con(db_path):
    connection = store.connect(db_path)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """../shared/data/real, or a skip (a failure when FUNNEL_REQUIRE_REAL_DATA=1, as in CI)."""
    if not REAL.is_dir():
        reason = f"real exports not found at {REAL} (clone ../shared beside this repo to run)"
        if os.environ.get("FUNNEL_REQUIRE_REAL_DATA") == "1":
            pytest.fail(reason + "; FUNNEL_REQUIRE_REAL_DATA=1 requires them")
        pytest.skip(reason)
    return REAL


# --- the demo store ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo store, built once per session with its own key file (``$FUNNEL_PII_KEY`` unset
    for the build only). Never write to it: tests get a copy (``demo_db``)."""
    from funnel.demo import store as demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("FUNNEL_PII_KEY", raising=False)
        demo.build_demo_store(path)
    return path


@pytest.fixture()
def demo_db(demo_template, tmp_path, monkeypatch) -> Path:
    """A copy of the demo store for this test to write to, as ``$FUNNEL_DB``; no
    ``$FUNNEL_PII_KEY`` (its key file is used) and no ``$FUNNEL_REQUIRE_LOGIN``."""
    path = copy_store(demo_template, tmp_path / "funnel.duckdb")
    monkeypatch.setenv("FUNNEL_DB", str(path))
    monkeypatch.delenv("FUNNEL_PII_KEY", raising=False)
    monkeypatch.delenv("FUNNEL_REQUIRE_LOGIN", raising=False)
    return path


# --- Streamlit and the browser -----------------------------------------------------------------


@pytest.fixture()
def fresh_caches():
    """No cached connection or result survives into or out of the test (the cached handle is
    what holds the store file). Autouse only where a file asks:
    ``pytestmark = pytest.mark.usefixtures("fresh_caches")``."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; never `playwright install`)"
    try:
        import playwright.async_api  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(scope="session")
def browser_ready() -> None:
    """Debian's Chromium and the playwright package, or a skip: a failure when
    FUNNEL_REQUIRE_BROWSER=1 (as .ci/run sets in CI)."""
    reason = _missing_browser()
    if reason is None:
        return
    if os.environ.get("FUNNEL_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + "; FUNNEL_REQUIRE_BROWSER=1 requires it")
    pytest.skip(reason)
