"""Allocation: where next week's money and hours should go, and why (issue 5). The owner's
budget and limits, the recommendation in words and numbers with its uncertainty, a what-if for
any other split, accepting a plan into the decision log, and whether past decisions paid off.

Thin: ``funnel.allocation`` recommends, ``funnel.allocation.decisions`` keeps the log, and
``funnel.app.allocation`` caches them and turns them into words and tables; this page lays
them out.
"""

from __future__ import annotations

import streamlit as st

from funnel import charts
from funnel import format as fmt
from funnel.allocation.recommend import AllocationError, Recommendation
from funnel.allocation.types import DEFAULT_HOURLY_RATE, DEFAULT_MAX_CHANGE, DEFAULT_MIN_LEADS
from funnel.app import allocation as alloc
from funnel.app import state as app_state
from funnel.app import ui as app_ui
from funnel.safe_text import md_text

RECORDED_KEY = "alloc_recorded"
CLEAR_NOTE_KEY = "alloc_clear_note"
NOTE_KEY = "alloc_note"


def _metrics(items: list[tuple[str, str, str]]) -> None:
    for column, (label, value, note) in zip(st.columns(len(items)), items, strict=True):
        column.metric(label, value, border=True)
        column.caption(note)


def _inputs_expander():
    inp = alloc.inputs()
    with st.expander("Your budget, hourly rate and limits", icon=":material/tune:"):
        rate_col, money_col, hours_col = st.columns(3)
        rate = rate_col.number_input(
            "What an hour of your team's time is worth ($)", min_value=0.0,
            value=DEFAULT_HOURLY_RATE,
            step=5.0, format="%.0f", key="alloc_rate",
            help="Unpaid hours (cold calls, asking customers for referrals) are costed at this "
            "rate, so time and money can be compared.")
        money = money_col.number_input(
            "Money to spend next week ($)", min_value=0.0, value=None, step=50.0, format="%.0f",
            placeholder="As in a recent week", key="alloc_money")
        hours = hours_col.number_input(
            "Hours available next week", min_value=0.0, value=None, step=1.0, format="%.1f",
            placeholder="As in a recent week", key="alloc_hours")
        st.markdown("**Per channel**: a fixed cost the spend file does not carry (referral "
                    "fees, an event stand), a channel whose share must not change, or the most "
                    "of the budget it may get. Leave a cell empty for none.")
        constraints = st.data_editor(
            alloc.constraints_table(inp), key="alloc_constraints", hide_index=True,
            width="stretch", height="content", placeholder="", disabled=[alloc.CHANNEL_COL],
            column_config={
                alloc.FIXED_COL: st.column_config.NumberColumn(min_value=0.0, step=10.0,
                                                               format="$%.0f"),
                alloc.LOCK_COL: st.column_config.CheckboxColumn(),
                alloc.CAP_COL: st.column_config.NumberColumn(min_value=0.0, max_value=100.0,
                                                             step=5.0, format="%.0f%%"),
            },
        )
        change_col, leads_col = st.columns(2)
        max_change = change_col.slider(
            "Most a channel's share may change in one plan (percentage points)", 5, 50,
            round(100 * DEFAULT_MAX_CHANGE),
            key="alloc_max_change")
        min_leads = leads_col.number_input(
            "Leads old enough to judge a channel needs before its share moves", min_value=0,
            max_value=1000, value=DEFAULT_MIN_LEADS, step=5, key="alloc_min_leads")
    return alloc.settings_from(rate, money, hours, constraints, max_change, min_leads)


