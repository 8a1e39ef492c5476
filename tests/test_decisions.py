"""The decision log (funnel/allocation/decisions.py): recording, planned vs actual, scoring.

The store-level tests use the hand-made store of tests/metric_fixtures.py (as-of 2024-03-31):
in January 2024 (1-28) referral brought R1 (01-01, won), R2 (01-03, won), R3 (01-10, lost),
R4 (01-15, open); cold call brought C1 (01-02, lost), C2 (01-09, open), C3 (01-16, open).
Spend: referral 2024-01-01..01-31 $310 and 31 h ($10 and 1 h a day); cold call
2024-01-01..03-31 $910 and 91 h ($10 and 1 h a day).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from funnel.allocation import decisions as D
from funnel.allocation import recommend as A
from funnel.store import connection as store
from tests import metric_fixtures as mf

JAN1 = dt.date(2024, 1, 1)


@pytest.fixture()
def fixture_con(db_path):
    con = mf.make_store(db_path)
    yield con
    con.close()


def _recommendation() -> A.Recommendation:
    chans = [
        A.ChannelInput("referral", 100, 30, 50, 500.0, 0.0, 10.0, 50.0, 0.0),
        A.ChannelInput("cold_call", 100, 5, 50, 500.0, 0.0, 10.0, 50.0, 0.0),
    ]
    return A.allocate(chans, A.Settings(draws=2000), as_of=dt.date(2024, 3, 31))


def test_migration_creates_the_decisions_table(con):
    assert store.schema_version(con) == store.SCHEMA_VERSION
    assert store.MIGRATIONS[1] == "schema/002_decisions.sql"  # schema version 2
    assert D.decision_log(con).empty


def test_record_accepted_and_edited_decisions(fixture_con):
    rec = _recommendation()
    accepted = D.record_decision(fixture_con, rec, period_start=JAN1, note="meeting 1",
                                 decided_at=dt.datetime(2023, 12, 29, 10, 0))
    edited = D.record_decision(fixture_con, rec, {"referral": 0.6, "cold_call": 0.4})
    assert (accepted, edited) == (1, 2)
    log = D.decision_log(fixture_con)
    first = log[log["decision_id"] == 1].set_index("channel")
    # 4 forecast weeks from Monday 2024-01-01: the period ends 28 days later, 2024-01-28
    assert first["period_start"].iloc[0] == pd.Timestamp("2024-01-01")
    assert first["period_end"].iloc[0] == pd.Timestamp("2024-01-28")
    assert first["note"].iloc[0] == "meeting 1"
    plans = {p.channel: p for p in rec.channels}
    for ch in ("referral", "cold_call"):
        assert first.loc[ch, "planned_share"] == pytest.approx(plans[ch].recommended_share)
        assert first.loc[ch, "current_share"] == pytest.approx(0.5)  # $50 and $50 a week
        assert first.loc[ch, "forecast_low"] <= first.loc[ch, "forecast_high"]
    assert first["planned_amount"].sum() == pytest.approx(100.0)  # the $100 weekly budget
    second = log[log["decision_id"] == 2].set_index("channel")
    assert second.loc["referral", "planned_share"] == pytest.approx(0.6)
    assert second.loc["referral", "recommended_share"] == pytest.approx(
        plans["referral"].recommended_share)
    # default start: the Monday after the as-of date, Sunday 2024-03-31 -> Monday 2024-04-01
    assert second["period_start"].iloc[0] == pd.Timestamp("2024-04-01")
    D.delete_decision(fixture_con, 2)
    assert set(D.decision_log(fixture_con)["decision_id"]) == {1}


def test_planned_vs_actual_week_by_week(fixture_con):
    rec = _recommendation()
    decision = D.record_decision(fixture_con, rec, period_start=JAN1)
    pva = D.planned_vs_actual(fixture_con, decision)
    ref = pva[pva["channel"] == "referral"].set_index("week_start")
    assert list(ref.index) == list(pd.to_datetime(
        ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]))
    # referral spend: $10 and 1 h a day -> $70 and 7 h a week; at $30 an hour $70 + $210 = $280
    assert ref["actual_money"].tolist() == pytest.approx([70.0] * 4)
    assert ref["actual_hours"].tolist() == pytest.approx([7.0] * 4)
    assert ref["actual_amount"].tolist() == pytest.approx([280.0] * 4)
    # leads: week 1 R1 and R2 (both won), week 2 R3, week 3 R4, week 4 none
    assert ref["actual_leads"].tolist() == [2, 1, 1, 0]
    assert ref["won_so_far"].tolist() == [2, 0, 0, 0]
    planned = rec.recommended_shares["referral"] * rec.pool
    assert ref["planned_amount"].tolist() == pytest.approx([planned] * 4)
    cold = pva[pva["channel"] == "cold_call"]
    assert cold["actual_leads"].tolist() == [1, 1, 1, 0]  # C1, C2, C3


def test_scoring_on_a_decision_with_a_known_outcome(fixture_con):
    # A decision entered by hand: for January 1-28 referral was forecast 1-3 wins and cold call
    # 1-4. Referral won 2 (R1, R2): inside. Cold call won 0: below.
    fixture_con.execute(
        "INSERT INTO decisions (decision_id, decided_at, period_start, period_end, channel,"
        " planned_share, planned_amount, forecast_wins, forecast_low, forecast_high, note,"
        " planned_money, planned_hours, hourly_rate) VALUES"
        " (7, TIMESTAMP '2023-12-29 10:00', DATE '2024-01-01', DATE '2024-01-28', 'referral',"
        "  0.6, 60, 2.0, 1, 3, NULL, 60, 0, 30),"
        " (7, TIMESTAMP '2023-12-29 10:00', DATE '2024-01-01', DATE '2024-01-28', 'cold_call',"
        "  0.4, 40, 2.5, 1, 4, NULL, 40, 0, 30)"
    )
    scored = D.score_decisions(fixture_con, 7).set_index("channel")
    assert scored.loc["referral", "actual_leads"] == 4
    assert scored.loc["referral", "actual_wins"] == 2
    assert scored.loc["cold_call", "actual_leads"] == 3
    assert scored.loc["cold_call", "actual_wins"] == 0
    # 4 wins in the whole store (< 10): no percentile is trusted, so the horizon is 8 weeks:
    # 2024-01-28 + 56 days = 2024-03-24, before the as-of date 2024-03-31: both are scored.
    assert scored.loc["referral", "horizon_days"] == 56
    assert scored.loc["referral", "scored_from"] == dt.date(2024, 3, 24)
    assert scored.loc["referral", "status"] == "inside"
    assert scored.loc["cold_call", "status"] == "below"
    # spend recorded for January 1-28: referral 28 days x ($10 + 1 h x $30) = $1,120 against
    # 4 weeks x $60 = $240 planned: not followed.
    assert scored.loc["referral", "actual_amount"] == pytest.approx(1120.0)
    assert not scored.loc["referral", "followed"]
    summary = D.decision_summary(scored.reset_index())
    assert summary.loc[0, "scored"] == 2 and summary.loc[0, "inside"] == 1
    assert "1 of 2 scored channels inside their forecast; 2 wins against 4.5 forecast" in (
        summary.loc[0, "sentence"])


def _outcome(**kw) -> dict:
    row = {
        "decision_id": 1, "decided_at": pd.Timestamp("2024-01-01"), "channel": "a", "label": "A",
        "period_start": dt.date(2024, 1, 1), "period_end": dt.date(2024, 1, 28),
        "planned_share": 0.5, "planned_amount": 100.0, "planned_money": 100.0,
        "planned_hours": 0.0, "hourly_rate": 30.0, "forecast_leads": 40.0,
        "forecast_wins": 5.0, "forecast_low": 2.0, "forecast_high": 8.0, "note": None,
        "actual_leads": 40, "actual_wins": 5, "actual_won_value": 0.0,
        "actual_money": 400.0, "actual_hours": 0.0, "as_of_date": dt.date(2024, 3, 31),
        "channel_wins": 20, "channel_p90_days": 30.0, "all_wins": 50, "all_p90_days": 70.0,
    }
    row.update(kw)
    return row


def test_score_outcomes_by_hand():
    frame = pd.DataFrame([
        # own percentile, 30 days: scored from 01-28 + 30 = 02-27; 5 in [2, 8]: inside;
        # spent $400 = 4 weeks x $100 planned: followed
        _outcome(channel="a"),
        # 5 wins (< 10): pooled 70 days, kept to 56: scored from 03-24; 1 < 2: below;
        # spent $350, 12.5% under the plan: followed
        _outcome(channel="b", channel_wins=5, actual_wins=1, actual_money=350.0),
        # own 10 days, raised to 28: scored from 02-25; 9 > 8: above; 2 h x $30 + $200 = $260,
        # 35% under: not followed
        _outcome(channel="c", channel_p90_days=10.0, actual_wins=9, actual_money=200.0,
                 actual_hours=2.0),
        # period ends 03-10: 03-10 + 30 = 04-09, after the as-of date: waiting; no spend data
        _outcome(channel="d", period_end=dt.date(2024, 3, 10), actual_money=None,
                 actual_hours=None),
        # too few wins anywhere: 8 weeks
        _outcome(channel="e", channel_wins=2, all_wins=3),
    ])
    out = D.score_outcomes(frame).set_index("channel")
    assert out["horizon_days"].tolist() == [30.0, 56.0, 28.0, 30.0, 56.0]
    assert out["scored_from"].tolist() == [dt.date(2024, 2, 27), dt.date(2024, 3, 24),
                                           dt.date(2024, 2, 25), dt.date(2024, 4, 9),
                                           dt.date(2024, 3, 24)]
    assert out["status"].tolist() == ["inside", "below", "above", "waiting", "inside"]
    assert out["followed"].tolist() == [True, True, False, None, True]
    assert out.loc["c", "actual_amount"] == pytest.approx(260.0)
    assert "not followed" in out.loc["c", "sentence"]
    assert "scored from 2024-04-09" in out.loc["d", "sentence"]
