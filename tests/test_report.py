"""The report: SPEC 5's JSON contract (exact key sets), JSON safety, and the rendered texts."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from funnel import report
from funnel.metrics import metrics
from funnel.safe_text import neutralise
from tests import metric_fixtures as mf

ROOT = Path(__file__).resolve().parent.parent

# SPEC 5, verbatim
SPEC_TOP = {"period", "marketing", "sales", "allocation"}
SPEC_PERIOD = {"start", "end"}
SPEC_MARKETING = {"leads_by_channel", "leads_by_week"}
SPEC_SALES = {"conversion_by_channel", "funnel"}
SPEC_ITEMS = {
    ("marketing", "leads_by_channel"): {"channel", "kind", "leads", "share"},
    ("marketing", "leads_by_week"): {"week", "channel", "leads"},
    ("sales", "conversion_by_channel"): {
        "channel", "leads", "won", "lost", "open", "conversion_rate", "win_rate", "ci_low",
        "ci_high", "median_days_to_win", "won_value", "value_per_lead"},
    ("sales", "funnel"): {"channel", "stage", "reached"},
}


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    con = mf.make_store(tmp_path_factory.mktemp("report") / "fixture.duckdb")
    yield con
    con.close()


@pytest.fixture(scope="module")
def full(fx):
    return report.build_report(fx, compare=("referral", "cold_call"))


# What the report adds to SPEC 5, each documented in docs/METRICS.md ("head_to_head" only when
# two channels are compared) and, per allocation item, in docs/ALLOCATION.md ("What comes out").
EXTRA_TOP = {"as_of", "currency", "data_coverage", "forecast", "headline", "not_in_the_data"}
EXTRA_MARKETING = {"lead_volume_vs_previous", "spend_by_channel", "hourly_rate"}
EXTRA_SALES = {"open_by_temperature", "time_to_win", "lost_reasons", "time_in_stage",
               "open_leads_waiting", "longest_waits"}  # and by_owner with by="owner"
ALLOCATION_ITEM = {
    "channel", "label", "status", "current_share", "recommended_share",
    "current_amount", "recommended_amount",
    "current_money", "current_hours", "recommended_money", "recommended_hours",
    "expected_extra_wins", "expected_extra_wins_low", "expected_extra_wins_high",
    "expected_extra_value", "expected_extra_value_low", "expected_extra_value_high",
    "forecast_wins", "forecast_wins_low", "forecast_wins_high",
    "judged_leads", "judged_won", "conversion", "conversion_low", "conversion_high",
    "cost_per_lead", "cost_per_lead_with_hours", "value_per_win", "value_per_lead",
    "value_per_cost", "value_per_cost_low", "value_per_cost_high", "wins_per_cost",
    "p_best", "p_beats_mix", "break_even_conversion", "leads_needed", "response_curve",
    "limits", "reason", "what_would_change",
}
# SPEC 5's allocation keys, all among them
SPEC_ALLOCATION = {
    "channel", "current_share", "recommended_share", "current_amount", "recommended_amount",
    "expected_extra_wins", "expected_extra_wins_low", "expected_extra_wins_high", "reason",
}


def test_json_contract_holds_exactly(fx, full):
    assert SPEC_ALLOCATION <= ALLOCATION_ITEM
    assert set(full) == SPEC_TOP | EXTRA_TOP | {"head_to_head"}
    assert set(report.build_report(fx)) == SPEC_TOP | EXTRA_TOP
    assert set(full["period"]) == SPEC_PERIOD
    assert set(full["marketing"]) == SPEC_MARKETING | EXTRA_MARKETING
    assert set(full["sales"]) == SPEC_SALES | EXTRA_SALES
    for (section, key), keys in SPEC_ITEMS.items():
        items = full[section][key]
        assert items, f"{section}.{key} is empty on the fixture"
        for item in items:
            assert set(item) == keys, f"{section}.{key}: {sorted(set(item) ^ keys)}"
    # allocation: one object per channel with spend (the fixture records spend for two)
    assert {item["channel"] for item in full["allocation"]} == {"referral", "cold_call"}
    for item in full["allocation"]:
        assert set(item) == ALLOCATION_ITEM, sorted(set(item) ^ ALLOCATION_ITEM)


def test_json_is_strict_and_round_trips(full):
    text = report.render_json(full)  # allow_nan=False: raises on any NaN
    assert json.loads(text) == full

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        else:
            assert value is None or isinstance(value, str | int | float | bool), type(value)
            assert not (isinstance(value, float) and not math.isfinite(value))

    walk(full)


def test_values_are_the_hand_numbers(full):
    assert full["period"] == {"start": "2024-01-01", "end": "2024-03-04"}  # all the data
    assert full["as_of"] == "2024-03-31"
    weeks = {item["week"] for item in full["marketing"]["leads_by_week"]}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", w) for w in weeks)
    assert min(weeks) == "2024-01-01" and max(weeks) == "2024-03-04"
    first = full["marketing"]["leads_by_channel"][0]
    assert first == {"channel": "referral", "kind": "inbound", "leads": 6, "share": 0.5}
    tiktok = full["sales"]["conversion_by_channel"][2]
    # 1 open lead: win_rate and median days are null (not NaN), won_value 0
    assert tiktok["channel"] == "tiktok"
    assert tiktok["win_rate"] is None and tiktok["median_days_to_win"] is None
    assert tiktok["won_value"] == 0
    ref_funnel = [i["reached"] for i in full["sales"]["funnel"] if i["channel"] == "referral"]
    assert ref_funnel == [6, 5, 5, 4, 3]
    # headline: 12 leads, 4 won (R1 R2 R6 C4), 3 lost, 5 open; 1000 + 500 + 800 = 2300 won
    assert full["headline"] == {"leads": 12, "won": 4, "lost": 3, "open": 5,
                                "conversion_rate": 4 / 12, "won_value": 2300.0}


def test_report_numbers_equal_the_metrics(fx):
    rep = report.build_report(fx, start="2024-01-08", end="2024-01-31")
    assert rep["period"] == {"start": "2024-01-08", "end": "2024-01-31"}
    conv = metrics.conversion_by_channel(fx, start="2024-01-08", end="2024-01-31")
    got = {i["channel"]: i for i in rep["sales"]["conversion_by_channel"]}
    for row in conv.itertuples(index=False):
        assert got[row.channel]["leads"] == row.leads
        assert got[row.channel]["conversion_rate"] == pytest.approx(row.conversion_rate)


def test_head_to_head_only_when_asked(fx, full):
    assert "head_to_head" not in report.build_report(fx)
    h = full["head_to_head"]
    assert (h["channel_a"], h["channel_b"]) == ("referral", "cold_call")
    # 3 of 6 vs 1 of 5: the closed form of tests/test_stats.py gives 0.8205
    assert h["p_a_better"] == pytest.approx(0.8205, abs=0.003)
    assert h["sentence"].startswith("Referral converts 50% (19–81%) vs cold call 20% (4–62%)")
    assert report.build_report(fx, compare="referral, cold_call")["head_to_head"] == h
    with pytest.raises(ValueError):
        report.build_report(fx, compare="referral")


def test_empty_store_report_is_valid(tmp_path):
    from funnel.store import connection as store

    con = store.connect(tmp_path / "empty.duckdb")
    rep = report.build_report(con)
    json.loads(report.render_json(rep))
    assert rep["period"] == {"start": None, "end": None}
    assert rep["marketing"]["leads_by_channel"] == [] and rep["allocation"] == []
    assert "No leads in this period." in report.render_markdown(rep)
    con.close()


def test_markdown_reads_as_a_note(full):
    md = report.render_markdown(full)
    assert md.startswith("# Funnel report: 1 Jan 2024 to 4 Mar 2024\n")
    # headline sentence, percentages rounded as on the pages (4 / 12 = 33.3% -> 33%), compact
    # tables
    assert "12 leads, 4 won (33%), 5 still open; won value 2,300." in md
    # channels, kinds and stages in words, never slugs (SPEC 5)
    assert "| Referral | Inbound | 6 | 50% |" in md
    # 3 of 6, Wilson 18.8%-81.2% -> 19-81%; win rate 3 / 4 = 75%; 20.5 days -> 20 (whole days
    # from 10 on, rounded half to even as the pages round them)
    assert "| Referral | 6 | 3 | 1 | 2 | 50% (19–81%) | 75% | 20 | 1,500 | 250 |" in md
    assert "| Referral | 6 | 5 (83%) | 5 (83%) | 4 (67%) | 3 (50%) |" in md
    assert "## Head-to-head: Referral vs Cold call" in md
    assert "cold_call" not in md and "| referral |" not in md
    assert "nan" not in md.lower()


def test_markdown_vs_previous_period(fx):
    md = report.render_markdown(report.build_report(fx, start="2024-02-01", end="2024-02-29"))
    # 3 leads now, 6 in the 29 days before: down 50.0%; referral 2 from 3: down 33.3%
    assert "brought 6: down 50%." in md
    assert "| Referral | Inbound | 2 | 67% | down 33%, from 3 |" in md


def test_rendered_tables_neutralise_formulas(tmp_path):
    con = mf.make_store(tmp_path / "hostile.duckdb", with_spend=False)
    mf.insert_leads(con, [
        ("H1", '=HYPERLINK("http://x")', "2024-01-05 00:00", "new", None, None, None, None,
         ["new"]),
        ("H2", "-2+3|x", "2024-01-05 00:00", "new", None, None, None, None, ["new"]),
    ])
    rep = report.build_report(con)
    md = report.render_markdown(rep)
    # neutralised, and de-linked for a Markdown viewer (a zero-width space after "http\:")
    assert "| '=HYPERLINK(\"http\\:\u200b//x\") |" in md
    assert "| '-2+3\\|x |" in md  # neutralised, and the pipe escaped so the table holds
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            assert not any(c[:1] in "=+-@" and not set(c) <= set("-:") for c in cells), line
    page = report.render_html(rep)
    assert "<td>&#x27;=HYPERLINK(&quot;http://x&quot;)</td>" in page
    assert "<script" not in page
    # the JSON keeps the data as it is: it is data, not a table a spreadsheet opens
    channels = {i["channel"] for i in rep["marketing"]["leads_by_channel"]}
    assert {'=HYPERLINK("http://x")', "-2+3|x"} <= channels
    con.close()


def test_neutralise():
    assert neutralise("=1+2") == "'=1+2"
    assert neutralise("+44 20") == "'+44 20"
    assert neutralise("-3") == "'-3"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\tcmd") == "'\tcmd"
    assert neutralise("referral") == "referral"
    assert neutralise("") == ""
    assert neutralise(-3) == -3 and neutralise(None) is None


def test_report_keys_are_documented(full):
    doc = (ROOT / "docs" / "METRICS.md").read_text()
    headings = {h.split(" (")[0] for h in re.findall(r"^#+ (.+)$", doc, flags=re.M)}
    keys = set(full)
    for section in ("marketing", "sales"):
        keys |= set(full[section])
    missing = sorted(keys - headings)
    assert not missing, f"docs/METRICS.md has no heading for report keys {missing}"
