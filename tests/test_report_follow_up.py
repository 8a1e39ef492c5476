"""The report answers the meeting's follow-up questions (issue 17, items 1 and 7): who converts
which channel (``--by owner``), why deals are lost, where leads get stuck, what is coming, in
the JSON and in words in the Markdown/HTML. Every store is built through the real ingest from a
tiny CSV written here; every expected number is worked out by hand (arithmetic in comments)."""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pipedrive_snapshots import FIRST, FIRST_DAY, SECOND, SECOND_DAY, csv_text

from funnel import forecast_log, report
from funnel.ingest.core import IngestOptions
from funnel.ingest.upload import ingest_file
from funnel.metrics import forecast, stage_time
from funnel.metrics.stats import MIN_LEADS_TO_JUDGE
from funnel.safe_text import md_text
from funnel.store import connection as store

ROOT = Path(__file__).resolve().parent.parent

# A file that says only whether each lead converted: no owner, no reason, no stage, no dates
# but the day each came in. 1 won, 2 and 3 lost ("0" reads as lost), 4 open (empty).
CONVERTED_ONLY = ("id,Lead Source,Created Date,Converted\n"
                  "1,Referral,2026-01-05,1\n2,Referral,2026-01-06,0\n"
                  "3,Cold call,2026-01-07,0\n4,Cold call,2026-01-08,\n")


def _ingest(path: Path, files: list[tuple[str, dt.date]]) -> None:
    """A store at ``path`` holding ``files`` (text, upload day) through the real ingest; left
    closed, so a CLI in another process can open it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("FUNNEL_PII_KEY", raising=False)
        con = store.connect(path)
        try:
            for i, (text, day) in enumerate(files):
                csv = path.parent / f"export_{i}.csv"
                csv.write_text(text, encoding="utf-8")
                result = ingest_file(con, csv, IngestOptions(as_of=day), db_path=path)
                assert result.rejected == 0
        finally:
            con.close()


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory) -> Path:
    """The two Pipedrive snapshots, and the forecast kept at 15 March (forecast 1)."""
    path = tmp_path_factory.mktemp("follow_up") / "funnel.duckdb"
    _ingest(path, [(csv_text(FIRST), FIRST_DAY), (csv_text(SECOND), SECOND_DAY)])
    con = store.connect(path)
    assert forecast_log.keep(con) == 1
    con.close()
    return path


@pytest.fixture(scope="module")
def rep(two_weeks) -> dict:
    con = store.connect(two_weeks)
    try:
        return report.build_report(con, by="owner")
    finally:
        con.close()


@pytest.fixture(scope="module")
def md(rep) -> str:
    return report.render_markdown(rep)


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval (95%), written out here apart from the code under test."""
    z = 1.959964
    p = k / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - half) / (1 + z * z / n)), min(1.0, (centre + half) / (1 + z * z / n))


def pct(share: float) -> str:
    """A share as the pages round it: whole percent, one decimal below 1% (not 0)."""
    value = 100 * share
    return f"{value:.1f}" if 0 < value < 1 else f"{value:.0f}"


def rate(k: int, n: int) -> str:
    """'50% (15–85%)': as the report's tables (and the pages) show a rate and its interval."""
    low, high = wilson(k, n)
    return f"{pct(k / n)}% ({pct(low)}–{pct(high)}%)"


def follow_up_part(text: str) -> str:
    """The Markdown from the follow-up sections on (the head-to-head comes after them)."""
    return text[text.index("## Sales by owner"):].split("## Head-to-head")[0]


# --- the JSON ----------------------------------------------------------------------------------


