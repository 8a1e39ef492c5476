"""Each metric query on the hand-made store of tests/metric_fixtures.py.

Expected numbers are worked out by hand from the fixture's table (its docstring), the arithmetic
in a comment beside them; one test recomputes conversion with plain pandas from the raw rows.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from funnel.metrics import metrics
from funnel.store import connection as store
from tests import metric_fixtures as mf

ROOT = Path(__file__).resolve().parent.parent
Z = 1.959964
ALL = {"start": None, "end": None, "channels": None, "owners": None}


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    con = mf.make_store(tmp_path_factory.mktemp("metrics") / "fixture.duckdb")
    yield con
    con.close()


def by(df: pd.DataFrame, *keys: str) -> dict:
    """Rows of df keyed by the given columns, as dicts."""
    index = df.set_index(list(keys)).to_dict("index")
    return index


def approx(x, rel=1e-6, abs=1e-9):
    return pytest.approx(x, rel=rel, abs=abs)


# --- marketing -------------------------------------------------------------------------------


def test_leads_by_channel(fx):
    df = metrics.leads_by_channel(fx)
    # 12 leads: referral 6 (6/12 = 0.5), cold_call 5 (5/12), tiktok 1 (1/12); leads desc
    assert list(df.columns) == ["channel", "kind", "label", "leads", "share"]
    assert df["channel"].tolist() == ["referral", "cold_call", "tiktok"]
    assert df["leads"].tolist() == [6, 5, 1]
    assert df["share"].tolist() == approx([0.5, 5 / 12, 1 / 12])
    # tiktok has no row in `channels`: kind unknown, its slug said in words as label (SPEC 5)
    assert df["kind"].tolist() == ["inbound", "outbound", "unknown"]
    assert df["label"].tolist() == ["Referral", "Cold call", "Tiktok"]


def test_period_is_inclusive_on_created_date(fx):
    # 2024-01-08..2024-01-31: R3 (01-10), R4 (01-15), C2 (01-09), C3 (01-16) and C4, created
    # 2024-01-31 15:00: its date is the end date, so it is in. 2 referral + 3 cold_call.
    df = metrics.leads_by_channel(fx, start=dt.date(2024, 1, 8), end="2024-01-31")
    assert dict(zip(df["channel"], df["leads"], strict=True)) == {"cold_call": 3, "referral": 2}
    assert df["share"].tolist() == approx([3 / 5, 2 / 5])


def test_channel_and_owner_filters(fx):
    # owners ann and carol: R1 R3 R6 (referral) C3 C5 (cold_call) T1 (tiktok); R5 has no owner
    df = metrics.leads_by_channel(fx, owners=["ann", "carol"])
    assert dict(zip(df["channel"], df["leads"], strict=True)) == {
        "referral": 3, "cold_call": 2, "tiktok": 1}
    df = metrics.leads_by_channel(fx, channels=["tiktok", "cold_call"])
    assert df["channel"].tolist() == ["cold_call", "tiktok"]
    assert metrics.leads_by_channel(fx, channels=[]).empty  # an empty list selects nothing


def test_hostile_filter_values_are_only_data(fx):
    evil = "x') OR 1=1; DROP TABLE leads; --"
    assert metrics.leads_by_channel(fx, channels=[evil]).empty
    assert metrics.conversion_by_channel(fx, owners=[evil]).empty
    assert metrics.leads_by_channel(fx)["leads"].sum() == 12


def test_leads_by_week_zero_filled(fx):
    df = metrics.leads_by_week(fx)
    assert list(df.columns) == ["week", "channel", "leads"]
    # weeks 2024-01-01 .. 2024-03-04 (10 Mondays) x 3 channels = 30 rows, zeros included
    weeks = sorted(set(df["week"]))
    assert len(df) == 30 and len(weeks) == 10
    assert all(pd.Timestamp(w).day_of_week == 0 for w in weeks)  # Mondays
    nonzero = {(pd.Timestamp(w).date().isoformat(), c): n
               for w, c, n in df.itertuples(index=False) if n}
    assert nonzero == {
        ("2024-01-01", "referral"): 2,   # R1 Mon 01-01, R2 Wed 01-03
        ("2024-01-01", "cold_call"): 1,  # C1 Tue 01-02
        ("2024-01-08", "referral"): 1,   # R3 01-10
        ("2024-01-08", "cold_call"): 1,  # C2 01-09
        ("2024-01-15", "referral"): 1,   # R4 01-15
        ("2024-01-15", "cold_call"): 1,  # C3 01-16
        ("2024-01-29", "cold_call"): 1,  # C4 Wed 01-31
        ("2024-02-05", "referral"): 2,   # R5 01-05, R6 02-07
        ("2024-02-12", "cold_call"): 1,  # C5 02-12
        ("2024-03-04", "tiktok"): 1,     # T1 03-04
    }
    # within a week, channels by total leads: referral, cold_call, tiktok
    assert df["channel"].tolist()[:3] == ["referral", "cold_call", "tiktok"]


def test_lead_volume_vs_previous(fx):
    # February 2024 = 29 days; the 29 days before: 2024-01-03 .. 2024-01-31.
    # Now: R5, R6 (referral 2), C5 (cold_call 1). Before: R2 (01-03, the first day), R3, R4
    # (referral 3); C2, C3, C4 (01-31 15:00, the last day) (cold_call 3). R1, C1 are earlier.
    df = metrics.lead_volume_vs_previous(fx, start="2024-02-01", end="2024-02-29")
    rows = by(df, "channel")
    assert list(rows) == ["referral", "cold_call"]
    assert rows["referral"]["leads"] == 2 and rows["referral"]["previous_leads"] == 3
    assert rows["referral"]["change"] == -1
    assert rows["referral"]["change_pct"] == approx(-1 / 3)   # (2 - 3) / 3
    assert rows["cold_call"]["change_pct"] == approx(-2 / 3)  # (1 - 3) / 3
    assert pd.Timestamp(rows["referral"]["previous_start"]).date() == dt.date(2024, 1, 3)
    assert pd.Timestamp(rows["referral"]["previous_end"]).date() == dt.date(2024, 1, 31)


def test_lead_volume_without_bounds_uses_the_data_span(fx):
    # all data: 2024-01-01 .. 2024-03-04 (64 days); nothing before, so change_pct is NULL
    df = metrics.lead_volume_vs_previous(fx)
    assert df["previous_leads"].tolist() == [0, 0, 0]
    assert df["change_pct"].isna().all()
    assert pd.Timestamp(df["period_end"].iloc[0]).date() == dt.date(2024, 3, 4)


# --- sales -----------------------------------------------------------------------------------


def test_conversion_by_channel(fx):
    rows = by(metrics.conversion_by_channel(fx), "channel")
    assert list(rows) == ["referral", "cold_call", "tiktok"]
    ref, cc, tt = rows["referral"], rows["cold_call"], rows["tiktok"]
    # referral: 6 leads; won R1 R2 R6, lost R3, open R4 R5
    assert (ref["leads"], ref["won"], ref["lost"], ref["open"]) == (6, 3, 1, 2)
    assert ref["conversion_rate"] == approx(0.5)   # 3 / 6
    assert ref["win_rate"] == approx(0.75)         # 3 / (3 + 1)
    # Wilson 3 of 6: z^2 = 3.841459; denominator 1 + z^2/6 = 1.640243;
    # centre 0.5 + z^2/12 = 0.820122; half z*sqrt(0.25/6 + z^2/144) = 0.512385
    # -> (0.820122 - 0.512385) / 1.640243 = 0.187616, (0.820122 + 0.512385) / 1.640243 = 0.812384
    assert ref["ci_low"] == approx(0.187616, rel=1e-5)
    assert ref["ci_high"] == approx(0.812384, rel=1e-5)
    # days to win 10 (R1), 20.5 (R2: 01-03 00:00 -> 01-23 12:00), 30 (R6) -> median 20.5
    assert ref["median_days_to_win"] == approx(20.5)
    # won value 1000 + 500 + (R6 has none) = 1500; per lead 1500 / 6 = 250
    assert ref["won_value"] == approx(1500.0) and ref["value_per_lead"] == approx(250.0)

    # cold_call: 5 leads; won C4, lost C1 C5, open C2 C3
    assert (cc["leads"], cc["won"], cc["lost"], cc["open"]) == (5, 1, 2, 2)
    assert cc["conversion_rate"] == approx(0.2) and cc["win_rate"] == approx(1 / 3)
    # Wilson 1 of 5: denominator 1.768292, centre 0.2 + z^2/10 = 0.584146, half 0.520091
    # -> 0.064055 / 1.768292 = 0.036224, 1.104237 / 1.768292 = 0.624465
    assert cc["ci_low"] == approx(0.036224, rel=1e-4)
    assert cc["ci_high"] == approx(0.624465, rel=1e-5)
    # C4: 2024-01-31 15:00 -> 2024-03-01 15:00 = 30 days (2024 is a leap year)
    assert cc["median_days_to_win"] == approx(30.0)
    assert cc["won_value"] == approx(800.0) and cc["value_per_lead"] == approx(160.0)

    # tiktok: 1 open lead; win_rate NULL (0 closed); Wilson 0 of 1: [0, z^2/(1+z^2)] = 0.793451
    assert (tt["won"], tt["lost"], tt["open"]) == (0, 0, 1)
    assert tt["conversion_rate"] == 0 and pd.isna(tt["win_rate"])
    assert tt["ci_low"] == approx(0.0, abs=1e-12)
    assert tt["ci_high"] == approx(Z * Z / (1 + Z * Z))
    assert pd.isna(tt["median_days_to_win"])
    assert tt["won_value"] == 0 and tt["value_per_lead"] == 0


def test_conversion_matches_plain_pandas(fx):
    """The same numbers recomputed with pandas from the raw leads table."""
    raw = fx.execute("SELECT * FROM leads").df()
    raw["days"] = (raw["won_at"] - raw["created_at"]).dt.total_seconds() / 86400
    expected = raw.groupby("channel").apply(lambda g: pd.Series({
        "leads": len(g),
        "won": (g["stage"] == "won").sum(),
        "lost": (g["stage"] == "lost").sum(),
        "median_days_to_win": g.loc[g["stage"] == "won", "days"].median(),
        "won_value": g.loc[g["stage"] == "won", "value"].sum(),
    }), include_groups=False)
    got = metrics.conversion_by_channel(fx).set_index("channel")
    for channel, row in expected.iterrows():
        for col in ["leads", "won", "lost", "won_value"]:
            assert got.loc[channel, col] == approx(row[col])
        if pd.isna(row["median_days_to_win"]):
            assert pd.isna(got.loc[channel, "median_days_to_win"])
        else:
            assert got.loc[channel, "median_days_to_win"] == approx(row["median_days_to_win"])


def test_conversion_with_owner_filter(fx):
    # ann: R1 (won), R3 (lost), R6 (won) -> referral 2 of 3; C3 (open), C5 (lost) -> 0 of 2
    rows = by(metrics.conversion_by_channel(fx, owners=["ann"]), "channel")
    assert (rows["referral"]["leads"], rows["referral"]["won"]) == (3, 2)
    assert rows["referral"]["median_days_to_win"] == approx(20.0)  # median of 10 and 30
    assert (rows["cold_call"]["leads"], rows["cold_call"]["won"]) == (2, 0)
    assert rows["cold_call"]["win_rate"] == approx(0.0)  # 0 / (0 + 1)


def test_funnel_by_channel(fx):
    df = metrics.funnel_by_channel(fx)
    reached = {(c, s): n for c, s, n in df[["channel", "stage", "reached"]].itertuples(index=False)}
    # furthest stage: R1 won, R2 won (skipped contacted: still counts), R3 qualified (lost),
    # R4 proposal (first seen there), R5 new, R6 won (seen only as new, won)
    assert [reached["referral", s] for s in mf.PROGRESS] == [6, 5, 5, 4, 3]
    # C1 new (lost), C2 contacted, C3 qualified, C4 won, C5 contacted (lost)
    assert [reached["cold_call", s] for s in mf.PROGRESS] == [5, 4, 2, 1, 1]
    assert [reached["tiktok", s] for s in mf.PROGRESS] == [1, 0, 0, 0, 0]

    ref = df[df["channel"] == "referral"].set_index("stage")
    assert pd.isna(ref.loc["new", "step_pct"])
    # step: 5/6, 5/5, 4/5, 3/4; cumulative: 6/6, 5/6, 5/6, 4/6, 3/6
    assert ref["step_pct"].tolist()[1:] == approx([5 / 6, 1.0, 0.8, 0.75])
    assert ref["cumulative_pct"].tolist() == approx([1, 5 / 6, 5 / 6, 4 / 6, 3 / 6])
    # others at won (cold_call + tiktok pooled): 1 of 1 at proposal won -> drop 0;
    # referral drops 1 - 3/4 = 0.25 there, its only step worse than the others -> worst step
    assert ref.loc["won", "others_drop_pct"] == approx(0.0)
    assert ref.loc["won", "excess_drop_pct"] == approx(0.25)
    assert ref["is_worst_step"].tolist() == [False, False, False, False, True]

    cc = df[df["channel"] == "cold_call"].set_index("stage")
    # contacted -> qualified: cold_call 2/4 (drop 0.5); others (referral + tiktok) 5/5 (drop 0)
    # proposal: cold_call 1/2 (0.5) vs others 4/5 (0.2): excess 0.3 < 0.5 -> qualified is worst
    assert cc.loc["qualified", "excess_drop_pct"] == approx(0.5)
    assert cc.loc["proposal", "excess_drop_pct"] == approx(0.3)
    assert cc.index[cc["is_worst_step"]].tolist() == ["qualified"]
    # the contacted step: others are referral 5 of 6 + tiktok 0 of 1 -> drop 1 - 5/7
    assert cc.loc["contacted", "others_drop_pct"] == approx(2 / 7)


def test_funnel_respects_filters(fx):
    # February 2024: R5 (new), R6 (won), C5 (contacted, lost)
    df = metrics.funnel_by_channel(fx, start="2024-02-01", end="2024-02-29")
    reached = {(c, s): n for c, s, n in df[["channel", "stage", "reached"]].itertuples(index=False)}
    assert [reached["referral", s] for s in mf.PROGRESS] == [2, 1, 1, 1, 1]
    assert [reached["cold_call", s] for s in mf.PROGRESS] == [1, 1, 0, 0, 0]


# --- the funnel kept on the lead by ingest (leads.furthest_position) ---------------------------
# Two weekly snapshots of one CRM, ingested as a person would. Furthest stage per lead, by hand:
#   id  week 1 (as of 10 Jan)     week 2 (as of 17 Jan)   furthest
#   1   Proposal                  Closed Lost             proposal (seen there before it was lost)
#   2   New                       Qualified               qualified
#   3   Contacted                 Closed Won              won
#   4   Negotiating hard          (unchanged)             new (an unmapped stage counts as new)
#   5   -                         Closed Lost             new (first seen lost)
SNAPSHOT_1 = (
    "id,Lead Source,Created Date,Stage\n"
    "1,Referral,2026-01-05,Proposal\n"
    "2,Referral,2026-01-06,New\n"
    "3,Referral,2026-01-07,Contacted\n"
    "4,Referral,2026-01-08,Negotiating hard\n"
)
SNAPSHOT_2 = (
    "id,Lead Source,Created Date,Stage\n"
    "1,Referral,2026-01-05,Closed Lost\n"
    "2,Referral,2026-01-06,Qualified\n"
    "3,Referral,2026-01-07,Closed Won\n"
    "4,Referral,2026-01-08,Negotiating hard\n"
    "5,Referral,2026-01-12,Closed Lost\n"
)
POSITION = {"new": 1, "contacted": 2, "qualified": 3, "proposal": 4, "won": 5}


@pytest.fixture()
def snapshots(con, db_path):
    from funnel.ingest.core import IngestOptions
    from funnel.ingest.upload import ingest_file

    for name, text, as_of in (("week1.csv", SNAPSHOT_1, dt.date(2026, 1, 10)),
                              ("week2.csv", SNAPSHOT_2, dt.date(2026, 1, 17))):
        path = db_path.parent / name
        path.write_text(text, encoding="utf-8")
        ingest_file(con, path, IngestOptions(as_of=as_of), db_path=db_path)
    return con


def furthest_from_events(con) -> dict:
    """Each lead's furthest position recomputed from lead_events with plain pandas (SPEC 4)."""
    leads = con.execute("SELECT lead_key, crm_id, stage FROM leads").df()
    events = con.execute("SELECT lead_key, stage FROM lead_events").df()
    seen = pd.concat([events, leads[["lead_key", "stage"]]])
    seen = seen[seen["stage"] != "lost"].assign(position=lambda d: d["stage"].map(POSITION))
    best = seen.groupby("lead_key")["position"].max()
    return {crm: int(best.get(key, 1)) for key, crm in zip(leads["lead_key"], leads["crm_id"],
                                                           strict=True)}


