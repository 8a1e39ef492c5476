"""Sales: are we answering the phone well? Conversion by channel with honest intervals, the
funnel per channel, time to win, who converts which channel, why deals are lost, value per lead,
cohort maturity and a fair head-to-head; every bar, cell and step opens the leads behind it.
Sales numbers only (lead volume is on the Marketing page)."""

from __future__ import annotations

import streamlit as st

from funnel import charts
from funnel import format as fmt
from funnel.app import auth as app_auth
from funnel.app import drill as app_drill
from funnel.app import findings as app_findings
from funnel.app import state as app_state
from funnel.app import tables as app_tables
from funnel.app import ui as app_ui
from funnel.metrics import metrics
from funnel.safe_text import md_text


@st.fragment
def head_to_head(channels: list[str], names: dict[str, str]) -> None:
    """The two pickers and their comparison: picking reruns this section only."""
    if not app_auth.fragment_allowed():  # a fragment's rerun skips app.py's login gate
        return
    pinned_now = app_ui.pinned_pair()
    pair = app_findings.default_pair(channels, pinned_now)
    if pair is None:
        st.info("Head to head needs at least two channels in this selection.",
                icon=":material/filter_alt_off:")
        return
    app_ui.keep_known("h2h_a", channels, pair[0])
    app_ui.keep_known("h2h_b", channels, pair[1])
    pick_a, pick_b = st.columns(2)
    a = pick_a.selectbox("Channel", channels, format_func=names.get, key="h2h_a")
    b = pick_b.selectbox("against", channels, format_func=names.get, key="h2h_b")
    if a == b:
        st.info("Pick two different channels.", icon=":material/compare_arrows:")
        return
    if (a, b) == pinned_now:
        st.button("Unpin this pair", icon=":material/keep_off:", key="h2h_unpin",
                  on_click=app_ui.pin_pair, args=(None,),
                  help="Overview's “Worth discussing” and the weekly pack go back to "
                  "referral against cold call, or the two biggest channels that differ.")
    else:
        st.button("Pin this pair", icon=":material/keep:", key="h2h_pin",
                  on_click=app_ui.pin_pair, args=((a, b),),
                  help="Overview's “Worth discussing” and the weekly pack compare these two "
                  "channels from now on.")
    result = app_state.head_to_head(a, b)
    label_a, label_b = md_text(result["a"]["label"]), md_text(result["b"]["label"])
    with st.container(border=True):
        st.markdown(f"#### {md_text(result['sentence'])}")
        left, right, chance = st.columns(3)
        left.metric(f"{label_a} conversion",
                    fmt.pct(result["a"]["conversion_rate"]),
                    help=f"{fmt.count(result['a']['won'])} won of "
                    f"{fmt.count(result['a']['leads'])} leads; 95% interval "
                    f"{fmt.pct_range(result['a']['ci_low'], result['a']['ci_high'])}")
        right.metric(f"{label_b} conversion",
                     fmt.pct(result["b"]["conversion_rate"]),
                     help=f"{fmt.count(result['b']['won'])} won of "
                     f"{fmt.count(result['b']['leads'])} leads; 95% interval "
                     f"{fmt.pct_range(result['b']['ci_low'], result['b']['ci_high'])}")
        chance.metric(f"Chance {md_text(fmt.in_sentence(result['a']['label']))} converts "
                      "better", fmt.chance(result["p_a_better"]),
                      help="How sure the leads each channel had let us be, worked out over "
                      f"{result['draws']:,} simulated versions of the two channels.")
        app_ui.plot(charts.head_to_head, result)


@st.fragment
def time_to_win(channels: list[str], names: dict[str, str]) -> None:
    """The time-to-win curves and which channels they show: picking reruns this section only."""
    if not app_auth.fragment_allowed():  # a fragment's rerun skips app.py's login gate
        return
    curve = app_state.metric("time_to_win_curve")
    app_ui.keep_known("ttw_channels", channels, channels[:5])
    shown = st.multiselect("Channels on this chart", channels, format_func=names.get,
                           key="ttw_channels")
    if shown:
        app_ui.chart(charts.time_to_win_curve, curve, names, shown, value_column="days")
    else:
        st.info("Pick at least one channel to draw its curve.", icon=":material/show_chart:")


