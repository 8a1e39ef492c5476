"""The Weekly page's work: the weeks a pack can be made for, the pack, its files and figures,
each cached by store and revision (``funnel.weekly`` builds them; the page lays them out)."""

from __future__ import annotations

import streamlit as st

from funnel.app import state as app_state
from funnel.weekly import export as weekly_export
from funnel.weekly import pack as weekly
from funnel.weekly import week as iso_week


def connection() -> app_state.StoreHandle:
    """The one place this page takes its connection: the dashboard's shared store handle
    (each cached read below takes a reader cursor from it, under the store's read lock)."""
    return app_state.handle()


@st.cache_data(show_spinner=False, max_entries=64)
def weeks(_con: app_state.StoreHandle, db: str, rev: int) -> tuple[list[str], str | None]:
    with app_state.reader(_con) as cur:
        weeks = [str(w) for w in iso_week.available_weeks(cur)]
        first, as_of = iso_week.data_span(cur)
    return weeks, str(iso_week.default_week(as_of, first)) if as_of else None


@st.cache_data(show_spinner="Putting the week's pack together…", max_entries=64)
def pack(_con: app_state.StoreHandle, db: str, rev: int, week: str) -> weekly.WeeklyPack:
    with app_state.reader(_con) as cur:
        return weekly.weekly_pack(cur, week)


@st.cache_data(show_spinner=False, max_entries=16)
def files(_pack: weekly.WeeklyPack, db: str, rev: int, week: str) -> dict[str, bytes]:
    return {
        "html": weekly_export.render_html(_pack).encode("utf-8"),
        "md": weekly_export.render_markdown(_pack).encode("utf-8"),
        "zip": weekly_export.csv_zip(_pack),
    }


@st.cache_data(show_spinner=False, max_entries=8)
def _pdf(_pack: weekly.WeeklyPack, db: str, rev: int, week: str) -> bytes:
    return weekly_export.pdf_bytes(_pack)


def pdf_maker(pack: weekly.WeeklyPack, db: str, rev: int, week: str):
    """What the PDF button calls when clicked (and only then: printing takes chromium a few
    seconds), or None when this machine has no chromium to print with."""
    if not weekly_export.pdf_available():
        return None
    return lambda: _pdf(pack, db, rev, week)


@st.cache_data(show_spinner=False, max_entries=16)
def figures(_pack: weekly.WeeklyPack, db: str, rev: int, week: str) -> dict[str, dict]:
    # built once per pack: a rerun (the week picker, a download) redraws them from the cache
    return {title: fig.to_dict() for title, fig in weekly_export.figures(_pack).items()}


def advice_cells(pack: weekly.WeeklyPack):
    """The advice table for ``st.table``, whose cells are Markdown: every cell plain text."""
    from funnel.safe_text import md_text
    from funnel.weekly import tables

    return tables.advice_table(pack).map(md_text)


def week_label(week: str, default: str | None) -> str:
    text = f"{week} · {iso_week.Week.parse(week).dates()}"
    return text + " (last complete week)" if week == default else text


def schedule(recipients: str, weekday: str, time: str) -> dict[str, str]:
    """The cron line and the systemd timer lines that e-mail the pack every week to
    ``recipients`` (addresses separated by commas, spaces or semicolons) on ``weekday`` at
    ``time`` (HH:MM), from this dashboard's folder and store. Raises ``mail.ScheduleError``
    (or ValueError for a missing address) with a message for the page."""
    import re

    from funnel.weekly import mail

    addresses = [a for a in re.split(r"[,;\s]+", recipients) if a]
    if not addresses:
        raise ValueError("Type at least one address to send the pack to.")
    bad = [a for a in addresses if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", a)]
    if bad:
        raise ValueError(f"Not an e-mail address: {bad[0]}")
    return mail.schedule_lines(weekday, time,
                               mail.scheduled_command(addresses, app_state.db_path()))