def stored_furthest(con) -> dict:
    return dict(con.execute("SELECT crm_id, furthest_position FROM leads").fetchall())


def referral_reached(con) -> list[int]:
    df = metrics.funnel_by_channel(con)
    return df[df["channel"] == "referral"]["reached"].tolist()


def test_ingest_keeps_each_leads_furthest_stage(snapshots):
    # positions from the table above: 1 proposal, 2 qualified, 3 won, 4 new, 5 new
    assert stored_furthest(snapshots) == {"1": 4, "2": 3, "3": 5, "4": 1, "5": 1}
    assert stored_furthest(snapshots) == furthest_from_events(snapshots)
    # reached new: all 5; contacted and qualified: 1, 2, 3; proposal: 1, 3; won: 3
    assert referral_reached(snapshots) == [5, 3, 3, 2, 1]


def test_a_stage_synonym_moves_the_furthest_stage_on(snapshots):
    from funnel.ingest import synonym_edits as synonym_store

    assert synonym_store.save_stage_synonym(snapshots, "Negotiating hard", "proposal") == 1
    # lead 4 is at proposal now: reached contacted, qualified and proposal too
    assert stored_furthest(snapshots) == {"1": 4, "2": 3, "3": 5, "4": 4, "5": 1}
    assert stored_furthest(snapshots) == furthest_from_events(snapshots)
    assert referral_reached(snapshots) == [5, 4, 4, 3, 1]


