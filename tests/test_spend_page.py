"""Spend the way an owner keeps it (issue 14, item 5), driven by AppTest: a spend sheet with an
'Amount spent' column previewed and loaded on the Upload page (rows of one channel and week
added up, and said so), its mapping changed on the page, a template with the store's channels,
and money and hours typed on the Allocation page giving a plan without any file. Expected
numbers are worked out by hand from the files written here."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from test_app import ALLOCATION, assert_clean, button, metric_value, run_page

from funnel.demo import store as demo

pytestmark = pytest.mark.usefixtures("fresh_caches")

# Google Ads and AdWords are both paid search (SPEC 2): one channel, one week, added up
AMOUNT_SPENT_CSV = (
    "Lead Source,Week starting,Amount spent,Hours\n"
    "Google Ads,2026-11-23,\"$100.50\",2\n"
    "AdWords,2026-11-23,50,1\n"
    "Referral,2026-11-23,30,4\n"
)


def spend_words(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_a_spend_sheet_with_amount_spent_is_previewed_then_loaded(demo_db):
    at = run_page("app_pages/upload.py")
    at.file_uploader(key="spend_uploader_0").set_value(
        ("spend.csv", AMOUNT_SPENT_CSV.encode(), "text/csv")).run()
    assert_clean(at)
    mapping = [e.value for e in at.data_editor if "Field" in e.value.columns
               and len(e.value) == 5][0]
    assert dict(zip(mapping["Field"], mapping["Column in your file"], strict=True))[
        "Money"] == "Amount spent"
    assert metric_value(at, "Spend rows that will count") == "3"
    assert metric_value(at, "Money in all") == "$180.50"  # 100.50 + 50 + 30
    assert metric_value(at, "Hours in all") == "7"  # 2 + 1 + 4
    # 3 rows, 2 of them paid search that week: 1 added to another, 2 channel-weeks stored
    assert ("1 of them shared a channel and week with another row and was added to it "
            "(2 channel-weeks stored); none was left out") in spend_words(at)
    button(at, "Load this spend file").click().run()
    assert_clean(at)
    assert metric_value(at, "Spend rows loaded") == "3"
    assert "Money ← 'Amount spent'" in spend_words(at)
    stored = at.data_editor(key="spend_editor").value
    week = stored[stored["From"] == pd.Timestamp("2026-11-23").date()].set_index("Channel")
    assert week.loc["Paid search", "Money ($)"] == 150.5  # 100.50 + 50
    assert week.loc["Paid search", "Hours"] == 3.0


def test_the_spend_mapping_is_changed_on_the_page(demo_db):
    data = (b"Channel,Week starting,Cost,Budget\n"
            b"Referral,2026-11-23,10,200\nCold call,2026-11-23,20,300\n")
    at = run_page("app_pages/upload.py")
    at.file_uploader(key="spend_uploader_0").set_value(("costs.csv", data, "text/csv")).run()
    assert metric_value(at, "Money in all") == "$30.00"  # Cost, found first: 10 + 20
    key = f"spend_mapping_{hashlib.sha256(data).hexdigest()[:16]}"
    at.session_state[key] = {"edited_rows": {3: {"Column in your file": "Budget"}},
                                "added_rows": [], "deleted_rows": []}
    at.run()
    assert_clean(at)
    assert metric_value(at, "Money in all") == "$500.00"  # Budget: 200 + 300


def test_the_template_holds_the_stores_channels_and_recent_weeks(demo_db):
    import datetime as dt

    from funnel.app import allocation as app_allocation
    from funnel.store import connection as store

    con = store.connect(demo_db)
    try:
        channels = con.execute("SELECT count(DISTINCT channel) FROM leads "
                               "WHERE channel <> 'unknown'").fetchone()[0]
        text = app_allocation.spend_template_csv(con, dt.date(2026, 11, 25)).decode("utf-8-sig")
    finally:
        con.close()
    lines = text.strip().splitlines()
    assert lines[0] == "Channel,Week starting,Amount spent,Hours"
    assert len(lines) == 1 + channels * 4
    # 25 Nov 2026 is a Wednesday: its week starts on Monday 23 Nov, then 16, 9, 2 Nov
    weeks = {line.split(",")[-3] for line in lines[1:]}
    assert weeks == {"2026-11-23", "2026-11-16", "2026-11-09", "2026-11-02"}


def leads_only_store(tmp_path, monkeypatch):
    from funnel.ingest.core import IngestOptions
    from funnel.ingest.upload import ingest_file
    from funnel.store import connection as store

    path = tmp_path / "leads_only.duckdb"
    monkeypatch.setenv("FUNNEL_DB", str(path))
    monkeypatch.delenv("FUNNEL_PII_KEY", raising=False)
    con = store.connect(path)
    try:
        for snapshot, as_of in demo.snapshot_files():
            ingest_file(con, snapshot, IngestOptions(as_of=as_of), db_path=path)
    finally:
        con.close()
    return path


def test_money_and_hours_typed_on_the_allocation_page_make_a_plan(tmp_path, monkeypatch):
    leads_only_store(tmp_path, monkeypatch)
    at = run_page(ALLOCATION)
    assert any("No spend data yet" in i.value for i in at.info)
    table = at.data_editor(key="week_spend").value
    rows = {c: i for i, c in enumerate(table["Channel"])}
    at.session_state["week_spend"] = {
        "edited_rows": {rows["Referral"]: {"Money this week ($)": 40.0, "Hours this week": 3.0},
                        rows["Cold call"]: {"Money this week ($)": 0.0, "Hours this week": 20.0}},
        "added_rows": [], "deleted_rows": []}
    at.run()
    button(at, "Save this week's money and hours").click().run()
    assert_clean(at)
    assert any("2 counted" in s.value for s in at.success)
    assert not any("No spend data yet" in i.value for i in at.info)
    stored = at.data_editor(key="week_spend").value.set_index("Channel")
    assert stored.loc["Referral", "Money this week ($)"] == 40.0
    assert stored.loc["Cold call", "Hours this week"] == 20.0


def test_the_spend_command_loads_adds_up_and_says_so(tmp_path, db_path, capsys):
    import json

    from funnel.cli.main import main

    sheet = tmp_path / "spend.csv"
    sheet.write_text(AMOUNT_SPENT_CSV, encoding="utf-8")
    assert main(["spend", str(sheet), "--dry-run", "--json", "--db", str(db_path)]) == 0
    preview = json.loads(capsys.readouterr().out)
    # 3 rows, all counted; 2 are paid search in the week of 23 Nov: 2 channel-weeks, 1 added
    assert (preview["read"], preview["loaded"], preview["periods"], preview["combined"]) == (
        3, 3, 2, 1)
    assert preview["money"] == 180.5 and preview["columns"]["money"] == "Amount spent"
    assert main(["spend", str(sheet), "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert "3 rows read: 3 counted. 1 of them shared a channel and week" in out
    assert "money 180.50, hours 7.0 in all" in out
    # the same sheet again: its 2 channel-weeks are replaced, not added twice
    assert main(["spend", str(sheet), "--json", "--db", str(db_path)]) == 0
    assert json.loads(capsys.readouterr().out)["replaced"] == 2
    assert main(["spend", str(sheet), "--map", "money=", "--map", "hours=Hours", "--json",
                 "--db", str(db_path)]) == 0
    assert json.loads(capsys.readouterr().out)["money"] == 0.0
