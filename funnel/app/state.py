"""Streamlit glue for the dashboard: the one store handle per process, cached metric results,
and the sidebar filters every page reads from ``st.session_state``.

- The DuckDB connection lives in ``st.cache_resource`` (shared by every session and thread);
  each query takes its own ``con.cursor()`` and closes it, and writes (uploads, synonym edits,
  the demo) also hold a process-wide lock, so several sessions work at once without
  "connection is busy" or lock errors. Never the global ``duckdb.sql()``.
- Results are cached with ``st.cache_data`` keyed by the store's path, its revision (which
  changes on every write) and the filters; the connection argument is ``_con`` (not hashed).
  Figures too (:func:`figure`), keyed by the chart and the content of what it draws, so a rerun
  redraws without building plotly figures again.
- Once per server process, a background thread computes what the pages show under the default
  filters (:func:`start_warm_up`). Streamlit runs no app code before a browser connects, so it
  starts with the first visit, once that visit's page is drawn: the first visitor's other pages
  and every later visit find them cached.
- One script run reads one revision: ``begin_run()`` (app.py) pins the run to the revision of
  its first read, and a read that finds another one (an upload landed mid-run) reruns the
  script, so a page never shows some numbers from before a write and some from after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import pickle
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from funnel import format as fmt
from funnel.demo import store as demo
from funnel.metrics import metrics
from funnel.store import connection as store

# Keys of the sidebar widgets in st.session_state.
PERIOD_KEY = "filter_period"
DATES_KEY = "filter_dates"
CHANNELS_KEY = "filter_channels"
OWNERS_KEY = "filter_owners"

PERIODS = {
    "all": "All dates",
    "4w": "Last 4 weeks",
    "8w": "Last 8 weeks",
    "13w": "Last 13 weeks",
    "custom": "Choose dates…",
}
PERIOD_WEEKS = {"4w": 4, "8w": 8, "13w": 13}
# The store revision this script run reads (None until its first read); see begin_run().
RUN_REVISION_KEY = "_store_revision_of_run"


class ReadWriteLock:
    """Many readers at once, or one writer alone; a waiting writer holds off new readers.

    Why: DuckDB refuses the CHECKPOINT that ends an ingest while another cursor of the same
    connection is in a transaction, so reads pause for the few seconds an upload writes.
    Not re-entrant: never take a read inside a read or a write in the same thread.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


@dataclass
class StoreHandle:
    """The process's connection to the store and the lock that orders its reads and writes."""

    path: Path
    con: duckdb.DuckDBPyConnection
    lock: ReadWriteLock


@dataclass(frozen=True)
class Filters:
    """What the sidebar selected: created-date bounds (ISO, inclusive) and names (None = all)."""

    start: str | None = None
    end: str | None = None
    channels: tuple[str, ...] | None = None
    owners: tuple[str, ...] | None = None

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for a ``funnel.metrics`` function."""
        return {
            "start": self.start,
            "end": self.end,
            "channels": list(self.channels) if self.channels is not None else None,
            "owners": list(self.owners) if self.owners is not None else None,
        }


def _close(handle: StoreHandle) -> None:
    handle.con.close()


@st.cache_resource(show_spinner=False, on_release=_close)
def _open(db_path: str) -> StoreHandle:
    return StoreHandle(Path(db_path), store.connect(db_path), ReadWriteLock())


def db_path() -> Path:
    """The store this process serves: ``$FUNNEL_DB`` or ``data/funnel.duckdb``."""
    return store.default_db_path().resolve()


def handle() -> StoreHandle:
    """The shared handle (raises ``store.StoreBusyError`` if another process writes the file)."""
    return _open(str(db_path()))


def begin_run() -> None:
    """Start of a script run (app.py, before any read): the run's first read pins the store
    revision every later read of the run must see (``reader`` reruns the script if not)."""
    st.session_state[RUN_REVISION_KEY] = None


def _same_revision_as_run(cur: duckdb.DuckDBPyConnection) -> None:
    # Called under the read lock, so the revision checked is the one the read will see.
    if get_script_run_ctx(suppress_warning=True) is None:  # the warm-up thread: no run to pin
        return
    state = st.session_state
    if RUN_REVISION_KEY not in state:  # outside app.py (a page run alone, a script)
        return
    rev = store.revision(cur)
    pinned = state[RUN_REVISION_KEY]
    if pinned is None:
        state[RUN_REVISION_KEY] = rev
    elif pinned != rev:  # a write landed since this run's first read: draw it all again
        state[RUN_REVISION_KEY] = None
        st.rerun()


@contextmanager
def reader(h: StoreHandle | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh cursor on the shared connection for one read, closed afterwards; it sees the
    revision this script run started reading (else the run starts again)."""
    h = h or handle()
    with h.lock.read():
        cur = h.con.cursor()
        try:
            _same_revision_as_run(cur)
            yield cur
        finally:
            cur.close()