def test_follow_up_keys_are_added_and_spec_keys_kept(two_weeks, rep):
    con = store.connect(two_weeks)
    plain = report.build_report(con)
    con.close()
    assert "by_owner" not in plain["sales"]  # only with by="owner"
    assert set(rep["sales"]) - set(plain["sales"]) == {"by_owner"}
    assert {"conversion_by_channel", "funnel"} <= set(rep["sales"])  # SPEC 5 stays
    keyed = {
        "by_owner": set(report.OWNER_KEYS),
        "lost_reasons": set(report.LOST_REASON_KEYS),
        "time_in_stage": set(report.TIME_IN_STAGE_KEYS),
        "open_leads_waiting": set(report.WAITING_KEYS),
        "longest_waits": set(report.LONGEST_WAIT_KEYS),
    }
    for key, keys in keyed.items():
        assert rep["sales"][key], key
        for item in rep["sales"][key]:
            assert set(item) == keys, (key, sorted(set(item) ^ keys))
    f = rep["forecast"]
    assert set(f) == {"as_of", "method", "range", "horizons", "totals", "stages", "notes",
                      "kept_forecasts"}
    assert all(set(t) == {*report.FORECAST_TOTAL_KEYS, "sentence"} for t in f["totals"])
    assert all(set(s) == set(report.FORECAST_STAGE_KEYS) for s in f["stages"])
    assert all(set(k) == {*report.KEPT_FORECAST_KEYS, "sentence"} for k in f["kept_forecasts"])
    # strict JSON: no NaN anywhere, and it reads back the same
    assert json.loads(report.render_json(rep)) == rep


def test_by_owner_is_a_hand_count(rep):
    rows = rep["sales"]["by_owner"]
    totals = [r for r in rows if r["channel"] is None]
    # owners by leads: Ann 4 (deals 1, 2, 7, 8), Bob 3 (3, 4, 5), no owner 1 (deal 6)
    assert [r["owner"] for r in totals] == ["Ann", "Bob", None]
    ann, bob, nobody = totals
    # Ann: won 2 and 8, lost 7, open 1; conversion 2/4, win rate 2/(2+1)
    assert (ann["leads"], ann["won"], ann["lost"], ann["open"]) == (4, 2, 1, 1)
    assert ann["conversion_rate"] == pytest.approx(2 / 4)
    assert (ann["ci_low"], ann["ci_high"]) == pytest.approx(wilson(2, 4))
    assert ann["win_rate"] == pytest.approx(2 / 3)
    assert (ann["win_ci_low"], ann["win_ci_high"]) == pytest.approx(wilson(2, 3))
    assert ann["won_value"] == pytest.approx(200 + 800)
    assert MIN_LEADS_TO_JUDGE > 4 and ann["too_few"] is True  # 4 leads: too few to judge
    # Bob: 3 lost of 3; nobody: deal 6, open, nothing closed -> no win rate (null, not NaN)
    assert (bob["leads"], bob["won"], bob["lost"], bob["win_rate"]) == (3, 0, 3, 0)
    assert (nobody["leads"], nobody["open"], nobody["win_rate"]) == (1, 1, None)
    cells = {(r["owner"], r["channel"]): (r["leads"], r["won"], r["lost"], r["open"])
             for r in rows if r["channel"] is not None}
    # Ann x Referral: 1, 2, 8; Ann x Cold call: 7; Bob x Referral: 3; Bob x Cold call: 4, 5;
    # no owner x Cold call: 6
    assert cells == {("Ann", "referral"): (3, 2, 0, 1), ("Ann", "cold_call"): (1, 0, 1, 0),
                     ("Bob", "referral"): (1, 0, 1, 0), ("Bob", "cold_call"): (2, 0, 2, 0),
                     (None, "cold_call"): (1, 0, 0, 1)}


def test_lost_reasons_by_channel_and_stage(rep):
    rows = {(r["reason"], r["channel_label"], r["lost_at_label"], r["lost_leads"])
            for r in rep["sales"]["lost_reasons"]}
    # 3: Price, Referral, lost at Lead In (New); 4: "price " = Price, Cold call, Demo Scheduled
    # (Qualified); 5: No response (one deal: Other), Cold call, New; 7: no reason, Cold call,
    # Contact Made (Contacted)
    assert rows == {("Price", "Referral", "New", 1), ("Price", "Cold call", "Qualified", 1),
                    ("Other", "Cold call", "New", 1), (None, "Cold call", "Contacted", 1)}


