"""Issue 15, item 2 (SPEC 5, last rule): everything a person reads names channels, stages and
metrics in words. Every dashboard page (AppTest, through app.py) and every text export (the
weekly pack's Markdown and HTML, ``allocate``'s Markdown, the CLI's text) is rendered on the demo
store and on two shared real exports (X Education, Zoho) loaded with the real ingest, and the
text is searched for:

- a channel slug of the store that has an underscore (``cold_call``, ``welingak_website``,
  ``sales_mail_alias``);
- a channel slug of the store that is not Funnel's own word, lower case, as a whole word, where
  the store shows it with a label (``google`` for Google, ``bing`` for Bing); Funnel's own
  channel slugs are English words ('web', 'event'), so they count only where they stand
  alone: a whole table cell, a quoted value, a list item; stage slugs ('new', 'won') only
  quoted, as in "counted as stage 'new'";
- SQL (``SELECT``, ``NULL``, ``::DATE``, ``uploads.as_of``) and column names (``ci_low``,
  ``ci_high``, ``conversion_rate``, ``win_rate``, ``created_at``, ...).

Each finding is reported with the surface and the text around it. ``report --format md`` is
``funnel/report.py``'s (owned elsewhere while this lands): its check is skipped with the reason.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from app_helpers import copy_store
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from funnel.metrics import metrics
from funnel.store import connection as store
from funnel.synonyms import CHANNELS, STAGES

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
PAGES = [
    "app_pages/overview.py",
    "app_pages/marketing.py",
    "app_pages/sales.py",
    "app_pages/pipeline.py",
    "app_pages/weekly.py",
    "app_pages/allocation.py",
    "app_pages/upload.py",
    "app_pages/definitions.py",
]
SQL_AND_COLUMNS = [
    r"\bSELECT\b", r"\bNULL\b", r"::DATE", r"uploads\.as_of", r"\bci_low\b", r"\bci_high\b",
    r"\bconversion_rate\b", r"\bwin_rate\b", r"\bcreated_at\b", r"\bwon_at\b", r"\blost_at\b",
    r"\bmedian_days_to_win\b", r"\bvalue_per_lead\b", r"\bwon_value\b", r"\blead_key\b",
    r"canonical slug", r"\bp_a_better\b", r"\bBeta\(", r"\bPoisson\b",
]
FILE_WORDS_PICKERS = {"Name in your files"}
FILE_WORDS_COLUMNS = {"Value in your file", "Value in the file", "Value in your files"}
OWN_WORDS = set(CHANNELS)  # Funnel's own channel slugs: English words

pytestmark = [pytest.mark.usefixtures("fresh_caches"), pytest.mark.real_data]


# --- what must not appear ------------------------------------------------------------------


def forbidden(con) -> list[tuple[str, re.Pattern]]:
    """(what, pattern) for the store's channels and stages, SQL and column names."""
    options = metrics.filter_options(con).iloc[0]
    return forbidden_for(dict(zip(options["channels"], options["channel_labels"], strict=True)))


def forbidden_for(labels: dict[str, str]) -> list[tuple[str, re.Pattern]]:
    """(what, pattern) for channels (slug -> label), the stages, SQL and column names."""
    out = [(f"SQL or column {p}", re.compile(p)) for p in SQL_AND_COLUMNS]
    for stage in STAGES:  # English words ('new', 'won'): only as a quoted value
        quoted = rf"['\"‘“]{re.escape(stage)}['\"’”]"
        out.append((f"stage {stage} quoted", re.compile(quoted)))
    for slug in sorted(labels):
        if "_" in slug:
            out.append((f"slug {slug}", re.compile(rf"(?<![\w/.-]){re.escape(slug)}(?![\w/.-])")))
        elif slug in OWN_WORDS:  # an English word: only where it stands alone
            alone = (rf"(^|\|\s|['\"‘“(]){re.escape(slug)}(\s\||['\"’”)]|$)|"
                     rf"^\s*[-*]\s+{re.escape(slug)}\b")
            out.append((f"slug {slug} standing alone", re.compile(alone, re.MULTILINE)))
        elif slug != slug.capitalize():  # a raw value kept as its own, shown with a capital
            out.append((f"slug {slug}", re.compile(rf"(?<![\w@./-]){re.escape(slug)}(?![\w@./-])")))
    return out


