"""Start the browser on plotly's JavaScript before the page has a chart to draw.

Streamlit's browser side loads its plotly bundle (``PlotlyChart.js``, 4.7 MB, about 2 s to fetch
and compile on two busy cores) only when the first plotly chart of a session arrives, which is
after the page's queries. On a session's first run, app.py draws an invisible plotly chart in
the sidebar before anything else, even before it imports the app's heavier modules (pandas,
DuckDB, plotly: ~0.5 s on a fresh server), so the bundle loads while the imports and the queries
run (docs/PERFORMANCE.md, gap 5). The chart is removed again before the page's first real chart
(:func:`done`), so the first plotly chart in the page is always a real one.

Keep this module light: it is imported before those modules. It also imports numpy and pandas
for app.py (:func:`import_data_libraries`), taking turns with the invisible chart: plotly's
Python looks at those two whenever they are in ``sys.modules``, even half-imported by another
session's thread, and then fails ("partially initialized module 'pandas' has no attribute
'Series'": three sessions opening a fresh server at once).
"""

from __future__ import annotations

import threading

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

PRELOADED_KEY = "_plotly_preloaded"  # session state: this session has drawn it once
SLOT_KEY = "_plotly_preload_slot"  # session state: where it is, until done() removes it
CONTAINER_KEY = "plotly_preload"
# One empty trace, no axes, no template: ~300 bytes for the browser, nothing to see.
FIGURE = {
    "data": [{"type": "scatter", "x": [], "y": [], "hoverinfo": "skip"}],
    "layout": {"template": {}, "height": 10, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
               "xaxis": {"visible": False}, "yaxis": {"visible": False}, "showlegend": False},
}
HIDE = f"<style>.st-key-{CONTAINER_KEY} {{display: none}}</style>"
# Held while plotly's Python builds the invisible chart, and while numpy and pandas are imported.
_TURNS = threading.Lock()


def preload() -> None:
    """At the start of a full script run (app.py, once access is granted): on the session's
    first run, the invisible chart; on later runs nothing (the bundle is loaded by then)."""
    state = st.session_state
    state.pop(SLOT_KEY, None)  # left by an interrupted run: that run's element is gone already
    if state.get(PRELOADED_KEY):
        return
    state[PRELOADED_KEY] = True
    slot = st.sidebar.empty()
    with slot.container(key=CONTAINER_KEY):
        st.html(HIDE)
        with _TURNS:  # not while another session's thread is importing numpy or pandas
            st.plotly_chart(FIGURE, config={"staticPlot": True, "displayModeBar": False},
                            theme=None, width="stretch")
    state[SLOT_KEY] = slot


def import_data_libraries() -> None:
    """Import numpy and pandas (app.py, right after :func:`preload`), never while another
    session's invisible chart is being built (see the module's docstring)."""
    with _TURNS:
        import numpy  # noqa: F401
        import pandas  # noqa: F401


def done() -> None:
    """Remove the invisible chart if this run drew it: before the page's first chart, and at
    the end of the run. Not in a fragment's rerun (it may only write inside the fragment)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is not None and ctx.fragment_ids_this_run:
        return
    slot = st.session_state.pop(SLOT_KEY, None)
    if slot is not None:
        slot.empty()