def test_time_in_stage_and_waits(rep):
    stays = {r["stage"]: r for r in rep["sales"]["time_in_stage"] if r["channel"] is None}
    new = stays["new"]
    # At New, dated both ends: deal 1 (1 Mar 09:00 -> seen at Contacted 15 Mar: 13.625 days,
    # moved on), 3 (2 -> 12 Mar: 10, lost), 4 (3 -> 9 Mar: 6, lost); deal 6 still there
    # (censored at 9.58); 2, 5, 7, 8 first seen past New: not in the data.
    assert (new["stays"], new["left"], new["still_there"], new["not_in_data"]) == (8, 3, 1, 4)
    # Kaplan-Meier: at 6 d 1 of 4 ends (0.75), 9.58 censored, at 10 d 1 of 2 ends (0.375)
    assert new["median_days"] == pytest.approx(10.0)
    assert (new["moved_on"], new["median_days_to_next_step"]) == (1, pytest.approx(13.625))
    waiting = {r["stage"]: r for r in rep["sales"]["open_leads_waiting"] if r["channel"] is None}
    # open at 15 Mar: deal 6 at New since it came in 5 Mar 10:00 (10 whole days, 600); deal 1
    # at Contacted since 15 Mar (0 days), in since 1 Mar (14 days, 100)
    assert (waiting["new"]["open_leads"], waiting["new"]["open_value"]) == (1, 600)
    assert waiting["new"]["median_days_at_stage"] == 10
    assert (waiting["contacted"]["median_days_at_stage"],
            waiting["contacted"]["median_days_open"]) == (0, 14)
    sentences = [r["sentence"] for r in rep["sales"]["longest_waits"]]
    assert sentences == [
        "All channels: longest wait at New, 1 open lead, there for 10 days.",
        "Cold call: longest wait at New, 1 open lead, there for 10 days.",
        "Referral: longest wait at Contacted, 1 open lead, there for 0 days.",
    ]


def test_forecast_and_kept_forecasts(two_weeks, rep):
    f = rep["forecast"]
    # as of Sunday 15 March: 4 weeks -> 12 April; the rest of March -> 31 March
    assert f["as_of"] == "2026-03-15"
    assert [(h["key"], h["end"]) for h in f["horizons"]] == [("weeks", "2026-04-12"),
                                                              ("month", "2026-03-31")]
    # the files date 4 moves between stages (4 New->lost, 1 New->Contacted, 3 New->lost,
    # 2 Proposal->won), fewer than 10: the days-since-they-came-in method
    assert f["method"] == "days" and f["range"] == 0.8
    every = [t for t in f["totals"] if t["channel"] is None]
    assert [t["horizon"] for t in every] == ["weeks", "month"]
    for t in every:
        # open: deals 1 (Referral, 100) and 6 (Cold call, 600)
        assert t["open_deals"] == 2
        assert t["wins_low"] <= t["expected_wins"] <= t["wins_high"] <= 2
        assert t["value_low"] <= t["expected_value"] <= t["value_high"] <= 100 + 600
        assert "USD" in t["sentence"] and "$" not in t["sentence"]
    # deal 1 has been open 14 days, longer than any past deal still open then: no chance
    stages = {(s["channel"], s["stage"]): s for s in f["stages"]}
    assert stages[("referral", "contacted")]["basis"] == "none"
    cold = stages[("cold_call", "new")]
    # the expected money is the one valued open cold-call deal's 600 times its chance
    weeks = every[0]
    assert weeks["expected_value"] == pytest.approx(600 * cold["chance"])
    assert weeks["sentence"].startswith("The next 4 weeks (to 12 Apr 2026): about 0 wins from "
                                        "2 open deals")
    assert f"worth about {weeks['expected_value']:,.0f} USD (" in weeks["sentence"]
    # the report's numbers are the metric's (same seed)
    con = store.connect(two_weeks)
    direct = forecast.forecast(con)["totals"]
    con.close()
    assert [t["expected_wins"] for t in f["totals"]] == pytest.approx(
        list(direct["expected_wins"]))
    kept = [k for k in f["kept_forecasts"] if k["channel"] is None]
    # forecast 1, kept at 15 March; no win is dated after it and the data ends that day: not due
    assert {k["forecast_id"] for k in f["kept_forecasts"]} == {1}
    assert len(f["kept_forecasts"]) == 2 * 3  # 2 horizons x (all, Cold call, Referral)
    assert all(k["actual_wins"] == 0 and not k["due"] and k["verdict"] is None for k in kept)
    # at most 1 win (a 1-in-4 chance at most on deal 6, none on deal 1): the range is 0 to 1
    weeks_kept = next(k for k in kept if k["horizon"] == "the next 4 weeks")
    assert weeks_kept["sentence"] == (
        "Forecast 1 of 15 Mar 2026 for the next 4 weeks (to 12 Apr 2026): 0 to 1 wins; 0 so far "
        "(due once the data reaches 12 Apr 2026).")