@contextmanager
def writer() -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor for a write (upload, synonym edit, demo), alone on the store while it runs;
    the run goes on reading what it wrote."""
    h = handle()
    with h.lock.write():
        cur = h.con.cursor()
        try:
            yield cur
            if st.session_state.get(RUN_REVISION_KEY) is not None:
                st.session_state[RUN_REVISION_KEY] = store.revision(cur)
        finally:
            cur.close()


def revision() -> int:
    """The store's revision: part of every cache key, so a write refreshes every page."""
    with reader() as cur:
        return store.revision(cur)


# --- cached reads ----------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=1024)
def _metric(_con: StoreHandle, db: str, rev: int, name: str, filters: Filters) -> pd.DataFrame:
    source = metrics.READS_ROWS_OF.get(name)
    if source is not None:  # the time-to-win summary and curve share one read of their rows
        rows = _metric(_con, db, rev, source, filters)
        return metrics.METRICS[name](None, rows=rows)
    with reader(_con) as cur:
        return metrics.METRICS[name](cur, **filters.as_kwargs())


def metric(name: str, filters: Filters | None = None) -> pd.DataFrame:
    """A ``funnel.metrics`` result for the sidebar's filters (or ``filters``), cached by store,
    revision and filters."""
    f = current_filters() if filters is None else filters
    return _metric(handle(), str(db_path()), revision(), name, f)


@st.cache_data(show_spinner=False, max_entries=256)
def _head_to_head(
    _con: StoreHandle, db: str, rev: int, a: str, b: str, filters: Filters
) -> dict:
    kwargs = filters.as_kwargs()
    # the page's cached conversion table holds both channels' rows when no channel is filtered
    conversion = (_metric(_con, db, rev, "conversion_by_channel", filters)
                  if kwargs["channels"] is None else None)
    with reader(_con) as cur:
        return metrics.head_to_head(cur, a, b, kwargs["start"], kwargs["end"], kwargs["owners"],
                                    conversion=conversion)


def head_to_head(a: str, b: str, filters: Filters | None = None) -> dict:
    """``funnel.metrics.metrics.head_to_head`` for two channels under the sidebar's dates and
    owners."""
    f = current_filters() if filters is None else filters
    return _head_to_head(handle(), str(db_path()), revision(), a, b, f)


@st.cache_data(show_spinner=False, max_entries=256)
def _leads_behind(_con: StoreHandle, db: str, rev: int, narrow: str, filters: Filters,
                  limit: int) -> pd.DataFrame:
    with reader(_con) as cur:
        return metrics.leads_behind(cur, **filters.as_kwargs(), **json.loads(narrow),
                                    limit=limit)


def leads_behind(narrow: dict, filters: Filters | None = None) -> pd.DataFrame:
    """``metrics.leads_behind`` for a drill-down's ``narrow`` (its keywords) under the
    sidebar's filters: the newest ``metrics.DRILL_ROWS``, cached by store, revision and both."""
    f = current_filters() if filters is None else filters
    return _leads_behind(handle(), str(db_path()), revision(),
                         json.dumps(narrow, sort_keys=True), f, metrics.DRILL_ROWS)


def leads_csv(narrow: dict, filters: Filters | None = None) -> Callable[[], str]:
    """A callable making the CSV of every lead ``narrow`` picks (up to
    ``metrics.DRILL_CSV_LIMIT``): a download button runs it on click, off the page's run."""
    f = current_filters() if filters is None else filters
    h, db, rev, key = handle(), str(db_path()), revision(), json.dumps(narrow, sort_keys=True)

    def make() -> str:
        from funnel.app import tables as app_tables
        from funnel.safe_text import neutralise

        leads = _leads_behind(h, db, rev, key, f, metrics.DRILL_CSV_LIMIT)
        # a cell a spreadsheet would run as a formula (=, +, -, @) is written as text
        table = app_tables.leads_table(leads.drop(columns="total")).map(neutralise)
        return table.to_csv(index=False)

    return make


@st.cache_data(show_spinner=False, max_entries=64)
def _forecast(_con: StoreHandle, db: str, rev: int, filters: Filters) -> dict:
    from funnel.metrics import forecast as forecast_metric

    with reader(_con) as cur:
        return forecast_metric.forecast(cur, **filters.as_kwargs())


