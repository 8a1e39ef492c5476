"""The meeting's follow-up questions (issue 17): who converts which channel, why deals are lost,
where leads get stuck, which leads are behind a number, what is coming. Every expected number is
worked out by hand from the two small snapshots of tests/pipedrive_snapshots.py (arithmetic in the
comments)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from pipedrive_snapshots import FIRST, FIRST_DAY, SECOND, SECOND_DAY, csv_text

from funnel import forecast_log
from funnel.ingest.core import IngestOptions
from funnel.ingest.mapping import map_columns
from funnel.ingest.upload import ingest_file
from funnel.metrics import forecast, metrics, stage_time
from funnel.store import connection as store


def _write(path, rows):
    path.write_text(csv_text(rows), encoding="utf-8")
    return path


def _load(con, db_path, tmp_path, snapshots):
    for i, (rows, day) in enumerate(snapshots):
        result = ingest_file(con, _write(tmp_path / f"deals_{i}.csv", rows),
                             IngestOptions(as_of=day), db_path=db_path)
        assert result.rejected == 0


@pytest.fixture()
def two_weeks(con, db_path, tmp_path):
    _load(con, db_path, tmp_path, [(FIRST, FIRST_DAY), (SECOND, SECOND_DAY)])
    return con


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval, written out here apart from the code under test."""
    z = 1.959964
    p = k / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - half) / (1 + z * z / n)), min(1.0, (centre + half) / (1 + z * z / n))


# --- who converts which channel ---------------------------------------------------------------


def test_conversion_by_owner_counts_by_hand(two_weeks):
    df = metrics.conversion_by_owner(two_weeks)
    totals = df[df["channel"].isna()].set_index("owner", drop=False)
    # Ann: deals 1, 2, 7, 8: won 2 and 8, lost 7, open 1. Bob: 3, 4, 5, all lost.
    # No owner: deal 6, open.
    assert list(totals["owner"].fillna("<none>")) == ["Ann", "Bob", "<none>"]
    ann = totals.loc["Ann"]
    assert (ann["leads"], ann["won"], ann["lost"], ann["open"]) == (4, 2, 1, 1)
    assert ann["conversion_rate"] == pytest.approx(2 / 4)
    assert ann["win_rate"] == pytest.approx(2 / 3)
    assert (ann["ci_low"], ann["ci_high"]) == pytest.approx(wilson(2, 4))
    assert (ann["win_ci_low"], ann["win_ci_high"]) == pytest.approx(wilson(2, 3))
    assert ann["won_value"] == pytest.approx(200 + 800)
    assert bool(ann["too_few"])  # 4 leads < 30
    bob = totals.loc["Bob"]
    assert (bob["leads"], bob["won"], bob["lost"]) == (3, 0, 3)
    assert bob["win_rate"] == 0
    nobody = df[df["owner"].isna() & df["channel"].isna()].iloc[0]
    assert (nobody["leads"], nobody["open"]) == (1, 1) and pd.isna(nobody["win_rate"])


def test_conversion_by_owner_and_channel(two_weeks):
    df = metrics.conversion_by_owner(two_weeks)
    cells = {(r.owner, r.channel): (r.leads, r.won, r.lost)
             for r in df[df["channel"].notna()].itertuples()}
    # Ann x Referral: 1, 2, 8 (won 2, 8); Ann x Cold call: 7 (lost);
    # Bob x Referral: 3 (lost); Bob x Cold call: 4, 5 (lost)
    assert cells[("Ann", "referral")] == (3, 2, 0)
    assert cells[("Ann", "cold_call")] == (1, 0, 1)
    assert cells[("Bob", "referral")] == (1, 0, 1)
    assert cells[("Bob", "cold_call")] == (2, 0, 2)
    ann_rows = df[df["owner"] == "Ann"]
    assert ann_rows["channel"].isna().iloc[0]  # the owner's total comes first
    assert set(df.loc[df["channel"] == "referral", "channel_label"]) == {"Referral"}


def test_owner_filter_narrows_owner_rows(two_weeks):
    df = metrics.conversion_by_owner(two_weeks, owners=["Bob"])
    assert set(df["owner"]) == {"Bob"}


# --- why deals are lost -----------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Deal - Lost reason", "Loss_Reason__c", "Reason Lost",
                                    "Closed Lost Reason", "Reason For Loss", "Lost Reason"])
def test_lost_reason_columns_of_each_crm_are_mapped(header):
    mapping = map_columns(["Id", "Stage", "Created", header])
    assert mapping.columns.get("lost_reason") == header