def test_a_stage_synonym_to_lost_keeps_the_furthest_stage(snapshots):
    from funnel.ingest import synonym_edits as synonym_store

    assert synonym_store.save_stage_synonym(snapshots, "Negotiating hard", "lost") == 1
    # lead 4 is lost, first seen as new: still new at furthest; nothing else moves
    assert stored_furthest(snapshots) == {"1": 4, "2": 3, "3": 5, "4": 1, "5": 1}
    assert referral_reached(snapshots) == [5, 3, 3, 2, 1]


def test_a_lead_reopened_keeps_its_furthest_stage(snapshots, db_path):
    from funnel.ingest.core import IngestOptions
    from funnel.ingest.upload import ingest_file

    # week 3: the won deal 3 is back at Contacted, lost deal 1 at New (both reopened)
    path = db_path.parent / "week3.csv"
    path.write_text("id,Lead Source,Created Date,Stage\n1,Referral,2026-01-05,New\n"
                    "3,Referral,2026-01-07,Contacted\n", encoding="utf-8")
    ingest_file(snapshots, path, IngestOptions(as_of=dt.date(2026, 1, 24)), db_path=db_path)
    assert stored_furthest(snapshots) == {"1": 4, "2": 3, "3": 5, "4": 1, "5": 1}
    assert stored_furthest(snapshots) == furthest_from_events(snapshots)