def test_the_report_numbers_are_the_metrics(two_weeks, rep):
    con = store.connect(two_weeks)
    stays = stage_time.time_in_stage(con)
    con.close()
    got = [(r["channel"], r["stage"], r["median_ci_low"]) for r in rep["sales"]["time_in_stage"]]
    want = [(None if c is None else c, s, None if math.isnan(lo) else lo)
            for c, s, lo in stays[["channel", "stage", "median_ci_low"]].itertuples(
                index=False, name=None)]
    assert got == want


# --- the Markdown and HTML ---------------------------------------------------------------------


def test_markdown_says_each_answer_in_words(md):
    # 8 deals; won 2 and 8 (2/8 = 25%), open 1 and 6; 200 + 800 won, in the files' USD
    assert "8 leads, 2 won (25%), 2 still open; won value 1,000 USD." in md
    assert "cold_call" not in md  # the SPEC 5 sections in words too
    part = follow_up_part(md)
    # no slug: channels and stages in words
    assert "cold_call" not in part and not re.search(r"\breferral\b", part)
    # who: Ann 2 of 4 (win rate 2 of 3), 1,000 USD won; no owner on deal 6
    assert (f"| Ann | 4 | 2 | 1 | 1 | {rate(2, 4)} | {rate(2, 3)} | 1,000 USD "
            "| too few leads to judge |") in part
    assert f"| Bob | 3 | 0 | 3 | 0 | {rate(0, 3)} | {rate(0, 3)} | 0 USD |" in part
    assert (f"| No owner in the data | 1 | 0 | 0 | 1 | {rate(0, 1)} | n/a | 0 USD "
            "| too few leads to judge |") in part
    assert f"| Ann | Referral | 3 | 2 | 0 | 1 | {rate(2, 3)} | {rate(2, 2)} |" in part
    assert f"Every owner has fewer than {MIN_LEADS_TO_JUDGE} leads here" in part
    # why lost: 4 lost; Price 2 of 4 = 50%, Other 1 = 25%, no reason 1 = 25%
    assert ("4 deals lost in this period; why: Price 2 (50%), Other 1 (25%), "
            "no reason in the data 1 (25%).") in part
    # by channel, Cold call first (3 lost: 4, 5, 7) then Referral (1: deal 3)
    assert "| Reason | Lost | Cold call | Referral |" in part
    assert "| Price | 2 | 1 | 1 |" in part and "| No reason in the data | 1 | 1 | 0 |" in part
    # by stage lost at: Price at New (3) and Qualified (4); Other at New (5); none at Contacted
    assert "| Reason | New | Contacted | Qualified |" in part
    assert "| Price | 1 | 0 | 1 |" in part and "| Other | 1 | 0 | 0 |" in part
    # stuck: New 8 stays, 4 timed (3 ended + 1 going on), median 10 days, 1 moved on after
    # 13.625 days (-> 14: whole days from 10 on); 10 stays in all (New 8, Contacted 1, Proposal
    # 1), 5 untimed (4 + 0 + 1)
    assert re.search(r"\| New \| 8 \| 4 \| 10 \(.+\) \| 1 \| 14 \|", part)
    assert "5 of the 10 stays are not timed" in part
    assert "All channels: longest wait at New, 1 open lead, there for 10 days." in part
    assert "| New | 1 | 600 USD | 10 | 10 | 10 |" in part
    assert "| Contacted | 1 | 100 USD | 14 | 0 | 0 |" in part
    # coming: the sentences, money in the store's currency; the kept forecast scored
    assert "## What is coming" in part
    assert "The next 4 weeks (to 12 Apr 2026): about 0 wins from 2 open deals" in part
    assert "$" not in part
    assert "| Referral |  | not in the data |" in part  # deal 1's chance: not in the data
    assert "Forecast 1 of 15 Mar 2026 for the next 4 weeks (to 12 Apr 2026): 0 to 1 wins" in part
    assert "nan" not in part.lower()


