"""Words from a file or a person are plain text on every surface (issue 16, item 3;
docs/SECURITY.md): owner names, channels kept as their own (``channels.label`` is the raw
text), file names, column names and decision notes cannot link, load, style or structure
anything in the dashboard (Markdown: ``st.markdown``, captions, alerts, metric and widget
labels, ``st.table`` cells), in plotly figures (dashboard, weekly HTML pack) or in the Markdown
exports (``allocate``, ``report``, ``weekly``).

A store is built from the demo's Pipedrive export with hostile owners and channels (each kept
as its own channel, as the Upload page's "Keep as its own channel" does), spend for those
channels and a decision whose note is hostile too; every surface is then read for the payloads
in working form. Funnel's own words stay as they were (the demo renders the same)."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from app_helpers import CHROMIUM, DEMO_LATEST, chromium_page, copy_store, open_page
from streamlit.testing.v1 import AppTest

from funnel import charts
from funnel import format as fmt
from funnel.safe_text import ZERO_WIDTH_SPACE, label_text, md_text
from funnel.synonyms import CHANNELS, STAGES

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
TIMEOUT = 180
DEMO_SPEND = ROOT / "data" / "demo" / "channel_spend.csv"

BEACON = "![x](http://127.0.0.1:9/beacon.png)"
LINK = "[Click](http://evil.example/login)"
HEADING = "Sam\n# heading"
DIRECTIVE = ":red[x]"
BOLD = "**x**"
ANCHOR = '<a href="http://evil.example">x</a>'
PAYLOADS = [BEACON, LINK, HEADING, DIRECTIVE, BOLD, ANCHOR]
NOTE = "![n](http://127.0.0.1:9/note.png) [Click](http://evil.example) :red[n] **n**\n# note"
FILE_NAME = '<img src="http://127.0.0.1:9/f.png">[f](http://evil.example)\n# f.csv'
HOSTILE_HOSTS = ("127.0.0.1:9", "evil.example")

# A payload at work, in Markdown source: an image or a link (unescaped brackets), raw HTML, a
# Streamlit directive, bold, a heading from a newline, a bare URL that autolinks.
ACTIVE_MARKDOWN = [
    re.compile(r"(?<!\\)\[(?:x|Click|n|f)(?<!\\)\]\("),
    re.compile(r"(?<!\\)<(?:a|img|b)\b", re.I),
    re.compile(r"(?<!\\):red(?<!\\)\["),
    re.compile(r"\*\*[xn]\*\*"),
    re.compile(r"(?:^|\n)[ \t]*#+ (?:heading|note|f\.csv)"),
    re.compile(r"\n# "),
    re.compile(r"https?://(?:127\.0\.0\.1:9|evil\.example)"),
    re.compile(r"(?<!\\)(?:# heading|# note)"),
]


def active_markup(text: str) -> list[str]:
    """The payload constructs that would work if ``text`` were rendered as Markdown."""
    return [p.pattern for p in ACTIVE_MARKDOWN if p.search(text)]


def assert_plain(texts, where: str) -> None:
    for text in texts:
        found = active_markup(text)
        assert not found, f"{where}: {found} in {text!r}"


# --- the two helpers --------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [*PAYLOADS, NOTE, FILE_NAME])
def test_md_text_leaves_no_markup_at_work(payload):
    text = md_text(payload)
    assert "\n" not in text and not active_markup(text), text
    for line_start in ("- ", "", "#### "):  # wherever it lands, even at a line's start
        assert not active_markup(line_start + text)
    # Reading the escapes back gives the characters typed (newlines as spaces).
    shown = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).replace(ZERO_WIDTH_SPACE, "")
    assert shown == " ".join(payload.split("\n")).strip()


@pytest.mark.parametrize(("payload", "expected"), [
    (BEACON, "!\\[x\\](http\\:\u200b//127.0.0.1\\:9/beacon.png)"),
    (LINK, "\\[Click\\](http\\:\u200b//evil.example/login)"),
    (HEADING, "Sam \\# heading"),
    (DIRECTIVE, "\\:red\\[x\\]"),
    (BOLD, "\\*\\*x\\*\\*"),
    (ANCHOR, '\\<a href="http\\:\u200b//evil.example">x\\</a>'),
    ("# heading", "\\# heading"),
    ("1. one", "1\\. one"),
    ("- item", "\\- item"),
    ("> quote", "\\> quote"),
    ("a | b", "a \\| b"),
    ("`code` ~~gone~~", "\\`code\\` \\~\\~gone\\~\\~"),
    ("$x^2$ and $$y$$", "\\$x^2\\$ and \\$\\$y\\$\\$"),
    (":smile: :material/home:", "\\:\u200bsmile: \\:\u200bmaterial/home:"),
    ("www.evil.example sam@evil.example", "www\u200b.evil.example sam\u200b\\@evil.example"),
    ("&lt;b&gt;", "\\&lt;b\\&gt;"),
    ("_em_", "\\_em\\_"),
    (None, ""),
])
def test_md_text_escapes(payload, expected):
    assert md_text(payload) == expected


def test_funnel_words_pass_through_unchanged():
    labels = [label for _, label in CHANNELS.values()] + [s[2] for s in STAGES.values()]
    assert all(label_text(label) == label for label in labels)
    words = labels + [
        "Referral converts 24% (19–33%) vs cold call 4% (1–13%); >99.9% likely better.",
        "Move 13% of the weekly budget ($364 a week) from events to referral",
        "20 of 75 hot deals: close them. By owner: Maria Lopez 8, Priya Nair 7.",
        "cold_call", "12.5", "2026-11-16", "$1,200 against $300", "−$80", "+16.1"]
    for word in words:
        assert md_text(word) == word


def test_label_text_escapes_plotly_markup():
    assert label_text(ANCHOR) == '&lt;a href="http://evil.example"&gt;x&lt;/a&gt;'
    assert label_text("<b>x</b><br>y & z") == "&lt;b&gt;x&lt;/b&gt;&lt;br&gt;y &amp; z"
    assert label_text("&lt;") == "&amp;lt;"  # an entity shows as typed
    assert label_text("50%{x} 10% off") == "50&#37;{x} 10% off"  # no template placeholder
    assert label_text(None) == ""


# --- a store full of hostile words ------------------------------------------------------------


def build_hostile_store(path: Path) -> Path:
    """The demo's latest Pipedrive export with hostile owners (among them the owners of the
    oldest open proposals, so the weekly pack names them) and hostile source channels, each kept
    as its own channel; spend for them; a decision with a hostile note."""
    from funnel.allocation import decisions
    from funnel.allocation import recommend as allocation
    from funnel.ingest import spend as spend_ingest
    from funnel.ingest import synonym_edits
    from funnel.ingest.upload import ingest_file
    from funnel.store import connection as store

    src = pd.read_csv(DEMO_LATEST, dtype=str, keep_default_na=False)
    for i in range(len(src)):
        if i % 7 == 0:
            src.loc[i, "Deal - Owner"] = PAYLOADS[i % len(PAYLOADS)]
        if i % 5 == 0:
            src.loc[i, "Deal - Source channel"] = PAYLOADS[(i // 5) % len(PAYLOADS)]
    hot = src.index[(src["Deal - Status"] == "open") & (src["Deal - Stage"] == "Proposal Made")]
    oldest = sorted(hot, key=lambda i: src.loc[i, "Deal - Deal created"])[:30]
    for j, i in enumerate(oldest):
        src.loc[i, "Deal - Owner"] = PAYLOADS[j % len(PAYLOADS)]
    path.parent.mkdir(parents=True, exist_ok=True)
    leads_csv = path.parent / "hostile_leads.csv"
    src.to_csv(leads_csv, index=False)

    spend = pd.read_csv(DEMO_SPEND, dtype=str, keep_default_na=False)
    weeks = sorted(set(spend["Week starting"]))
    extra = [{"Channel": p, "Week starting": w, "Money spent": f"{100 + 10 * (i % 3) + 3 * j}",
              "Hours spent": "1"} for i, p in enumerate(PAYLOADS) for j, w in enumerate(weeks)]
    spend_csv = path.parent / "hostile_spend.csv"
    pd.concat([spend, pd.DataFrame(extra)], ignore_index=True).to_csv(spend_csv, index=False)

    con = store.connect(path)
    try:
        ingest_file(con, leads_csv, db_path=path, file_name=FILE_NAME)
        for payload in PAYLOADS:
            synonym_edits.save_channel_synonym(con, payload, payload, "inbound")
        spend_ingest.ingest_spend(con, spend_csv, file_name=FILE_NAME)
        inputs = allocation.load_inputs(con)
        rec = allocation.allocate(inputs.channels, allocation.Settings(), inputs.as_of)
        decisions.record_decision(con, rec, None, note=NOTE)
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def hostile_template(tmp_path_factory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("FUNNEL_PII_KEY", raising=False)
        return build_hostile_store(tmp_path_factory.mktemp("hostile") / "hostile.duckdb")


@pytest.fixture()
def hostile_db(hostile_template, tmp_path, monkeypatch) -> Path:
    path = copy_store(hostile_template, tmp_path / "funnel.duckdb")
    monkeypatch.setenv("FUNNEL_DB", str(path))
    monkeypatch.delenv("FUNNEL_PII_KEY", raising=False)
    monkeypatch.delenv("FUNNEL_REQUIRE_LOGIN", raising=False)
    return path


pytestmark = pytest.mark.usefixtures("fresh_caches")  # tests/conftest.py


def test_the_store_holds_the_payloads_as_typed(hostile_db):
    from funnel.store import connection as store

    con = store.connect(hostile_db)
    try:
        labels = {r[0] for r in con.execute("SELECT label FROM channels").fetchall()}
        owners = {r[0] for r in con.execute("SELECT DISTINCT owner FROM leads").fetchall()}
        note = con.execute("SELECT DISTINCT note FROM decisions").fetchall()
    finally:
        con.close()
    assert set(PAYLOADS) <= labels and set(PAYLOADS) <= owners  # stored as they are
    assert note == [(NOTE,)]


# --- the dashboard (AppTest) ------------------------------------------------------------------

PAGES = ["app_pages/overview.py", "app_pages/marketing.py", "app_pages/sales.py",
         "app_pages/weekly.py", "app_pages/allocation.py", "app_pages/upload.py"]
PLAIN_WIDGETS = {"selectbox", "multiselect"}  # their options are plain text


def run_page(page: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _strings(value, skip: frozenset = frozenset()):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                yield from _strings(item, skip)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, skip)


def markdown_texts(at: AppTest) -> list[str]:
    """Every text the run drew that Streamlit renders as Markdown: bodies of markdown,
    captions, titles and alerts, metric labels, values and help, widget, button, expander and
    popover labels, help tooltips, st.table cells."""
    from google.protobuf.json_format import MessageToDict

    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if proto is not None and kind not in ("plotly_chart", "arrow_data_frame", "dataframe",
                                              "table"):
            data = MessageToDict(proto)
            if kind in PLAIN_WIDGETS:  # only the label and help are Markdown
                data = {k: v for k, v in data.items() if k in ("label", "help")}
            skip = frozenset({"url", "id", "formId", "icon", "arrowData", "spec", "data"})
            out.extend(_strings(data, skip))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    for table in at.table:
        frame = table.value
        out += [str(c) for c in frame.columns]
        out += [str(v) for v in frame.to_numpy().ravel()]
    return out


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def assert_plotly_plain(specs, where: str) -> None:
    for spec in specs:
        for text in _strings(spec):
            assert '<a href="http' not in text, f"{where}: {text!r}"
            assert "<b>x" not in text and "<br>#" not in text, f"{where}: {text!r}"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_the_files_words_as_plain_text(hostile_db, page):
    at = run_page(page)
    texts = markdown_texts(at)
    assert_plain(texts, page)
    assert_plotly_plain(chart_specs(at), page)


def test_overview_and_sales_sentences_name_hostile_channels_escaped(hostile_db):
    # "Worth discussing" compares referral and cold call unless the owner pins a pair: pin two
    # hostile channels so the finding names them
    from funnel.store import connection as store
    from funnel.store import pinned

    con = store.connect(str(hostile_db))
    try:
        pinned.pin_pair(con, "red_x", "a_href_http_evil_example_x_a")
    finally:
        con.close()
    at = run_page("app_pages/overview.py")
    names = {md_text(p) for p in PAYLOADS}
    finding = " ".join(m.value for m in at.markdown)
    assert any(name in finding for name in names), finding  # a hostile channel is named

    at = run_page("app_pages/sales.py")
    # the head-to-head's pickers, set to two hostile channels: its sentence and metric labels
    at.selectbox(key="h2h_a").set_value("red_x")
    at.selectbox(key="h2h_b").set_value("a_href_http_evil_example_x_a").run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert f"{md_text(DIRECTIVE)} conversion" in labels
    assert f"{md_text(ANCHOR)} conversion" in labels
    assert_plain(markdown_texts(at), "sales head-to-head")
    head_to_head = chart_specs(at)
    names = [t for spec in head_to_head for t in _strings(spec.get("data", []))]
    assert label_text(ANCHOR) in names and label_text(DIRECTIVE) in names


def test_owner_filter_caption_shows_owners_as_typed(hostile_db):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.sidebar.multiselect(key="filter_owners").set_value([BEACON, HEADING]).run()
    assert not at.exception
    caption = at.caption[0].value
    assert f"owner: {md_text(BEACON)}, {md_text(HEADING)}" in caption, caption
    assert_plain(markdown_texts(at), "overview filtered by hostile owners")


def test_weekly_page_names_owners_and_channels_as_typed(hostile_db):
    at = run_page("app_pages/weekly.py")
    bullets = " ".join(m.value for m in at.markdown)
    for payload in PAYLOADS:  # the agenda names the owners of the stale hot deals
        assert md_text(payload) in bullets, payload
    assert_plain(markdown_texts(at), "weekly")


def test_allocation_page_labels_reasons_and_decision_note(hostile_db):
    at = run_page("app_pages/allocation.py")
    sliders = {s.label for s in at.slider}
    assert {md_text(p) for p in PAYLOADS} <= sliders  # what-if slider labels
    reasons = at.table[0].value
    assert {md_text(p) for p in PAYLOADS} <= set(reasons["Channel"])  # st.table: Markdown cells
    assert f"Note: {md_text(NOTE)}" in [c.value for c in at.caption]
    assert_plain(markdown_texts(at), "allocation")


def test_upload_page_file_names_and_column_names(hostile_db):
    from funnel.ingest.mapping import FIELDS

    at = run_page("app_pages/upload.py")
    # A file without dates, whose yes/no column has a hostile name: the fix names the column.
    header = ANCHOR
    bad = f'Prospect ID,Lead Source,"{header.replace(chr(34), chr(34) * 2)}"\n'
    bad += "x1,Google,1\nx2,Google,0\nx3,Reference,1\n"
    at.file_uploader[0].set_value((FILE_NAME, bad.encode(), "text/csv")).run()
    assert not at.exception
    assert f"#### {md_text(FILE_NAME)}" in [m.value for m in at.markdown]
    # the preview says so before Load (issue 14), the fix beside it
    assert any("no row can be loaded" in e.value for e in at.error)
    fix = " ".join(i.value for i in [*at.warning, *at.info])
    assert f"'{md_text(header)}'" in fix, fix
    assert_plain(markdown_texts(at), "upload (refused)")

    # The same file with a date and the hostile column as the owner: loaded, and the caption
    # names the columns used as typed.
    good = bad.replace("Prospect ID,", "Created,Prospect ID,", 1)
    good = "\n".join(line if i == 0 else f"2026-11-0{i},{line}"
                     for i, line in enumerate(good.strip().split("\n"))) + "\n"
    at.file_uploader[0].set_value((FILE_NAME, good.encode(), "text/csv")).run()
    key = "mapping_" + hashlib.sha256(good.encode()).hexdigest()[:16]
    at.session_state[key] = {
        "edited_rows": {FIELDS.index("owner"): {"Column in your file": header}},
        "added_rows": [], "deleted_rows": [],
    }
    at.run()
    [b for b in at.button if b.label == "Load this file"][0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    captions = " ".join(c.value for c in at.caption)
    assert f"Owner (sales person) ← '{md_text(header)}'" in captions, captions
    assert f"#### {md_text(FILE_NAME)}" in [m.value for m in at.markdown]
    assert_plain(markdown_texts(at), "upload (loaded)")

    # Taking the hostile-named upload out says so by its name, as typed.
    choice = at.selectbox(key="remove_choice")
    choice.set_value(max(int(o.split(":")[0]) for o in choice.options))
    [b for b in at.button if b.label == "Remove this upload"][0].click().run()
    assert not at.exception
    assert any(md_text(FILE_NAME) in s.value for s in at.success), [s.value for s in at.success]
    assert_plain(markdown_texts(at), "upload (removed)")


def test_a_refused_spend_file_is_named_as_typed(hostile_db):
    at = run_page("app_pages/upload.py")
    at.file_uploader(key="spend_uploader_0").set_value(
        (FILE_NAME, b"nothing,useful\n1,2\n", "text/csv")).run()
    # refused by the preview, before Load (issue 14): the button is disabled
    assert [b for b in at.button if b.label == "Load this spend file"][0].disabled
    assert not at.exception
    assert f"#### {md_text(FILE_NAME)}" in [m.value for m in at.markdown]
    assert at.error
    assert_plain(markdown_texts(at), "upload (spend refused)")


# --- plotly figures ---------------------------------------------------------------------------


def test_chart_builders_show_hostile_labels_as_text(hostile_db):
    from funnel.metrics import metrics
    from funnel.store import connection as store

    con = store.connect(hostile_db)
    try:
        opts = metrics.METRICS["filter_options"](con).iloc[0]
        names = fmt.channel_labels(list(opts["channels"]), list(opts["channel_labels"]))
        data = {n: metrics.METRICS[n](con) for n in (
            "leads_by_week", "leads_by_channel", "lead_volume_vs_previous", "spend_by_channel",
            "conversion_by_channel", "funnel_by_channel", "time_to_win_curve",
            "weekly_cohorts")}
        pair = metrics.head_to_head(con, "red_x", "a_href_http_evil_example_x_a")
    finally:
        con.close()
    spend = data["spend_by_channel"]
    figures = {
        "leads_by_week": charts.leads_by_week(data["leads_by_week"], names),
        "leads_by_channel": charts.leads_by_channel(data["leads_by_channel"]),
        "inbound_vs_outbound": charts.inbound_vs_outbound(data["leads_by_channel"]),
        "lead_volume_vs_previous": charts.lead_volume_vs_previous(
            data["lead_volume_vs_previous"]),
        "spend_by_channel": charts.spend_by_channel(
            spend[pd.to_numeric(spend["cost_per_lead"], errors="coerce").notna()]),
        "conversion_by_channel": charts.conversion_by_channel(data["conversion_by_channel"]),
        "value_per_lead": charts.value_per_lead(data["conversion_by_channel"]),
        "funnel_by_channel": charts.funnel_by_channel(data["funnel_by_channel"], names),
        "time_to_win_curve": charts.time_to_win_curve(
            data["time_to_win_curve"], names, [c for c in names if c in set(
                data["time_to_win_curve"]["channel"])]),
        "weekly_cohorts": charts.weekly_cohorts(data["weekly_cohorts"], names),
        "head_to_head": charts.head_to_head(pair),
    }
    for name, fig in figures.items():
        spec = fig.to_dict()
        texts = list(_strings(spec))
        assert_plotly_plain([spec], name)
        assert any(label_text(ANCHOR) in t for t in texts), name  # shown, as its characters
        assert not any(ANCHOR in t for t in texts), name


# --- exports ----------------------------------------------------------------------------------


def funnel_cli(*args: str) -> str:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([sys.executable, "-m", "funnel", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_allocate_markdown_names_channels_as_typed(hostile_db):
    md = funnel_cli("allocate", "--db", str(hostile_db), "--format", "md")
    assert_plain(md.split("\n"), "allocate --format md")
    for payload in PAYLOADS:
        assert f"| {md_text(payload)} |" in md, payload  # the plan table
        assert f"- **{md_text(payload)}**: " in md, payload  # why, and what would change it


def test_report_markdown_head_to_head_names_channels_as_typed(hostile_db):
    md = funnel_cli("report", "--db", str(hostile_db), "--format", "md",
                    "--compare", "red_x,a_href_http_evil_example_x_a")
    assert_plain(md.split("\n"), "report --format md")
    assert md_text(DIRECTIVE) in md and md_text(ANCHOR) in md  # the head-to-head sentence


def test_weekly_markdown_and_html_show_the_files_words_as_text(hostile_db):
    md = funnel_cli("weekly", "--db", str(hostile_db), "--format", "md")
    assert_plain(md.split("\n"), "weekly --format md")
    for payload in PAYLOADS:
        assert md_text(payload) in md, payload  # owners in the agenda, channels in the tables
    assert f"| {md_text(ANCHOR)} |" in md

    page = funnel_cli("weekly", "--db", str(hostile_db), "--format", "html")
    assert ANCHOR not in page and "<img" not in page.split("<script")[0]
    assert "&lt;a href=&quot;http://evil.example&quot;&gt;x&lt;/a&gt;" in page  # HTML text
    # the charts are static SVG (issue 15): a channel's name is text there too, escaped (its
    # full name in the label's <title> when the label is shortened), never a tag
    svgs = re.findall(r"<svg .*?</svg>", page, re.DOTALL)
    assert svgs and any(html.escape(ANCHOR) in svg for svg in svgs)
    assert not any(ANCHOR in svg for svg in svgs)


def test_weekly_figures_escape_labels(hostile_db):
    from funnel.store import connection as store
    from funnel.weekly import export
    from funnel.weekly import pack as weekly
    from funnel.weekly import week as iso_week

    con = store.connect(hostile_db)
    try:
        first, as_of = iso_week.data_span(con)
        pack = weekly.weekly_pack(con, str(iso_week.default_week(as_of, first)))
    finally:
        con.close()
    figures = export.figures(pack)
    assert figures
    specs = [fig.to_dict() for fig in figures.values()]
    assert_plotly_plain(specs, "weekly figures")
    band = specs[0]
    assert label_text(ANCHOR) in [t for t in _strings(band["data"])]


# --- the demo reads as before -----------------------------------------------------------------


def test_demo_exports_have_nothing_escaped(tmp_path, monkeypatch):
    """Funnel's own words (the demo has no hostile cell) come out without a single escape."""
    from funnel.demo import store as demo

    monkeypatch.delenv("FUNNEL_PII_KEY", raising=False)
    db = demo.build_demo_store(tmp_path / "demo.duckdb") or tmp_path / "demo.duckdb"
    for args in (["allocate", "--format", "md"], ["report", "--format", "md"],
                 ["weekly", "--format", "md"]):
        out = funnel_cli(*args, "--db", str(db))
        assert ZERO_WIDTH_SPACE not in out, args
        assert not re.search(r"\\[^|]", out), (args, re.findall(r".{20}\\[^|].{20}", out))