def test_open_by_temperature(fx):
    df = metrics.open_by_temperature(fx)
    rows = by(df, "temperature")
    assert list(rows) == ["cold", "warm", "hot"]
    # open: R5 new, C2 contacted, T1 new (cold); C3 qualified (warm); R4 proposal (hot)
    assert [rows[t]["open_leads"] for t in rows] == [3, 1, 1]
    assert [rows[t]["share"] for t in rows] == approx([0.6, 0.2, 0.2])
    assert [rows[t]["open_value"] for t in rows] == approx([0.0, 300.0, 2000.0])
    # ages at 2024-03-31: R5 02-05 -> 24 + 31 = 55; C2 01-09 -> 22 + 29 + 31 = 82;
    # T1 03-04 -> 27; median 55, oldest 82. C3 01-16 -> 75; R4 01-15 -> 76
    assert rows["cold"]["median_age_days"] == 55 and rows["cold"]["oldest_age_days"] == 82
    assert rows["warm"]["median_age_days"] == 75 and rows["hot"]["median_age_days"] == 76
    assert all(isinstance(a, str) and a for a in df["next_action"])


def test_open_by_temperature_always_three_rows(fx):
    df = metrics.open_by_temperature(fx, channels=[])
    assert df["temperature"].tolist() == ["cold", "warm", "hot"]
    assert df["open_leads"].tolist() == [0, 0, 0] and df["share"].isna().all()


