"""Marketing: is the phone ringing? Lead volume by channel, week by week, and against the
previous period. Marketing numbers only (what happens to the leads is on the Sales page)."""

from __future__ import annotations

import streamlit as st

from funnel import charts
from funnel import format as fmt
from funnel.app import state as app_state
from funnel.app import tables as app_tables
from funnel.app import ui as app_ui

if not app_ui.page_needs_data():
    st.title("Marketing: is the phone ringing?")
    st.caption(app_ui.period_caption())
    names = app_state.channel_names()

    app_ui.section("New leads per week, by channel", "leads_by_week")
    app_ui.chart(charts.leads_by_week, app_state.metric("leads_by_week"), names,
                 value_column="leads")

    by_channel = app_state.metric("leads_by_channel")
    share_col, kind_col = st.columns(2, gap="large")
    with share_col:
        app_ui.section("Share by channel", "leads_by_channel", narrow=True)
        app_ui.chart(charts.leads_by_channel, by_channel, value_column="leads")
    with kind_col:
        app_ui.section("Inbound vs outbound", "inbound_vs_outbound", narrow=True)
        app_ui.chart(charts.inbound_vs_outbound, by_channel, value_column="leads")

    app_ui.section("This period vs the previous one", "lead_volume_vs_previous")
    volume = app_state.metric("lead_volume_vs_previous")
    if not volume.empty:
        row = volume.iloc[0]
        st.caption(
            f"This period: {fmt.date(row['period_start'])} – {fmt.date(row['period_end'])}. "
            f"Previous: {fmt.date(row['previous_start'])} – {fmt.date(row['previous_end'])}."
        )
    if charts.has_rows(volume, "leads") and not charts.has_rows(volume, "previous_leads"):
        st.info("No leads came in during the previous period of the same length, so there is "
                "nothing to compare with. Pick a shorter period in the sidebar (for example "
                "the last 4 weeks).", icon=":material/compare_arrows:")
    else:
        app_ui.chart(charts.lead_volume_vs_previous, volume, value_column="leads")
    if charts.has_rows(volume):
        with st.expander("See the numbers"):
            st.dataframe(app_tables.volume_table(volume), hide_index=True,
                         width="stretch")

    spend = app_state.metric("spend_by_channel")
    if app_tables.has_spend(spend):
        app_ui.section("What a lead costs", "spend_by_channel")
        app_ui.chart(charts.spend_by_channel, app_tables.with_spend(spend),
                     value_column="cost_per_lead",
                     empty_message="No cost per lead for this selection (spend is recorded per "
                     "channel, not per owner).")
        with st.expander("See the numbers"):
            st.dataframe(app_tables.spend_table(spend), hide_index=True,
                         width="stretch")