def forecast(filters: Filters | None = None) -> dict:
    """``funnel.metrics.forecast.forecast`` under the sidebar's filters, cached."""
    f = current_filters() if filters is None else filters
    return _forecast(handle(), str(db_path()), revision(), f)


@st.cache_data(show_spinner=False, max_entries=16)
def _kept_forecasts(_con: StoreHandle, db: str, rev: int) -> pd.DataFrame:
    from funnel import forecast_log

    with reader(_con) as cur:
        return forecast_log.scored(cur)


@st.cache_data(show_spinner=False, max_entries=16)
def _currency(_con: StoreHandle, db: str, rev: int) -> str | None:
    from funnel.store import currency as money

    with reader(_con) as cur:
        return money.store_currency(cur)


def currency_code() -> str | None:
    """The ISO code of the store's money (None: no file named one); app.py writes every amount
    of a run in its mark (``funnel.format.in_currency``)."""
    return _currency(handle(), str(db_path()), revision())


def kept_forecasts() -> pd.DataFrame:
    """Every kept forecast against the wins that came (``funnel.forecast_log.scored``)."""
    return _kept_forecasts(handle(), str(db_path()), revision())


def keep_forecast() -> int:
    """Keep the forecast of every open deal (no filter) to score it later; its number."""
    from funnel import forecast_log

    result = forecast(Filters())
    with writer() as cur:
        return forecast_log.keep(cur, result)


@st.cache_data(show_spinner=False, max_entries=512)
def _figure(
    _build: Callable[..., go.Figure], builder: str, content: str, _data: Any, _args: tuple,
    _kwargs: dict,
) -> dict:
    return _build(_data, *_args, **_kwargs).to_dict()


def _builder_key(build: Callable) -> str:
    # name and identity: the builders are module-level functions, alive as long as the process
    # (and the in-memory cache); the identity keeps apart two wrappers of one name
    return f"{build.__module__}.{build.__qualname__}@{id(build):x}"


def _content_key(*values: Any) -> str:
    # What a figure draws, by content: any filter, revision or derived frame that changes the
    # data changes the key. Pickling is ~20x faster than Streamlit's own hashing of a frame,
    # and handles list columns without falling back (and warning).
    return hashlib.blake2b(pickle.dumps(values, protocol=5), digest_size=20).hexdigest()


def figure(build: Callable[..., go.Figure], data: Any, *args, **kwargs) -> go.Figure:
    """``build(data, *args, **kwargs)`` from ``funnel.charts``, cached: a rerun (any widget
    click) redraws a chart without building the plotly figure again.

    The figure comes back unvalidated: its dict came out of a validated figure, and checking
    it again costs 10-40 ms per chart (``st.plotly_chart`` skips it for a ``go.Figure``).
    """
    key = _content_key(data, args, kwargs, fmt.current_mark())  # its money labels' mark too
    return as_figure(_figure(build, _builder_key(build), key, data, args, kwargs))


def as_figure(spec: dict) -> go.Figure:
    """A figure from the dict of a figure built (and validated) earlier, not validated again."""
    try:
        return go.Figure(spec, _validate=False)
    except TypeError:  # a plotly without the private switch: validate after all
        return go.Figure(spec)


def options() -> pd.Series:
    """What the filters can offer (``metrics.filter_options``' one row), whatever is selected."""
    return metric("filter_options", Filters()).iloc[0]


def channel_names() -> dict[str, str]:
    """channel slug -> words, every channel in the store, biggest first."""
    opts = options()
    return fmt.channel_labels(list(opts["channels"]), list(opts["channel_labels"]))


def has_leads() -> bool:
    """False on a fresh or empty store: pages then offer the demo data and the upload page."""
    return len(options()["channels"]) > 0


def as_of() -> dt.date | None:
    """The store's as-of date."""
    value = metric("as_of_date", Filters()).iloc[0]["as_of_date"]
    return None if pd.isna(value) else pd.Timestamp(value).date()


# --- warm-up ---------------------------------------------------------------------------------

WARM_UP_ENV = "FUNNEL_WARM_UP"  # "0": never warm up; "1": also outside `streamlit run`
# What the pages read with the default filters, most expensive first (Streamlit computes one key
# once: a run that needs a key being warmed waits for it).
WARM_METRICS = (
    "funnel_by_channel",
    "time_to_win_curve",
    "weekly_cohorts",
    "headline_by_week",
    "open_by_temperature",
    "conversion_by_channel",
    "leads_by_week",
    "lead_volume_vs_previous",
    "leads_by_channel",
    "spend_by_channel",
)
_log = logging.getLogger(__name__)


