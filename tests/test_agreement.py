"""One number, one name (issue 15, item 1): Overview, Sales, Marketing, Allocation, the weekly
pack (page and ``weekly --format md``) and ``report --format md`` show, for the same leads, the
same conversion, interval and cost per lead. Expected values come from plain pandas on the
demo's raw CSVs (the Pipedrive snapshot and the spend file) and the Wilson formula written out
below, never from funnel's code.

Where a page covers other leads on purpose (Allocation: leads old enough to judge, over all the
history) the test checks that its label says so, and that its number is the same definition
applied to those leads."""

from __future__ import annotations

import math
import re
import subprocess
import sys

import pandas as pd
import pytest
from app_helpers import DEMO_AS_OF, DEMO_SPEND, ROOT, demo_leads
from streamlit.testing.v1 import AppTest

from funnel.app import allocation as app_allocation

pytestmark = pytest.mark.usefixtures("fresh_caches")

APP = str(ROOT / "app.py")
TIMEOUT = 180
RATE = 30.0  # the default hourly rate: "money and hours at $30 an hour"
MONEY_ONLY = "Cost per lead (money only)"
WITH_HOURS = "Cost per lead (money and hours at $30 an hour)"


# --- expected numbers, by hand and plain pandas ----------------------------------------------


def wilson(won: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval, 95%: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p = won / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def conversion(label: str, leads: pd.DataFrame | None = None) -> tuple[float, float, float]:
    """(rate, low, high) of a channel's leads in the demo's last snapshot."""
    df = demo_leads() if leads is None else leads
    mine = df[df["label"] == label]
    won = int((mine["Deal - Status"] == "won").sum())
    return (won / len(mine), *wilson(won, len(mine)))


def judged(min_wins: int = 10) -> pd.DataFrame:
    """The demo's leads old enough to judge (docs/METRICS.md, weekly_cohorts): a created-week
    cohort is mature when the days from its Sunday to the as-of date reach the channel's 90th
    percentile of days from created to won (all channels' pooled under ``min_wins`` wins)."""
    df = demo_leads()
    won = df[(df["Deal - Status"] == "won") & df["won_time"].notna()]
    days = ((won["won_time"] - won["created"]).dt.total_seconds() / 86400).clip(lower=0)
    pooled = days.quantile(0.9)
    monday = df["created"].dt.normalize() - pd.to_timedelta(df["created"].dt.day_of_week, "D")
    age = (DEMO_AS_OF - (monday + pd.Timedelta(days=6))).dt.days
    keep = pd.Series(False, index=df.index)
    for label, rows in df.groupby("label"):
        own = days[won["label"] == label]
        horizon = own.quantile(0.9) if len(own) >= min_wins else pooled
        keep[rows.index] = age[rows.index] >= horizon
    return df[keep]


def costs(label: str) -> tuple[float, float]:
    """(money only, money and hours at $30) per lead over all the demo's spend and leads."""
    spend = pd.read_csv(DEMO_SPEND)
    mine = spend[spend["Channel"] == label]
    leads = int((demo_leads()["label"] == label).sum())
    money, hours = mine["Money spent"].sum(), mine["Hours spent"].fillna(0).sum()
    return money / leads, (money + RATE * hours) / leads


# --- reading what a page shows ---------------------------------------------------------------

NUMBER = r"(\d[\d,]*(?:\.\d+)?)"
RATE_WITH_RANGE = re.compile(NUMBER + r"% \(" + NUMBER + r"%?\s?[–-]\s?" + NUMBER + r"%\)")


def same(shown: str, expected: float, scale: float = 1.0) -> bool:
    """``shown`` ('24', '7.6', '1.19', '1,235') is ``expected`` rounded to the digits shown."""
    digits = len(shown.split(".")[1]) if "." in shown else 0
    return abs(float(shown.replace(",", "")) - scale * expected) <= 0.5 * 10 ** -digits + 1e-9


def assert_rate(text: str, expected: tuple[float, float, float], where: str) -> None:
    """``text`` holds 'rate% (low–high%)' equal to ``expected`` at the precision shown."""
    found = RATE_WITH_RANGE.search(text)
    assert found, f"{where}: no 'rate (interval)' in {text!r}"
    for shown, value in zip(found.groups(), expected, strict=True):
        assert same(shown, value, 100), f"{where}: {found.group(0)} is not {expected}"


def assert_money(text: str, expected: float, where: str) -> None:
    found = re.search(r"\$" + NUMBER, str(text))
    assert found and same(found.group(1), expected), f"{where}: {text!r} is not ${expected:.2f}"


def run(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def row(table: pd.DataFrame, label: str) -> pd.Series:
    return table[table["Channel"] == label].iloc[0]


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    found = [d.value for d in [*at.dataframe, *at.table] if column in d.value.columns]
    assert found, f"no table with {column!r}: {[list(d.value.columns) for d in at.dataframe]}"
    return found[0]


# --- the test --------------------------------------------------------------------------------


def test_pages_and_report_agree_on_conversion_interval_and_cost_per_lead(demo_db):
    referral, cold_call = conversion("Referral"), conversion("Cold call")
    # by hand: referral 40 won of 168 leads = 23.8% (Wilson 18.0-30.8%); cold call 19 of 410
    assert (round(100 * referral[0], 1), round(100 * cold_call[0], 1)) == (23.8, 4.6)
    cpl_money, cpl_hours = costs("Cold call")
    # by hand: cold call $487.10 and 317.5 h over 410 leads: $1.19 money only,
    # ($487.10 + 317.5 x $30) / 410 = $24.42 with hours
    assert (round(cpl_money, 2), round(cpl_hours, 2)) == (1.19, 24.42)

    # report --format md (first: the pages below keep the store open): the conversion table
    # and the cost table
    md = subprocess.run(
        [sys.executable, "-m", "funnel", "report", "--db", str(demo_db), "--format", "md"],
        capture_output=True, text=True, check=True,
    ).stdout
    pack_md = subprocess.run(  # the weekly pack, checked at the end with its page
        [sys.executable, "-m", "funnel", "weekly", "--db", str(demo_db), "--format", "md"],
        capture_output=True, text=True, check=True,
    ).stdout
    lines: dict[str, str] = {}  # the first row per channel: the conversion table comes first
    for line in md.splitlines():
        if line.startswith("| ") and RATE_WITH_RANGE.search(line):
            lines.setdefault(line.split("|")[1].strip().lower(), line)
    assert_rate(lines.get("referral", ""), referral, "report referral")
    cold_line = lines.get("cold call") or lines.get("cold_call", "")
    assert_rate(cold_line, cold_call, "report cold call")
    header = next(line for line in md.splitlines() if MONEY_ONLY in line)
    names = [c.strip() for c in header.strip("|").split("|")]
    cost_row = next(line for line in md.splitlines()
                    if line.startswith("| Cold call |") and "$" in line)
    cells = [c.strip() for c in cost_row.strip("|").split("|")]
    assert_money(cells[names.index(MONEY_ONLY)], cpl_money, "report money only")
    assert_money(cells[names.index(WITH_HOURS)], cpl_hours, "report with hours")

    # Overview: the finding names referral against cold call with rate and interval
    at = run("app_pages/overview.py")
    finding = " ".join(m.value for m in at.markdown if "Referral converts" in m.value)
    assert_rate(finding.split("Referral converts", 1)[1], referral, "Overview referral")
    assert_rate(finding.split(" vs cold call", 1)[1], cold_call, "Overview cold call")

    # Sales: the table behind the conversion chart, and the head-to-head's interval
    at = run("app_pages/sales.py")
    table = table_with(at, "Conversion")
    assert_rate(row(table, "Referral")["Conversion"], referral, "Sales table referral")
    assert_rate(row(table, "Cold call")["Conversion"], cold_call, "Sales table cold call")
    for label, expected in (("Referral", referral), ("Cold call", cold_call)):
        metric = next(m for m in at.metric if m.label == f"{label} conversion")
        interval = metric.help.split("95% interval ")[1]  # '... leads; 95% interval 18–31%'
        assert_rate(f"{metric.value} ({interval})", expected, f"Sales head to head {label}")

    # Marketing: both costs per lead under their names
    at = run("app_pages/marketing.py")
    spend = table_with(at, MONEY_ONLY)
    assert_money(row(spend, "Cold call")[MONEY_ONLY], cpl_money, "Marketing money only")
    assert_money(row(spend, "Cold call")[WITH_HOURS], cpl_hours, "Marketing with hours")

    # Allocation: the same cost per lead under the same name; its conversion is the same
    # definition over other leads, and its label and caption say which
    at = run("app_pages/allocation.py")
    plan = table_with(at, app_allocation.CONVERSION_COL)
    assert "old enough to judge" in app_allocation.CONVERSION_COL
    assert_money(row(plan, "Cold call")[WITH_HOURS], cpl_hours, "Allocation with hours")
    mature = judged()
    for label in ("Referral", "Cold call"):
        assert_rate(row(plan, label)[app_allocation.CONVERSION_COL],
                    conversion(label, mature), f"Allocation {label}")
    captions = " ".join(c.value for c in at.caption)
    assert "all 16 weeks" in captions and "old enough to judge" in captions
    assert "money and hours at $30 an hour" in captions

    # The weekly pack, on its page and as Markdown: referral against cold call over every lead up
    # to the as-of date (the Sales selection with no dates picked), and the plan's cost per lead
    # with hours, as Allocation's (all the history)
    at = run("app_pages/weekly.py")
    page_text = " ".join(m.value for m in at.markdown if "Referral converts" in m.value)
    for where, text in (("Weekly page", page_text), ("weekly --format md", pack_md)):
        assert_rate(text.split("Referral converts", 1)[1], referral, f"{where} referral")
        assert_rate(text.split(" vs cold call", 1)[1], cold_call, f"{where} cold call")
    cells = " ".join(str(v) for v in table_with(at, "What would change it")
                     .set_index("Channel").loc["Cold call"])
    for where, text in (("Weekly page", cells), ("weekly --format md", pack_md)):
        found = re.search(r"Cold call would .*?\(now (\$[\d.,]+), money and hours at \$30 an "
                          r"hour\)", text)
        assert found, f"{where}: no cost per lead for cold call in the plan"
        assert_money(found.group(1), cpl_hours, f"{where} cost per lead with hours")
