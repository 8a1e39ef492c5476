"""Several dashboard sessions and the CLI on one store (issue 8, item 1).

- In a real browser: bench/sessions.py made small (3 sessions, a 20k-row upload): no error on
  any page, every page view shows the data from before or after the upload, never a mix, and a
  CLI ingest meanwhile fails at once with what to do, leaving the store intact.
- Fast: the CLI against a store the dashboard holds (and the dashboard against one the CLI
  holds) answers at once with a message; and a write landing in the middle of a script run
  makes the run start again rather than draw a page half before and half after it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from bench import sessions

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
TIMEOUT = 120


# demo_db (a copy of the demo store per test), fresh_caches, browser_ready: tests/conftest.py
# No cached connection survives a test (the cached handle is what holds the file).
pytestmark = pytest.mark.usefixtures("fresh_caches")


def lead_total_held() -> int:
    """The store's lead count read through the dashboard's own handle (this process holds
    the file, so it cannot be opened a second time here)."""
    from funnel.app import state as app_state
    from funnel.metrics import metrics

    with app_state.reader() as cur:
        return int(metrics.METRICS["leads_by_channel"](cur)["leads"].sum())


# --- the CLI while the dashboard runs ---------------------------------------------------------


def test_cli_ingest_while_the_dashboard_holds_the_store_fails_at_once(demo_db, tmp_path):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()  # the dashboard's process now holds the store open for writing
    assert not at.exception and not at.error
    before = lead_total_held()
    csv = sessions.write_deals(tmp_path / "pipedrive_deals_2026-11-22.csv", 2_000, 7_000_000)

    start = time.monotonic()
    busy = sessions.cli_ingest(demo_db, csv, timeout=60)
    seconds = time.monotonic() - start

    assert busy.returncode == 1, busy.output
    assert seconds < 20, f"the CLI took {seconds:.1f} s to give up"  # start-up, no waiting
    assert "is open for writing in another process" in busy.output
    assert "upload the file through the dashboard's Upload page" in busy.output
    assert "Traceback" not in busy.output
    at.run()  # the dashboard goes on, unchanged
    assert not at.exception and not at.error
    assert lead_total_held() == before

    st.cache_resource.clear()  # the dashboard closes the store: the same command now works
    done = sessions.cli_ingest(demo_db, csv, timeout=120)
    assert done.returncode == 0, done.output
    assert sessions.lead_total(demo_db) == before + 2_000


def test_dashboard_while_another_process_writes_says_so(demo_db):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); sys.stdin.read()", str(demo_db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.run()
        assert not at.exception
        errors = [e.value for e in at.error]
        assert errors and "open for writing in another process" in errors[0], errors
        assert not at.metric and not at.dataframe
    finally:
        holder.communicate("", timeout=30)


# --- one run, one revision --------------------------------------------------------------------

MID_RUN_WRITE = textwrap.dedent("""
    import streamlit as st
    from funnel.app import state as app_state
    from funnel.store import connection as store

    app_state.begin_run()
    st.session_state["runs"] = st.session_state.get("runs", 0) + 1
    first = app_state.metric("leads_by_channel")["leads"].sum()
    if not st.session_state.get("written"):
        # Another session's upload lands between this run's two reads.
        st.session_state["written"] = True
        h = app_state.handle()
        with h.lock.write():
            cur = h.con.cursor()
            store.bump_revision(cur)
            cur.close()
    second = app_state.metric("conversion_by_channel")["leads"].sum()
    st.write(f"revisions {app_state.revision()}")
    st.metric("first", int(first))
    st.metric("second", int(second))
""")


def test_a_write_in_the_middle_of_a_run_draws_the_page_again(demo_db):
    at = AppTest.from_string(MID_RUN_WRITE, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["runs"] == 2  # the first run stopped at the second read
    assert [m.label for m in at.metric] == ["first", "second"]


# --- many browsers --------------------------------------------------------------------------


@pytest.mark.browser
def test_three_sessions_browse_while_one_uploads(browser_ready, tmp_path, monkeypatch):
    monkeypatch.delenv("FUNNEL_REQUIRE_LOGIN", raising=False)
    result = sessions.run(sessions=3, rows=20_000, timeout=300, workdir=tmp_path)
    report = result.report()
    assert result.all_errors() == [], report
    phases = result.phases()
    assert phases["before"] and phases["after"] and not phases["neither"], report
    assert result.store_after == result.store_before + 20_000, report
    assert result.totals_seen() == {result.store_before, result.store_after}, report
    assert result.cli_ok(), report
    assert result.cli_after is not None and result.cli_after.returncode == 0, report
    assert result.ok(), report