def test_spend_by_channel_all_data(fx):
    rows = by(metrics.spend_by_channel(fx), "channel")
    ref, cc, tt = rows["referral"], rows["cold_call"], rows["tiktok"]
    # referral: spend 310 + 290 = 600, hours 31 + 0; 6 leads, 3 won, won value 1500
    assert ref["spend"] == approx(600.0) and ref["hours"] == approx(31.0)
    assert ref["cost_per_lead"] == approx(100.0)   # 600 / 6
    assert ref["cost_per_win"] == approx(200.0)    # 600 / 3
    assert ref["roi"] == approx(1.5)               # (1500 - 600) / 600
    assert ref["hours_per_lead"] == approx(31 / 6)
    # cold_call: 910 spent, 5 leads, 1 won worth 800: roi (800 - 910) / 910 = -0.120879
    assert cc["cost_per_lead"] == approx(182.0) and cc["cost_per_win"] == approx(910.0)
    assert cc["roi"] == approx(-110 / 910)
    # tiktok: no spend recorded -> unknown, not free
    assert pd.isna(tt["spend"]) and pd.isna(tt["cost_per_lead"]) and pd.isna(tt["roi"])


def test_spend_is_prorated_to_the_period(fx):
    rows = by(metrics.spend_by_channel(fx, start="2024-01-08", end="2024-01-31"), "channel")
    # referral January row: 24 of its 31 days overlap -> 310 * 24/31 = 240, hours 31*24/31 = 24;
    # the February row does not overlap. Leads R3, R4 (none won): cpl 240/2 = 120, roi -1
    assert rows["referral"]["spend"] == approx(240.0)
    assert rows["referral"]["hours"] == approx(24.0)
    assert rows["referral"]["cost_per_lead"] == approx(120.0)
    assert pd.isna(rows["referral"]["cost_per_win"])
    assert rows["referral"]["roi"] == approx(-1.0)
    # cold_call 91-day row: 24/91 of 910 = 240. Leads C2, C3, C4 (won, 800)
    assert rows["cold_call"]["spend"] == approx(240.0)
    assert rows["cold_call"]["cost_per_lead"] == approx(80.0)   # 240 / 3
    assert rows["cold_call"]["roi"] == approx(560 / 240)        # (800 - 240) / 240


def test_spend_ratios_are_null_with_an_owner_filter(fx):
    rows = by(metrics.spend_by_channel(fx, owners=["ann"]), "channel")
    assert rows["referral"]["spend"] == approx(600.0)
    assert pd.isna(rows["referral"]["cost_per_lead"]) and pd.isna(rows["referral"]["roi"])


def test_weekly_cohorts(fx):
    df = metrics.weekly_cohorts(fx)
    rows = by(df, "cohort_week", "channel")
    first = rows[pd.Timestamp("2024-01-01"), "referral"]
    # R1, R2 both won; cohort's Sunday 2024-01-07 -> 2024-03-31 is 84 days
    assert (first["leads"], first["won"], first["open"], first["age_days"]) == (2, 2, 0, 84)
    # referral wins took 10, 20.5, 30 days: p90 = 20.5 + 0.8 * (30 - 20.5) = 28.1 (linear);
    # all channels 10, 20.5, 30, 30: p90 at position 2.7 -> 30
    assert first["channel_wins"] == 3 and first["channel_p90_days"] == approx(28.1)
    assert first["all_wins"] == 4 and first["all_p90_days"] == approx(30.0)
    # 4 wins < 10 anywhere: the default 90-day horizon; no cohort is 90 days old -> none mature
    assert set(df["horizon_basis"]) == {"default"} and not df["is_mature"].any()
    # 2024-02-05 referral: R5 open, R6 won -> 1 of 2: 0.5, Wilson [0.094531, 0.905469]
    feb = rows[pd.Timestamp("2024-02-05"), "referral"]
    assert feb["conversion_rate"] == approx(0.5)
    assert feb["ci_low"] == approx(0.094531, rel=1e-5)
    tiktok = rows[pd.Timestamp("2024-03-04"), "tiktok"]
    assert tiktok["channel_wins"] == 0 and pd.isna(tiktok["channel_p90_days"])
    assert len(df) == 10  # the non-empty week x channel pairs of test_leads_by_week


def test_time_to_win_rows(fx):
    df = metrics.time_to_win_rows(fx)
    got = {(c, d, bool(w)): n for c, d, w, n in df.itertuples(index=False)}
    assert got == {
        # referral: won after 10, 20.5, 30 days; R3 (lost) and R5, R4 (open) censored at the
        # as-of date 2024-03-31: R3 01-10 -> 81 days, R5 02-05 -> 55, R4 01-15 -> 76
        ("referral", 10.0, True): 1, ("referral", 20.5, True): 1, ("referral", 30.0, True): 1,
        ("referral", 81.0, False): 1, ("referral", 55.0, False): 1,
        ("referral", 76.0, False): 1,
        # cold_call: C4 won after 30; censored at 03-31: C1 (lost) 01-02 -> 89, C5 (lost)
        # 02-12 -> 48 (2024 is a leap year: 17 + 31), C3 and C2 open 75 and 82
        ("cold_call", 89.0, False): 1, ("cold_call", 48.0, False): 1,
        ("cold_call", 30.0, True): 1, ("cold_call", 75.0, False): 1,
        ("cold_call", 82.0, False): 1,
        ("tiktok", 27.0, False): 1,  # T1 03-04 -> 03-31
    }