def test_html_has_the_same_sections(rep):
    page = report.render_html(rep)
    for heading in ("Sales by owner: who converts which channel?", "Why deals are lost",
                    "Where leads get stuck", "What is coming"):
        assert f"<h2>{heading}</h2>" in page
    assert "<td>No owner in the data</td>" in page and "cold_call" not in page.split(
        "Sales by owner")[1]


def test_without_by_there_is_no_owner_section(two_weeks):
    con = store.connect(two_weeks)
    text = report.render_markdown(report.build_report(con))
    with pytest.raises(ValueError):
        report.build_report(con, by="team")
    con.close()
    assert "Sales by owner" not in text and "## Why deals are lost" in text


def test_words_from_files_are_plain_text(tmp_path):
    # two lost deals whose owner and reason are Markdown or a formula: shown as typed
    owner, reason = "[Eve](http://e.example)", "**cheap**"
    rows = [f"{i},lost,Lead In,2026-03-0{i} 10:00,,2026-03-0{i + 2} 10:00,{reason},{who},"
            "Referral,100,USD" for i, who in ((1, owner), (2, "=Zed"))]
    path = tmp_path / "funnel.duckdb"
    _ingest(path, [(csv_text(rows), dt.date(2026, 3, 8))])
    con = store.connect(path)
    rep = report.build_report(con, by="owner")
    con.close()
    text = report.render_markdown(rep)
    assert md_text(owner) in text and owner not in text
    assert md_text(reason) in text and reason not in text
    assert "| '=Zed |" in text  # a table cell starting with '=' is neutralised
    assert html.escape("**cheap**") in report.render_html(rep)


# --- unknown stays unknown ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def bare(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("bare") / "funnel.duckdb"
    _ingest(path, [(CONVERTED_ONLY, dt.date(2026, 1, 20))])
    con = store.connect(path)
    try:
        return report.build_report(con, by="owner")
    finally:
        con.close()


def test_a_store_without_owners_reasons_or_stages_says_not_in_the_data(bare):
    sales = bare["sales"]
    # one owner row, null: 4 leads, 1 won, 2 lost, 1 open; never a made-up owner
    (total,) = [r for r in sales["by_owner"] if r["channel"] is None]
    assert total["owner"] is None
    assert (total["leads"], total["won"], total["lost"], total["open"]) == (4, 1, 2, 1)
    # lost 2 and 3: no reason, no stage lost at
    assert [(r["reason"], r["lost_at"], r["lost_leads"]) for r in sales["lost_reasons"]] == [
        (None, None, 1), (None, None, 1)]
    assert sales["time_in_stage"] == sales["open_leads_waiting"] == sales["longest_waits"] == []
    assert bare["forecast"]["totals"] == []
    text = report.render_markdown(bare)
    assert "Not in the data: the files name no owner (salesperson) for these leads" in text
    assert "2 deals lost in this period; why is not in the data" in text
    assert "| Reason | Not in the data |" in text
    assert "| No reason in the data | 2 |" in text
    assert ("Not in the data: these leads' files say only whether each lead was won, not the "
            "stages it went through, so how long leads stay at a stage cannot be measured.") in text
    assert "Not in the data: the files give no date any deal was won" in text
    json.loads(report.render_json(bare))


