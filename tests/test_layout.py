"""Nothing clipped (issue 15, item 6): every page of the dashboard in headless Chromium at
1280x720 and 1920x1080, every button, table and chart label measured for overflow (a box whose
content is wider than the box: scrollWidth > clientWidth; a chart text drawn outside its
chart), with a screenshot of each page kept in test-artifacts/. And the chart builders stay
readable with 12-20 channels: the biggest by name and the rest as "other channels", no two
channels of a chart in the same colour, a single week labelled once."""

from __future__ import annotations

import pandas as pd
import pytest
from app_helpers import ARTIFACTS, PAGES, chromium_page, streamlit_server, wait_for_app

from funnel import charts

SIZES = [(1280, 720), (1920, 1080)]
# Every page and the start of its title (the Pipeline page is not in app_helpers.PAGES).
TITLES = {
    "overview": "This week at a glance",
    "marketing": "Marketing: is the phone ringing?",
    "sales": "Sales: are we answering it well?",
    "pipeline": "Pipeline: what is coming",
    "weekly": "Weekly review",
    "allocation": "Allocation: where next week",
    "upload": "Upload your CRM exports",
    "definitions": "Definitions",
}
URLS = {**PAGES, "pipeline": "pipeline"}

# What overflows on the page: [kind, text, content width, box width] per clipped element.
OVERFLOW_JS = """() => {
  const out = [];
  const shown = (e) => e.getClientRects().length > 0;
  const text = (e) => (e.innerText || e.textContent || '').trim().replace(/\\s+/g, ' ')
    .slice(0, 60);
  const cut = (e) => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1;
  const main = document.querySelector('[data-testid=stMain]');
  // buttons, popovers, download buttons, page links, and every text inside them
  for (const b of main.querySelectorAll('button, a[data-testid^=stPageLink]')) {
    if (!shown(b)) continue;
    const clipped = [b, ...b.querySelectorAll('*')].find(cut);
    if (clipped) out.push(['button', text(b), clipped.scrollWidth, clipped.clientWidth]);
  }
  // st.table: the table and each cell
  for (const t of main.querySelectorAll('[data-testid=stTable]')) {
    const clipped = [t, ...t.querySelectorAll('table, th, td')].find((e) => shown(e) && cut(e));
    if (clipped) out.push(['table', text(clipped), clipped.scrollWidth, clipped.clientWidth]);
  }
  // st.dataframe (a canvas grid): its scroller wider than its box cuts the right columns
  for (const s of main.querySelectorAll('[data-testid=stDataFrame] .dvn-scroller')) {
    if (shown(s) && cut(s)) {
      const head = [...s.closest('[data-testid=stDataFrame]').querySelectorAll('th')]
        .map((t) => t.textContent).join(' | ');
      out.push(['dataframe', head.slice(0, 80), s.scrollWidth, s.clientWidth]);
    }
  }
  // chart texts (bar labels, ticks, legends, annotations) drawn outside their chart
  for (const plot of main.querySelectorAll('.js-plotly-plot')) {
    if (!shown(plot)) continue;
    const box = plot.getBoundingClientRect();
    for (const t of plot.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (!r.width || !t.textContent.trim()) continue;
      if (r.left < box.left - 1 || r.right > box.right + 1)
        out.push(['chart', t.textContent.slice(0, 60), Math.round(r.right), Math.round(box.right)]);
    }
  }
  // the page itself scrolling sideways
  if (cut(main)) out.push(['page', 'main pane', main.scrollWidth, main.clientWidth]);
  return out;
}"""


def open_by_url(page, base_url: str, name: str) -> None:
    page.goto(f"{base_url}/{URLS[name]}", wait_until="domcontentloaded")
    page.locator("h1", has_text=TITLES[name]).first.wait_for(timeout=90_000)
    wait_for_app(page)


@pytest.mark.browser
@pytest.mark.usefixtures("browser_ready")
def test_nothing_is_clipped_at_1280_and_1920(demo_db):
    found = []
    with streamlit_server(demo_db) as url:
        for width, height in SIZES:
            with chromium_page(width, height) as page:
                for name in TITLES:
                    open_by_url(page, url, name)
                    for item in page.evaluate(OVERFLOW_JS):
                        found.append((f"{name} at {width}x{height}", *item))
                    tall = page.evaluate("() => document.querySelector("
                                         "'[data-testid=stMain]').scrollHeight")
                    page.set_viewport_size({"width": width, "height": min(int(tall), 12_000)})
                    page.wait_for_timeout(800)
                    ARTIFACTS.mkdir(exist_ok=True)
                    page.screenshot(path=str(ARTIFACTS / f"layout-{name}-{width}.png"),
                                    full_page=True)
                    page.set_viewport_size({"width": width, "height": height})
    assert not found, "\n".join(map(str, found))


