"""Shared fixtures: a fresh store per test, and the real exports of ../shared/data/real."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
