"""Funnel's dashboard: the frame and router only.

Page config, the sidebar filters every page reads (kept in ``st.session_state`` by their widget
keys, see ``funnel.app.state``), and ``st.navigation`` over ``app_pages/``. Run with
``streamlit run app.py``; the store is ``$FUNNEL_DB`` or ``data/funnel.duckdb``.
"""

from __future__ import annotations

import streamlit as st

from funnel.app import auth as app_auth  # noqa: E402
from funnel.app import preload as app_preload  # noqa: E402

st.set_page_config(page_title="Funnel", page_icon=":material/filter_alt:", layout="wide")
app_auth.require_access()  # before any read: a login unless on localhost (docs/ACCESS.md)
# On a session's first run the browser starts loading plotly's bundle now, while the app's
# modules are imported (on a fresh server: pandas, DuckDB, plotly, ~0.5 s) and the sidebar's and
# the page's queries run (docs/PERFORMANCE.md, gap 5). Hence these imports after it.
app_preload.preload()
app_preload.import_data_libraries()  # not alongside another session's preload (see there)

from funnel import format as fmt  # noqa: E402
from funnel.app import state as app_state  # noqa: E402
from funnel.app import ui as app_ui  # noqa: E402
from funnel.safe_text import md_text  # noqa: E402
from funnel.store import connection as store  # noqa: E402

PAGES = {
    "Weekly review": [
        st.Page("app_pages/overview.py", title="Overview", icon=":material/home:", default=True),
        st.Page("app_pages/marketing.py", title="Marketing", icon=":material/campaign:"),
        st.Page("app_pages/sales.py", title="Sales", icon=":material/handshake:"),
        st.Page("app_pages/pipeline.py", title="Pipeline", icon=":material/timeline:"),
        st.Page("app_pages/weekly.py", title="Weekly pack", icon=":material/event_note:"),
        st.Page("app_pages/allocation.py", title="Allocation", icon=":material/pie_chart:"),
    ],
    "Your data": [
        st.Page("app_pages/upload.py", title="Upload", icon=":material/upload:"),
        st.Page("app_pages/definitions.py", title="Definitions", icon=":material/menu_book:"),
    ],
}


def _reset_filters() -> None:
    st.session_state[app_state.PERIOD_KEY] = "all"
    st.session_state[app_state.CHANNELS_KEY] = []
    st.session_state[app_state.OWNERS_KEY] = []


def sidebar_filters() -> None:
    """Date range, channels and owners, shared by every page."""
    opts = app_state.options()
    names = app_state.channel_names()
    first, last = app_state.date_limits()
    with st.sidebar:
        st.header("Filters")
        period = st.selectbox(
            "Leads created", list(app_state.PERIODS), format_func=app_state.PERIODS.get,
            key=app_state.PERIOD_KEY,
        )
        if period == "custom":
            st.date_input(
                "From – to", value=(first, last), min_value=first, max_value=last,
                key=app_state.DATES_KEY, format="DD/MM/YYYY",
            )
        channels = list(opts["channels"])
        app_ui.keep_known(app_state.CHANNELS_KEY, channels)
        st.multiselect(
            "Channels", channels, format_func=lambda c: names.get(c, fmt.channel_label(c)),
            key=app_state.CHANNELS_KEY, placeholder="All channels",
        )
        owners = list(opts["owners"])
        if owners:
            app_ui.keep_known(app_state.OWNERS_KEY, owners)
            st.multiselect("Owner", owners, key=app_state.OWNERS_KEY, placeholder="All owners")
        st.button("Reset filters", on_click=_reset_filters, icon=":material/restart_alt:")
        as_of = app_state.as_of()
        if as_of:
            st.caption(f"Data as of {fmt.date(as_of)}.")


app_state.begin_run()  # every read of this run sees one store revision

try:
    has_data = app_state.has_leads()
except store.StoreBusyError as exc:
    app_preload.done()
    st.error(md_text(exc), icon=":material/lock:")
    st.stop()

if has_data:
    sidebar_filters()

# every amount of this run in the store's currency ('€1,234' for a store of euros, never an
# invented '$'; '$' when no file named a currency)
with fmt.in_currency(app_state.currency_code() if has_data else None):
    st.navigation(PAGES).run()
app_preload.done()  # a page without charts: the invisible one goes all the same
if has_data:
    # Once per server, after the first visitor's page is drawn, so the two don't share the two
    # cores: the default-filter metrics of every page, in the background (docs/PERFORMANCE.md).
    app_state.start_warm_up()
