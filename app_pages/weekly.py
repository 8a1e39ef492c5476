"""Weekly review: the pack for one ISO week (issue 6). What moved and whether it is real, what
is hot, what the last meeting decided, and the pack to take away (HTML, Markdown, CSV).

Thin: ``funnel.weekly`` builds the pack, ``funnel.weekly.export`` its charts and files; this page
picks the week and lays them out. The sidebar filters do not apply: the pack covers every
channel and owner, as the meeting does.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from funnel import format as fmt
from funnel.app import state as app_state
from funnel.app import ui as app_ui
from funnel.app import weekly as app_weekly
from funnel.safe_text import md_text
from funnel.weekly import export as weekly_export
from funnel.weekly import tables

WEEK_KEY = "weekly_week"
PLOTLY_CONFIG = {"displaylogo": False, "displayModeBar": False}


def _bullets(items: list[str]) -> None:
    # the pack's sentences name channels and owners as the files spell them: plain text
    st.markdown("\n".join(f"- {md_text(item)}" for item in items))


if not app_ui.page_needs_data():
    con, db, rev = app_weekly.connection(), str(app_state.db_path()), app_state.revision()
    weeks, default = app_weekly.weeks(con, db, rev)
    st.title("Weekly review")
    if st.session_state.get(WEEK_KEY) not in weeks:
        st.session_state[WEEK_KEY] = default if default in weeks else weeks[0]
    week = st.selectbox("Week", weeks, key=WEEK_KEY,
                        format_func=lambda w: app_weekly.week_label(w, default))
    pack = app_weekly.pack(con, db, rev, week)
    st.caption(weekly_export.subtitle(pack) + ". The sidebar filters do not apply here: the "
               "pack covers every channel and owner.")
    if not pack.is_complete:
        st.warning(f"{pack.week} is not over: the data stops on {fmt.date(pack.as_of)}, so its "
                   "numbers are partial and nothing is flagged yet.", icon=":material/schedule:")

    app_ui.section("This week against the weeks before", "weekly")
    numbers = weekly_export.headline(pack)
    # three to a row: five to a row cut "$23,200" to "$23,…" at 1280 px
    for start in range(0, len(numbers), 3):
        row = numbers[start:start + 3]
        for column, (what, value, note) in zip(st.columns(3)[:len(row)], row, strict=True):
            column.metric(what, value, border=True)
            column.caption(note)
    if pack.wins_without_date:
        st.caption(md_text(pack.wins_without_date))

    moved_col, agenda_col = st.columns(2)
    with moved_col:
        st.subheader("What moved")
        _bullets(pack.moved or [weekly_export.nothing_moved(pack)])
    with agenda_col:
        st.subheader("To decide today")
        _bullets(pack.agenda)

    st.subheader(weekly_export.head_to_head_title(pack))
    first, *rest = weekly_export.head_to_head_lines(pack)
    st.markdown(md_text(first))  # channel names as the files spell them: plain text
    for line in rest:
        st.caption(md_text(line))
    st.subheader("Where next week's money and hours go")
    summary, moves = weekly_export.advice_lines(pack)
    st.markdown(md_text(summary))
    if moves:
        st.table(app_weekly.advice_cells(pack), hide_index=True)

    st.subheader("Last meeting's decisions")
    if len(pack.decisions):
        st.dataframe(tables.decisions_table(pack), hide_index=True, width="stretch",
                     height="content")
    if pack.decisions_note:
        st.caption(md_text(pack.decisions_note))

    figures = app_weekly.figures(pack, db, rev, week)
    if figures:
        for title, spec in figures.items():  # one to a row: side by side, labels were 6 px
            st.markdown(f"**{title}**")
            app_ui.draw(app_state.as_figure(spec), config=PLOTLY_CONFIG)

    st.subheader("New leads by channel")
    st.dataframe(tables.leads_table(pack), hide_index=True, width="stretch", height="content")
    st.caption(weekly_export.cohort_sentence(pack))
    st.subheader("Deals won by channel")
    app_ui.table(tables.sales_table(pack))  # wraps: nine columns fit at 1280 px

    st.subheader("Open pipeline by temperature")
    app_ui.table(tables.pipeline_table(pack))
    st.subheader(f"Oldest hot deals ({fmt.count(pack.hot_total)} in all)")
    if len(pack.hot_leads):
        st.dataframe(tables.hot_leads_table(pack), hide_index=True, width="stretch",
                     height="content")
    else:
        st.info("No hot deals open.", icon=":material/check:")

    st.subheader("Take it away")
    files = app_weekly.files(pack, db, rev, week)
    # two rows of two: four buttons side by side clip their words at 1280 px
    html_col, pdf_col = st.columns(2)
    md_col, csv_col = st.columns(2)
    html_col.download_button("One-page HTML (opens offline)", files["html"],
                             file_name=f"weekly_{pack.week}.html", mime="text/html",
                             icon=":material/description:", width="stretch")
    make_pdf = app_weekly.pdf_maker(pack, db, rev, week)
    if make_pdf is not None:  # printed by chromium only when clicked
        pdf_col.download_button("PDF to print or attach", make_pdf,
                                file_name=f"weekly_{pack.week}.pdf", mime="application/pdf",
                                icon=":material/picture_as_pdf:", width="stretch",
                                key="weekly_pdf")
    else:
        pdf_col.caption("PDF: this machine has no chromium to print it; open the HTML and "
                        "print it from the browser.")
    md_col.download_button("Markdown for notes or chat", files["md"],
                           file_name=f"weekly_{pack.week}.md", mime="text/markdown",
                           icon=":material/notes:", width="stretch")
    csv_col.download_button("Tables as CSV (zip)", files["zip"],
                            file_name=f"weekly_{pack.week}_csv.zip", mime="application/zip",
                            icon=":material/table:", width="stretch")

    with st.expander("Send the pack by e-mail every week", icon=":material/schedule_send:"):
        st.caption("Funnel e-mails the pack (the page as the message, the PDF attached) "
                   "through your mail server's SMTP settings, kept in .streamlit/secrets.toml "
                   "or the FUNNEL_SMTP_* variables (see docs/WEEKLY.md). Pick when, then add "
                   "the line below to the machine's crontab (crontab -e), or the two lines to "
                   "a systemd timer and its service.")
        to_col, day_col, time_col = st.columns([3, 1, 1])
        to = to_col.text_input("Send to", placeholder="you@example.com, partner@example.com",
                               key="weekly_send_to")
        day = day_col.selectbox("Every", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
                                key="weekly_send_day")
        at = time_col.time_input("At", value=dt.time(7, 30), key="weekly_send_time")
        if to.strip():
            try:
                lines = app_weekly.schedule(to, day, at.strftime("%H:%M"))
            except ValueError as exc:
                st.warning(md_text(str(exc)), icon=":material/error:")
            else:
                st.markdown("**cron** (one line):")
                st.code(lines["cron"], language="bash", wrap_lines=True)
                st.markdown("**systemd**: the timer's line, then the service's:")
                st.code(lines["systemd"] + "\n" + lines["systemd_exec"], language="ini",
                        wrap_lines=True)

    with st.expander("How to read this: is a change real?"):
        _bullets(weekly_export.tests_note(pack))