def _recommendation(rec: Recommendation) -> None:
    with st.container(border=True):
        st.markdown(f"#### {md_text(rec.summary)}")  # it names channels as the files do
        _metrics(alloc.headline_metrics(rec))
        for line in alloc.young_channels(rec):
            st.warning(line, icon=":material/hourglass_top:")
        notes = [md_text(alloc.sentence(n)) for n in rec.notes]
        if notes:
            st.caption(" ".join(notes))

    st.subheader("Share of the budget, now and recommended")
    app_ui.chart(charts.allocation_shares, rec.to_frame(), value_column="recommended_share")

    app_ui.section("Channel by channel", "allocation")
    st.caption(alloc.figures_caption(alloc.inputs(), rec))
    app_ui.table(alloc.plan_table(rec))  # wraps: nine columns fit at 1280 px
    st.caption(f"{alloc.JUDGED_COL}: {alloc.JUDGED_HELP}")
    st.markdown("**Why, and what would change it**")
    st.table(alloc.reasons_table(rec), hide_index=True)
    excluded = alloc.excluded_text(rec)
    if excluded:
        st.caption("Not in the plan: " + " ".join(excluded))
    with st.expander("How this works, and what the spend history allows"):
        st.markdown(alloc.method_text(rec.settings))
        st.markdown("\n".join(f"- {line}" for line in alloc.curve_notes(rec)))


def _reset_sliders(keys: dict[str, str], defaults: dict[str, float]) -> None:
    for channel, key in keys.items():
        st.session_state[key] = defaults[channel]


def _what_if(rec: Recommendation) -> dict[str, float]:
    st.subheader("Try your own split")
    st.markdown("Move the sliders to see what another split is expected to do. They start at "
                "the recommendation; if they do not add up to 100%, each is scaled by the same "
                "factor.")
    defaults = alloc.slider_defaults(rec)
    digest = alloc.settings_digest(rec.settings)
    keys = {c: f"alloc_whatif_{digest}_{c}" for c in defaults}
    for channel, key in keys.items():
        st.session_state.setdefault(key, defaults[channel])
    percents = {}
    columns = st.columns(4)
    for i, (channel, label) in enumerate(alloc.slider_channels(rec)):
        percents[channel] = columns[i % 4].slider(
            md_text(label), min_value=0.0, max_value=100.0, step=0.1, format="%.1f%%",
            key=keys[channel])
    st.button("Back to the recommendation", icon=":material/restart_alt:",
              on_click=_reset_sliders, args=(keys, defaults))
    try:
        effect, note = alloc.what_if(rec, percents)
    except AllocationError as exc:
        st.warning(f"Cannot work out this split: {md_text(exc)}.", icon=":material/block:")
        return percents
    if note:
        st.info(note, icon=":material/balance:")
    st.markdown(f"**{md_text(effect.sentence)}**")
    _metrics(alloc.what_if_metrics(rec, effect))
    with st.expander("Your split channel by channel"):
        st.dataframe(alloc.what_if_table(rec, effect), hide_index=True, width="stretch")
    return percents


def _accept(rec: Recommendation, percents: dict[str, float]) -> None:
    st.subheader("Decide")
    if st.session_state.pop(CLEAR_NOTE_KEY, False):
        st.session_state[NOTE_KEY] = ""
    note = st.text_input("Note for the decision log (optional)", key=NOTE_KEY,
                         placeholder="e.g. Sam asks two customers a day for a referral")
    edited = alloc.is_edited(rec, percents)
    plan_col, mine_col = st.columns(2)
    chosen = None
    if plan_col.button("Accept this plan", type="primary", icon=":material/check:",
                       width="stretch"):
        chosen = (None,)
    if mine_col.button("Accept my edited plan", icon=":material/edit:", width="stretch",
                       disabled=not edited,
                       help=None if edited else "Move a slider above to edit the plan."):
        chosen = (percents,)
    if chosen is not None:
        with app_state.writer() as cur:
            decision_id = alloc.record(cur, rec, chosen[0], note)
        st.session_state[RECORDED_KEY] = decision_id
        st.session_state[CLEAR_NOTE_KEY] = True
        st.rerun()
    recorded = st.session_state.pop(RECORDED_KEY, None)
    if recorded is not None:
        st.success(f"Decision {recorded} recorded: it is in the log below, and is scored once "
                   "its leads have had time to convert.", icon=":material/check_circle:")