def start_warm_up() -> None:
    """Once per server process and store (app.py, at the end of a run when the store has leads):
    fill Streamlit's caches with what the pages show under the default filters, in a background
    thread, so the first visitor's other pages and later visits find them computed
    (docs/PERFORMANCE.md, gap 5). Started after the first visitor's page is drawn, not before:
    on two cores the thread would slow that page's own first chart. Not in AppTest (whose
    runtime is a mock), unless ``FUNNEL_WARM_UP=1``."""
    wanted = os.environ.get(WARM_UP_ENV, "")
    if wanted == "0" or (wanted != "1" and not _served()):
        return
    _warm_up_thread(str(db_path()))


def _served() -> bool:
    from streamlit.runtime import Runtime

    return Runtime.exists() and type(Runtime.instance()) is Runtime


@st.cache_resource(show_spinner=False)
def _warm_up_thread(db: str) -> threading.Thread:
    thread = threading.Thread(target=_warm_up_quietly, args=(db,), name="funnel-warm-up",
                              daemon=True)
    thread.start()
    return thread


def _warm_up_quietly(db: str) -> None:
    try:
        warm_up(db)
    except Exception:  # a cache left cold is no error: the pages compute what they need
        _log.warning("warming the dashboard's caches stopped early", exc_info=True)


def warm_up(db: str) -> list[str]:
    """Compute and cache the default-filter metrics and head-to-heads of the pages; returns
    what it warmed. Reads like a page does: a cursor per query, under the read lock."""
    from funnel.app import findings as app_findings

    h = _open(db)
    with reader(h) as cur:
        rev = store.revision(cur)
    everything = Filters()
    warmed = []
    for name in (*WARM_METRICS, "filter_options", "as_of_date"):
        _metric(h, db, rev, name, everything)
        warmed.append(name)
    conversion = _metric(h, db, rev, "conversion_by_channel", everything)
    pairs = [app_findings.finding_pair(conversion),
             app_findings.default_pair(list(conversion["channel"]))]
    for pair in dict.fromkeys(p for p in pairs if p is not None):
        _head_to_head(h, db, rev, *pair, everything)
        warmed.append("head_to_head:" + "/".join(pair))
    return warmed


# --- filters ---------------------------------------------------------------------------------


def period_bounds(
    period: str,
    first: dt.date | None,
    last: dt.date | None,
    chosen: tuple[dt.date, ...] | None = None,
) -> tuple[dt.date | None, dt.date | None]:
    """(start, end) of a period preset: "Last N weeks" ends with the week of the latest lead."""
    if period in PERIOD_WEEKS and last is not None:
        monday = last - dt.timedelta(days=last.weekday())
        return monday - dt.timedelta(weeks=PERIOD_WEEKS[period] - 1), last
    if period == "custom" and chosen:
        start = chosen[0]
        end = chosen[1] if len(chosen) > 1 else last
        return start, end
    return None, None


def current_filters() -> Filters:
    """The sidebar's selection, read from ``st.session_state`` (all data when unset)."""
    state = st.session_state
    period = state.get(PERIOD_KEY, "all")
    start = end = None
    if period != "all":
        opts = options()
        first, last = _date(opts["min_created"]), _date(opts["max_created"])
        start, end = period_bounds(period, first, last, state.get(DATES_KEY))
    channels = tuple(state.get(CHANNELS_KEY) or ()) or None
    owners = tuple(state.get(OWNERS_KEY) or ()) or None
    return Filters(
        start=start.isoformat() if start else None,
        end=end.isoformat() if end else None,
        channels=channels,
        owners=owners,
    )


def _date(value: object) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def date_limits() -> tuple[dt.date | None, dt.date | None]:
    """The first and last created date in the store."""
    opts = options()
    return _date(opts["min_created"]), _date(opts["max_created"])


# --- writes ----------------------------------------------------------------------------------


def load_demo() -> None:
    """Ingest the bundled demo data into the (empty) store, through the shared connection."""
    with writer() as cur:
        if not store.fetch_one(cur, "uploads/lead_count")[0]:
            demo.load_demo(cur, db_path())


@st.cache_data(show_spinner=False, max_entries=64)
def detect_upload(sha: str, path: str, name: str):
    """``app_upload.detect`` for a kept file, cached by its bytes' sha256 (nothing written)."""
    from funnel.app import upload as app_upload

    with reader() as cur:
        return app_upload.detect(cur, Path(path), name)