def test_time_to_win(fx):
    rows = by(metrics.time_to_win(fx), "channel")
    # referral KM (lost leads stay at risk until the as-of date): 10: 5/6;
    # 20.5: 5/6 * 4/5 = 4/6; 30: 4/6 * 3/4 = 0.5 <= 0.5 -> median 30
    assert rows["referral"]["median_days"] == approx(30.0)
    assert rows["referral"]["wins"] == 3 and rows["referral"]["leads"] == 6
    # cold_call: S(30) = 4/5 (all 5 at risk) and never lower: median not reached
    assert pd.isna(rows["cold_call"]["median_days"])
    curve = metrics.time_to_win_curve(fx)
    ref = curve[curve["channel"] == "referral"].set_index("days")
    assert ref.loc[0.0, "survival"] == 1.0
    assert ref.loc[10.0, "survival"] == approx(5 / 6)
    assert ref.loc[29.0, "survival"] == approx(4 / 6)
    assert ref.loc[30.0, "won_share"] == approx(0.5)  # 1 - 3/6: half of all referral leads
    assert ref.index.max() == 81.0


def test_headline_by_week(fx):
    df = metrics.headline_by_week(fx)
    rows = {pd.Timestamp(r.week).date().isoformat(): r for r in df.itertuples(index=False)}
    assert len(rows) == 10  # 2024-01-01 .. 2024-03-04
    # week of 01-01: R1, R2, C1 created; R1, R2 won since -> 2/3
    assert (rows["2024-01-01"].leads, rows["2024-01-01"].won) == (3, 2)
    assert rows["2024-01-01"].conversion_rate == approx(2 / 3)
    # wins closed: R1 on 01-11 (week 01-08, 1000), R2 01-23 (week 01-22, 500),
    # C4 Fri 03-01 (week 02-26, 800), R6 03-08 (week 03-04, no value)
    closed = {w: (r.wins_closed, r.won_value_closed) for w, r in rows.items() if r.wins_closed}
    assert closed == {"2024-01-08": (1, 1000.0), "2024-01-22": (1, 500.0),
                      "2024-02-26": (1, 800.0), "2024-03-04": (1, 0.0)}
    assert rows["2024-01-22"].leads == 0 and pd.isna(rows["2024-01-22"].conversion_rate)


def test_as_of_date(fx, tmp_path):
    row = metrics.as_of_date(fx).iloc[0]
    assert pd.Timestamp(row["as_of_date"]).date() == dt.date(2024, 3, 31)
    assert row["basis"] == "uploads"
    # no upload with an as-of date: the latest created/won/lost date, R6 won 2024-03-08
    other = mf.make_store(tmp_path / "no_upload.duckdb", with_upload=False)
    row = metrics.as_of_date(other).iloc[0]
    assert pd.Timestamp(row["as_of_date"]).date() == dt.date(2024, 3, 8)
    assert row["basis"] == "data"
    other.close()


def test_filter_options(fx):
    row = metrics.filter_options(fx).iloc[0]
    assert list(row["channels"]) == ["referral", "cold_call", "tiktok"]
    assert list(row["channel_labels"]) == ["Referral", "Cold call", "Tiktok"]  # in words
    assert list(row["owners"]) == ["ann", "bob", "carol"]
    assert pd.Timestamp(row["min_created"]).date() == dt.date(2024, 1, 1)
    assert pd.Timestamp(row["max_created"]).date() == dt.date(2024, 3, 4)


# --- the registry, the queries, the docs -----------------------------------------------------


# Metrics that describe the store, not the selection: the filters do not apply to them.
STORE_WIDE = {"as_of_date", "filter_options"}


def test_every_metric_runs_with_every_filter(fx):
    # referral leads owned by ann or bob: R1 R2 R3 R4 R6 (R5 has no owner): 5 leads
    filters = {"start": "2024-01-01", "end": dt.date(2024, 3, 31), "channels": ["referral"],
               "owners": ["ann", "bob"]}
    for name, fn in metrics.METRICS.items():
        everything, some = fn(fx, **ALL), fn(fx, **filters)
        assert list(some.columns) == list(everything.columns), name
        if name in STORE_WIDE:
            assert some.equals(everything), name
        elif "channel" in some.columns:  # None: a row over all the selected channels
            assert set(some["channel"].dropna()) == {"referral"}, name
    assert metrics.leads_by_channel(fx, **filters)["leads"].tolist() == [5]


def test_an_empty_channel_list_selects_nothing_in_every_metric(fx):
    none = {**ALL, "channels": []}
    results = {name: fn(fx, **none) for name, fn in metrics.METRICS.items()}
    for name, df in results.items():
        assert list(df.columns) == list(metrics.METRICS[name](fx).columns), name
    # the store-wide ones are as without a filter
    for name in STORE_WIDE:
        assert results[name].equals(metrics.METRICS[name](fx)), name
    # the counts over the selection are zeros; open_by_temperature keeps its three rows at 0
    assert results["data_coverage"].iloc[0].tolist() == [0] * 6
    temperatures = results["open_by_temperature"]
    assert temperatures["temperature"].tolist() == ["cold", "warm", "hot"]
    assert temperatures["open_leads"].tolist() == [0, 0, 0]
    assert temperatures["open_value"].tolist() == [0, 0, 0]
    # every other metric has no row at all
    rest = set(metrics.METRICS) - STORE_WIDE - {"data_coverage", "open_by_temperature"}
    assert {name for name in rest if not results[name].empty} == set()
    assert len(rest) == len(metrics.METRICS) - 4


def test_every_metric_runs_on_an_empty_store(tmp_path):
    con = store.connect(tmp_path / "empty.duckdb")
    for name, fn in metrics.METRICS.items():
        assert isinstance(fn(con), pd.DataFrame), name
    con.close()


