"""Streamlit pieces every page shares: a section title with its help one click away, a chart
or its empty state, and the first-run welcome that offers the demo data."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from funnel import charts
from funnel.app import docs as app_docs
from funnel.app import preload as app_preload
from funnel.app import state as app_state
from funnel.safe_text import md_text
from funnel.store import pinned

PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
DEFINITIONS_PAGE = "app_pages/definitions.py"
UPLOAD_PAGE = "app_pages/upload.py"


def section(title: str, help_key: str, narrow: bool = False) -> None:
    """A subheader with a 'How to read this' popover: the chart's help and its definitions.
    ``narrow``: the section sits in a half-width column, so the popover goes under the title.

    The popover's column is two sevenths of the row: at 1280 px wide (a 790 px main pane) that
    is about 220 px, room for its icon, words and arrow (a sixth, 125 px, cut the words to
    "How to rea...")."""
    if narrow:
        st.subheader(title)
        with st.popover("How to read this", icon=":material/help:", width="content"):
            help_panel(help_key)
        return
    left, right = st.columns([5, 2], vertical_alignment="bottom")
    left.subheader(title)
    with right.popover("How to read this", icon=":material/help:", width="stretch"):
        help_panel(help_key)


def help_panel(help_key: str) -> None:
    """The chart's help text, then the METRICS.md definition of what it shows."""
    entry = app_docs.CHART_HELP.get(help_key, {"text": "", "metrics": [help_key]})
    if entry["text"]:
        st.markdown(entry["text"])
    found = app_docs.definition_for(entry["metrics"])
    if found is not None:
        st.markdown(f"**Definition: {app_docs.title_in_words(found.title)}**")
        st.markdown(found.body)
    st.page_link(DEFINITIONS_PAGE, label="All definitions", icon=":material/menu_book:")


def chart(
    build: Callable[..., go.Figure],
    df: pd.DataFrame,
    *args,
    value_column: str | None = None,
    empty_message: str = charts.EMPTY_MESSAGE,
    key: str | None = None,
    **kwargs,
) -> bool:
    """Draw ``build(df, ...)``, or an information box when there is nothing to draw."""
    if not charts.has_rows(df, value_column):
        st.info(empty_message, icon=":material/filter_alt_off:")
        return False
    plot(build, df, *args, key=key, **kwargs)
    return True


def plot(build: Callable[..., go.Figure], data, *args, key: str | None = None, **kwargs) -> None:
    """Draw ``build(data, ...)``: a ``funnel.charts`` builder, its figure cached by what it
    draws (``app_state.figure``)."""
    draw(app_state.figure(build, data, *args, **kwargs), key=key)


def draw(fig: go.Figure, config: dict | None = None, key: str | None = None, where=None) -> None:
    """Draw a figure at full width, in ``where`` (a column, ...) or in place."""
    app_preload.done()  # the page's first chart replaces the invisible one
    (where or st).plotly_chart(fig, config=config or PLOTLY_CONFIG, key=key, width="stretch",
                               theme=None)


def draw_selectable(fig: go.Figure, key: str) -> None:
    """Draw a figure whose points a click selects (the drill-down reads the selection from
    ``st.session_state[key]``)."""
    app_preload.done()
    st.plotly_chart(fig, config=PLOTLY_CONFIG, key=key, width="stretch", theme=None,
                    on_select="rerun", selection_mode="points")


def table(df: pd.DataFrame) -> None:
    """A read-only table whose cells wrap, so a wide one fits the page instead of being cut
    at the right (``st.dataframe`` draws on a canvas that cannot wrap: "within normal
    variatior", "Extra won value (90%"). Every text cell is plain text
    (:func:`funnel.safe_text.md_text`): channel and owner names are the files' words."""
    shown = df.map(lambda v: md_text(v) if isinstance(v, str) else v)  # any dtype of text
    shown.columns = [md_text(str(c)) for c in shown.columns]
    st.table(shown, hide_index=True)


def first_run() -> None:
    """The welcome on an empty store: the demo data in one click, or the upload page."""
    st.title("Welcome to Funnel")
    st.markdown(
        "Funnel shows, for your weekly lead review, **how many leads each channel brings** "
        "(marketing) and **how well they turn into customers** (sales), from the exports of "
        "your CRM: HubSpot, Salesforce, Pipedrive, Zoho or a spreadsheet."
    )
    st.markdown("There is no data yet. Try it on the demo company, or bring your own export.")
    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown("#### See it on demo data")
        st.caption("A small heating and facility-services company: 16 weeks of Pipedrive "
                   "deals (three weekly exports) and its marketing spend. All made up.")
        if st.button("Load the demo data", type="primary", icon=":material/play_arrow:"):
            with st.spinner("Loading the demo data…"):
                app_state.load_demo()
            st.rerun()
    with right.container(border=True):
        st.markdown("#### Use your own CRM export")
        st.caption("Upload one or more CSV or Excel files; you check how their columns are "
                   "read before anything is saved.")
        st.page_link(UPLOAD_PAGE, label="Go to the Upload page", icon=":material/upload:")


def keep_known(key: str, known: list, default: object = None) -> None:
    """Before a widget is drawn: drop its remembered choice(s) the options no longer hold (a
    filter or an upload changed them), and seed ``default`` when it has none. Widgets given
    their state this way take no ``default``/``index`` argument."""
    value = st.session_state.get(key)
    if isinstance(value, list):
        kept = [v for v in value if v in known]
        if kept != value:
            st.session_state[key] = kept
    elif key in st.session_state and value not in known:
        del st.session_state[key]
    if key not in st.session_state and default is not None:
        st.session_state[key] = default


def page_needs_data() -> bool:
    """True (and the welcome shown) when the store holds no leads yet."""
    if app_state.has_leads():
        return False
    first_run()
    return True


def period_caption() -> str:
    """The sidebar's period in words, for page captions."""
    from funnel import format as fmt

    f = app_state.current_filters()
    first, last = app_state.date_limits()
    start = f.start or first
    end = f.end or last
    text = f"Leads created {fmt.date(start)} – {fmt.date(end)}"
    if f.channels:
        text += f" · {len(f.channels)} channel{'s' if len(f.channels) > 1 else ''}"
    if f.owners:  # as the files spell them: plain text
        text += " · owner: " + ", ".join(md_text(o) for o in f.owners)
    as_of = app_state.as_of()
    if as_of:
        text += f" · data as of {fmt.date(as_of)}"
    return text


@st.cache_data(show_spinner=False, max_entries=16)
def _pinned_pair(_handle: app_state.StoreHandle, db: str, rev: int) -> tuple[str, str] | None:
    with app_state.reader(_handle) as cur:
        return pinned.pinned_pair(cur)


def pinned_pair() -> tuple[str, str] | None:
    """The head-to-head pair the owner pinned on the Sales page (None: the default applies)."""
    return _pinned_pair(app_state.handle(), str(app_state.db_path()), app_state.revision())


def pin_pair(pair: tuple[str, str] | None) -> None:
    """Pin ``pair`` for Overview, Sales and the weekly pack (None: unpin)."""
    with app_state.writer() as cur:
        if pair is None:
            pinned.unpin_pair(cur)
        else:
            pinned.pin_pair(cur, *pair)