def offences(texts: list[tuple[str, str]], patterns) -> list[str]:
    """'surface: what: …context…' for every forbidden match."""
    found = []
    for where, text in texts:
        for what, pattern in patterns:
            for match in pattern.finditer(text):
                a, b = max(0, match.start() - 50), match.end() + 50
                context = text[a:b].replace("\n", " ⏎ ")
                found.append(f"{where}: {what}: …{context}…")
    return found


# --- the stores ------------------------------------------------------------------------------


def _cli(*args: str, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "funnel", *args, "--db", str(db)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)


@pytest.fixture(scope="module")
def stores(demo_template, real_dir, tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """name -> (store, the ingest command's text output): the demo, X Education and Zoho, each
    loaded with the real ingest through the CLI."""
    base = tmp_path_factory.mktemp("owner-words")
    out = {"demo": (copy_store(demo_template, base / "demo.duckdb"), "")}
    runs = {
        "xeducation": [str(real_dir / "xeducation_leads" / "Leads.csv"),
                       "--set", "created_at=2024-01-01"],
        "zoho": [str(real_dir / "zoho_crm_analytics_sample" / "Leads.csv"),
                 str(real_dir / "zoho_crm_analytics_sample" / "Potentials.csv")],
    }
    for name, args in runs.items():
        db = base / f"{name}.duckdb"
        run = _cli("ingest", *args, db=db)
        assert run.returncode == 0, run.stderr
        out[name] = (db, run.stdout + run.stderr)
    return out


@pytest.fixture(scope="module")
def patterns(stores) -> dict[str, list]:
    found = {}
    for name, (db, _) in stores.items():
        con = store.connect(db)
        try:
            found[name] = forbidden(con)
        finally:
            con.close()
    return found


# --- the pages -------------------------------------------------------------------------------


def _walk(node, out: list) -> list:
    children = getattr(node, "children", None)
    proto = getattr(node, "proto", None)
    if proto is not None:
        out.append(node)
    if isinstance(children, dict):
        for child in children.values():
            _walk(child, out)
    return out


def _strings(value, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in ("id", "formId", "key", "icon", "pageScriptHash", "url", "data",
                           "spec", "args", "useContainerWidth", "width"):
                _strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)


def _plotly_words(spec: str) -> list[str]:
    """What a person reads on a chart: trace names, texts, category labels, titles, notes
    (not customdata: it carries what a click opens, never shown)."""
    figure = json.loads(spec)
    out: list[str] = []
    for trace in figure.get("data", []):
        for key in ("name", "text", "x", "y", "labels", "hovertext", "texttemplate"):
            value = trace.get(key)
            values = value if isinstance(value, list) else [value]
            out += [v for v in values if isinstance(v, str)]
    layout = figure.get("layout", {})
    _strings([a.get("text") for a in layout.get("annotations", [])], out)
    for key, axis in layout.items():
        if isinstance(axis, dict) and (key.startswith(("xaxis", "yaxis")) or key == "title"):
            title = axis.get("title", axis.get("text"))
            _strings(title if isinstance(title, dict | str) else [], out)
            _strings(axis.get("ticktext", []), out)
    return out


def page_texts(at: AppTest) -> str:
    """Every string a person can read on the page: elements, blocks' labels (expanders,
    popovers, tabs), dataframe cells and headers, chart words."""
    texts: list[str] = []
    for node in _walk(at._tree, []):
        kind = getattr(node, "type", "")
        if kind in ("dataframe", "table"):
            frame = node.value
            if isinstance(frame, pd.DataFrame):
                config = json.loads(getattr(node.proto, "columns", "") or "{}")
                # hidden columns carry keys, not words; a raw value shown as the file spells
                # it (to map it) is the file's words, not a slug
                shown = [c for c in frame.columns
                         if not (config.get(str(c)) or {}).get("hidden")
                         and str(c) not in FILE_WORDS_COLUMNS]
                texts += [str(c) for c in shown]
                texts += [str(v) for v in frame[shown].astype(str).to_numpy().ravel()]
            continue
        if kind == "selectbox" and getattr(node, "label", "") in FILE_WORDS_PICKERS:
            texts.append(node.label)  # its options are the files' own values, to be mapped
            continue
        if kind == "plotly_chart":
            texts += _plotly_words(node.proto.spec)
            continue
        _strings(MessageToDict(node.proto), texts)
    return "\n".join(texts)


@pytest.mark.parametrize("name", ["demo", "xeducation", "zoho"])
def test_every_page_names_things_in_words(stores, patterns, name, monkeypatch):
    db, _ = stores[name]
    monkeypatch.setenv("FUNNEL_DB", str(db))
    monkeypatch.delenv("FUNNEL_REQUIRE_LOGIN", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    found = []
    for page in PAGES:
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        found += offences([(f"{name} {page}", page_texts(at))], patterns[name])
    assert not found, "\n".join(found)


# --- the text exports and the CLI ------------------------------------------------------------


@pytest.mark.parametrize("name", ["demo", "xeducation", "zoho"])
def test_weekly_pack_markdown_and_html_name_things_in_words(stores, patterns, name, tmp_path):
    db, _ = stores[name]
    texts = []
    for form in ("md", "html"):
        out = tmp_path / f"weekly.{form}"
        run = _cli("weekly", "--format", form, "--out", str(out), db=db)
        assert run.returncode == 0, run.stderr
        text = out.read_text(encoding="utf-8")
        if form == "html":  # what a person reads: the text between tags
            text = re.sub(r"<style>.*?</style>", "", text, flags=re.DOTALL)
            text = re.sub(r"<[^>]+>", "\n", text)
            assert len(out.read_bytes()) < 1_500_000  # static charts: no plotly.js inlined
        texts.append((f"{name} weekly --format {form}", text))
    assert not (found := offences(texts, patterns[name])), "\n".join(found)


def test_allocate_markdown_names_things_in_words(stores, patterns):
    db, _ = stores["demo"]
    run = _cli("allocate", "--plan", "referral=20%", db=db)
    assert run.returncode == 0, run.stderr
    assert "about" in run.stdout  # estimates said as estimates
    found = offences([("demo allocate", run.stdout)], patterns["demo"])
    assert not found, "\n".join(found)


@pytest.mark.parametrize("name", ["xeducation", "zoho"])
def test_cli_text_names_things_in_words(stores, patterns, name):
    db, ingest_text = stores[name]
    # the raw value as the file spells it ('bing') is the file's words, quoted to be mapped
    ingest_text = re.sub(r"unmapped (channel|stage) value '[^']*'", "unmapped value", ingest_text)
    texts = [(f"{name} ingest", ingest_text)]
    for args in (["uploads"], ["forecast"], ["allocate"]):
        run = _cli(*args, db=db)
        texts.append((f"{name} {' '.join(args)}", run.stdout + run.stderr))
    assert not (found := offences(texts, patterns[name])), "\n".join(found)


@pytest.mark.skip(reason="funnel/report.py is being reworked elsewhere (issue 15); its "
                  "Markdown still prints slugs such as cold_call and web")
@pytest.mark.parametrize("name", ["demo", "xeducation", "zoho"])
def test_report_markdown_names_things_in_words(stores, patterns, name):
    db, _ = stores[name]
    run = _cli("report", "--format", "md", db=db)
    assert run.returncode == 0, run.stderr
    assert not (found := offences([(f"{name} report", run.stdout)], patterns[name])), \
        "\n".join(found)


def test_the_check_catches_a_slug_and_sql():
    """The patterns find what they are for (and not the channel's words)."""
    pats = forbidden_for({"cold_call": "Cold call", "google": "Google", "web": "Website"})
    assert offences([("t", "Cold call converts 5%; Google too")], pats) == []
    assert offences([("t", "from cold call to sales")], pats) == []
    assert len(offences([("t", "cold_call converts 5%")], pats)) == 1
    assert len(offences([("t", "google converts 40%")], pats)) == 1
    assert len(offences([("t", "| web | 12 |")], pats)) == 1
    assert len(offences([("t", "the web form")], pats)) == 0
    assert len(offences([("t", "rates are NULL when")], pats)) == 1
    assert len(offences([("t", "counted as stage 'new'")], pats)) == 1
    assert len(offences([("t", "a new channel")], pats)) == 0
    assert len(offences([("t", "conversion_rate = won / leads")], pats)) == 1
