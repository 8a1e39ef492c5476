"""The dashboard in a real headless browser (Debian's Chromium through the playwright package):
a server on a free port over a demo store, every page looked at and saved as a screenshot in
test-artifacts/, and a real Zoho export uploaded with a mapping edit made in the grid, whose
conversion then shows on the Sales page as plain pandas computes it from the raw file."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest
from app_helpers import (
    ARTIFACTS,
    LOAD_MARKS_JS,
    PAGES,
    chart_texts,
    choose_in_sidebar,
    chromium_page,
    demo_conversion,
    full_screenshot,
    open_page,
    pct_text,
    streamlit_server,
    wait_for_app,
    zoho_converted,
)

pytestmark = pytest.mark.browser

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
ZOHO_LEADS = REAL / "zoho_crm_analytics_sample" / "Leads.csv"
# Zoho 'Lead Source' values the SPEC maps to the advertising channel (none in the demo data).
ADVERTISING_RAW = {"Advertisement", "Public Relations"}
REFERRAL_RAW = {"referral", "customer referral", "word of mouth"}
BAD_WORDS = ("Traceback", "Error", "Exception")


# browser_ready and demo_db (a copy of the demo store per test): tests/conftest.py


def assert_no_error_on(page, name: str) -> None:
    text = page.inner_text("[data-testid='stMain']")
    for word in BAD_WORDS:
        assert word not in text, f"{word!r} on the {name} page"
    assert page.locator("[data-testid='stException']").count() == 0, name
    assert page.locator("[data-testid='stAlertContentError']").count() == 0, name
    # the invisible chart that starts plotly's bundle early is gone once the page is drawn
    assert page.locator("[data-testid='stSidebar'] .js-plotly-plot").count() == 0, name


def visit_every_page(page, url: str, prefix: str) -> None:
    for name in PAGES:
        open_page(page, url, name)
        assert_no_error_on(page, name)
        full_screenshot(page, f"{prefix}-{name}")


def edit_grid_cell(page, grid, row: int, column: int, text: str) -> None:
    """Type ``text`` into a cell of an st.data_editor (a canvas grid): click the first data
    cell of the column, move down with the keyboard, open the editor, type, confirm."""
    box = grid.bounding_box()
    table = grid.locator("table").first
    row_height = box["height"] / int(table.get_attribute("aria-rowcount") or 1)
    columns = int(table.get_attribute("aria-colcount") or 1)
    x = box["x"] + box["width"] * (column + 0.5) / columns
    page.mouse.click(x, box["y"] + row_height * 1.5)
    page.wait_for_timeout(300)  # the grid has the focus before the first key (a lost key: the
    for _ in range(row):        # row above gets the edit; seen once in CI under load)
        page.keyboard.press("ArrowDown")
        page.wait_for_timeout(80)
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    page.keyboard.type(text)
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    page.keyboard.press("Escape")


def grid_row_of(grid, first_cell: str) -> int:
    """The 0-based data row whose first cell reads ``first_cell`` (from the grid's a11y table)."""
    cells = grid.locator("td[aria-colindex='1']").all_inner_texts()
    return cells.index(first_cell)


def test_every_page_in_a_browser_then_a_real_upload(browser_ready, demo_db):
    with streamlit_server(demo_db) as url, chromium_page() as page:
        visit_every_page(page, url, "demo")

        open_page(page, url, "sales")
        won, leads = demo_conversion(REFERRAL_RAW)
        texts = chart_texts(page)
        assert f"Referral ({leads:,})" in texts
        assert any(t.strip().startswith(pct_text(won, leads) + " (") for t in texts), texts

        # Each chart's help is one click away.
        page.get_by_role("button", name=re.compile("How to read this")).first.click()
        page.get_by_text("Definition: Conversion by channel").wait_for(timeout=10_000)
        page.screenshot(path=str(ARTIFACTS / "sales-help.png"))
        page.keyboard.press("Escape")

        # A filter chosen on one page holds on the next (same session, sidebar navigation).
        choose_in_sidebar(page, "Leads created", "Last 4 weeks")
        open_page(page, url, "marketing")
        main = page.inner_text("[data-testid='stMain']")
        assert "Leads created 26 Oct 2026 – 22 Nov 2026" in main
        assert_no_error_on(page, "marketing (last 4 weeks)")
        full_screenshot(page, "demo-marketing-last-4-weeks")
        choose_in_sidebar(page, "Leads created", "All dates")

        if not ZOHO_LEADS.exists():
            pytest.skip(f"real export {ZOHO_LEADS} absent: clone ../shared beside this repo")
        open_page(page, url, "upload")
        page.locator("input[type=file]").first.set_input_files(str(ZOHO_LEADS))
        page.get_by_text("Looks like an export from").wait_for(timeout=60_000)
        wait_for_app(page)
        assert page.get_by_text("Zoho CRM (leads)").count()
        grid = page.locator("[data-testid='stDataFrame']").first
        # The owner decides that Zoho's CONVERTED column means a paying customer.
        edit_grid_cell(page, grid, grid_row_of(grid, "Converted (yes / no)"), 1, "CONVERTED")
        wait_for_app(page)
        full_screenshot(page, "upload-mapping")
        page.get_by_role("button", name=re.compile("Load this file")).click()
        page.get_by_text("What was loaded").wait_for(timeout=120_000)
        wait_for_app(page)
        full_screenshot(page, "upload-done")
        assert_no_error_on(page, "upload")
        body = page.inner_text("[data-testid='stMain']")
        assert "3,900" in body and "Converted (yes / no) ← 'CONVERTED'" in body

        open_page(page, url, "sales")
        won, leads = zoho_converted(ZOHO_LEADS, ADVERTISING_RAW)  # 718 of 778
        texts = chart_texts(page)
        assert f"Advertising ({leads:,})" in texts, texts
        assert any(t.strip().startswith(pct_text(won, leads) + " (") for t in texts), texts
        visit_every_page(page, url, "after-upload")


def test_allocation_page_and_spend_section_in_a_browser(browser_ready, demo_db):
    with streamlit_server(demo_db) as url, chromium_page() as page:
        page.goto(f"{url}/allocation", wait_until="domcontentloaded")
        page.locator("h1", has_text="Allocation").first.wait_for(timeout=60_000)
        wait_for_app(page)
        assert_no_error_on(page, "allocation")
        main = page.inner_text("[data-testid='stMain']")
        assert "Move 13% of the weekly budget" in main and "to referral" in main
        assert "Email marketing needs 1 more lead" in main
        texts = chart_texts(page)
        assert "now 22%" in texts and any("−4.0 pts" in t for t in texts), texts
        page.get_by_text("Your budget, hourly rate and limits").click()
        wait_for_app(page)
        assert_no_error_on(page, "allocation (settings open)")
        full_screenshot(page, "demo-allocation")

        page.get_by_role("button", name=re.compile("Accept this plan")).click()
        page.get_by_text("Decision 1 recorded").wait_for(timeout=60_000)
        wait_for_app(page)
        assert_no_error_on(page, "allocation (decision recorded)")
        assert "Too early to judge" in page.inner_text("[data-testid='stMain']")
        full_screenshot(page, "demo-allocation-decided")

        page.goto(f"{url}/upload", wait_until="domcontentloaded")
        page.locator("h1", has_text="Upload your CRM exports").first.wait_for(timeout=60_000)
        wait_for_app(page)
        page.get_by_text("See or correct the stored spend").click()
        wait_for_app(page)
        assert_no_error_on(page, "upload (spend)")
        full_screenshot(page, "demo-upload-spend")


def test_plotly_bundle_loads_before_the_page_arrives_and_stays_cached(browser_ready, demo_db):
    """A fresh server's first visit (docs/PERFORMANCE.md, gap 5): the invisible chart drawn before
    app.py imports its heavy modules makes the browser request plotly's 4.7 MB bundle before the
    page's title arrives; it never shows; and the bundle is served for a returning browser to
    keep (a content-hashed name, ``immutable``)."""
    with streamlit_server(demo_db) as url, chromium_page() as page:
        page.add_init_script(LOAD_MARKS_JS)
        page.goto(f"{url}/sales", wait_until="commit")
        page.locator("[data-testid='stMain'] [data-testid='stPlotlyChart'] .main-svg .trace"
                     ).first.wait_for(timeout=60_000)
        wait_for_app(page)
        assert_no_error_on(page, "sales")
        marks = page.evaluate("window.__marks")
        assert marks["bundle_url"], marks
        assert marks["plotly_bundle_requested"] < marks["title"], marks
        assert not marks["preload_visible"], marks
        with urllib.request.urlopen(marks["bundle_url"], timeout=10) as resp:
            assert "immutable" in resp.headers.get("Cache-Control", ""), dict(resp.headers)
