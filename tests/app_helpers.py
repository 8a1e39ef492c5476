"""Helpers for the dashboard tests: a Streamlit server in a subprocess, Debian's Chromium via
the playwright package (never ``playwright install``), expected numbers computed with plain
pandas from the raw files, and a store copied with its key and kept uploads."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
DEMO_LATEST = ROOT / "data" / "demo" / "pipedrive_deals_2026-11-22.csv"
PAGES = {
    "overview": "",
    "marketing": "marketing",
    "sales": "sales",
    "weekly": "weekly",
    "allocation": "allocation",
    "upload": "upload",
    "definitions": "definitions",
}
# Each page's link in the sidebar and the start of its title.
NAV = {
    "overview": ("Overview", "This week at a glance"),
    "marketing": ("Marketing", "Marketing: is the phone ringing?"),
    "sales": ("Sales", "Sales: are we answering it well?"),
    "weekly": ("Weekly pack", "Weekly review"),
    "allocation": ("Allocation", "Allocation: where next week"),
    "upload": ("Upload", "Upload your CRM exports"),
    "definitions": ("Definitions", "Definitions"),
}


def copy_store(source: Path, path: Path) -> Path:
    """Copy a store to ``path`` with what lives beside it: its PII key (``.key``) and its kept
    raw uploads (``.uploads/``: a file loaded again with other options replays them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, path)
    key = Path(str(source) + ".key")
    if key.exists():
        shutil.copy(key, str(path) + ".key")
    uploads = Path(str(source) + ".uploads")
    if uploads.is_dir():
        shutil.copytree(uploads, str(path) + ".uploads")
    return path


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(db_path: Path, port: int | None = None, timeout: float = 60.0
                     ) -> Iterator[str]:
    """Run ``streamlit run app.py`` on ``db_path``; yields the base URL; always stops it."""
    port = port or free_port()
    env = {**os.environ, "FUNNEL_DB": str(db_path), "PYTHONUNBUFFERED": "1"}
    log = (ARTIFACTS / f"streamlit-{port}.log")
    ARTIFACTS.mkdir(exist_ok=True)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc, timeout, log)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"streamlit not healthy after {timeout}s:\n{log.read_text()}")


@contextlib.contextmanager
def chromium_page(width: int = 1600, height: int = 1000):
    """A Playwright page in Debian's headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            yield context.new_page()
        finally:
            browser.close()


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    """Wait until the script has finished and the page stopped growing (charts drawn)."""
    page.wait_for_selector("[data-testid='stMainBlockContainer']", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    last, stable = None, 0
    while time.monotonic() < deadline and stable < 4:
        page.wait_for_timeout(400)
        state = page.evaluate(
            "() => [document.querySelector('[data-testid=stMain]')?.scrollHeight,"
            " document.querySelectorAll('.js-plotly-plot .main-svg').length,"
            " document.querySelectorAll('[data-testid=stStatusWidget],"
            " [data-testid=stSkeleton]').length,"
            " document.querySelector('[data-testid=stMainBlockContainer]').innerText.length]"
        )
        busy = state[2] > 0 or state[3] == 0
        stable = 0 if busy or state != last else stable + 1
        last = state
    page.wait_for_timeout(500)


def open_page(page, base_url: str, name: str) -> None:
    """Go to one of the app's pages and wait for it: through the sidebar when the app is
    already open (same session, so the filters carry over), else by its URL."""
    link_text, title = NAV[name]
    link = page.locator("[data-testid='stSidebarNavLink']", has_text=link_text)
    if page.url.startswith(base_url) and link.count():
        link.first.click()
    else:
        page.goto(f"{base_url}/{PAGES[name]}", wait_until="domcontentloaded")
    page.locator("h1", has_text=title).first.wait_for(timeout=60_000)
    wait_for_app(page)


def choose_in_sidebar(page, label: str, option: str) -> None:
    """Pick ``option`` in the sidebar selectbox labelled ``label``."""
    box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']",
                       has_text=label).first
    box.click()
    page.get_by_role("option", name=option).click()
    wait_for_app(page)


def full_screenshot(page, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/<name>.png (the main pane scrolls, so
    the viewport is made as tall as the page first)."""
    ARTIFACTS.mkdir(exist_ok=True)
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]') ||"
        " document.querySelector('section.main'); return m ? m.scrollHeight : 1000; }"
    )
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], int(height))})
    page.wait_for_timeout(1500)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


# In-page milestones (ms from navigation start) for the load-order test: when plotly's bundle is
# requested, when the page title shows, and whether the invisible chart of funnel/app/preload.py
# was ever visible. Add with ``page.add_init_script`` before ``goto``; read ``window.__marks``.
LOAD_MARKS_JS = """(() => {
  const m = {preload_visible: false, bundle_url: null}; window.__marks = m;
  new PerformanceObserver((list) => list.getEntries().forEach((e) => {
    if (e.name.includes('/PlotlyChart.') && m.bundle_url === null) {
      m.bundle_url = e.name; m.plotly_bundle_requested = e.startTime;
    }
  })).observe({type: 'resource', buffered: true});
  const preload = '[data-testid="stSidebar"] [data-testid="stPlotlyChart"]';
  new MutationObserver(() => {
    if (!('title' in m) && document.querySelector('[data-testid="stMain"] h1'))
      m.title = performance.now();
    for (const c of document.querySelectorAll(preload))
      if (c.getClientRects().length) m.preload_visible = true;
  }).observe(document, {childList: true, subtree: true, attributes: true});
})();"""