def test_metric_queries_have_headers():
    for path in sorted((ROOT / "queries" / "metrics").glob("*.sql")):
        text = path.read_text()
        for word in ("-- Purpose:", "-- Grain:", "-- Parameters:"):
            assert word in text, f"{path.name} lacks {word}"
        # one statement per file
        code = re.sub(r"--[^\n]*", "", text).strip().rstrip(";")
        assert ";" not in code, path.name


def test_every_metric_is_documented():
    doc = (ROOT / "docs" / "METRICS.md").read_text()
    headings = set(re.findall(r"^#+ (\S+)", doc, flags=re.M))
    missing = [name for name in metrics.METRICS if name not in headings]
    assert not missing, f"docs/METRICS.md has no heading for {missing}"


# --- period edges on raw timestamps (issue 7: the queries compare created_at with the bounds'
# midnights instead of casting every created_at to a date) ----------------------------------

# As-of 2024-03-31 (the fixture's upload). Period used below: 2024-02-01 .. 2024-02-29.
# key channel    created                     outcome                              value owner
# E1  referral   2024-02-01 00:00:00 (in)    won 2024-02-03 12:00 (2.5 days)        100 ann
# E2  referral   2024-02-29 23:59:59.999999  open at new (cold)                       - ann
#                (in: the end date's last microsecond)
# E3  referral   2024-03-01 00:00:00 (out)   open at proposal (hot)                  50 bob
# E4  cold_call  2024-01-31 23:59:59.999999  lost 2024-02-10                          - bob
#                (out, but in the previous period of lead_volume_vs_previous)
# E5  cold_call  2024-02-15 10:00 (in)       won, no won date                        70 ann
# E6  cold_call  2024-02-20 00:00 (in)       won 2024-02-19 (a date error: -1 day)   30 bob
EDGE_LEADS = [
    ("E1", "referral", "2024-02-01 00:00:00", "won", "2024-02-03 12:00:00", None, 100.0, "ann",
     ["new", "won"]),
    ("E2", "referral", "2024-02-29 23:59:59.999999", "new", None, None, None, "ann", ["new"]),
    ("E3", "referral", "2024-03-01 00:00:00", "proposal", None, None, 50.0, "bob",
     ["new", "proposal"]),
    ("E4", "cold_call", "2024-01-31 23:59:59.999999", "lost", None, "2024-02-10 00:00:00", None,
     "bob", ["new", "lost"]),
    ("E5", "cold_call", "2024-02-15 10:00:00", "won", None, None, 70.0, "ann", ["new", "won"]),
    ("E6", "cold_call", "2024-02-20 00:00:00", "won", "2024-02-19 00:00:00", None, 30.0, "bob",
     ["new", "won"]),
]
FEB = {"start": "2024-02-01", "end": dt.date(2024, 2, 29), "channels": None, "owners": None}


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    con = mf.make_store(tmp_path_factory.mktemp("edges") / "edges.duckdb", with_spend=False)
    con.execute("DELETE FROM leads")
    con.execute("DELETE FROM lead_events")
    mf.insert_leads(con, EDGE_LEADS)
    yield con
    con.close()


def test_period_edges_count_midnight_and_last_microsecond(edges):
    # in: E1 (start 00:00), E2 (end 23:59:59.999999), E5, E6; out: E3 (the day after), E4 (the
    # day before). cold_call 2, referral 2: a tie, so by name
    df = metrics.leads_by_channel(edges, **FEB)
    assert df["channel"].tolist() == ["cold_call", "referral"]
    assert df["leads"].tolist() == [2, 2]
    # a one-day period: the start and end date itself
    one_day = {**FEB, "start": "2024-02-29", "end": "2024-02-29"}
    assert metrics.leads_by_channel(edges, **one_day)["leads"].tolist() == [1]  # E2
    # owners as well: ann has E1, E2 (referral) and E5 (cold_call) in February
    df = metrics.leads_by_channel(edges, **{**FEB, "owners": ["ann"]})
    assert dict(zip(df["channel"], df["leads"], strict=True)) == {"referral": 2, "cold_call": 1}


def test_period_edges_conversion(edges):
    rows = by(metrics.conversion_by_channel(edges, **FEB), "channel")
    # referral: E1 won (2.5 days, 100), E2 open -> 1 of 2
    ref = rows["referral"]
    assert (ref["leads"], ref["won"], ref["lost"], ref["open"]) == (2, 1, 0, 1)
    assert ref["median_days_to_win"] == approx(2.5)
    assert ref["won_value"] == approx(100.0) and ref["value_per_lead"] == approx(50.0)
    # cold_call: E5 and E6 both won (E5 counts as won and its value counts, though it has no
    # won date): 70 + 30 = 100
    cold = rows["cold_call"]
    assert (cold["leads"], cold["won"], cold["lost"]) == (2, 2, 0)
    assert cold["won_value"] == approx(100.0)


def test_period_edges_time_to_win_rows(edges):
    df = metrics.time_to_win_rows(edges, **FEB)
    got = {(c, d, bool(w)): n for c, d, w, n in df.itertuples(index=False)}
    assert got == {
        ("referral", 2.5, True): 1,    # E1: 02-01 00:00 -> 02-03 12:00
        # E2 censored at 2024-03-31 00:00: from 02-29 23:59:59 (whole seconds) that is
        # 30 days + 1 s = 720.0003 h -> 720 h -> 30.0 days
        ("referral", 30.0, False): 1,
        ("cold_call", 0.0, True): 1,   # E6: -1 day counts as 0; E5 (no won date) is left out
    }
    # channels by their number of rows' leads: referral 2, cold_call 1
    assert df["channel"].tolist() == ["referral", "referral", "cold_call"]