if not app_ui.page_needs_data():
    st.title("Sales: are we answering it well?")
    st.caption(app_ui.period_caption())
    names = app_state.channel_names()
    conversion = app_state.metric("conversion_by_channel")
    missing = metrics.coverage_notes(app_state.metric("data_coverage"))

    app_ui.section("Conversion by channel", "conversion_by_channel")
    if app_drill.chart(charts.conversion_by_channel, conversion, key="drill_conversion",
                       value_column="leads"):
        st.caption("Click a bar to see its leads.")
        with st.expander("See the numbers"):
            st.dataframe(app_tables.conversion_table(conversion), hide_index=True,
                         width="stretch")

    app_ui.section("Head to head", "head_to_head")
    head_to_head(list(conversion["channel"]), names)

    app_ui.section("Where each channel loses its leads", "funnel_by_channel")
    if missing["funnel"]:
        st.info(missing["funnel"], icon=":material/help_center:")
    elif app_drill.chart(charts.funnel_by_channel, app_state.metric("funnel_by_channel"), names,
                         key="drill_funnel", value_column="reached"):
        st.caption("Click a step to see the leads that reached it.")

    app_ui.section("How fast leads are won", "time_to_win_curve")
    if missing["time_to_win"] and missing["time_to_win"].startswith("Not in the data"):
        st.info(missing["time_to_win"], icon=":material/help_center:")
    else:
        time_to_win(list(conversion["channel"]), names)
        if missing["time_to_win"]:
            st.caption(missing["time_to_win"])

    app_ui.section("Who converts which channel", "conversion_by_owner")
    owners = app_state.metric("conversion_by_owner")
    if owners.empty or owners["owner"].isna().all():
        st.info("Not in the data: these leads' files name no owner (salesperson). Map an "
                "owner column on the Upload page to see who converts which channel.",
                icon=":material/help_center:")
    else:
        app_drill.chart(charts.owner_conversion, owners, key="drill_owners")
        st.caption("Grey: fewer than 30 leads, too few to judge. Click a cell to see its "
                   "leads.")
        with st.expander("See the numbers"):
            st.dataframe(app_tables.owner_table(owners), hide_index=True, width="stretch")

    app_ui.section("Why deals are lost", "lost_reasons")
    lost = app_state.metric("lost_reasons")
    if lost.empty:
        st.info("No lost deals in this selection.", icon=":material/filter_alt_off:")
    elif lost["reason"].isna().all():
        st.info("Not in the data: these files give no reason the deals were lost. Map a "
                "lost-reason column on the Upload page (Pipedrive 'Lost reason', Salesforce "
                "'Loss Reason', HubSpot 'Closed Lost Reason', Zoho 'Reason For Loss').",
                icon=":material/help_center:")
    else:
        named = [r for r in lost["reason"].dropna().unique() if r != charts.OTHER_REASON]
        app_drill.chart(charts.lost_reasons, lost, key="drill_lost", reasons=named)
        st.caption("Click a bar to see its deals. The stage each deal was lost at:")
        st.dataframe(app_tables.lost_reasons_table(lost), hide_index=True, width="stretch")

    app_ui.section("Value per lead", "value_per_lead")
    app_drill.chart(charts.value_per_lead, conversion, key="drill_value",
                    value_column="value_per_lead",
                    empty_message="No deal values in this selection: map a value column on "
                    "the Upload page to see what a lead is worth.")
    if missing["value"]:
        st.caption(missing["value"])

    app_ui.section("Cohort maturity: conversion by week the leads came in", "weekly_cohorts")
    app_drill.chart(charts.weekly_cohorts, app_state.metric("weekly_cohorts"), names,
                    key="drill_cohorts", value_column="leads")
    st.caption(f"The latest {charts.COHORT_WEEKS} weeks of the selection (pick a period in the "
               "sidebar to see earlier ones). Grey cells: weeks too young to judge yet, most of "
               "their wins are still to come.")