def test_lost_reasons_grouped_with_stage_lost_at(two_weeks):
    df = metrics.lost_reasons(two_weeks)
    rows = {(r.reason if isinstance(r.reason, str) else None, r.channel, r.lost_at, r.lost_leads)
            for r in df.itertuples()}
    # 3: "Price", Referral, its file says Lead In -> new; 4: "price " (trimmed, the same
    # reason), Cold call, Demo Scheduled -> qualified; 5: "No response", held by one deal only
    # (fewer than 2) -> Other, Cold call, new; 7: no reason, Cold call, Contact Made ->
    # contacted.
    assert rows == {("Price", "referral", "new", 1), ("Price", "cold_call", "qualified", 1),
                    ("Other", "cold_call", "new", 1), (None, "cold_call", "contacted", 1)}
    assert list(df["reason"].fillna("<none>").drop_duplicates()) == ["Price", "Other", "<none>"]


def test_lost_reasons_keep_a_single_reason_when_asked(two_weeks):
    df = metrics.lost_reasons(two_weeks, min_leads=1)
    assert set(df["reason"].dropna()) == {"Price", "No response"}


def test_lost_at_is_unknown_when_files_only_show_the_deal_lost(con, db_path, tmp_path):
    # Deal 9 is first seen lost, its stage column empty: where it was lost is not in the data.
    _load(con, db_path, tmp_path, [(["9,lost,,2026-03-01 10:00,,2026-03-05 10:00,Price,Ann,"
                                     "Referral,100,USD"], FIRST_DAY)])
    df = metrics.lost_reasons(con, min_leads=1)
    assert df["lost_at"].isna().all() and list(df["lost_leads"]) == [1]


# --- where leads get stuck --------------------------------------------------------------------


def test_time_in_stage_by_hand(two_weeks):
    df = stage_time.time_in_stage(two_weeks)
    new = df[df["channel"].isna() & (df["stage"] == "new")].iloc[0]
    # Stays at New with both ends dated: deal 1 (1 Mar 09:00 -> seen contacted 15 Mar 00:00:
    # 13 d 15 h = 13.625, moved on), 3 (2 -> 12 Mar 10:00, lost: 10), 4 (3 -> 9 Mar: 6, lost);
    # deal 6 still there, censored 5 Mar 10:00 -> 15 Mar 00:00 = 9 d 14 h = 9.583.
    # Not in the data: 2 (first seen at Proposal), 5, 7, 8 (first seen won or lost).
    assert (new["stays"], new["left"], new["still_there"], new["not_in_data"]) == (8, 3, 1, 4)
    # Kaplan-Meier: at 6 d, 1 of 4 ends -> 0.75; 9.583 censored; at 10 d, 1 of 2 -> 0.375
    assert new["median_days"] == pytest.approx(10.0)
    assert new["moved_on"] == 1 and new["median_days_to_next_step"] == pytest.approx(13.625)
    contacted = df[df["channel"].isna() & (df["stage"] == "contacted")].iloc[0]
    assert (contacted["stays"], contacted["still_there"]) == (1, 1)  # deal 1, since 15 Mar
    proposal = df[df["channel"].isna() & (df["stage"] == "proposal")].iloc[0]
    assert (proposal["stays"], proposal["not_in_data"]) == (1, 1)  # deal 2, first seen there
    referral_new = df[(df["channel"] == "referral") & (df["stage"] == "new")].iloc[0]
    assert (referral_new["left"], referral_new["channel_label"]) == (2, "Referral")  # 1, 3


def test_open_leads_waiting_by_hand(two_weeks):
    df = stage_time.open_leads_waiting(two_weeks)
    every = df[df["channel"].isna()].set_index("stage")
    # Deal 1 at Contacted since 15 Mar (0 days), came in 1 Mar (14 days);
    # deal 6 at New since it came in on 5 Mar (10 days).
    assert every.loc["contacted", "open_leads"] == 1
    assert every.loc["contacted", "median_days_at_stage"] == 0
    assert every.loc["contacted", "median_days_open"] == 14
    assert every.loc["new", "median_days_at_stage"] == 10
    assert every.loc["new", "open_value"] == 600
    waits = stage_time.longest_waits(df).set_index("channel_label")
    assert waits.loc["All channels", "stage"] == "new"
    assert waits.loc["Cold call", "sentence"] == (
        "Cold call: longest wait at New, 1 open lead, there for 10 days.")


