"""The weekly review pack (issue 6): noise bands worked out by hand, a fixture with one real
change and one within noise, the exports (HTML in a real headless Chromium with the network
blocked, Markdown against the JSON report, CSV neutralised), the CLI and the page."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from app_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from scipy import stats

from funnel import format as fmt
from funnel import report
from funnel.cli import weekly as weekly_cli
from funnel.store import connection as store
from funnel.weekly import checks, tables
from funnel.weekly import export as weekly_export
from funnel.weekly import pack as weekly
from funnel.weekly import week as iso_week
from funnel.weekly.week import Week, WeekError

ROOT = Path(__file__).resolve().parent.parent

# --- the fixture ------------------------------------------------------------------------------
# As of Sunday 2024-03-31; the week under review is 2024-W13 (Mon 25 – Sun 31 Mar 2024); its
# baseline the 4 weeks before, 2024-W09..W12 (26 Feb – 24 Mar); 2024-W01 starts Mon 1 Jan.
#   cold_call: 50 leads every week W01..W12, 45 in W13   -> within noise
#   referral:   5 leads every week W01..W12, 20 in W13   -> a real change
# Every week alike before, so no series is lumpy (dispersion 1). Three cold-call leads of W01
# are hot (at proposal since 10 Mar), one owned by '=2+3' (a formula, to be neutralised), all
# with an e-mail hash that must never reach an export. Nothing is won or lost.
AS_OF = dt.date(2024, 3, 31)
WEEK = "2024-W13"
HASH = "e3b0c44298fc1c149afbf4c8996fb924"
HOT = [  # crm id, owner, value, created
    ("C-0001", "Ann", 1200.0, dt.datetime(2024, 1, 2, 10, 0)),
    ("C-0002", "=2+3", 800.0, dt.datetime(2024, 1, 2, 10, 1)),
    ("C-0003", "Bob", None, dt.datetime(2024, 1, 2, 10, 2)),
]
HOT_SINCE = dt.datetime(2024, 3, 10)


def weekly_counts() -> dict[str, list[int]]:
    return {"cold_call": [50] * 12 + [45], "referral": [5] * 12 + [20]}


def make_weekly_store(path: Path):
    con = store.connect(path)
    con.execute(
        "INSERT INTO uploads (file_name, sha256, options_hash, source, as_of, rows_read,"
        " rows_loaded, rows_rejected, rows_duplicate, mapping, settings)"
        # an upload that loaded rows carries the store's as-of date (one that loaded none
        # never sets it)
        " VALUES ('fixture.csv', 'x', 'y', 'generic', ?, 1, 1, 0, 0, '{}', '{}')", [AS_OF])
    rows = []
    for channel, counts in weekly_counts().items():
        for week, n in enumerate(counts):
            tuesday = dt.datetime(2024, 1, 2, 10, 0) + dt.timedelta(weeks=week)
            for i in range(n):
                key = f"{channel[0].upper()}-{week + 1:02d}{i:03d}"
                rows.append({"lead_key": key, "crm_id": key, "channel": channel,
                             "channel_raw": channel, "created_at": tuesday + dt.timedelta(
                                 minutes=i), "stage": "new", "value": None, "owner": "Ann",
                             "email_hash": HASH, "first_upload_id": 1, "last_upload_id": 1,
                             "furthest_position": 1, "hot_since": None})
    for crm_id, owner, value, created in HOT:  # progress as the ingest keeps it: proposal = 4
        rows.append({"lead_key": crm_id, "crm_id": crm_id, "channel": "cold_call",
                     "channel_raw": "cold_call", "created_at": created, "stage": "proposal",
                     "value": value, "owner": owner, "email_hash": HASH,
                     "first_upload_id": 1, "last_upload_id": 1,
                     "furthest_position": 4, "hot_since": HOT_SINCE})
    frame = pd.DataFrame(rows)
    con.register("fixture_leads", frame)
    con.execute("INSERT INTO leads BY NAME SELECT * FROM fixture_leads")
    con.unregister("fixture_leads")
    for crm_id, _, _, created in HOT:
        con.execute("INSERT INTO lead_events (lead_key, stage, occurred_at, upload_id) "
                    "VALUES (?, 'new', ?, 1), (?, 'proposal', ?, 1)",
                    [crm_id, created, crm_id, HOT_SINCE])
    return con


@pytest.fixture()
def wcon(tmp_path, monkeypatch):
    monkeypatch.delenv("FUNNEL_PII_KEY", raising=False)
    con = make_weekly_store(tmp_path / "weekly.duckdb")
    yield con
    con.close()


@pytest.fixture()
def pack(wcon) -> weekly.WeeklyPack:
    return weekly.weekly_pack(wcon, WEEK)


# demo_template (the demo store, built once) and demo_db (a copy of it per test, as $FUNNEL_DB,
# without $FUNNEL_PII_KEY): tests/conftest.py


@pytest.fixture(scope="module")
def demo_pack(demo_template) -> weekly.WeeklyPack:
    """The demo's default weekly pack, read once from the template (read-only: it stays as
    built, and every demo_db copy holds the same data)."""
    con = store.connect(demo_template, read_only=True)
    try:
        return weekly.weekly_pack(con)
    finally:
        con.close()


def row(p: weekly.WeeklyPack, channel: str | None, metric: str) -> pd.Series:
    c = p.changes
    match = c[(c["metric"] == metric)
              & (c["is_total"] if channel is None else (c["channel"] == channel))]
    assert len(match) == 1, (channel, metric)
    return match.iloc[0]


# --- weeks ------------------------------------------------------------------------------------


def test_iso_weeks():
    w = Week.parse("2026-W47")
    assert (w.start, w.end, str(w)) == (dt.date(2026, 11, 16), dt.date(2026, 11, 22), "2026-W47")
    assert Week.parse("2026w47") == w
    assert Week.parse("2026-W53").start == dt.date(2026, 12, 28)  # 2026 has 53 ISO weeks
    for bad in ("2025-W53", "2026-W00", "2026-47", "W47", "", "2026-W47; DROP TABLE leads"):
        with pytest.raises(WeekError):
            Week.parse(bad)
    # the last complete week: a Sunday as-of closes its own week, any other day the one before
    assert iso_week.default_week(dt.date(2026, 11, 22)) == w  # Sunday
    assert iso_week.default_week(dt.date(2026, 11, 23)) == w  # Monday
    assert iso_week.default_week(dt.date(2026, 11, 28)) == w  # Saturday
    assert iso_week.default_week(dt.date(2026, 11, 29)) == Week.parse("2026-W48")
    assert w.dates() == "16–22 Nov 2026"
    assert Week.parse("2026-W53").dates() == "28 Dec 2026 – 3 Jan 2027"


def test_weeks_outside_the_data_are_refused(wcon):
    assert weekly.weekly_pack(wcon).week == Week.parse(WEEK)  # default: last complete week
    with pytest.raises(WeekError, match="after the data's as-of date"):
        weekly.weekly_pack(wcon, "2024-W15")
    with pytest.raises(WeekError, match="before the first lead"):
        weekly.weekly_pack(wcon, "2023-W50")
    assert [str(w) for w in iso_week.available_weeks(wcon)][:2] == ["2024-W13", "2024-W12"]


def test_empty_store_has_no_week(con):
    with pytest.raises(iso_week.NoDataError):
        weekly.weekly_pack(con)


# --- noise bands by hand ---------------------------------------------------------------------


def test_count_check_is_the_exact_conditional_poisson_test():
    # Referral: 20 this week, 20 over the 4 weeks before. If the weekly rate were unchanged,
    # given the 40 leads of the 5 weeks, this week's share is Binomial(40, 1/5): mean 8.
    # P(X >= 20) = 2.17e-5 < 0.005 (half of alpha = 0.01): flagged up, p = 2 x 2.17e-5.
    check = checks.count_check(20, 20, 4)
    assert check.is_flagged and check.direction == "up"
    assert check.p_value == pytest.approx(2 * stats.binom.sf(19, 40, 0.2), rel=1e-9)
    assert check.p_value == pytest.approx(4.34e-5, rel=1e-2)
    # Cold call: 45 this week, 200 over the 4 weeks before: Binomial(245, 1/5), mean 49;
    # P(X <= 45) = 0.29: within normal variation.
    check = checks.count_check(45, 200, 4)
    assert not check.is_flagged and check.direction == ""
    assert check.p_value == pytest.approx(2 * stats.binom.cdf(45, 245, 0.2), rel=1e-9)
    # The band is exactly the counts that would not be flagged.
    low, high = check.band_low, check.band_high
    for k, flagged in ((low - 1, True), (low, False), (high, False), (high + 1, True)):
        assert checks.count_check(k, 200, 4).is_flagged is flagged, k
    # No weeks before: nothing to compare with.
    assert checks.count_check(3, 0, 0).status == "no_baseline"


def test_a_lumpy_series_gets_a_wider_band():
    # Events around three trade shows: weekly counts vary 17x more than Poisson noise allows.
    history = [1, 1, 1, 25, 1, 1, 1, 24, 1, 1, 1, 1]
    spread = checks.dispersion(history)
    assert spread == pytest.approx(np_var(history) / (sum(history) / len(history)))
    assert spread > 10
    assert checks.dispersion([5] * 12) == 1.0  # steady: plain Poisson
    assert checks.dispersion([4, 6, 5, 5, 7, 3, 5, 6]) == 1.0  # Poisson-like: no widening
    # 0 leads against 8.75 a week before: a drop for a steady channel, normal for a lumpy one
    assert checks.count_check(0, 35, 4).is_flagged
    assert not checks.count_check(0, 35, 4, spread).is_flagged


def np_var(values: list[int]) -> float:
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def test_rate_check_is_beta_binomial():
    # 8 won of 10 closed this week; 10 of 50 over the 4 weeks before: Beta(1 + 10, 1 + 40)
    # belief, so this week's wins ~ BetaBinomial(10, 11, 41); P(X >= 8) = 4.6e-4 < 0.005.
    check = checks.rate_check(8, 10, 10, 50)
    assert check.is_flagged and check.direction == "up"
    assert check.p_value == pytest.approx(2 * stats.betabinom(10, 11, 41).sf(7), rel=1e-9)
    assert (check.band_low, check.band_high) == (0.0, 0.6)  # 0 to 6 wins of 10
    assert not checks.rate_check(3, 10, 10, 50).is_flagged
    assert checks.rate_check(0, 0, 10, 50).status == "not_tested"  # nothing closed this week


def test_value_check_is_seeded_and_flags_only_the_unusual():
    deals = [1000.0, 1200.0, 1500.0, 900.0, 2000.0, 1100.0, 1300.0, 1700.0]
    # 8 wins in 4 weeks at about $1,300: a week of two wins ($2,600) is ordinary ...
    a = checks.value_check(2600.0, 8, 4, deals, seed=7)
    assert a == checks.value_check(2600.0, 8, 4, deals, seed=7)  # same seed, same answer
    assert not a.is_flagged and a.band_low == 0.0
    # ... $40,000 is not
    assert checks.value_check(40_000.0, 8, 4, deals, seed=7).is_flagged


# --- the fixture pack: one real change, one within noise -------------------------------------


def test_only_the_real_change_is_flagged(pack):
    flagged = pack.changes[pack.changes["is_flagged"]]
    assert [(r.channel, r.metric, r.direction) for r in flagged.itertuples()] == [
        ("referral", "leads", "up")]
    referral = row(pack, "referral", "leads")
    assert (referral["this_week"], referral["last_week"], referral["trailing_mean"]) == (20, 5, 5)
    assert referral["verdict"] == "▲ Up: outside normal variation"
    # the check in an owner's words (the Poisson test is docs/WEEKLY.md's business)
    assert referral["test"].startswith("this week's count against the average of the 4 weeks")
    cold = row(pack, "cold_call", "leads")
    assert (cold["this_week"], cold["last_week"], cold["trailing_mean"]) == (45, 50, 50)
    assert cold["verdict"] == "within normal variation"
    # the total moved too, but 65 against 55 a week is within its band: Binomial(285, 1/5),
    # mean 57, P(X >= 65) = 0.13
    total = row(pack, None, "leads")
    assert (total["this_week"], total["trailing_mean"], total["is_flagged"]) == (65, 55, False)
    assert pack.moved == [
        "Referral: new leads up, 20 this week against an average of 5 over the 4 weeks before "
        "(normal range 0–13)."]
    assert pack.baseline_text == "the 4 weeks before (26 Feb – 24 Mar)"
    # nothing closed: no close rate, nothing flagged on wins or value
    assert row(pack, "referral", "close_rate")["verdict"] == "no deals closed this week"
    assert set(pack.changes["metric"]) == {"leads", "wins", "close_rate", "won_value"}


def test_pipeline_hot_leads_and_agenda(pack):
    temps = dict(zip(pack.pipeline["temperature"], pack.pipeline["open_leads"], strict=True))
    assert temps == {"cold": 12 * 55 + 65, "warm": 0, "hot": 3}
    actions = dict(zip(pack.pipeline["temperature"], pack.pipeline["how"], strict=True))
    assert actions == {"cold": "mailing, promotion", "warm": "call, letter, seminar",
                       "hot": "call, presentation, proposal"}
    hot = pack.hot_leads
    assert list(hot["crm_id"]) == ["C-0001", "C-0002", "C-0003"]  # oldest first, then id
    assert list(hot["days_open"]) == [89, 89, 89]  # 2 Jan -> 31 Mar 2024
    assert list(hot["days_hot"]) == [21, 21, 21]  # at proposal since 10 Mar
    assert not {"email_hash", "phone_hash", "lead_key"} & set(hot.columns)
    assert pack.stale_after_days is None and pack.stale_total == 0  # nothing won yet
    assert any("Referral new leads" in item for item in pack.agenda)
    assert any(item.startswith("3 hot deals") for item in pack.agenda)
    assert pack.decisions.empty and pack.decisions_note.startswith("No decisions")


# Hot since, kept on the lead by ingest (leads.hot_since): three weekly snapshots, by hand.
#   id  3 Mar (as of)  10 Mar        17 Mar       first seen hot
#   1   Proposal       Qualified     Proposal     3 Mar: cooled and hot again, still 3 Mar
#   2   New            Proposal      Proposal     10 Mar
#   3   Proposal       Closed Won    -            (won: not in the list)
#   4   -              -             Sent offer   (unmapped stage: new) -> mapped to proposal
#                                                  later: its last upload's as-of, 17 Mar
HOT_SNAPSHOTS = [
    (dt.date(2024, 3, 3), "1,Referral,2024-02-20,Proposal\n2,Referral,2024-02-21,New\n"
                          "3,Referral,2024-02-22,Proposal\n"),
    (dt.date(2024, 3, 10), "1,Referral,2024-02-20,Qualified\n2,Referral,2024-02-21,Proposal\n"
                           "3,Referral,2024-02-22,Closed Won\n"),
    (dt.date(2024, 3, 17), "1,Referral,2024-02-20,Proposal\n2,Referral,2024-02-21,Proposal\n"
                           "4,Referral,2024-03-01,Sent offer\n"),
]


def hot_list(con, as_of: dt.date) -> dict:
    hot = store.fetch_df(con, "weekly/oldest_hot_leads",
                         {"as_of": as_of, "stale_after_days": None, "limit": 10})
    return {c: (str(pd.Timestamp(since).date()), days) for c, since, days in
            zip(hot["crm_id"], hot["hot_since"], hot["days_hot"], strict=True)}


def test_hot_since_is_kept_by_ingest_and_stage_synonyms(con, db_path):
    from funnel.ingest import synonym_edits as synonym_store
    from funnel.ingest.core import IngestOptions
    from funnel.ingest.upload import ingest_file

    for i, (as_of, rows) in enumerate(HOT_SNAPSHOTS):
        path = db_path.parent / f"week{i}.csv"
        path.write_text("id,Lead Source,Created Date,Stage\n" + rows, encoding="utf-8")
        ingest_file(con, path, IngestOptions(as_of=as_of), db_path=db_path)
    as_of = dt.date(2024, 3, 17)
    # days hot at 17 Mar: 1 since 3 Mar = 14, 2 since 10 Mar = 7
    assert hot_list(con, as_of) == {"1": ("2024-03-03", 14), "2": ("2024-03-10", 7)}
    synonym_store.save_stage_synonym(con, "Sent offer", "proposal")
    assert hot_list(con, as_of) == {"1": ("2024-03-03", 14), "2": ("2024-03-10", 7),
                                    "4": ("2024-03-17", 0)}
    # the stored date is the earliest event at proposal, recomputed here with plain pandas
    events = con.execute("SELECT lead_key, stage, occurred_at FROM lead_events").df()
    first_hot = events[events["stage"] == "proposal"].groupby("lead_key")["occurred_at"].min()
    stored = con.execute("SELECT lead_key, hot_since FROM leads").df().set_index("lead_key")
    assert stored["hot_since"].dropna().to_dict() == first_hot.to_dict()


def test_last_meetings_decision_and_how_it_is_doing(wcon):
    # decided Monday 18 Mar (the meeting on 2024-W11) for the 4 weeks 18 Mar – 14 Apr
    store.run(wcon, "decisions/insert_decision", {
        "decision_id": 1, "decided_at": dt.datetime(2024, 3, 18, 9), "note": None,
        "period_start": dt.date(2024, 3, 18), "period_end": dt.date(2024, 4, 14),
        "hourly_rate": 30.0, "channels": ["referral", "cold_call"],
        "planned_shares": [0.6, 0.4], "planned_amounts": [300.0, 200.0],
        "planned_money": [300.0, 200.0], "planned_hours": [0.0, 0.0],
        "recommended_shares": [0.6, 0.4], "current_shares": [0.5, 0.5],
        "forecast_wins": [4.0, 2.0], "forecast_low": [1.0, 0.0], "forecast_high": [8.0, 5.0],
        "forecast_leads": [40.0, 200.0]})
    p = weekly.weekly_pack(wcon, WEEK)
    d = p.decisions.set_index("channel")
    # 14 of the period's 28 days have passed on 31 Mar: half the forecast leads by now
    assert d.loc["referral", "expected_leads_to_date"] == pytest.approx(20.0)
    assert d.loc["referral", "actual_leads"] == 5 + 20  # created 18–31 Mar: W12 and W13
    assert d.loc["referral", "planned_to_date"] == pytest.approx(300.0 * 14 / 7)
    assert set(d["status"]) == {"waiting"}  # its leads have not had time to convert
    words = tables.decisions_table(p).set_index("Channel")
    assert words.loc["Referral", "Share"] == "50% → 60%"
    assert words.loc["Referral", "Leads so far"] == "25 (forecast 20 by now)"
    assert words.loc["Referral", "How it is doing"].startswith("too early to score")
    assert p.decisions_note.startswith("Decision 1")
    assert p.agenda[-1].startswith("Review the last decision (below) against its forecast")
    # the week before that meeting has no "last meeting" yet
    before = weekly.weekly_pack(wcon, "2024-W11")
    assert before.decisions.empty
    assert before.decisions_note == ("No decision recorded on or before 17 Mar 2024; the first "
                                     "one is from 18 Mar 2024.")


def test_an_unfinished_week_is_shown_but_not_judged(tmp_path, monkeypatch):
    monkeypatch.delenv("FUNNEL_PII_KEY", raising=False)
    con = make_weekly_store(tmp_path / "partial.duckdb")
    con.execute("UPDATE uploads SET as_of = DATE '2024-03-27'")  # a Wednesday
    try:
        assert weekly.weekly_pack(con).week == Week.parse("2024-W12")
        partial = weekly.weekly_pack(con, WEEK)
    finally:
        con.close()
    assert not partial.is_complete
    assert not partial.changes["is_flagged"].any()
    assert set(partial.changes["status"]) <= {"not_tested"}
    assert partial.agenda[0].startswith("This week is not over")


# --- exports ---------------------------------------------------------------------------------


def test_markdown_and_csv_carry_no_formula_and_no_personal_data(pack):
    md = weekly_export.render_markdown(pack)
    assert "| Referral | 20 | 5 | 5 | 0–13 | ▲ Up: outside normal variation |" in md
    assert "| Cold call | 45 | 50 | 50 | 31–72 | within normal variation |" in md
    assert "'=2+3" in md and "| =2+3" not in md
    tables = weekly_export.csv_tables(pack)
    assert {"changes", "pipeline", "hot_leads", "hot_by_owner", "trend"} <= set(tables)
    zipped = zipfile.ZipFile(io.BytesIO(weekly_export.csv_zip(pack)))
    texts = {name: zipped.read(name).decode("utf-8") for name in zipped.namelist()}
    hot_csv = texts[f"weekly_{WEEK}_hot_leads.csv"]
    assert "'=2+3" in hot_csv and ",=2+3" not in hot_csv
    owners = pd.read_csv(io.StringIO(texts[f"weekly_{WEEK}_hot_by_owner.csv"]))["owner"]
    assert not any(str(o).startswith(("=", "+", "-", "@")) for o in owners)
    html_text = weekly_export.render_html(pack)
    for text in (*texts.values(), md, html_text):
        assert HASH not in text
    changes = pd.read_csv(io.StringIO(texts[f"weekly_{WEEK}_changes.csv"]))
    assert len(changes) == 3 * 4  # two channels and the total, four metrics each


def test_html_is_self_contained(pack):
    text = weekly_export.render_html(pack)
    # the charts are static SVG, one per figure, and there is no script at all (issue 15: the
    # inlined plotly.js made the page 4.9 MB)
    assert not re.search(r"<script", text, re.IGNORECASE)
    assert len(re.findall(r"<svg ", text)) == len(weekly_export.figures(pack)) == 2
    # the page points at nothing outside the file; the browser test blocks the network too
    assert not re.search(r"(src|href|url)\s*[=(]", text, re.IGNORECASE)
    assert "http" not in text


def test_markdown_numbers_match_the_json_report(demo_db, demo_pack):
    week = demo_pack.week
    con = store.connect(demo_db)
    try:
        data = report.build_report(con, start=week.start, end=week.end)
    finally:
        con.close()
    md = weekly_export.render_markdown(demo_pack)
    section = md.split("## New leads by channel")[1].split("##")[0]
    table = {cells[0]: cells[1:] for cells in (
        [c.strip() for c in line.strip("|").split("|")]
        for line in section.splitlines() if line.startswith("| ") and "---" not in line)}
    by_channel = data["marketing"]["leads_by_channel"]
    assert by_channel, "the demo week has leads"
    for r in by_channel:
        label = fmt.channel_label(r["channel"])
        label = next((lab for lab in table if lab.lower() == label.lower()), label)
        assert int(table[label][0].replace(",", "")) == r["leads"], r["channel"]
    head = data["headline"]
    assert int(table["All channels"][0].replace(",", "")) == head["leads"]
    cohort = re.search(r"Of this week's ([\d,]+) new leads, (\d+) are already won, (\d+) lost "
                       r"and ([\d,]+) still open", md)
    assert cohort, md
    assert [int(g.replace(",", "")) for g in cohort.groups()] == [
        head["leads"], head["won"], head["lost"], head["open"]]
    assert f"**New leads: {head['leads']:,}**" in md


def test_weekly_csv_written_by_the_cli(wcon, tmp_path):
    db = tmp_path / "weekly.duckdb"  # the wcon fixture's store
    wcon.close()
    out = tmp_path / "csv"
    assert run_cli("--week", WEEK, "--format", "csv", "--out", str(out), "--db", str(db)) == 0
    assert sorted(p.name for p in out.iterdir())[0] == f"weekly_{WEEK}_changes.csv"


# --- CLI -------------------------------------------------------------------------------------


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="python -m funnel")
    weekly_cli.add_weekly_parser(parser.add_subparsers(dest="command"))
    return weekly_cli.run_weekly(parser.parse_args(["weekly", *argv]))


def test_cli(wcon, tmp_path, capsys):
    db = tmp_path / "weekly.duckdb"  # the wcon fixture's store
    wcon.close()
    md = tmp_path / "w.md"
    assert run_cli("--week", WEEK, "--format", "md", "--out", str(md), "--db", str(db)) == 0
    assert md.read_text().startswith(f"# Weekly review {WEEK} (25–31 Mar 2024)")
    assert run_cli("--week", WEEK, "--format", "html", "--db", str(db)) == 0
    assert "<!doctype html>" in capsys.readouterr().out
    for bad in ("2024-W99", "last week", "2024-W20", "2023-W01"):
        assert run_cli("--week", bad, "--db", str(db)) == 2, bad
        assert "error:" in capsys.readouterr().err
    assert run_cli("--format", "csv", "--db", str(db)) == 2  # csv needs --out
    assert run_cli("--week", WEEK, "--format", "json", "--db", str(db)) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["week"] == WEEK and data["cohort"]["leads"] == 65
    flagged = [(c["channel"], c["metric"]) for c in data["changes"] if c["is_flagged"]]
    assert flagged == [("referral", "leads")]
    empty = tmp_path / "empty.duckdb"
    assert run_cli("--db", str(empty)) == 1
    assert "no leads yet" in capsys.readouterr().err


# --- the page --------------------------------------------------------------------------------


def test_page_shows_the_pack(demo_db, demo_pack, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("FUNNEL_DB", str(demo_db))
    # through app.py: the page's help card links to the Definitions page of its navigation
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/weekly.py")
    at.run()
    assert not at.exception
    assert at.selectbox(key="weekly_week").value == str(demo_pack.week)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["New leads"] == fmt.count(demo_pack.total("leads")["this_week"])
    assert metrics["Deals won"] == fmt.count(demo_pack.total("wins")["this_week"])
    assert [s.value for s in at.subheader][:6] == [
        "This week against the weeks before", "What moved", "To decide today",
        "Referral against cold call", "Where next week's money and hours go",
        "Last meeting's decisions"]
    assert any(b.label == "PDF to print or attach" for b in at.get("download_button"))
    assert len(at.dataframe) + len(at.table) >= 4  # wide ones are wrapping tables (issue 15)
    previous = str(demo_pack.week.shifted(-1))
    at.selectbox(key="weekly_week").set_value(previous).run()
    assert not at.exception
    assert at.selectbox(key="weekly_week").value == previous


# --- a real browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium(browser_ready):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.mark.browser
def test_exported_html_opens_offline_in_chromium(chromium, demo_pack, tmp_path):
    path = tmp_path / f"weekly_{demo_pack.week}.html"
    path.write_text(weekly_export.render_html(demo_pack), encoding="utf-8")
    context = chromium.new_context(viewport={"width": 1200, "height": 900}, offline=True)
    requested: list[str] = []

    def block_network(route):
        requested.append(route.request.url)
        if route.request.url == path.as_uri():
            route.continue_()
        else:
            route.abort()

    context.route("**/*", block_network)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.wait_for_selector("figure svg", timeout=30_000)
    text = page.inner_text("body")
    leads_text = page.locator("section", has=page.locator("h2", has_text="New leads by channel")
                              ).inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"weekly-{demo_pack.week}.png"), full_page=True)
    charts_drawn = page.locator("figure svg").count()
    asked = list(requested)
    probe = "https://example.com/probe"  # the blocker works: a fetch from the page fails
    fetched = page.evaluate(f"fetch('{probe}').then(() => 'fetched', () => 'blocked')")
    context.close()
    assert asked == [path.as_uri()], f"the page asked for more than itself: {asked}"
    assert fetched == "blocked" and requested[-1] == probe
    assert not errors
    assert f"Weekly review {demo_pack.week}" in text
    leads = demo_pack.changes[demo_pack.changes["metric"] == "leads"]
    for r in leads.itertuples():
        line = next(li for li in leads_text.splitlines() if li.startswith(r.label + "\t"))
        assert line.split("\t")[1] == fmt.count(r.this_week), r.label
    for what, value, _ in weekly_export.headline(demo_pack):
        assert value in text, what
    assert charts_drawn == len(weekly_export.figures(demo_pack)) == 2


@pytest.mark.browser
def test_pdf_prints(chromium, pack, tmp_path):
    out = weekly_export.render_pdf(pack, tmp_path / "weekly.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", data)) >= 1