# --- in a real browser ------------------------------------------------------------------------


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@pytest.mark.browser
def test_in_a_browser_no_payload_links_loads_or_styles(hostile_db):
    """The pages in Chromium: no link to, image from or request to the payloads' hosts, no
    heading, bold or coloured text of theirs, and the chart labels show the tags as text."""
    from app_helpers import streamlit_server

    missing = _browser_missing()
    if missing:
        if os.environ.get("FUNNEL_REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    requests: list[str] = []
    with streamlit_server(hostile_db) as url, chromium_page() as page:
        page.on("request", lambda r: requests.append(r.url))
        for name in ("overview", "marketing", "sales", "weekly", "allocation"):
            open_page(page, url, name)
            found = page.evaluate("""(hosts) => {
              const main = document.querySelector('[data-testid=stMain]');
              const bad = (u) => hosts.some((h) => (u || '').includes(h));
              const text = (e) => (e.textContent || '').trim();
              return {
                links: [...main.querySelectorAll('a')].filter((a) =>
                  bad(a.getAttribute('href')) || bad(a.getAttribute('xlink:href'))).map(text),
                images: [...main.querySelectorAll('img, image')].filter((i) =>
                  bad(i.getAttribute('src')) || bad(i.getAttribute('href'))).length,
                headings: [...main.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(text)
                  .filter((t) => /heading|note/.test(t)),
                bold: [...main.querySelectorAll('strong, b')].map(text)
                  .filter((t) => t === 'x' || t === 'n'),
                coloured: main.querySelectorAll('.stMarkdownColoredText, '
                  + '.stMarkdownColoredBackground, .stMarkdownBadge').length,
                svg: [...main.querySelectorAll('.js-plotly-plot text')].map(text),
              };
            }""", list(HOSTILE_HOSTS))
            assert not found["links"] and not found["images"], (name, found)
            assert not found["headings"] and not found["bold"], (name, found)
            assert not found["coloured"], (name, found)
            if name in ("marketing", "sales", "allocation"):
                # plotly drew the anchor payload as its characters
                assert any('<a href="http://evil.example">x</a>' in t for t in found["svg"]), (
                    name, found["svg"][:40])
    assert not [u for u in requests if any(h in u for h in HOSTILE_HOSTS)], requests
