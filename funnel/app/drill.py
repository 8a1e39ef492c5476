"""The drill-down: every bar, cell and funnel step opens the leads behind it (CRM id, channel,
stage, owner, created day, value; nothing personal), filterable and downloadable as CSV.

A chart builder puts what each point stands for in the last item of its customdata
(``funnel.charts.drill``); :func:`chart` draws the figure with point selection on, and a
click opens :func:`leads_dialog` with the leads ``funnel.metrics.metrics.leads_behind`` finds
under the sidebar's filters. :func:`explorer` asks the same question with pickers, for anyone
who prefers them (and for the tests, which cannot click a chart).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import streamlit as st

from funnel import charts
from funnel import format as fmt
from funnel.app import state as app_state
from funnel.app import tables as app_tables
from funnel.app import ui as app_ui
from funnel.charts import NO_OWNER, NO_REASON, OTHER_REASON
from funnel.safe_text import md_text

OUTCOMES = {"won": "won", "lost": "lost", "open": "still open"}
SEEN_SUFFIX = "__seen"


def narrow_of(point: dict) -> dict | None:
    """What a clicked point stands for (``charts.drill``'s JSON, the customdata's last item),
    or None for a point that opens nothing."""
    data = point.get("customdata")
    last = data[-1] if isinstance(data, list) and data else data
    if not isinstance(last, str) or not last.startswith("{"):
        return None
    try:
        narrow = json.loads(last)
    except ValueError:
        return None
    return narrow if isinstance(narrow, dict) and narrow else None


def chart(build: Callable, data, *args, key: str, value_column: str | None = None,
          empty_message: str = charts.EMPTY_MESSAGE, reasons: list[str] | None = None,
          **kwargs) -> bool:
    """Draw ``build(data, ...)`` (cached, as ``ui.chart``) with its points clickable: a click
    on a bar, cell or step opens the leads behind it; an information box when there is nothing
    to draw (False). ``reasons``: the lost reasons shown by name (what "Other" is not), for a
    lost-reason chart."""
    if not charts.has_rows(data, value_column):
        st.info(empty_message, icon=":material/filter_alt_off:")
        return False
    fig = app_state.figure(build, data, *args, **kwargs)
    fig.update_layout(clickmode="event+select")
    app_ui.draw_selectable(fig, key=key)
    event = st.session_state.get(key)
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    seen_key = key + SEEN_SUFFIX
    picked = json.dumps(points, sort_keys=True, default=str)
    if not points:  # nothing picked (or a click took the pick away): the next click opens
        st.session_state.pop(seen_key, None)
        return True
    if st.session_state.get(seen_key) == picked:
        return True  # a rerun for another reason: the dialog stays shut
    st.session_state[seen_key] = picked
    narrow = narrow_of(points[0])
    if narrow is not None:
        if narrow.pop("other_reasons", None):
            narrow["other_than"] = list(reasons or [])
        leads_dialog(narrow)
    return True


def describe(narrow: dict, names: dict[str, str]) -> str:
    """What the leads are, in words: 'Referral · won · created in the week of 2 Nov 2026'."""
    parts = []
    if narrow.get("owner"):
        parts.append(md_text(str(narrow["owner"])))
    if narrow.get("no_owner"):
        parts.append(NO_OWNER.lower())
    if narrow.get("channel"):
        parts.append(md_text(names.get(narrow["channel"], fmt.channel_label(narrow["channel"]))))
    if narrow.get("reached"):
        parts.append(f"reached {fmt.stage_label(narrow['reached'])}")
    if narrow.get("stage"):
        parts.append(f"now at {fmt.stage_label(narrow['stage'])}")
    if narrow.get("outcome"):
        parts.append(OUTCOMES.get(narrow["outcome"], narrow["outcome"]))
    if narrow.get("lost_reason"):
        parts.append(f"lost for “{md_text(str(narrow['lost_reason']))}”")
    if narrow.get("other_than") is not None:
        parts.append(f"lost for another reason ({OTHER_REASON})")
    if narrow.get("no_reason"):
        parts.append(NO_REASON.lower())
    if narrow.get("week"):
        parts.append(f"came in the week of {fmt.date(narrow['week'])}")
    return " · ".join(parts) or "every lead"


@st.dialog("The leads behind this number", width="large")
def leads_dialog(narrow: dict) -> None:
    """The leads behind a clicked point, with the CSV of all of them."""
    show_leads(narrow, key="dialog")


def show_leads(narrow: dict, key: str) -> None:
    """The leads ``narrow`` picks under the sidebar's filters: a caption of what they are, the
    newest ``metrics.DRILL_ROWS`` as a table, and a CSV download of all of them."""
    names = app_state.channel_names()
    what = describe(narrow, names)
    st.caption(f"{what[:1].upper()}{what[1:]}, under the sidebar's filters "
               f"({app_ui.period_caption()}).")
    leads = app_state.leads_behind(narrow)
    total = int(leads["total"].iloc[0]) if len(leads) else 0
    if not total:
        st.info("No lead matches.", icon=":material/search_off:")
        return
    shown = leads.drop(columns="total")
    st.markdown(f"**{fmt.count(total)} lead{'s' if total != 1 else ''}**"
                + (f", the newest {fmt.count(len(shown))} shown" if total > len(shown) else ""))
    st.dataframe(app_tables.leads_table(shown), hide_index=True, width="stretch")
    st.download_button("Download all as CSV", app_state.leads_csv(narrow),
                       file_name="funnel-leads.csv", mime="text/csv",
                       icon=":material/download:", key=f"{key}_csv", on_click="ignore")


def explorer(key: str = "explore") -> None:
    """Pick a channel, a stage, an outcome and an owner: the leads behind that, under the
    sidebar's filters."""
    opts = app_state.options()
    names = app_state.channel_names()
    channels = [None, *opts["channels"]]
    owners = [None, *opts["owners"]]
    stages = [None, "new", "contacted", "qualified", "proposal"]
    cols = st.columns(4)
    channel = cols[0].selectbox("Channel", channels, key=f"{key}_channel",
                                format_func=lambda c: "Every channel" if c is None
                                else names.get(c, fmt.channel_label(c)))
    outcome = cols[1].selectbox("Outcome", [None, *OUTCOMES], key=f"{key}_outcome",
                                format_func=lambda o: "Any" if o is None else OUTCOMES[o])
    stage = cols[2].selectbox("Open at stage", stages, key=f"{key}_stage",
                              format_func=lambda s: "Any" if s is None else fmt.stage_label(s))
    owner = cols[3].selectbox("Owner", owners, key=f"{key}_owner",
                              format_func=lambda o: "Every owner" if o is None else str(o))
    narrow = {k: v for k, v in {"channel": channel, "outcome": outcome, "stage": stage,
                                "owner": owner}.items() if v is not None}
    if stage is not None:
        narrow["outcome"] = "open"
    show_leads(narrow, key=key)