def chart_texts(page) -> list[str]:
    """Every text drawn inside the page's plotly charts (bar labels, ticks, annotations)."""
    return page.eval_on_selector_all(
        ".js-plotly-plot text", "els => els.map(e => e.textContent)"
    )


# --- expected numbers with plain pandas ------------------------------------------------------


def demo_conversion(channel_values: set[str]) -> tuple[int, int]:
    """(won, leads) in the demo's last snapshot for raw channel values (case-insensitive)."""
    df = pd.read_csv(DEMO_LATEST, dtype=str, keep_default_na=False)
    raw = df["Deal - Source channel"].str.strip().str.lower()
    mine = df[raw.isin({v.lower() for v in channel_values})]
    return int((mine["Deal - Status"] == "won").sum()), len(mine)


# The demo's raw 'Deal - Source channel' values (trimmed, lower case) by the channel the SPEC's
# synonyms map them to, as the pages label it, with how it reaches people.
DEMO_CHANNELS = {
    "Cold call": ("Outbound", {"cold call", "cold calling", "outbound call"}),
    "Cold email": ("Outbound", {"cold email", "outbound email"}),
    "Paid search": ("Inbound", {"google ads", "ppc", "adwords"}),
    "Referral": ("Inbound", {"referral", "customer referral", "word of mouth"}),
    "Website": ("Inbound", {"website", "web form", "chat"}),
    "Organic search": ("Inbound", {"organic search", "seo", "google organic"}),
    "Social": ("Inbound", {"facebook", "instagram", "linkedin"}),
    "Events": ("Inbound", {"trade show", "conference"}),
    "Partners": ("Inbound", {"partner", "reseller"}),
    "Email marketing": ("Inbound", {"newsletter", "email marketing"}),
    "Yelp": ("Not classed", {"yelp"}),  # no synonym: its own channel
    "Unknown": ("Not classed", {""}),  # no source channel
}
DEMO_AS_OF = pd.Timestamp("2026-11-22")  # the last snapshot's date
DEMO_SPEND = ROOT / "data" / "demo" / "channel_spend.csv"


def demo_leads() -> pd.DataFrame:
    """The demo's last snapshot (it holds every deal of the earlier two) with each deal's
    channel label, created and won times."""
    df = pd.read_csv(DEMO_LATEST, dtype=str, keep_default_na=False)
    label_of = {raw: label for label, (_, raws) in DEMO_CHANNELS.items() for raw in raws}
    df["label"] = df["Deal - Source channel"].str.strip().str.lower().map(label_of)
    assert df["label"].notna().all(), "a demo channel value missing from DEMO_CHANNELS"
    df["created"] = pd.to_datetime(df["Deal - Deal created"])
    df["won_time"] = pd.to_datetime(df["Deal - Won time"].replace("", None))
    return df


def demo_judged_leads(min_wins: int = 10) -> dict[str, int]:
    """Leads per channel label in created-week cohorts old enough to judge (docs/METRICS.md,
    weekly_cohorts): a cohort (Monday to Sunday) is mature when the days from its Sunday to the
    as-of date reach the channel's 90th percentile of days from created to won (over its wins
    with a won time; all channels' pooled when it has fewer than ``min_wins``)."""
    df = demo_leads()
    won = df[(df["Deal - Status"] == "won") & df["won_time"].notna()]
    days = ((won["won_time"] - won["created"]).dt.total_seconds() / 86400).clip(lower=0)
    pooled = days.quantile(0.9)  # linear interpolation, as DuckDB's quantile_cont
    monday = df["created"].dt.normalize() - pd.to_timedelta(df["created"].dt.day_of_week, "D")
    age = (DEMO_AS_OF - (monday + pd.Timedelta(days=6))).dt.days
    out = {}
    for label, rows in df.groupby("label"):
        own = days[won["label"] == label]
        horizon = own.quantile(0.9) if len(own) >= min_wins else pooled
        out[label] = int((age[rows.index] >= horizon).sum())
    return out


def demo_spend_shares(hourly_rate: float = 30.0, recent_weeks: int = 4) -> pd.DataFrame:
    """Each channel's share of the weekly cost (money + hours at the rate) in the demo's spend
    file: ``now`` over the last ``recent_weeks`` weeks, ``history`` over all of them (the
    allocator's current split and its average week; docs/ALLOCATION.md)."""
    df = pd.read_csv(DEMO_SPEND)
    df["week"] = pd.to_datetime(df["Week starting"])
    df["cost"] = df["Money spent"] + hourly_rate * df["Hours spent"].fillna(0)
    weeks = df.groupby("Channel")["week"].nunique()
    assert (weeks == df["week"].nunique()).all(), "every channel has a row every week"
    recent = df[df["week"] > df["week"].max() - pd.Timedelta(weeks=recent_weeks)]
    now = recent.groupby("Channel")["cost"].sum()
    history = df.groupby("Channel")["cost"].sum()
    return pd.DataFrame({"now": now / now.sum(), "history": history / history.sum()})


def zoho_converted(path: Path, sources: set[str]) -> tuple[int, int]:
    """(converted, leads) of a Zoho Leads export for raw 'Lead Source' values, where the
    CONVERTED column says Yes."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    mine = df[df["Lead Source"].isin(sources)]
    return int((mine["CONVERTED"].str.lower() == "yes").sum()), len(mine)


def pct_text(won: int, leads: int) -> str:
    """The rate as the dashboard prints it ('24%', '5%', '0.4%')."""
    value = 100 * won / leads
    return f"{value:.1f}%" if 0 < value < 1 else f"{value:.0f}%"