def test_a_stay_first_seen_in_a_file_is_a_lower_bound(con, db_path, tmp_path):
    # Deal 2 is first seen at Proposal on 8 Mar and still there on 15 Mar (its value changed,
    # so the file is not the same bytes): at least 7 days.
    _load(con, db_path, tmp_path, [(FIRST[1:2], FIRST_DAY),
                                   ([FIRST[1].replace(",200,", ",250,")], SECOND_DAY)])
    row = stage_time.open_leads_waiting(con).query("channel.isna()").iloc[0]
    assert (row["known_at_stage"], row["at_least_at_stage"]) == (0, 1)
    assert row["median_days_at_stage"] == 7
    waits = stage_time.longest_waits(stage_time.open_leads_waiting(con))
    assert "since they came in" in waits.iloc[0]["sentence"]  # none known: days open judge


# --- which leads are behind a number ----------------------------------------------------------


def test_leads_behind_a_cell(two_weeks):
    won = metrics.leads_behind(two_weeks, channel="referral", outcome="won")
    assert list(won["crm_id"]) == ["8", "2"]  # newest first
    assert set(won.columns) == {"crm_id", "channel", "stage", "owner", "created", "value",
                                "currency", "total"}
    assert list(won["channel"].unique()) == ["Referral"] and list(won["total"]) == [2, 2]
    price = metrics.leads_behind(two_weeks, lost_reason="Price")
    assert sorted(price["crm_id"]) == ["3", "4"]
    assert list(metrics.leads_behind(two_weeks, no_reason=True)["crm_id"]) == ["7"]
    assert list(metrics.leads_behind(two_weeks, no_owner=True)["crm_id"]) == ["6"]
    # the funnel step Contacted: deals that reached it (1; 4 was seen no further than New
    # before it was lost; 7 first seen lost)
    assert list(metrics.leads_behind(two_weeks, reached="contacted")["crm_id"]) == ["8", "2",
                                                                                      "1"]
    week = metrics.leads_behind(two_weeks, week="2026-03-02")
    assert sorted(week["crm_id"]) == ["2", "3", "4", "5", "6", "7", "8"]
    first = metrics.leads_behind(two_weeks, limit=2)
    assert len(first) == 2 and first["total"].iloc[0] == 8


# --- what is coming ---------------------------------------------------------------------------


LABELS = pd.DataFrame({
    "kind": ["channel", "stage", "stage", "stage", "stage", "stage", "stage"],
    "name": ["referral", "new", "contacted", "qualified", "proposal", "won", "lost"],
    "label": ["Referral", "New", "Contacted", "Qualified", "Proposal", "Won", "Lost"],
    "position": [None, 1, 2, 3, 4, 5, 6],
})


def _moves(rows):
    return pd.DataFrame(rows, columns=["channel", "stage", "destination", "moves",
                                       "exposure_days"])


def test_forecast_by_stages_by_hand():
    # Referral: New -> Proposal 10 moves in 100 days (0.1 a day); Proposal -> won 7 and
    # -> lost 7 in 70 days (0.1 a day each).
    moves = _moves([("referral", "new", None, 10, 100.0),
                    ("referral", "new", "proposal", 10, 100.0),
                    ("referral", "proposal", None, 14, 70.0),
                    ("referral", "proposal", "won", 7, 70.0),
                    ("referral", "proposal", "lost", 7, 70.0)])
    deals = pd.DataFrame({"channel": ["referral", "referral"], "stage": ["proposal", "new"],
                          "days_open": [5, 5], "open_deals": [10, 4],
                          "open_value": [10_000.0, 0.0], "valued": [10, 0]})
    result = forecast.build(dt.date(2026, 3, 15), deals, moves, pd.DataFrame(), LABELS)
    weeks = result["totals"].query("horizon == 'weeks' and channel.isna()").iloc[0]
    # From Proposal, won within 28 days: 0.5 x (1 - e^(-0.2 x 28)) = 0.5 x 0.996302 = 0.498151
    p_proposal = 0.5 * (1 - math.exp(-5.6))
    # From New: 0.5 x P(Exp(0.1) + Exp(0.2) <= 28)
    #   = 0.5 x (1 - (0.2 e^(-2.8) - 0.1 e^(-5.6)) / 0.1) = 0.5 x 0.882078 = 0.441039
    p_new = 0.5 * (1 - (0.2 * math.exp(-2.8) - 0.1 * math.exp(-5.6)) / 0.1)
    assert weeks["expected_wins"] == pytest.approx(10 * p_proposal + 4 * p_new, abs=0.03)
    assert weeks["expected_value"] == pytest.approx(10 * p_proposal * 1000, rel=0.005)
    assert weeks["wins_low"] <= weeks["expected_wins"] <= weeks["wins_high"]
    stages = result["stages"].set_index("stage")
    assert stages.loc["proposal", "won_weekly"] == pytest.approx(0.7)  # 7 / 70 x 7
    assert stages.loc["proposal", "lost_weekly"] == pytest.approx(0.7)
    assert stages.loc["new", "moved_weekly"] == pytest.approx(0.7)
    assert stages.loc["proposal", "chance"] == pytest.approx(p_proposal, abs=0.002)
    assert result["method"] == "stages"
    assert [h.words for h in result["horizons"]] == ["the next 4 weeks", "the rest of March"]
    assert result["horizons"][1].end == dt.date(2026, 3, 31)
    assert "Open deals without a value count as wins but add no money." in result["notes"]
    again = forecast.build(dt.date(2026, 3, 15), deals, moves, pd.DataFrame(), LABELS)
    pd.testing.assert_frame_equal(result["totals"], again["totals"])  # seeded


