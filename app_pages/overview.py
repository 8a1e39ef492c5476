"""Overview (home): this week against last week, and the one finding most worth discussing."""

from __future__ import annotations

import streamlit as st

from funnel import charts
from funnel import format as fmt
from funnel.app import findings as app_findings
from funnel.app import state as app_state
from funnel.app import tables as app_tables
from funnel.app import ui as app_ui
from funnel.metrics import metrics
from funnel.safe_text import md_text

if not app_ui.page_needs_data():
    st.title("This week at a glance")
    st.caption(app_ui.period_caption())

    by_week = app_state.metric("headline_by_week")
    headline = app_findings.weekly_headline(by_week)
    missing = metrics.coverage_notes(app_state.metric("data_coverage"))
    undated_wins = (missing["wins_by_week"] or "").startswith("Not in the data")
    app_ui.section("This week against last week", "headline")
    if headline is None:
        st.info(charts.EMPTY_MESSAGE, icon=":material/filter_alt_off:")
    else:
        this, last = headline.this, headline.last
        compare = f" against the week of {fmt.short_date(last.week)}" if last else ""
        st.markdown(f"**{fmt.week(this.week)}**{compare}")
        leads_col, wins_col, conv_col = st.columns(3)
        since = "vs last week" if last else None
        conv_since = since if headline.delta_conversion() is not None else None
        leads_col.metric("New leads", fmt.count(this.leads),
                         delta=fmt.delta_count(headline.delta_leads()),
                         delta_description=since, border=True)
        if undated_wins:  # wins are counted in the week they were won: no date, no week
            wins_col.metric("Deals won", "not in the data", border=True,
                            help="The files give no date the leads were won, so no win can "
                            "be put in a week.")
        else:
            wins_col.metric("Deals won", fmt.count(this.wins),
                            delta=fmt.delta_count(headline.delta_wins()),
                            delta_description=since, border=True)
        conv_col.metric("Converted so far (this week's leads)", fmt.pct(this.conversion),
                        delta=fmt.delta_points(headline.delta_conversion()),
                        delta_description=conv_since, border=True)

    app_ui.section("Worth discussing", "finding")
    conversion = app_state.metric("conversion_by_channel")
    pair = app_findings.finding_pair(conversion, app_ui.pinned_pair())
    if pair is None:
        st.info("Not enough leads per channel in this selection to compare channels fairly.",
                icon=":material/info:")
    else:
        result = app_state.head_to_head(*pair)
        with st.container(border=True):
            # sentences naming channels as their owner spelled them: plain text
            st.markdown(f"### {md_text(result['sentence'])}")
            action = app_findings.action_sentence(result)
            if action:
                st.markdown(md_text(action))
            st.page_link("app_pages/sales.py", label="Compare any two channels, or pin the "
                         "pair shown here, on the Sales page", icon=":material/arrow_forward:")

    app_ui.section("The last 12 weeks", "headline")
    app_ui.chart(charts.headline_by_week, by_week, value_column="leads")
    if missing["wins_by_week"]:
        st.caption(missing["wins_by_week"])

    app_ui.section("Open leads: what to do next", "open_by_temperature")
    open_leads = app_state.metric("open_by_temperature")
    if app_ui.chart(charts.open_by_temperature, open_leads, value_column="open_leads"):
        st.dataframe(app_tables.open_table(open_leads), hide_index=True,
                     width="stretch")