def _decision_log() -> None:
    st.subheader("Decisions so far: did they pay off?")
    entries = alloc.decision_entries()
    if not entries:
        st.info("No decision recorded yet. Accept a plan above: next weeks' meetings then see "
                "the plan against what was spent, and whether the forecast held once the "
                "leads have had time to convert.", icon=":material/history:")
        return
    for i, entry in enumerate(entries):
        body = st.container(border=True) if i == 0 else st.expander(entry.title)
        with body:
            if i == 0:
                st.markdown(f"#### {entry.title}")
            if entry.note:
                st.caption(f"Note: {md_text(entry.note)}")  # typed in the app: plain text
            st.markdown(entry.verdict)
            st.dataframe(entry.channels, hide_index=True, width="stretch")
            if len(entry.weeks):
                st.markdown("**Planned against actual, week by week**")
                st.dataframe(entry.weeks, hide_index=True, width="stretch",
                             height=min(400, 38 + 35 * len(entry.weeks)))
    with st.expander("Recorded one by mistake?"):
        chosen = st.selectbox("Decision", [e.decision_id for e in entries],
                              format_func=lambda d: f"Decision {d}", key="alloc_delete_id")
        if st.button("Remove this decision", icon=":material/delete:"):
            with app_state.writer() as cur:
                alloc.delete_decision(cur, chosen)
            st.rerun()


def _no_spend() -> None:
    st.info("No spend data yet: the plan needs to know what each channel costs. Type this "
            "week's money and hours per channel below, or upload a spend file (channel, week, "
            "money and/or hours) on the Upload page.", icon=":material/payments:")
    st.page_link(app_ui.UPLOAD_PAGE, label="Go to the Upload page", icon=":material/upload:")


def _week_spend(has_spend: bool) -> None:
    """Money and hours per channel for one week, typed here: a plan without any file."""
    week = alloc.plan_week(app_state.as_of())
    title = f"Money and hours per channel, week of {fmt.date(week)}"
    with st.expander(title, expanded=not has_spend, icon=":material/edit_note:"):
        st.caption("What each channel cost that week: money (ads, fees) and hours (calls, "
                   "visits). Leave a channel empty if you do not know. Saving replaces what "
                   "was stored for that week.")
        table = alloc.week_spend_table(week)
        edited = st.data_editor(
            table, key="week_spend", hide_index=True, width="stretch",
            disabled=["Channel"],
            column_config={
                "channel": None,
                alloc.WEEK_MONEY: st.column_config.NumberColumn(min_value=0.0, format="$%.2f"),
                alloc.WEEK_HOURS: st.column_config.NumberColumn(min_value=0.0, format="%.1f"),
            },
        )
        if st.button("Save this week's money and hours", icon=":material/save:",
                     key="week_spend_save"):
            with app_state.writer() as cur:
                result = alloc.save_week_spend(cur, edited, week)
            st.session_state["week_spend_saved"] = result["summary"]
            st.session_state.pop("week_spend", None)
            st.rerun()
    if saved := st.session_state.pop("week_spend_saved", None):
        st.success(md_text(saved), icon=":material/check_circle:")


if not app_ui.page_needs_data():
    st.title("Allocation: where next week's money and hours go")
    inputs = alloc.inputs()
    st.caption(alloc.data_caption(inputs))
    recommendation = None
    if not alloc.has_spend(inputs):
        _no_spend()
        _week_spend(False)
    else:
        _week_spend(True)
        settings = _inputs_expander()
        try:
            recommendation = alloc.recommend(settings)
        except AllocationError as exc:
            st.warning(f"These settings cannot all be kept: {md_text(exc)}.",
                       icon=":material/block:")
    if recommendation is not None and not recommendation.channels:
        st.info(md_text(recommendation.summary), icon=":material/payments:")
        for line in alloc.excluded_text(recommendation):
            st.markdown(f"- {line}")
    elif recommendation is not None:
        _recommendation(recommendation)
        shares = _what_if(recommendation)
        _accept(recommendation, shares)
    _decision_log()