def test_forecast_by_days_when_no_moves_are_dated():
    # Eight past leads: lost on day 6; won and lost on day 7; won on day 8; two lost and one
    # open on day 10; one open on day 14. Aalen-Johansen: S after 6 = 7/8, after 7 = 5/8;
    # chance of a win by day 7 = 7/8 x 1/7 = 1/8, by day 8 = 1/8 + 5/8 x 1/5 = 1/4.
    outcomes = pd.DataFrame({
        "channel": ["referral"] * 6,
        "outcome": ["lost", "won", "lost", "won", "lost", "open"],
        "days": [6, 7, 7, 8, 10, 10],
        "leads": [1, 1, 1, 1, 2, 1],
    })
    outcomes = pd.concat([outcomes, pd.DataFrame({"channel": ["referral"], "outcome": ["open"],
                                                  "days": [14], "leads": [1]})])
    deals = pd.DataFrame({"channel": ["referral"] * 2, "stage": ["new", "new"],
                          "days_open": [0, 7], "open_deals": [20, 5],
                          "open_value": [0.0, 0.0], "valued": [0, 0]})
    result = forecast.build(dt.date(2026, 3, 15), deals, _moves([]), outcomes, LABELS)
    assert result["method"] == "days"
    weeks = result["totals"].query("horizon == 'weeks' and channel.isna()").iloc[0]
    # a deal 0 days old: 1/4 resting on the 8 past leads, so 2 of 8, and the Jeffreys mean
    # (2 + 0.5) / (8 + 1) = 2.5/9; one 7 days old: (1/4 - 1/8) / (5/8) = 1/5 resting on the 5
    # still open after day 7, so 1 of 5: (1 + 0.5) / (5 + 1) = 1/4
    assert weeks["expected_wins"] == pytest.approx(20 * 2.5 / 9 + 5 * 1.5 / 6)
    chance, rests_on = forecast.win_within(outcomes["days"], outcomes["outcome"],
                                           outcomes["leads"], np.array([0, 7, 14]), 28)
    assert chance[:2] == pytest.approx([0.25, 0.2])
    assert np.isnan(chance[2]) and rests_on[2] == 0  # no past lead open past day 14


def test_forecast_with_no_won_dates_says_so():
    outcomes = pd.DataFrame({"channel": ["referral"], "outcome": ["undated"], "days": [None],
                             "leads": [3]})
    deals = pd.DataFrame({"channel": ["referral"], "stage": ["new"], "days_open": [3],
                          "open_deals": [2], "open_value": [0.0], "valued": [0]})
    result = forecast.build(dt.date(2026, 3, 15), deals, _moves([]), outcomes, LABELS)
    assert result["totals"].empty
    assert any(n.startswith("Not in the data") for n in result["notes"])


def test_month_horizon_on_a_months_last_day_is_the_next_month():
    spans = forecast.horizons(dt.date(2026, 11, 30))
    assert (spans[1].words, spans[1].end) == ("December", dt.date(2026, 12, 31))
    assert spans[0].end == dt.date(2026, 12, 28)


def test_a_kept_forecast_is_scored_against_the_wins_that_came(con, db_path, tmp_path):
    # deal 0, won a week after it came in, is the history the first forecast learns from
    past = "0,won,Proposal Made,2026-02-20 10:00,2026-02-27 10:00,,,Ann,Referral,50,USD"
    _load(con, db_path, tmp_path, [([past, *FIRST], FIRST_DAY)])
    result = forecast.forecast(con)
    kept = forecast_log.keep(con, result)
    assert kept == 1
    scored = forecast_log.scored(con)
    assert scored["verdict"].isna().all() and not scored["due"].any()
    # a week later: deals 2 (won 10 Mar) and 8 (came in 7 Mar, won 14 Mar) were won after the
    # forecast's as-of date (8 Mar); the horizons end 5 Apr and 31 Mar: not due yet
    _load(con, db_path, tmp_path, [([past, *SECOND], SECOND_DAY)])
    every = forecast_log.scored(con).query("channel.isna()")
    assert list(every["actual_wins"]) == [2, 2] and not every["due"].any()
    # the same deals seen again on 6 April: both horizons are over
    _load(con, db_path, tmp_path, [([*SECOND, past], dt.date(2026, 4, 6))])
    every = forecast_log.scored(con).query("channel.isna()")
    assert every["due"].all() and list(every["actual_wins"]) == [2, 2]
    for row in every.itertuples():
        expected = ("above the range" if row.actual_wins > row.wins_high else
                    "below the range" if row.actual_wins < row.wins_low else "inside the range")
        assert row.verdict == expected
    assert forecast_log.keep(con) == 2


