"""Pipeline: what is coming, where leads get stuck, and the leads behind any number (issue 17).

Sales numbers for the meeting's follow-up questions: the wins the open deals should bring in
the next 4 weeks and the month (a range, kept and scored later), how long leads stay at each
stage, where the open ones wait, and the leads behind any cell, downloadable as CSV.
Thin: ``funnel.metrics.forecast`` and ``funnel.metrics.stage_time`` compute, ``funnel.charts``
draws, ``funnel.app.tables`` words the tables.
"""

from __future__ import annotations

import streamlit as st

from funnel import charts
from funnel import format as fmt
from funnel.app import drill as app_drill
from funnel.app import state as app_state
from funnel.app import tables as app_tables
from funnel.app import ui as app_ui
from funnel.metrics import forecast as forecast_metric
from funnel.metrics import stage_time
from funnel.safe_text import md_text


def coming() -> None:
    """What the open deals should win: the two horizons, per channel, per stage; keep it."""
    result = app_state.forecast()
    totals = result["totals"]
    for note in result["notes"]:
        st.caption(md_text(note))
    if totals.empty:
        return
    every = totals[totals["channel"].isna()]
    for column, (_, row) in zip(st.columns(len(every)), every.iterrows(), strict=True):
        column.metric(f"Wins expected, {row['horizon_words']}",
                      f"about {fmt.count(row['expected_wins'])}",
                      help=forecast_metric.sentence(row), border=True)
        column.caption(f"8 in 10 chances: {fmt.count(row['wins_low'])} to "
                       f"{fmt.count(row['wins_high'])} wins, to {fmt.date(row['horizon_end'])}"
                       + (f"; worth about {fmt.money(row['expected_value'])}"
                          if row["expected_value"] else ""))
    weeks = totals[(totals["horizon"] == "weeks") & totals["channel"].notna()]
    app_drill.chart(charts.forecast_by_channel, weeks, key="drill_forecast",
                    value_column="open_deals")
    st.caption(f"Counted from {fmt.date(result['as_of'])}, the latest upload's date. Click a "
               "bar to see the channel's open deals.")
    with st.expander("How deals move at each stage"):
        st.dataframe(app_tables.forecast_stage_table(result["stages"]), hide_index=True,
                     width="stretch")
    keep, kept = st.columns([1, 3], vertical_alignment="center")
    if keep.button("Keep this forecast", icon=":material/bookmark_add:",
                   help="Keeps the forecast of every open deal (the sidebar's filters aside) "
                   "and scores it once its weeks have passed in your data."):
        number = app_state.keep_forecast()
        st.toast(f"Kept as forecast {number}.", icon=":material/bookmark_added:")
    scored = app_state.kept_forecasts()
    if not scored.empty:
        with kept.expander(f"Kept forecasts ({scored['forecast_id'].nunique()})"):
            for _, row in scored[scored["channel"].isna()].iterrows():
                st.markdown("- " + md_text(forecast_metric.score_sentence(row)))


def stuck() -> None:
    """How long leads stay at each stage, and where the open ones wait now."""
    stays = app_state.metric("time_in_stage")
    timed = stays[stays["channel"].isna()]
    if timed.empty or not (timed["left"] > 0).any():
        st.info("Not in the data yet: these files show each lead's stage without the dates it "
                "moved. Upload your CRM's export again in a week or two (or a stage history "
                "such as Salesforce's OpportunityHistory) and the time at each stage appears "
                "here.", icon=":material/help_center:")
    else:
        app_ui.plot(charts.time_in_stage, stays)
        with st.expander("See the numbers, per channel"):
            st.dataframe(app_tables.stage_time_table(stays), hide_index=True, width="stretch")
    app_ui.section("Where the open leads wait", "open_leads_waiting")
    waiting = app_state.metric("open_leads_waiting")
    if waiting.empty:
        st.info("No open leads in this selection.", icon=":material/filter_alt_off:")
        return
    st.markdown("\n".join("- " + md_text(sentence)
                          for sentence in stage_time.longest_waits(waiting)["sentence"]))
    app_drill.chart(charts.open_waiting, waiting, key="drill_waiting")
    st.caption("Each cell: open leads · half of them at the stage this long or more (≥: "
               "counted from when a file first showed them there). Click a cell to see its "
               "leads.")


if not app_ui.page_needs_data():
    st.title("Pipeline: what is coming, where leads wait")
    st.caption(app_ui.period_caption())
    app_ui.section("What is coming", "forecast")
    coming()
    app_ui.section("How long leads stay at each stage", "time_in_stage")
    stuck()
    app_ui.section("The leads behind a number", "leads_behind")
    app_drill.explorer()