# --- the command line --------------------------------------------------------------------------


def run_cli(*args: str, db: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FUNNEL_PII_KEY"}
    env["FUNNEL_DB"] = str(db)
    return subprocess.run([sys.executable, "-m", "funnel", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_report_by_owner(two_weeks):
    db = str(two_weeks)
    out = run_cli("report", "--db", db, "--by", "owner", db=two_weeks)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    ann = next(r for r in data["sales"]["by_owner"] if r["owner"] == "Ann" and not r["channel"])
    assert (ann["leads"], ann["won"]) == (4, 2)  # deals 1, 2, 7, 8; won 2 and 8
    plain = json.loads(run_cli("report", "--db", db, db=two_weeks).stdout)
    assert "by_owner" not in plain["sales"] and plain["sales"]["lost_reasons"]
    text = run_cli("report", "--db", db, "--by", "owner", "--format", "md", db=two_weeks)
    assert text.returncode == 0 and "## Sales by owner: who converts which channel?" in text.stdout
    wrong = run_cli("report", "--db", db, "--by", "team", db=two_weeks)
    assert wrong.returncode == 2 and "--by" in wrong.stderr


# --- a real export: Maven's sales pipeline (owners and stages, no reasons), against pandas -----


def test_maven_report_by_owner_matches_pandas(real_dir, tmp_path):
    import pandas as pd

    path = real_dir / "maven_crm_sales_opportunities" / "sales_pipeline.csv"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False).apply(lambda c: c.str.strip())
    engaged = raw[raw["engage_date"] != ""]  # the rows loaded (no engage date: rejected)
    db = tmp_path / "maven.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("FUNNEL_PII_KEY", raising=False)
        con = store.connect(db)
        ingest_file(con, path, IngestOptions(), db_path=db)
        rep = report.build_report(con, by="owner")
        con.close()
    expected = engaged.groupby("sales_agent")["deal_stage"].agg(
        leads="size", won=lambda s: int((s == "Won").sum()),
        lost=lambda s: int((s == "Lost").sum()))
    totals = {r["owner"]: r for r in rep["sales"]["by_owner"] if r["channel"] is None}
    assert set(totals) == set(expected.index) and len(totals) == 30
    for owner, row in expected.iterrows():
        got = totals[owner]
        assert (got["leads"], got["won"], got["lost"]) == (row["leads"], row["won"], row["lost"])
        assert got["win_rate"] == pytest.approx(row["won"] / (row["won"] + row["lost"]))
        assert got["too_few"] is bool(row["leads"] < MIN_LEADS_TO_JUDGE)
    # the file has no lost-reason column: every lost deal's reason is not in the data
    lost = int((engaged["deal_stage"] == "Lost").sum())
    assert sum(r["lost_leads"] for r in rep["sales"]["lost_reasons"]) == lost
    assert {r["reason"] for r in rep["sales"]["lost_reasons"]} == {None}
    # the open deals (Engaging) wait at New
    waiting = [r for r in rep["sales"]["open_leads_waiting"] if r["channel"] is None]
    assert sum(r["open_leads"] for r in waiting) == int((engaged["deal_stage"] == "Engaging").sum())
    text = report.render_markdown(rep)
    assert f"{lost:,} deals lost in this period; why is not in the data" in text
    # the best conversion (won / leads) among owners with 30 leads or more, by pandas
    judged = expected[expected["leads"] >= MIN_LEADS_TO_JUDGE]
    best = (judged["won"] / judged["leads"]).idxmax()
    assert f"Best conversion among owners with {MIN_LEADS_TO_JUDGE}+ leads: {best}," in text