def test_schema_6_marks_first_seen_stages_of_an_older_store(db_path):
    import duckdb

    old = duckdb.connect(str(db_path))
    for version, name in enumerate(store.MIGRATIONS[:5], start=1):
        store.run(old, name.removesuffix(".sql"))
        store.run(old, "schema/record_version", {"version": version})
    store.seed_defaults(old)
    old.execute("INSERT INTO leads (lead_key, crm_id, channel, created_at, stage, "
                "first_upload_id, last_upload_id) VALUES ('id:1', '1', 'referral', "
                "TIMESTAMP '2026-03-01', 'qualified', 1, 2)")
    # upload 1 first showed the lead at Proposal; upload 2 saw it move back to Qualified
    old.executemany("INSERT INTO lead_events VALUES ('id:1', ?, ?, ?)",
                    [("new", dt.datetime(2026, 3, 1), 1), ("proposal", dt.datetime(2026, 3, 8), 1),
                     ("qualified", dt.datetime(2026, 3, 15), 2)])
    old.close()
    con = store.connect(db_path)
    try:
        rows = con.execute("SELECT stage, seen_first FROM lead_events ORDER BY occurred_at")
        assert rows.fetchall() == [("new", False), ("proposal", True), ("qualified", False)]
        assert con.execute("SELECT lost_reason FROM leads").fetchall() == [(None,)]
    finally:
        con.close()


# --- the stays kept as a table (schema/008) ----------------------------------------------------


def _spells_differ(con) -> int:
    """Rows the kept stage_stays and a recomputation from every event do not share."""
    kept_only = con.execute(
        "SELECT count(*) FROM (SELECT * FROM stage_stays "
        "EXCEPT ALL SELECT * FROM funnel_spells_of(NULL))").fetchone()[0]
    computed_only = con.execute(
        "SELECT count(*) FROM (SELECT * FROM funnel_spells_of(NULL) "
        "EXCEPT ALL SELECT * FROM stage_stays)").fetchone()[0]
    return kept_only + computed_only


def test_the_kept_stays_follow_every_writer(two_weeks, db_path, tmp_path):
    from funnel.ingest import replay, synonym_edits

    con = two_weeks
    # deal 1: 'new' from its created date, 'contacted' seen in the second snapshot: two stays
    stays = con.execute("SELECT s.stage FROM stage_stays s JOIN leads l USING (lead_key) "
                        "WHERE l.crm_id = '1' ORDER BY s.entered_at").fetchall()
    assert stays == [("new",), ("contacted",)]
    assert _spells_differ(con) == 0
    # a week on: deal 1 at Proposal; deal 6 at a stage no synonym knows yet (kept at 'new')
    third = [row.replace("1,open,Contact Made", "1,open,Proposal Made")
             .replace("6,open,Lead In", "6,open,Site Visit") for row in SECOND]
    _load(con, db_path, tmp_path, [(third, SECOND_DAY + dt.timedelta(days=7))])
    assert con.execute("SELECT count(*) FROM stage_stays s JOIN leads l USING (lead_key) "
                       "WHERE l.crm_id = '1'").fetchone()[0] == 3  # new, contacted, proposal
    assert _spells_differ(con) == 0
    # the owner says Site Visit is 'qualified': deal 6 gets a 'qualified' event, so a stay
    assert synonym_edits.save_stage_synonym(con, "Site Visit", "qualified") == 1
    assert con.execute("SELECT count(*) FROM stage_stays s JOIN leads l USING (lead_key) "
                       "WHERE l.crm_id = '6' AND s.stage = 'qualified'").fetchone()[0] == 1
    assert _spells_differ(con) == 0
    replay.remove_upload(con, 2, db_path)  # every upload but the second read again
    assert _spells_differ(con) == 0
    assert con.execute("SELECT count(*) FROM stage_stays").fetchone()[0] > 0