def test_period_edges_by_week(edges):
    df = metrics.headline_by_week(edges, **FEB)
    rows = {pd.Timestamp(r.week).date().isoformat(): r for r in df.itertuples(index=False)}
    # created: E1 Thu 02-01 (week 01-29), E5 Thu 02-15 (02-12), E6 Tue 02-20 (02-19),
    # E2 Thu 02-29 (02-26): weeks 01-29 .. 02-26, 02-05 empty
    assert list(rows) == ["2024-01-29", "2024-02-05", "2024-02-12", "2024-02-19", "2024-02-26"]
    assert [(r.leads, r.won) for r in rows.values()] == [(1, 1), (0, 0), (1, 1), (1, 1), (1, 0)]
    # closed: E1 Sat 02-03 (week 01-29, 100), E6 Mon 02-19 (week 02-19, 30); E5 has no date
    closed = {w: (r.wins_closed, r.won_value_closed) for w, r in rows.items() if r.wins_closed}
    assert closed == {"2024-01-29": (1, 100.0), "2024-02-19": (1, 30.0)}

    weekly = metrics.leads_by_week(edges, **FEB)
    # 5 weeks x 2 channels (cold_call 2, referral 2: by name), zero-filled
    assert len(weekly) == 10
    assert weekly["channel"].tolist()[:2] == ["cold_call", "referral"]
    nonzero = {(pd.Timestamp(r.week).date().isoformat(), r.channel): r.leads
               for r in weekly.itertuples(index=False) if r.leads}
    assert nonzero == {("2024-01-29", "referral"): 1, ("2024-02-12", "cold_call"): 1,
                       ("2024-02-19", "cold_call"): 1, ("2024-02-26", "referral"): 1}

    cohorts = by(metrics.weekly_cohorts(edges, **FEB), "cohort_week", "channel")
    assert {(w.date().isoformat(), c): (k["leads"], k["won"], k["open"])
            for (w, c), k in cohorts.items()} == {
        ("2024-01-29", "referral"): (1, 1, 0), ("2024-02-12", "cold_call"): (1, 1, 0),
        ("2024-02-19", "cold_call"): (1, 1, 0), ("2024-02-26", "referral"): (1, 0, 1)}
    # horizons over every won lead with a date, whatever the filter: E1 2.5, E6 0 (floored);
    # pooled p90 of [0, 2.5] = 0 + 0.9 * 2.5 = 2.25
    first = cohorts[pd.Timestamp("2024-01-29"), "referral"]
    assert first["channel_wins"] == 1 and first["channel_p90_days"] == approx(2.5)
    assert first["all_wins"] == 2 and first["all_p90_days"] == approx(2.25)


def test_period_edges_open_and_previous_period(edges):
    rows = by(metrics.open_by_temperature(edges, **FEB), "temperature")
    # only E2 is open in February (E3, hot, was created 03-01): 02-29 -> 03-31 = 31 days
    assert rows["cold"]["open_leads"] == 1 and rows["cold"]["share"] == approx(1.0)
    assert rows["cold"]["median_age_days"] == 31.0 and rows["cold"]["oldest_age_days"] == 31
    assert rows["hot"]["open_leads"] == 0
    # without the period E3 is there: 03-01 -> 03-31 = 30 days
    hot = by(metrics.open_by_temperature(edges), "temperature")["hot"]
    assert (hot["open_leads"], hot["open_value"], hot["median_age_days"]) == (1, 50.0, 30.0)

    # February has 29 days; the previous period 2024-01-03 .. 01-31 holds E4 (01-31, its last
    # microsecond). cold_call 2 vs 1 (+100%), referral 2 vs 0
    df = metrics.lead_volume_vs_previous(edges, **FEB)
    assert df["channel"].tolist() == ["cold_call", "referral"]
    assert df["leads"].tolist() == [2, 2] and df["previous_leads"].tolist() == [1, 0]
    assert df["change_pct"].iloc[0] == approx(1.0) and pd.isna(df["change_pct"].iloc[1])


def test_period_with_no_leads_gives_empty_or_zero_rows(edges):
    empty = {**FEB, "start": "2030-01-01", "end": "2030-01-31"}
    for name in ("leads_by_channel", "leads_by_week", "conversion_by_channel",
                 "time_to_win_rows", "weekly_cohorts", "headline_by_week", "spend_by_channel"):
        assert metrics.METRICS[name](edges, **empty).empty, name
    # open_by_temperature keeps its three rows, all at zero
    df = metrics.open_by_temperature(edges, **empty)
    assert df["open_leads"].tolist() == [0, 0, 0] and df["share"].isna().all()


def test_head_to_head_from_the_pages_conversion_table_is_the_same(fx):
    # the Sales and Overview pages pass their cached all-channel conversion table instead of
    # querying the two channels again: each channel's row must not depend on the others
    channels = sorted(metrics.conversion_by_channel(fx)["channel"])
    a, b = channels[0], channels[-1]
    alone = metrics.head_to_head(fx, a, b)
    shared = metrics.head_to_head(fx, a, b, conversion=metrics.conversion_by_channel(fx))
    assert shared == alone
    missing = metrics.head_to_head(fx, a, "no_such_channel",
                                   conversion=metrics.conversion_by_channel(fx))
    assert missing == metrics.head_to_head(fx, a, "no_such_channel")