# --- the builders at 12-20 channels ----------------------------------------------------------


def many_channels(n: int, weeks: int = 3) -> pd.DataFrame:
    """``metrics.leads_by_week``-shaped rows for ``n`` channels: the demo's known channels and
    channels an owner kept as their own (extra colours), channel i with 100 - i leads a week."""
    known = ["cold_call", "referral", "web", "paid_search", "organic_search", "social",
             "cold_email", "event", "partner", "email", "advertising", "unknown"]
    names = (known + [f"raw_source_{i}" for i in range(n)])[:n]
    mondays = pd.date_range("2026-11-02", periods=weeks, freq="7D")
    return pd.DataFrame([{"week": w, "channel": c, "leads": 100 - i}
                         for w in mondays for i, c in enumerate(names)])


@pytest.mark.parametrize("n", [12, 16, 20])
def test_stacked_weeks_show_the_top_channels_and_other(n):
    df = many_channels(n)
    fig = charts.leads_by_week(df)
    names = [t.name for t in fig.data]
    # the 8 biggest by name (100, 99, ... 93 leads a week), then "Other channels (n - 8)"
    assert len(fig.data) == charts.TOP_CHANNELS + 1
    assert names[-1] == f"Other channels ({n - 8})"
    assert names[0] == "Cold call"
    # the folded segment holds the rest: weeks x (92 + 91 + ... + (100 - n + 1)) in all
    rest = sum(100 - i for i in range(8, n))
    assert list(fig.data[-1].y) == [rest] * 3
    # the named segments still open their leads; the folded one opens none
    assert all(str(t.customdata[0][-1]).startswith("{") for t in fig.data[:-1])
    assert fig.data[-1].customdata is None
    colours = [t.marker.color for t in fig.data]
    assert len(set(colours)) == len(colours)


def test_nine_channels_are_all_drawn_by_name():
    # folding one channel into "other" would hide it for nothing
    fig = charts.leads_by_week(many_channels(9))
    assert len(fig.data) == 9 and not any(t.name.startswith("Other") for t in fig.data)


@pytest.mark.parametrize("n", [12, 20, 30])
def test_no_two_channels_of_a_chart_share_a_colour(n):
    df = many_channels(n, weeks=1).assign(share=lambda d: d["leads"] / d["leads"].sum())
    df["label"] = df["channel"]
    df["kind"] = "inbound"
    fig = charts.leads_by_channel(df)
    colours = list(fig.data[0].marker.color)
    assert len(colours) == n and len(set(colours)) == n
    # the same channel keeps its colour whatever else the chart draws
    assert charts.channel_colors(["referral", "raw_source_3"])["referral"] == "#2ca02c"


def _redmean(one: str, other: str) -> float:
    # written out here, not imported: how far apart two colours look (redmean RGB distance)
    r1, g1, b1 = (int(one[i:i + 2], 16) for i in (1, 3, 5))
    r2, g2, b2 = (int(other[i:i + 2], 16) for i in (1, 3, 5))
    mean = (r1 + r2) / 2
    return ((2 + mean / 256) * (r1 - r2) ** 2 + 4 * (g1 - g2) ** 2
            + (2 + (255 - mean) / 256) * (b1 - b2) ** 2) ** 0.5


def test_channels_of_one_chart_do_not_look_alike():
    # Zoho's channels drew 'Sales mail alias' in a gold beside Advertising's gold and Partners'
    # olive: three bars that read as one channel
    zoho = ["web", "sales_mail_alias", "referral", "cold_call", "advertising", "partner",
            "event", "organic_search"]
    for channels in (zoho, list(charts.CHANNEL_COLORS)):
        colours = charts.channel_colors(channels)
        pairs = [(a, b) for i, a in enumerate(channels) for b in channels[i + 1:]]
        close = [(a, b) for a, b in pairs if _redmean(colours[a], colours[b]) < 100]
        assert close == []
    # a channel of the files' own keeps one colour alone and beside the usual ones
    assert charts.channel_color("sales_mail_alias") == charts.channel_colors(zoho)[
        "sales_mail_alias"]


def test_a_single_week_is_labelled_once():
    fig = charts.leads_by_week(many_channels(3, weeks=1))
    axis = fig.layout.xaxis
    assert list(axis.ticktext) == ["2 Nov"]  # the day as every date on the pages: no zero
    assert len(axis.tickvals) == 1
    # sixteen weeks: every other Monday labelled, none twice
    fig = charts.leads_by_week(many_channels(3, weeks=16))
    assert len(fig.layout.xaxis.ticktext) == 8
    assert len(set(fig.layout.xaxis.ticktext)) == 8
