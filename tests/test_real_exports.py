"""Issue 12: exports shaped like the real ones nobody here wrote, with no flags given.

Each fixture is written by hand from the issue's description of a real export (a Salesforce
report with ``N/A`` amounts, NUL bytes in a rich-text cell, a raw Salesforce API export, two-digit
years, a mistyped 2030 date, no won date, a yes/no outcome, two currencies, an ``Email ID``
column); the expected counts and rates are worked out by hand beside each assertion.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from funnel import report
from funnel.errors import IngestError
from funnel.ingest.core import IngestOptions, IngestResult
from funnel.ingest.upload import ingest_file
from funnel.metrics import metrics
from funnel.store import connection as store

D = dt.datetime
ROOT = Path(__file__).resolve().parent.parent


def ingest_bytes(con, db_path: Path, name: str, data: bytes, **options) -> IngestResult:
    path = db_path.parent / name
    path.write_bytes(data)
    result = ingest_file(con, path, IngestOptions(**options), db_path=db_path)
    assert result.read == result.loaded + result.rejected + result.duplicate
    return result


def ingest_text(con, db_path: Path, name: str, text: str, **options) -> IngestResult:
    return ingest_bytes(con, db_path, name, text.encode("utf-8"), **options)


def one(con, sql: str, params: dict | None = None):
    return con.execute(sql, params or {}).fetchone()


def column(con, name: str) -> dict[str, object]:
    return dict(con.execute(f"SELECT crm_id, {name} FROM leads").fetchall())


def conversion(con) -> dict[str, tuple]:
    df = metrics.conversion_by_channel(con.cursor())
    return {r.channel: (r.leads, r.won, r.lost) for r in df.itertuples()}


# --- 1. an optional cell never rejects a row ----------------------------------------------------

SF_REPORT = (
    "Opportunity ID,Opportunity Name,Stage,Close Date,Created Date,Amount,Lead Source,"
    "Opportunity Owner\n"
    "0061,Acme boiler,Closed Won,3/20/2026,3/2/2026,1200,Web,Ann\n"
    "0062,Birch roof,Closed Won,3/25/2026,3/3/2026,N/A,Web,Ann\n"
    "0063,Cedar deck,Closed Lost,3/21/2026,3/4/2026,N/A,Web,Bo\n"
    "0064,Dune pool,Prospecting,4/30/2026,3/5/2026,#N/A,Referral,Bo\n"
    "0065,Elm fence,Closed Won,3/28/2026,3/6/2026,800,Referral,Bo\n"
    "0066,Fir shed,Closed Lost,3/29/2026,3/7/2026,-,Referral,Ann\n"
    "0067,Gum patio,Closed Won,3/30/2026,3/8/2026,ask Bo,Referral,Ann\n"
)


def test_n_a_amounts_keep_their_rows_and_a_bad_amount_is_a_warning(con, db_path):
    result = ingest_text(con, db_path, "sf_report.csv", SF_REPORT)
    assert result.source == "salesforce_opportunities"
    # 7 rows, all loaded: N/A, #N/A and - mean "no value" (not warnings); 'ask Bo' is a warning
    assert (result.read, result.loaded, result.rejected, result.duplicate) == (7, 7, 0, 0)
    assert result.warnings == 1
    assert result.warnings_sample == [
        {"row_number": 8, "column_name": "Amount", "value": "ask Bo",
         "reason": "is not an amount of money"}]
    # web: 3 leads, won 0061 + 0062 = 2, lost 0063 = 1; referral: 4 leads, won 0065 + 0067 = 2,
    # lost 0066 = 1, open 0064
    assert conversion(con) == {"web": (3, 2, 1), "referral": (4, 2, 1)}
    # won value: web 1200 (0062 unknown); referral 800 (0067 unknown)
    won_value = dict(con.execute(
        "SELECT channel, sum(value) FILTER (WHERE stage = 'won') FROM leads GROUP BY 1"
    ).fetchall())
    assert won_value == {"web": 1200.0, "referral": 800.0}
    # the prospecting deal's 4/30 close date is expected, not an outcome: as of = 3/30 (0067)
    assert result.as_of == "2026-03-30"


# --- 2. NUL bytes inside a rich-text cell ------------------------------------------------------


def test_nul_bytes_inside_quoted_cells_are_dropped_and_counted(con, db_path):
    data = (
        b"Id,Lead Source,Created Date,Description\r\n"
        b'1,Web,2026-03-02,"Called\x00 back\x00"\r\n'
        b'2,Referral,2026-03-03,"Line one\r\nline\x00 two"\r\n'
        b"3,Web,2026-03-04,plain\r\n"
        b'4,Web,2026-03-05,"\x00"\r\n'
    )
    result = ingest_bytes(con, db_path, "sf_nul.csv", data)
    assert (result.read, result.loaded, result.rejected) == (4, 4, 0)
    assert result.notes and result.notes[0].startswith("4 NUL bytes")  # 2 + 1 + 1
    assert column(con, "channel") == {"1": "web", "2": "referral", "3": "web", "4": "web"}


def test_a_file_mostly_of_nul_bytes_is_refused_as_no_text(con, db_path):
    with pytest.raises(IngestError, match="not a text CSV"):
        # text for the first 8 KB (so the first look finds no binary), then 20% NUL bytes
        ingest_bytes(con, db_path, "binary.csv", b"a,b\n" + b"1,2\n" * 2000 + b"\x00" * 2000)


# --- 3. raw Salesforce API exports ---------------------------------------------------------------

API_OPPORTUNITIES = (
    "Id,LeadSource,StageName,IsWon,IsClosed,CloseDate,CreatedDate,Amount,OwnerId,ContactId,"
    "IsUnreadByOwner,IsConverted,ConvertedDate\n"
    "0061A,Web,Closed Won,true,true,2026-03-20,2026-03-02T10:22:33.000+0000,1000,005A,003X,"
    "false,false,\n"
    "0061B,Web,Closed Lost,false,true,2026-03-21,2026-03-03T09:00:00.000+0000,500,005A,003X,"
    "true,false,\n"
    "0061C,Web,Negotiation/Review,false,false,2026-05-01,2026-03-04T09:00:00.000+0000,700,005B,"
    "003X,false,false,\n"
    "0061D,Partner,Signed and paid,true,true,2026-03-25,2026-03-05T09:00:00.000+0000,900,005B,"
    "003X,false,false,\n"
    "0061E,Partner,Lost to a rival,false,true,2026-03-26,2026-03-06T09:00:00.000+0000,,005B,"
    "003X,true,false,\n"
    "0061F,Partner,Closed Won,false,false,2026-04-15,2026-03-07T09:00:00.000+0000,300,005B,"
    "003Y,false,false,\n"
)


def test_raw_salesforce_opportunity_export_keeps_every_deal(con, db_path):
    result = ingest_text(con, db_path, "Opportunity.csv", API_OPPORTUNITIES)
    assert result.source == "salesforce_api_opportunities"
    # Id is the id (ContactId repeats on 5 of 6 rows), OwnerId the owner, not IsUnreadByOwner
    assert result.mapping["id"] == "Id"
    assert result.mapping["owner"] == "OwnerId"
    assert (result.loaded, result.rejected, result.duplicate) == (6, 0, 0)
    # IsWon/IsClosed decide, whatever the stage is called: A, D won; B, E lost; C open
    # (Negotiation/Review: proposal); F is not closed, so its 'Closed Won' stage does not count
    assert column(con, "stage") == {
        "0061A": "won", "0061B": "lost", "0061C": "proposal", "0061D": "won", "0061E": "lost",
        "0061F": "new",
    }
    # won on the close date; an open deal's close date is expected, never an outcome
    assert column(con, "won_at")["0061A"] == D(2026, 3, 20)
    assert column(con, "created_at")["0061A"] == D(2026, 3, 2, 10, 22, 33)
    assert column(con, "lost_at")["0061B"] == D(2026, 3, 21)
    assert column(con, "owner")["0061C"] == "005B"
    # as of: the latest created, won or lost date: 2026-03-26 (E lost), not C's 2026-05-01
    assert result.as_of == "2026-03-26"


def test_raw_salesforce_lead_export(con, db_path):
    result = ingest_text(
        con, db_path, "Lead.csv",
        "Id,LeadSource,Status,IsConverted,ConvertedDate,ConvertedOpportunityId,CreatedDate,"
        "OwnerId\n"
        "00Q1,Web,Open - Not Contacted,false,,,2026-03-02T10:00:00.000Z,005A\n"
        "00Q2,Web,Closed - Converted,true,2026-03-20,0061A,2026-03-03T10:00:00.000Z,005A\n"
        "00Q3,Referral,Working - Contacted,false,,,2026-03-04T10:00:00.000Z,005B\n"
        "00Q4,Referral,Closed - Not Converted,false,,,2026-03-05T10:00:00.000Z,005B\n",
    )
    assert result.source == "salesforce_api_leads"
    assert result.mapping["converted"] == "IsConverted"
    assert result.mapping["won_at"] == "ConvertedDate"
    assert column(con, "stage") == {"00Q1": "new", "00Q2": "won", "00Q3": "contacted",
                                    "00Q4": "lost"}
    assert column(con, "won_at")["00Q2"] == D(2026, 3, 20)


def test_opportunity_history_adds_dated_stage_changes_to_known_deals(con, db_path):
    ingest_text(con, db_path, "Opportunity.csv", API_OPPORTUNITIES)
    history = ingest_text(
        con, db_path, "OpportunityHistory.csv",
        "Id,OpportunityId,StageName,Amount,CloseDate,CreatedDate\n"
        "008a,0061A,Qualification,1000,2026-04-30,2026-03-05T10:00:00.000Z\n"
        "008b,0061A,Proposal/Price Quote,1000,2026-04-30,2026-03-10T10:00:00.000Z\n"
        "008c,0061A,Closed Won,1000,2026-03-20,2026-03-20T10:00:00.000Z\n"
        "008d,0061B,Needs Analysis,500,2026-04-30,2026-03-08T10:00:00.000Z\n"
        "008e,0061Z,Qualification,50,2026-04-30,2026-03-08T10:00:00.000Z\n"
        "008f,0061A,Qualification,1000,2026-04-30,2026-03-05T10:00:00.000Z\n",
    )
    assert history.source == "salesforce_api_opportunity_history"
    # 6 rows = 4 events loaded + 1 rejected (0061Z is not in the store) + 1 duplicate (008f)
    assert (history.read, history.loaded, history.rejected, history.duplicate) == (6, 4, 1, 1)
    assert history.rejects_sample[0]["row_number"] == 6
    assert "0061Z" in history.rejects_sample[0]["reason"]
    events = con.execute(
        "SELECT e.stage, e.occurred_at FROM lead_events e JOIN leads l USING (lead_key) "
        "WHERE l.crm_id = '0061A' AND e.upload_id = $u ORDER BY e.occurred_at",
        {"u": history.upload_id}).fetchall()
    assert events == [("qualified", D(2026, 3, 5, 10)), ("proposal", D(2026, 3, 10, 10)),
                      ("won", D(2026, 3, 20, 10))]
    # 0061B was lost; the history shows it reached needs analysis (qualified, position 3)
    assert one(con, "SELECT furthest_position FROM leads WHERE crm_id = '0061B'") == (3,)
    # the deals' current stages are the deals export's
    assert column(con, "stage")["0061B"] == "lost"


def test_generic_file_id_is_the_unique_column_and_a_flag_is_never_the_owner(con, db_path):
    result = ingest_text(
        con, db_path, "crm.csv",
        "Customer ID,Id,Lead Source,Created Date,Is Unread By Owner\n"
        "C1,1,Web,2026-03-02,true\n"
        "C1,2,Web,2026-03-03,false\n"
        "C1,3,Referral,2026-03-04,true\n"
        "C1,4,Referral,2026-03-05,false\n",
    )
    # Customer ID repeats on every row: not the id when Id is unique
    assert result.mapping["id"] == "Id"
    assert "owner" not in result.mapping
    assert result.loaded == 4


def test_an_email_id_column_is_an_email_never_a_crm_id(con, db_path):
    result = ingest_text(
        con, db_path, "web_form.csv",
        "Email ID,Lead Source,Created Date\n"
        "ann@example.com,Web,2026-03-02\n"
        "bo@example.com,Referral,2026-03-03\n"
        "ann@example.com,Web,2026-03-04\n",
    )
    assert result.mapping.get("email") == "Email ID"
    assert "id" not in result.mapping
    # rows 2 and 4 are one person (same e-mail): 2 leads, 1 duplicate
    assert (result.loaded, result.duplicate) == (2, 1)
    stored = con.execute("SELECT crm_id, lead_key, email_hash FROM leads").fetchall()
    assert all(crm_id is None for crm_id, _, _ in stored)
    assert not any("@" in str(v) for row in stored for v in row)


# --- 4. two-digit years --------------------------------------------------------------------------


def test_two_digit_years_are_this_century(con, db_path):
    ingest_text(
        con, db_path, "short_years.csv",
        "id,Lead Source,Created Date\n1,Web,02/23/26\n2,Web,12/01/25\n3,Web,03/01/2026\n",
    )
    assert column(con, "created_at") == {"1": D(2026, 2, 23), "2": D(2025, 12, 1),
                                         "3": D(2026, 3, 1)}
    # a report for 2026 finds the two 2026 leads
    data = report.build_report(con, start="2026-01-01", end="2026-12-31")
    assert data["headline"]["leads"] == 2


def test_a_year_before_1900_is_never_stored(con, db_path):
    result = ingest_text(
        con, db_path, "old.csv",
        "id,Lead Source,Created Date,Won Date\n1,Web,2026-01-05,0026-02-01\n",
    )
    assert result.warnings_sample[0]["reason"] == "has a year before 1900"
    assert column(con, "won_at") == {"1": None}


# --- 5. one mistyped date never moves the as-of date -------------------------------------------


def test_an_outcome_date_after_the_upload_day_is_a_warning(con, db_path):
    result = ingest_text(
        con, db_path, "typo.csv",
        "id,Lead Source,Created Date,Stage,Close Date\n"
        "1,Web,2026-10-01,Closed Lost,2030-11-28\n"
        "2,Web,2026-10-05,Proposal,\n"
        "3,Web,2026-10-09,Closed Won,2026-10-20\n",
    )
    # as of: 2026-10-20 (lead 3's win), not 2030-11-28
    assert result.as_of == "2026-10-20"
    assert result.warnings == 1 and result.warnings_sample[0]["value"] == "2030-11-28"
    assert "after the day the file was uploaded" in result.warnings_sample[0]["reason"]
    assert column(con, "stage")["1"] == "lost"
    assert column(con, "lost_at")["1"] is None
    # the open deal is 15 days old at the as-of date (2026-10-05 to 2026-10-20), not years
    assert str(metrics.as_of_date(con.cursor()).iloc[0]["as_of_date"])[:10] == "2026-10-20"


# --- 6. time to win is never invented -------------------------------------------------------------


def test_no_won_date_means_no_time_to_win(con, db_path):
    ingest_text(
        con, db_path, "no_dates.csv",
        "id,Lead Source,Created Date,Stage\n"
        "1,Web,2024-01-05,Closed Won\n2,Web,2024-02-05,Closed Won\n3,Web,2024-03-05,New\n",
    )
    assert column(con, "won_at") == {"1": None, "2": None, "3": None}
    row = metrics.conversion_by_channel(con.cursor()).iloc[0]
    assert row["won"] == 2
    assert row["median_days_to_win"] is None or row["median_days_to_win"] != row[
        "median_days_to_win"]  # NULL (NaN in pandas): not in the data
    data = report.build_report(con)
    assert "no date the leads were won" in data["not_in_the_data"]["time_to_win"]
    assert "Time to win (Kaplan-Meier" not in report.render_markdown(data)


def test_a_close_date_before_the_created_date_is_not_stored(con, db_path):
    result = ingest_text(
        con, db_path, "backwards.csv",
        "id,Lead Source,Created Date,Stage,Close Date\n"
        "1,Web,2026-03-01,Closed Won,2024-02-09\n"  # 751 days before it came in
        "2,Web,2026-03-01,Closed Won,2026-03-11\n",
    )
    assert result.warnings == 1
    assert result.warnings_sample[0]["column_name"] == "Close Date"
    assert result.warnings_sample[0]["reason"] == "is before the day the lead came in (1 Mar 2026)"
    assert column(con, "won_at") == {"1": None, "2": D(2026, 3, 11)}
    # median over the one known win: 10 days
    assert metrics.conversion_by_channel(con.cursor()).iloc[0]["median_days_to_win"] == 10.0


# --- 7. yes/no outcomes ------------------------------------------------------------------------

YES_NO = (
    "Prospect ID,Lead Source,Converted\n"
    "p1,Google,1\np2,Google,0\np3,Google,0\np4,Reference,1\np5,Reference,1\np6,Reference,0\n"
)


def test_a_yes_no_outcome_reads_no_as_lost(con, db_path):
    result = ingest_text(con, db_path, "Leads.csv", YES_NO, constants={"created_at": "2024-01-01"})
    assert result.yes_no_outcome and not result.no_means_open
    df = metrics.conversion_by_channel(con.cursor()).set_index("channel")
    # google: 1 won, 2 lost, 0 open: conversion = win rate = 1/3; referral: 2/3
    assert (df.loc["google", "won"], df.loc["google", "lost"], df.loc["google", "open"]) == (
        1, 2, 0)
    assert df.loc["google", "win_rate"] == pytest.approx(1 / 3)
    assert df.loc["referral", "conversion_rate"] == pytest.approx(2 / 3)
    data = report.build_report(con)
    # no stages in the file: no stage funnel, and no "still open" warning
    assert data["sales"]["funnel"] == []
    assert "not the stages it went through" in data["not_in_the_data"]["funnel"]
    text = report.render_markdown(data)
    assert "Funnel: leads that reached each stage" not in text
    assert "still open, so these rates" not in text


def test_no_means_still_open_is_kept_with_the_upload(con, db_path):
    result = ingest_text(con, db_path, "Leads.csv", YES_NO,
                         constants={"created_at": "2024-01-01"}, no_means_open=True)
    assert result.no_means_open
    # 3 won, 3 open
    assert one(con, "SELECT count(*) FILTER (WHERE stage = 'won'), "
                    "count(*) FILTER (WHERE stage = 'new') FROM leads") == (3, 3)
    # the same bytes read with "no means lost" replace that reading
    again = ingest_text(con, db_path, "Leads.csv", YES_NO, constants={"created_at": "2024-01-01"})
    assert again.replaced
    assert one(con, "SELECT count(*) FILTER (WHERE stage = 'lost') FROM leads") == (3,)


# --- 8. currencies -----------------------------------------------------------------------------

PIPEDRIVE_CURRENCIES = (
    "Deal - ID,Deal - Value,Deal - Currency,Deal - Status,Deal - Stage,Deal - Deal created,"
    "Deal - Won time,Deal - Source channel\n"
    "1,1000,USD,won,Proposal Made,2026-03-02 10:00:00,2026-03-10 10:00:00,Referral\n"
    "2,2000,USD,won,Proposal Made,2026-03-03 10:00:00,2026-03-11 10:00:00,Referral\n"
    "3,500000,COP,won,Proposal Made,2026-03-04 10:00:00,2026-03-12 10:00:00,Cold call\n"
    "4,700,USD,open,Proposal Made,2026-03-05 10:00:00,,Cold call\n"
    "5,9000,MXN,won,Proposal Made,2026-03-06 10:00:00,2026-03-13 10:00:00,Cold call\n"
)


def test_money_is_summed_within_one_currency(con, db_path):
    result = ingest_text(con, db_path, "deals.csv", PIPEDRIVE_CURRENCIES)
    # USD is the most common currency of the first file: the store's
    assert one(con, "SELECT value FROM store_settings WHERE key = 'currency'") == ("USD",)
    df = metrics.conversion_by_channel(con.cursor()).set_index("channel")
    # referral: 1000 + 2000 USD; cold call: wins in COP and MXN are left out: 0
    assert df.loc["referral", "won_value"] == 3000.0
    assert df.loc["cold_call", "won_value"] == 0.0
    assert df.loc["cold_call", "won"] == 2  # still counted as wins
    assert any("1 in COP" in n and "1 in MXN" in n for n in result.notes)
    # the amounts are kept as given
    assert column(con, "amount")["3"] == 500000.0 and column(con, "currency")["3"] == "COP"
    data = report.build_report(con)
    assert data["currency"] == "USD"
    assert "2 deals in other currencies" in data["not_in_the_data"]["currency"]


def test_the_owner_can_choose_the_store_currency(con, db_path):
    from funnel.store import currency as money

    ingest_text(con, db_path, "deals.csv", PIPEDRIVE_CURRENCIES)
    money.set_store_currency(con, "mxn")
    df = metrics.conversion_by_channel(con.cursor()).set_index("channel")
    assert df.loc["cold_call", "won_value"] == 9000.0
    assert df.loc["referral", "won_value"] == 0.0
    with pytest.raises(ValueError):
        money.set_store_currency(con, "dollars")


# --- 9. a file that cannot be used ---------------------------------------------------------------

BANK = (
    "age;job;contact;day;month;housing;y\n"
    "30;admin.;cellular;5;may;yes;no\n"
    "41;services;telephone;5;may;no;yes\n"
    "25;student;cellular;6;may;yes;no\n"
)


def run_cli(*args: str, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "funnel", *args, "--db", str(db)], cwd=ROOT,
        capture_output=True, text=True, timeout=120,
    )


def test_a_file_nothing_can_be_loaded_from_exits_1_naming_the_fix(tmp_path):
    path = tmp_path / "bank.csv"
    path.write_text(BANK, encoding="utf-8")
    db = tmp_path / "store.duckdb"
    done = run_cli("ingest", str(path), db=db)
    assert done.returncode == 1
    assert "no row can be loaded" in done.stderr
    assert "--set created_at=YYYY-MM-DD" in done.stderr
    # the yes/no columns are named as candidates for the outcome
    assert "--map converted=COLUMN" in done.stderr and "housing, y" in done.stderr
    con = store.connect(db, read_only=True)
    try:  # the store is unchanged: no upload, so no "data as of" date either
        assert one(con, "SELECT count(*) FROM uploads") == (0,)
        assert metrics.as_of_date(con).iloc[0]["as_of_date"] is None or str(
            metrics.as_of_date(con).iloc[0]["as_of_date"]) in ("NaT", "None")
    finally:
        con.close()
    # with what the message asked for, it loads: 3 calls, 1 won, 2 lost
    done = run_cli("ingest", str(path), "--set", "created_at=2008-05-05", "--map",
                   "converted=y", "--map", "channel=contact", "--json", db=db)
    assert done.returncode == 0, done.stderr
    assert '"loaded": 3' in done.stdout


def test_a_failed_upload_does_not_move_the_as_of_date(con, db_path):
    ingest_text(con, db_path, "good.csv", "id,Lead Source,Created Date\n1,Web,2026-03-02\n")
    with pytest.raises(IngestError) as caught:
        ingest_text(con, db_path, "bad.csv", "id,Lead Source,Created Date\n2,Web,\n")
    assert caught.value.fixes[0].field == "created_at"
    assert str(metrics.as_of_date(con).iloc[0]["as_of_date"])[:10] == "2026-03-02"
    assert one(con, "SELECT count(*) FROM uploads") == (1,)


# --- 10. a corrected mapping, and a removed upload ---------------------------------------------


def test_a_corrected_mapping_replaces_what_the_wrong_one_said(con, db_path):
    text = ("id;day;y;Created\n" + "".join(
        f"{i};{1 + i % 3};{'yes' if i % 4 == 0 else 'no'};2026-03-0{1 + i % 5}\n"
        for i in range(12)))
    # 'day' 1 reads as yes: i % 3 == 0 -> 4 won (0, 3, 6, 9) with the wrong column
    ingest_text(con, db_path, "calls.csv", text, mapping={"converted": "day"})
    assert one(con, "SELECT count(*) FROM leads WHERE stage = 'won'") == (4,)
    again = ingest_text(con, db_path, "calls.csv", text, mapping={"converted": "y"})
    assert again.replaced
    # y = yes when i % 4 == 0: 0, 4, 8 -> 3 won; none of the wrong column's wins stays
    assert one(con, "SELECT count(*) FROM leads WHERE stage = 'won'") == (3,)
    assert one(con, "SELECT count(*) FROM uploads") == (1,)


WEEK1 = "id,Lead Source,Created Date,Stage\n1,Web,2026-03-02,New\n2,Web,2026-03-03,New\n"
WEEK2 = "id,Lead Source,Created Date,Stage\n1,Web,2026-03-02,Contacted\n3,Seo,2026-03-09,New\n"
WEEK3 = "id,Lead Source,Created Date,Stage\n1,Web,2026-03-02,Closed Won\n2,Web,2026-03-03,Lost\n"


def lead_state(con) -> list[tuple]:
    return con.execute(
        "SELECT crm_id, channel, created_at, stage, won_at, lost_at, furthest_position "
        "FROM leads ORDER BY crm_id").fetchall()


def test_removing_an_upload_leaves_the_store_as_if_it_had_never_been_loaded(con, db_path):
    ingest_text(con, db_path, "w1.csv", WEEK1, as_of=dt.date(2026, 3, 8))
    second = ingest_text(con, db_path, "w2.csv", WEEK2, as_of=dt.date(2026, 3, 15))
    ingest_text(con, db_path, "w3.csv", WEEK3, as_of=dt.date(2026, 3, 22))
    from funnel.ingest import replay

    replay.remove_upload(con, second.upload_id, db_path)
    other = db_path.with_name("other.duckdb")
    fresh = store.connect(other)
    try:
        ingest_text(fresh, other, "w1.csv", WEEK1, as_of=dt.date(2026, 3, 8))
        ingest_text(fresh, other, "w3.csv", WEEK3, as_of=dt.date(2026, 3, 22))
        assert lead_state(con) == lead_state(fresh)
        events = "SELECT lead_key, stage, occurred_at FROM lead_events ORDER BY ALL"
        assert con.execute(events).fetchall() == fresh.execute(events).fetchall()
    finally:
        fresh.close()
    # lead 3 came only in week 2; lead 1 won on week 3's as-of date (it was new in week 1)
    assert [r[0] for r in lead_state(con)] == ["1", "2"]
    assert lead_state(con)[0][4] == D(2026, 3, 22)
    assert one(con, "SELECT list(upload_id ORDER BY upload_id) FROM uploads") == ([1, 3],)


def test_uploads_cli_lists_and_removes(tmp_path):
    db = tmp_path / "store.duckdb"
    for name, text in (("w1.csv", WEEK1), ("w2.csv", WEEK2)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert run_cli("ingest", str(tmp_path / name), db=db).returncode == 0
    listed = run_cli("uploads", db=db)
    assert listed.returncode == 0 and "w1.csv" in listed.stdout and "w2.csv" in listed.stdout
    removed = run_cli("uploads", "remove", "2", db=db)
    assert removed.returncode == 0, removed.stderr
    assert "w2.csv" not in run_cli("uploads", db=db).stdout
    assert run_cli("uploads", "remove", "9", db=db).returncode == 1


# --- what the review of this issue found -----------------------------------------------------


def test_a_file_with_no_date_dates_no_change_and_leaves_the_as_of_date(con, db_path):
    ingest_text(con, db_path, "leads.csv",
                "id,Lead Source,Created Date,Stage\n1,Web,2025-01-05,New\n2,Web,2025-01-06,New\n")
    result = ingest_text(con, db_path, "outcomes.csv",
                         "id,Stage\n1,Closed Won\n2,Closed Lost\n")
    # the outcomes file holds no date: it has no as-of date, so it dates nothing
    assert result.as_of is None
    assert column(con, "stage") == {"1": "won", "2": "lost"}
    assert column(con, "won_at") == {"1": None, "2": None}
    assert column(con, "lost_at") == {"1": None, "2": None}
    assert str(metrics.as_of_date(con).iloc[0]["as_of_date"])[:10] == "2025-01-06"
    # with --as-of, the snapshot dates the change
    again = ingest_text(con, db_path, "outcomes.csv", "id,Stage\n1,Closed Won\n2,Closed Lost\n",
                        as_of=dt.date(2025, 2, 1))
    assert again.replaced
    assert column(con, "won_at")["1"] == D(2025, 2, 1)


def test_an_open_deal_expected_to_close_later_is_no_warning(con, db_path):
    result = ingest_text(
        con, db_path, "Opportunity.csv",
        "Id,LeadSource,StageName,IsWon,IsClosed,CloseDate,CreatedDate\n"
        "0061,Web,Prospecting,false,false,2099-03-01,2026-03-02T10:00:00.000Z\n"
        "0062,Web,Closed Won,true,true,2099-03-01,2026-03-03T10:00:00.000Z\n",
    )
    # only the closed deal's close date is an outcome date, and that one is after the upload
    assert [w["row_number"] for w in result.warnings_sample] == [3]
    assert column(con, "won_at") == {"0061": None, "0062": None}
    assert result.as_of == "2026-03-03"


def test_a_repeating_id_is_still_the_id_when_no_column_is_unique(con, db_path):
    text = "Lead ID,Lead Source,Created Date,Stage\n" + "".join(
        f"L{i % 4},Web,2026-03-0{1 + i % 4},{stage}\n"
        for i, stage in enumerate(["New"] * 4 + ["Contacted"] * 4 + ["Qualified"] * 4))
    result = ingest_text(con, db_path, "snapshots.csv", text)
    # 12 rows, 4 leads: each lead's last row counts
    assert result.mapping["id"] == "Lead ID"
    assert (result.loaded, result.duplicate) == (4, 8)
    assert set(column(con, "stage").values()) == {"qualified"}


def test_removing_an_upload_forgets_its_kept_bytes(con, db_path):
    from funnel.ingest import replay
    from funnel.store import raw_uploads

    first = ingest_text(con, db_path, "w1.csv", WEEK1, as_of=dt.date(2026, 3, 8))
    ingest_text(con, db_path, "w2.csv", WEEK2, as_of=dt.date(2026, 3, 15))
    root = raw_uploads.folder(db_path)
    kept = lambda: sorted(p.name for p in root.iterdir() if raw_uploads.SHA256.fullmatch(p.name))  # noqa: E731
    assert len(kept()) == 2
    replay.remove_upload(con, first.upload_id, db_path)
    assert len(kept()) == 1


def test_wins_without_a_date_are_in_no_week(con, db_path):
    from funnel.weekly import export as weekly_export
    from funnel.weekly import pack as weekly

    ingest_text(con, db_path, "Leads.csv", YES_NO, constants={"created_at": "2024-01-01"})
    pack = weekly.weekly_pack(con)
    cards = {what: value for what, value, _ in weekly_export.headline(pack)}
    # 3 wins, none with a date: "0 deals won this week" would be a number the file never held
    assert cards["New leads"] == "6"
    assert cards["Deals won"] == cards["Won value"] == "not in the data"
    assert pack.wins_without_date.startswith("Not in the data")
