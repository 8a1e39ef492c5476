"""Ingest of hand-made CRM exports: dates, money, synonyms, stages, duplicates, snapshots,
outcome-only files, defaults, one transaction per upload, spend files (SPEC 2 and 3).

Each fixture is a few rows written in the test; the expected values are worked out by hand from
the SPEC, with the reasoning next to them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from funnel.errors import IngestError
from funnel.ingest.core import IngestOptions, IngestResult
from funnel.ingest.spend import ingest_spend
from funnel.ingest.upload import ingest_file
from funnel.store import connection as store

D = dt.datetime


def ingest_text(con, db_path: Path, name: str, text: str, **options) -> IngestResult:
    """Write ``text`` (UTF-8) as ``name`` beside the store and ingest it."""
    path = db_path.parent / name
    path.write_text(text, encoding="utf-8", newline="")
    result = ingest_file(con, path, IngestOptions(**options), db_path=db_path)
    assert result.read == result.loaded + result.rejected + result.duplicate
    return result


def column(con, name: str) -> dict[str, object]:
    """crm_id -> one column of the leads table."""
    return dict(con.execute(f"SELECT crm_id, {name} FROM leads").fetchall())


def rejects(con, upload_id: int | None = None) -> list[tuple]:
    """(row_number, column_name, reason) of rejected rows, in row order."""
    return con.execute(
        "SELECT row_number, column_name, reason FROM rejected_rows "
        "WHERE $u IS NULL OR upload_id = $u ORDER BY upload_id, row_number",
        {"u": upload_id},
    ).fetchall()


def warnings(con, upload_id: int | None = None) -> list[tuple]:
    """(row_number, column_name, value, reason) of cell warnings, in row order."""
    return con.execute(
        "SELECT row_number, column_name, value, reason FROM cell_warnings "
        "WHERE $u IS NULL OR upload_id = $u ORDER BY upload_id, row_number, column_name",
        {"u": upload_id},
    ).fetchall()


def table_counts(con) -> dict[str, int]:
    tables = ["uploads", "leads", "lead_events", "rejected_rows", "channel_spend"]
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def events(con, crm_id: str) -> list[tuple]:
    """(stage, occurred_at) events of one lead, oldest first."""
    return con.execute(
        "SELECT e.stage, e.occurred_at FROM lead_events e JOIN leads l USING (lead_key) "
        "WHERE l.crm_id = $id ORDER BY e.occurred_at, e.upload_id",
        {"id": crm_id},
    ).fetchall()


# --- dates --------------------------------------------------------------------------------------


def test_iso_dates_with_and_without_times(con, db_path):
    ingest_text(
        con,
        db_path,
        "iso.csv",
        "id,Lead Source,Created Date\n"
        "1,Web,2026-01-05\n"
        "2,Web,2026-01-06 08:00\n"
        "3,Web,2026-01-07T14:30:00Z\n"
        "4,Web,2026/01/08\n",
    )
    assert column(con, "created_at") == {
        "1": D(2026, 1, 5),
        "2": D(2026, 1, 6, 8, 0),
        "3": D(2026, 1, 7, 14, 30),
        "4": D(2026, 1, 8),
    }


def test_us_month_first_column(con, db_path):
    # 02/13/2026 can only be month-first (there is no month 13), so 03/04/2026 is 4 March.
    result = ingest_text(
        con,
        db_path,
        "us.csv",
        "id,Lead Source,Created Date\n"
        "1,Web,02/13/2026\n2,Web,03/04/2026\n3,Web,12/1/2026 11:30 PM\n",
    )
    assert result.date_formats["created_at"] == "us"
    assert column(con, "created_at") == {
        "1": D(2026, 2, 13),
        "2": D(2026, 3, 4),
        "3": D(2026, 12, 1, 23, 30),
    }


def test_day_first_column_is_inferred_from_a_day_over_12(con, db_path):
    # 13/02/2026 can only be day-first, so the whole column is: 03/04/2026 is 3 April.
    result = ingest_text(
        con,
        db_path,
        "eu.csv",
        "id,Lead Source,Created Date\n1,Web,13/02/2026\n2,Web,03/04/2026\n3,Web,01.12.2025\n",
    )
    assert result.date_formats["created_at"] == "day_first"
    assert column(con, "created_at") == {
        "1": D(2026, 2, 13),
        "2": D(2026, 4, 3),
        "3": D(2025, 12, 1),
    }


def test_families_are_chosen_per_column(con, db_path):
    # Created is day-first (13/02), Won date is month-first (02/14): each column its own.
    result = ingest_text(
        con,
        db_path,
        "two_columns.csv",
        "id,Lead Source,Created Date,Won date\n"
        "1,Web,13/02/2026,02/14/2026\n"
        "2,Web,05/02/2026,03/01/2026\n",
    )
    assert result.date_formats == {"created_at": "day_first", "won_at": "us"}
    assert column(con, "created_at") == {"1": D(2026, 2, 13), "2": D(2026, 2, 5)}
    assert column(con, "won_at") == {"1": D(2026, 2, 14), "2": D(2026, 3, 1)}


def test_undecidable_column_follows_the_files_other_date_column(con, db_path):
    # Lost date holds only 03/04/2026 (either way); Created shows day-first (25/01), so Lost
    # date is read day-first too: 3 April.
    ingest_text(
        con,
        db_path,
        "follow.csv",
        "id,Lead Source,Created Date,Lost date\n1,Web,25/01/2026,03/04/2026\n",
    )
    assert column(con, "lost_at") == {"1": D(2026, 4, 3)}
    assert column(con, "stage") == {"1": "lost"}


def test_excel_serial_dates(con, db_path):
    # Excel counts days from 1899-12-30: 45000 -> 2023-03-15; 44927 -> 2023-01-01;
    # 45000.5 -> noon on 2023-03-15.
    result = ingest_text(
        con,
        db_path,
        "serial.csv",
        "id,Lead Source,Created Date\n1,Web,45000\n2,Web,44927\n3,Web,45000.5\n",
    )
    assert result.date_formats["created_at"] == "excel_serial"
    assert column(con, "created_at") == {
        "1": D(2023, 3, 15),
        "2": D(2023, 1, 1),
        "3": D(2023, 3, 15, 12, 0),
    }


def test_zoho_text_dates(con, db_path):
    ingest_text(
        con,
        db_path,
        "zoho.csv",
        "id,Lead Source,Created Time\n"
        '1,Web,"15 Apr, 2021 00:03:00"\n'
        '2,Web,"3 Jan, 2022 17:45:09"\n',
    )
    assert column(con, "created_at") == {
        "1": D(2021, 4, 15, 0, 3),
        "2": D(2022, 1, 3, 17, 45, 9),
    }


def test_impossible_date_rejects_the_row_naming_column_and_value(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "impossible.csv",
        "id,Lead Source,Created Time\n"  # row 1
        "1,Web,2026-02-28\n"  # row 2
        "2,Web,2026-02-31\n"  # row 3: February has no 31st
        "3,Web,2026-03-01\n",  # row 4
    )
    assert (result.read, result.loaded, result.rejected) == (3, 2, 1)
    assert rejects(con) == [(3, "Created Time", "Created Time '2026-02-31' is not a date")]
    assert result.rejects_sample == [
        {
            "row_number": 3,
            "column_name": "Created Time",
            "reason": "Created Time '2026-02-31' is not a date",
        }
    ]
    assert sorted(column(con, "created_at")) == ["1", "3"]


def test_impossible_won_date_is_a_cell_warning_and_the_row_loads(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "won_bad.csv",
        "id,Lead Source,Created Date,Won date\n1,Web,2026-01-05,2026-04-31\n2,Web,2026-01-05,\n",
    )
    # only identity rejects a row (SPEC 3): row 2 loads with its won date unknown
    assert (result.loaded, result.rejected, result.warnings) == (2, 0, 1)
    assert rejects(con) == []
    assert warnings(con) == [(2, "Won date", "2026-04-31", "is not a date")]
    assert column(con, "won_at") == {"1": None, "2": None}


# --- money --------------------------------------------------------------------------------------


def test_money_with_currency_signs_and_thousands_separators(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "money.csv",
        "id,Lead Source,Created Date,Amount\n"
        '1,Web,2026-01-05,"$22,700.00"\n'  # $ and thousands comma: 22700
        '2,Web,2026-01-05,"1,200"\n'  # a thousands comma: 1200
        "3,Web,2026-01-05,500\n"  # plain: 500
        "4,Web,2026-01-05,USD 99.50\n"  # code before the number: 99.5
        "5,Web,2026-01-05,\n"  # empty: no value, still loaded
        "6,Web,2026-01-05,call me\n",  # not money: loaded, amount unknown, row 7 warned
    )
    assert (result.read, result.loaded, result.rejected, result.warnings) == (6, 6, 0, 1)
    assert column(con, "value") == {
        "1": 22700.0,
        "2": 1200.0,
        "3": 500.0,
        "4": 99.5,
        "5": None,
        "6": None,
    }
    assert warnings(con) == [(7, "Amount", "call me", "is not an amount of money")]


def test_decimal_comma_money_column(con, db_path):
    # 1.234,56 can only be a decimal comma with a thousands point, so the column is read that
    # way: 22,5 -> 22.5 and 1.000 -> 1000 (a thousands point, not one euro).
    ingest_text(
        con,
        db_path,
        "eu_money.csv",
        "id;Lead Source;Created Date;Betrag\n"
        "1;Web;2026-01-05;1.234,56\n"
        "2;Web;2026-01-05;22,5\n"
        "3;Web;2026-01-05;1.000\n"
        "4;Web;2026-01-05;€ 7\n",
        mapping={"value": "Betrag"},
    )
    assert column(con, "value") == {"1": 1234.56, "2": 22.5, "3": 1000.0, "4": 7.0}


# --- channels -----------------------------------------------------------------------------------

# SPEC 2, canonical channels and their synonyms, copied from the table (case-insensitive).
SPEC_CHANNELS = {
    "referral": [
        "referral", "referrals", "word of mouth", "reference", "customer referral",
        "employee referral", "external referral", "partner referral",
    ],
    "cold_call": [
        "cold call", "cold calling", "outbound call", "telemarketing", "phone (outbound)",
    ],
    "cold_email": ["cold email", "outbound email", "sales email alias"],
    "purchased_list": ["purchased list", "list purchase"],
    "organic_search": ["organic search", "organic_search", "seo", "google organic", "web research"],
    "paid_search": ["paid search", "paid_search", "google ads", "adwords", "ppc"],
    "social": ["social", "social media", "organic social", "facebook", "linkedin", "instagram"],
    "paid_social": ["paid social", "facebook ads", "linkedin ads"],
    "email": ["email", "email marketing", "newsletter"],
    "web": [
        "web", "website", "direct traffic", "direct_traffic", "web form", "web download",
        "online store", "chat",
    ],
    "event": [
        "event", "trade show", "seminar", "internal seminar", "seminar partner", "webinar",
        "conference",
    ],
    "partner": ["partner", "reseller"],
    "advertising": [
        "advertising", "advertisement", "display", "print", "radio", "public relations",
        "other_publicities",
    ],
    "other": ["other", "other campaigns", "offline sources"],
    "unknown": ["unknown", "n/a", "none", "select"],
}
SPEC_KINDS = {
    "referral": "inbound", "cold_call": "outbound", "cold_email": "outbound",
    "purchased_list": "outbound", "organic_search": "inbound", "paid_search": "inbound",
    "social": "inbound", "paid_social": "inbound", "email": "inbound", "web": "inbound",
    "event": "inbound", "partner": "inbound", "advertising": "inbound", "other": "unknown",
    "unknown": "unknown",
}


def test_every_spec_channel_synonym_maps_to_its_channel(con, db_path):
    # Each raw value written in Title Case (matching is case-insensitive), plus each channel's
    # own slug; one lead per raw value.
    expected: dict[str, str] = {}
    lines = ["id,Lead Source,Created Date"]
    for channel, raws in SPEC_CHANNELS.items():
        for raw in [channel, *raws]:
            crm_id = str(len(expected) + 1)
            expected[crm_id] = channel
            lines.append(f'{crm_id},"{raw.title()}",2026-01-05')
    result = ingest_text(con, db_path, "channels.csv", "\n".join(lines) + "\n")
    assert result.loaded == len(expected)
    assert column(con, "channel") == expected
    assert result.unmapped == []
    kinds = dict(
        con.execute(
            "SELECT l.channel, c.kind FROM leads l JOIN channels c USING (channel)"
        ).fetchall()
    )
    assert kinds == SPEC_KINDS


@pytest.mark.parametrize(
    "raw,channel",
    [
        ("Cold-Call", "cold_call"),  # slug cold_call == slug of "cold call"
        ("COLD  CALL!", "cold_call"),
        ("  cold call  ", "cold_call"),
        ("Word-of-Mouth", "referral"),
        ("Google_Ads", "paid_search"),
        ("Phone (Outbound)", "cold_call"),
        ("Trade Show", "event"),
        ("Facebook Ads", "paid_social"),
        ("Facebook", "social"),
        ("Référence", "referral"),  # accents stripped: reference
        ("OnlineStore", "web"),  # the Zoho sample writes both OnlineStore and Online Store
    ],
)
def test_channel_synonyms_match_on_the_slug(con, db_path, raw, channel):
    ingest_text(con, db_path, "slug.csv", f'id,Lead Source,Created Date\n1,"{raw}",2026-01-05\n')
    assert column(con, "channel") == {"1": channel}
    assert column(con, "channel_raw") == {"1": raw.strip()}


def test_unmapped_channel_keeps_its_slug_and_is_listed_with_counts(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "unmapped.csv",
        "id,Lead Source,Created Date\n"
        "1,Café Réclame,2026-01-05\n"
        "2,Café Réclame,2026-01-05\n"
        "3,Billboard on A-12,2026-01-05\n"
        "4,Referral,2026-01-05\n",
    )
    # accents stripped, lower case, runs of non-alphanumerics -> one "_", none at the ends
    assert column(con, "channel") == {
        "1": "cafe_reclame",
        "2": "cafe_reclame",
        "3": "billboard_on_a_12",
        "4": "referral",
    }
    assert result.unmapped == [
        {"kind": "channel", "raw_value": "Café Réclame", "stored_as": "cafe_reclame", "leads": 2},
        {
            "kind": "channel",
            "raw_value": "Billboard on A-12",
            "stored_as": "billboard_on_a_12",
            "leads": 1,
        },
    ]
    # an unmapped channel is of kind unknown: it is no canonical channel of known kind
    kinds = con.execute(
        "SELECT DISTINCT coalesce(c.kind, 'unknown') FROM leads l "
        "LEFT JOIN channels c USING (channel) WHERE l.crm_id IN ('1', '2', '3')"
    ).fetchall()
    assert kinds == [("unknown",)]


def test_empty_channel_is_unknown_never_a_rejection(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "empty_channel.csv",
        'id,Lead Source,Created Date\n1,,2026-01-05\n2,"   ",2026-01-05\n3,Select,2026-01-05\n',
    )
    assert (result.loaded, result.rejected) == (3, 0)
    assert column(con, "channel") == {"1": "unknown", "2": "unknown", "3": "unknown"}


def test_file_without_a_channel_column_is_unknown_or_the_set_value(con, db_path):
    ingest_text(con, db_path, "no_channel.csv", "id,Created Date\n1,2026-01-05\n")
    assert column(con, "channel") == {"1": "unknown"}
    ingest_text(
        con,
        db_path,
        "no_channel2.csv",
        "id,Created Date\n2,2026-01-05\n",
        constants={"channel": "cold_call"},
    )
    assert column(con, "channel")["2"] == "cold_call"


def test_set_channel_fills_only_empty_cells(con, db_path):
    ingest_text(
        con,
        db_path,
        "set_channel.csv",
        "id,Lead Source,Created Date\n1,,2026-01-05\n2,Web,2026-01-05\n",
        constants={"channel": "referral"},
    )
    assert column(con, "channel") == {"1": "referral", "2": "web"}


# --- stages -------------------------------------------------------------------------------------

# SPEC 2, canonical stages and their synonyms (case-insensitive).
SPEC_OPEN_STAGES = {
    "new": [
        "new", "open", "open - not contacted", "not contacted", "lead", "subscriber", "lead in",
    ],
    "contacted": [
        "contacted", "working", "working - contacted", "attempted to contact", "contact in future",
        "appointmentscheduled", "appointment scheduled", "contact made",
    ],
    "qualified": [
        "qualified", "pre-qualified", "qualification", "needs analysis", "value proposition",
        "id. decision makers", "identify decision makers", "perception analysis",
        "marketingqualifiedlead", "salesqualifiedlead", "mql", "sql", "marketing qualified lead",
        "sales qualified lead", "qualifiedtobuy", "qualified to buy", "presentationscheduled",
        "presentation scheduled", "decisionmakerboughtin", "decision maker bought-in",
        "demo scheduled",
    ],
    "proposal": [
        "proposal", "proposal/price quote", "negotiation", "negotiation/review", "opportunity",
        "proposal made", "negotiations started", "contract sent", "contractsent",
    ],
}
SPEC_CLOSED_STAGES = {
    "won": ["won", "closed won", "closedwon", "closed - converted", "converted", "customer",
            "evangelist"],
    "lost": [
        "lost", "closed lost", "closedlost", "closed - not converted",
        "closed-lost to competition", "junk lead", "lost lead", "not qualified", "unqualified",
        "disqualified",
    ],
}


def stage_file(table: dict[str, list[str]]) -> tuple[str, dict[str, str]]:
    """A file with one lead per raw stage value (Title Case) and the stage each must get."""
    expected: dict[str, str] = {}
    lines = ["id,Lead Source,Created Date,Stage"]
    for stage, raws in table.items():
        for raw in raws:
            crm_id = str(len(expected) + 1)
            expected[crm_id] = stage
            lines.append(f'{crm_id},Web,2026-01-05,"{raw.title()}"')
    return "\n".join(lines) + "\n", expected


def test_every_spec_open_stage_synonym_maps_to_its_stage(con, db_path):
    text, expected = stage_file(SPEC_OPEN_STAGES)
    result = ingest_text(con, db_path, "open_stages.csv", text)
    assert result.loaded == len(expected)
    assert column(con, "stage") == expected
    assert result.unmapped == []


def test_every_spec_won_and_lost_stage_synonym_maps_to_its_stage(con, db_path):
    text, expected = stage_file(SPEC_CLOSED_STAGES)
    result = ingest_text(con, db_path, "closed_stages.csv", text, as_of=dt.date(2026, 2, 1))
    assert column(con, "stage") == expected
    # no won/lost date in the file: unknown stays unknown (SPEC 3), nothing stands in for it
    assert set(column(con, "won_at").values()) == {None}
    assert set(column(con, "lost_at").values()) == {None}
    assert result.unmapped == []


def test_stage_slug_matching(con, db_path):
    ingest_text(
        con,
        db_path,
        "stage_slug.csv",
        "id,Lead Source,Created Date,Stage\n"
        "1,Web,2026-01-05,Working-Contacted\n"  # slug working_contacted
        "2,Web,2026-01-05,PRE QUALIFIED\n"  # slug pre_qualified
        "3,Web,2026-01-05,Proposal / Price Quote\n",  # slug proposal_price_quote
    )
    assert column(con, "stage") == {"1": "contacted", "2": "qualified", "3": "proposal"}


def test_unmapped_stage_is_kept_counted_as_new_and_listed(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "unmapped_stage.csv",
        "id,Lead Source,Created Date,Stage\n"
        "1,Web,2026-01-05,Initial Offer\n"
        "2,Web,2026-01-05,Initial Offer\n"
        "3,Web,2026-01-05,Prospect\n"
        "4,Web,2026-01-05,Qualification\n",
    )
    assert result.loaded == 4  # never dropped
    assert column(con, "stage") == {"1": "new", "2": "new", "3": "new", "4": "qualified"}
    assert column(con, "stage_raw")["1"] == "Initial Offer"
    assert result.unmapped == [
        {"kind": "stage", "raw_value": "Initial Offer", "stored_as": "new", "leads": 2},
        {"kind": "stage", "raw_value": "Prospect", "stored_as": "new", "leads": 1},
    ]


@pytest.mark.parametrize(
    "cell,won",
    [
        ("yes", True), ("Yes", True), ("1", True), ("true", True), ("TRUE", True),
        ("no", False), ("No", False), ("0", False), ("false", False),
    ],
)
def test_converted_column_means_won_when_true(con, db_path, cell, won):
    ingest_text(
        con,
        db_path,
        "converted.csv",
        f"id,Lead Source,Created Date,Converted\n1,Web,2026-01-05,{cell}\n",
        as_of=dt.date(2026, 2, 1),
    )
    # a yes/no outcome alone: "no" means lost (SPEC 3 yes/no outcomes)
    assert column(con, "stage") == {"1": "won" if won else "lost"}
    # no won or lost date in the file: unknown stays unknown
    assert column(con, "won_at") == {"1": None}
    assert column(con, "lost_at") == {"1": None}


@pytest.mark.parametrize("cell,stage", [("yes", "won"), ("no", "new")])
def test_no_means_still_open_when_the_owner_says_so(con, db_path, cell, stage):
    result = ingest_text(
        con, db_path, "converted.csv",
        f"id,Lead Source,Created Date,Converted\n1,Web,2026-01-05,{cell}\n",
        no_means_open=True,
    )
    assert column(con, "stage") == {"1": stage}
    assert result.yes_no_outcome and result.no_means_open


def test_with_a_stage_column_a_no_leaves_the_stage_to_the_stage(con, db_path):
    ingest_text(
        con, db_path, "sf.csv",
        "id,Lead Source,Created Date,Stage,Converted\n"
        "1,Web,2026-01-05,Contacted,no\n"
        "2,Web,2026-01-05,Contacted,yes\n",
    )
    assert column(con, "stage") == {"1": "contacted", "2": "won"}


def test_converted_that_is_not_yes_or_no_is_a_cell_warning(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "converted_bad.csv",
        "id,Lead Source,Created Date,Converted\n1,Web,2026-01-05,maybe\n2,Web,2026-01-05,1\n",
    )
    assert (result.loaded, result.rejected, result.warnings) == (2, 0, 1)
    assert warnings(con)[0][:3] == (2, "Converted", "maybe")
    # lead 1's outcome is unknown: it stays open
    assert column(con, "stage") == {"1": "new", "2": "won"}


def test_converted_with_a_converted_date(con, db_path):
    # Salesforce leads: Converted true and a Converted Date -> won on that date.
    ingest_text(
        con,
        db_path,
        "sf.csv",
        "Lead ID,Lead Source,Lead Status,Created Date,Converted,Converted Date\n"
        "00Q1,Web,Working - Contacted,2026-01-05,true,2026-01-20\n"
        "00Q2,Web,Working - Contacted,2026-01-05,false,\n",
    )
    assert column(con, "stage") == {"00Q1": "won", "00Q2": "contacted"}
    assert column(con, "won_at") == {"00Q1": D(2026, 1, 20), "00Q2": None}


PIPEDRIVE_HEADER = (
    "Deal - ID,Deal - Title,Deal - Value,Deal - Status,Deal - Stage,Deal - Deal created,"
    "Deal - Won time,Deal - Lost time,Deal - Owner,Deal - Source channel"
)


def test_pipedrive_status_beats_stage(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "pipedrive.csv",
        PIPEDRIVE_HEADER + "\n"
        # won status, stage still "Lead In": won, on its won time
        "101,A,100,won,Lead In,2026-01-01 10:00:00,2026-02-01 10:00:00,,Ann,Referral\n"
        # lost status, stage "Proposal Made": lost, on its lost time
        "102,B,200,lost,Proposal Made,2026-01-01 10:00:00,,2026-02-02 11:00:00,Ann,Cold call\n"
        # open: the stage counts
        "103,C,300,open,Proposal Made,2026-01-01 10:00:00,,,Ann,Web\n"
        "104,D,400,open,Contact Made,2026-01-01 10:00:00,,,Ann,Web\n",
        as_of=dt.date(2026, 3, 1),
    )
    assert result.source == "pipedrive_deals"
    assert column(con, "stage") == {
        "101": "won",
        "102": "lost",
        "103": "proposal",
        "104": "contacted",
    }
    assert column(con, "won_at") == {"101": D(2026, 2, 1, 10), "102": None, "103": None,
                                     "104": None}
    assert column(con, "lost_at")["102"] == D(2026, 2, 2, 11)
    assert column(con, "value") == {"101": 100.0, "102": 200.0, "103": 300.0, "104": 400.0}


def test_won_date_without_a_stage_column_means_won(con, db_path):
    ingest_text(
        con,
        db_path,
        "won_dates.csv",
        "id,Lead Source,Created Date,Won date,Lost date\n"
        "1,Web,2026-01-05,2026-01-20,\n"  # won
        "2,Web,2026-01-05,,2026-01-21\n"  # lost
        "3,Web,2026-01-05,,\n",  # still open: new
    )
    assert column(con, "stage") == {"1": "won", "2": "lost", "3": "new"}
    assert column(con, "won_at") == {"1": D(2026, 1, 20), "2": None, "3": None}
    assert column(con, "lost_at") == {"1": None, "2": D(2026, 1, 21), "3": None}


# --- duplicates and counts ----------------------------------------------------------------------


def test_same_id_twice_later_row_wins(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "dupes.csv",
        "id,Lead Source,Created Date,Stage,Amount\n"
        "1,Web,2026-01-05,New,100\n"  # row 2: duplicate of row 5
        "2,Web,2026-01-06,New,200\n"  # row 3
        "1,Referral,2026-01-05,Contacted,150\n"  # row 4: duplicate of row 5
        "1,Seo,2026-01-05,Qualified,175\n",  # row 5: the one that counts
    )
    # read 4 = loaded 2 (ids 1 and 2) + rejected 0 + duplicate 2 (rows 2 and 4)
    assert (result.read, result.loaded, result.rejected, result.duplicate) == (4, 2, 0, 2)
    assert column(con, "channel") == {"1": "organic_search", "2": "web"}
    assert column(con, "stage") == {"1": "qualified", "2": "new"}
    assert column(con, "value") == {"1": 175.0, "2": 200.0}


def test_later_duplicate_with_an_empty_created_date_keeps_the_lead(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "dupe_no_date.csv",
        "id,Lead Source,Created Date,Stage,Amount\n"
        "7,Web,2026-01-05,New,100\n"  # row 2: duplicate of row 3, gives the created date
        "7,Referral,,Qualified,150\n",  # row 3: the row that counts, created date empty
    )
    # read 2 = loaded 1 (lead 7) + rejected 0 + duplicate 1 (row 2): the lead is not lost
    assert (result.read, result.loaded, result.rejected, result.duplicate) == (2, 1, 0, 1)
    assert rejects(con) == []
    # the created date of row 2 (row 3's cell is empty); everything else from row 3
    assert column(con, "created_at") == {"7": D(2026, 1, 5)}
    assert column(con, "channel") == {"7": "referral"}
    assert column(con, "stage") == {"7": "qualified"}
    assert column(con, "value") == {"7": 150.0}
    # one lead, entering 'new' at its created date, then 'qualified' (as of the file's date)
    assert [stage for stage, _ in events(con, "7")] == ["new", "qualified"]


def test_duplicate_rows_merge_cell_by_cell_later_non_empty_wins(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "dupe_cells.csv",
        "id,Lead Source,Created Date,Stage,Amount,Owner\n"
        "1,Web,2026-01-05,New,100,Ann\n"  # row 2: duplicate
        "1,,2026-01-06,,250,\n"  # row 3: duplicate
        "1,,,Contacted,,\n"  # row 4: the row that counts
        "2,Seo,,New,10,Bo\n"  # row 5: rejected (no created date, no earlier row)
        "3,Web,2026-01-07,New,ten,Cy\n"  # row 6: amount unknown (a warning), an earlier row
        "3,Web,,New,30,Cy\n",  # row 7: lead 3, created date from row 6
    )
    # read 6 = loaded 2 (leads 1, 3) + rejected 1 (row 5) + duplicate 3 (rows 2, 3, 6)
    assert (result.read, result.loaded, result.rejected, result.duplicate) == (6, 2, 1, 3)
    assert [r[0] for r in rejects(con)] == [5]
    assert column(con, "created_at")["3"] == D(2026, 1, 7)
    assert column(con, "value")["3"] == 30.0
    # lead 1, cell by cell, the latest non-empty value: channel Web (row 2, rows 3-4 empty),
    # created 2026-01-06 (row 3), stage Contacted (row 4), amount 250 (row 3), owner Ann (row 2)
    assert column(con, "channel")["1"] == "web"
    assert column(con, "created_at")["1"] == D(2026, 1, 6)
    assert column(con, "stage")["1"] == "contacted"
    assert column(con, "value")["1"] == 250.0
    assert column(con, "owner")["1"] == "Ann"


def test_duplicate_rows_fill_an_existing_lead_only_where_the_file_is_empty(con, db_path):
    ingest_text(
        con, db_path, "week1.csv",
        "id,Lead Source,Created Date,Stage,Amount\n1,Web,2026-01-05,New,100\n",
    )
    result = ingest_text(
        con,
        db_path,
        "week2.csv",
        "id,Lead Source,Created Date,Stage,Amount\n"
        "1,,,Contacted,120\n"  # row 2: duplicate
        "1,,,,\n",  # row 3: counts; empty cells take row 2's, then the stored lead's
    )
    # read 2 = loaded 1 + rejected 0 + duplicate 1
    assert (result.read, result.loaded, result.rejected, result.duplicate) == (2, 1, 0, 1)
    assert column(con, "channel") == {"1": "web"}  # stored; both rows empty
    assert column(con, "created_at") == {"1": D(2026, 1, 5)}  # stored
    assert column(con, "stage") == {"1": "contacted"}  # row 2
    assert column(con, "value") == {"1": 120.0}  # row 2


def test_read_is_loaded_plus_rejected_plus_duplicate(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "mixed.csv",
        "id,Lead Source,Created Date,Amount\n"
        "1,Web,2026-01-05,10\n"  # loaded... but duplicate of row 6
        "2,Web,2026-02-30,10\n"  # rejected: date
        "3,Web,2026-01-05,ten\n"  # loaded, amount unknown: a cell warning
        "4,Web,,10\n"  # rejected: no created date, lead not in the store
        "1,Web,2026-01-05,12\n"  # loaded
        "5,Web,2026-01-05,\n",  # loaded
    )
    # read 6 = loaded 3 (ids 1, 3 and 5) + rejected 2 (rows 3, 5) + duplicate 1 (row 2)
    assert (result.read, result.loaded, result.rejected, result.duplicate) == (6, 3, 2, 1)
    assert [r[0] for r in rejects(con)] == [3, 5]
    assert rejects(con)[1][2] == "Created Date is empty, and lead '4' is not in the store yet"
    assert result.warnings == 1
    row = con.execute(
        "SELECT rows_read, rows_loaded, rows_rejected, rows_duplicate, rows_warned FROM uploads"
    ).fetchone()
    assert row == (6, 3, 2, 1, 1)


def test_rows_without_id_are_separate_leads(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "no_id.csv",
        "Lead Source,Created Date\nWeb,2026-01-05\nWeb,2026-01-05\nReferral,2026-01-06\n",
    )
    # nothing identifies the rows: three leads, no duplicates
    assert (result.loaded, result.duplicate) == (3, 0)
    assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == 3


# --- same file again ----------------------------------------------------------------------------

SNAPSHOT = (
    "id,Lead Source,Created Date,Stage\n"
    "1,Web,2026-01-05,Contacted\n"
    "2,Referral,2026-01-06,New\n"
    "3,Web,2026-02-31,New\n"
)


def test_same_bytes_same_options_is_already_ingested(con, db_path):
    first = ingest_text(con, db_path, "weekly.csv", SNAPSHOT, as_of=dt.date(2026, 1, 10))
    before = table_counts(con)
    revision = store.revision(con)
    again = ingest_text(con, db_path, "weekly.csv", SNAPSHOT, as_of=dt.date(2026, 1, 10))
    assert again.already_ingested and not first.already_ingested
    assert again.upload_id == first.upload_id
    # the counts of the first ingest are reported again
    assert (again.read, again.loaded, again.rejected) == (3, 2, 1)
    assert table_counts(con) == before
    assert store.revision(con) == revision


def test_same_bytes_under_another_name_is_already_ingested(con, db_path):
    ingest_text(con, db_path, "weekly.csv", SNAPSHOT)
    before = table_counts(con)
    again = ingest_text(con, db_path, "weekly (1).csv", SNAPSHOT)
    assert again.already_ingested
    assert table_counts(con) == before


@pytest.mark.parametrize(
    "options",
    [
        {"as_of": dt.date(2026, 1, 11)},
        {"as_of": dt.date(2026, 1, 10), "constants": {"created_at": "2026-01-01"}},
        {"as_of": dt.date(2026, 1, 10), "mapping": {"channel": "Stage"}},
    ],
    ids=["other-as-of", "other-set", "other-map"],
)
def test_same_bytes_other_options_replace_the_earlier_upload(con, db_path, options):
    first = ingest_text(con, db_path, "weekly.csv", SNAPSHOT, as_of=dt.date(2026, 1, 10))
    again = ingest_text(con, db_path, "weekly.csv", SNAPSHOT, **options)
    assert not again.already_ingested and again.replaced
    # SPEC 3: the store ends as if the file had been ingested with the new options only
    assert con.execute("SELECT count(*) FROM uploads").fetchone()[0] == 1
    assert again.upload_id == first.upload_id
    fresh = store.connect(db_path.with_name("fresh.duckdb"))
    try:
        ingest_text(fresh, db_path.with_name("fresh.duckdb"), "weekly.csv", SNAPSHOT, **options)
        assert leads_rows(con) == leads_rows(fresh)
        assert table_counts(con) == table_counts(fresh)
    finally:
        fresh.close()


def test_a_fixed_mapping_is_applied_by_ingesting_again(con, db_path):
    text = "id,Origin,Lead Source,Created Date\n1,Referral,Google,2026-01-05\n"
    ingest_text(con, db_path, "m.csv", text)
    assert column(con, "channel") == {"1": "google"}
    ingest_text(con, db_path, "m.csv", text, mapping={"channel": "Origin"})
    assert column(con, "channel") == {"1": "referral"}
    assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == 1


# --- snapshots ----------------------------------------------------------------------------------


def test_snapshot_stage_change_becomes_a_dated_event(con, db_path):
    ingest_text(
        con,
        db_path,
        "week1.csv",
        "id,Lead Source,Created Date,Stage,Close Date\n"
        "1,Web,2026-01-02,Contacted,\n"
        "2,Web,2026-01-03,Contacted,\n"
        "3,Web,2026-01-04,Contacted,\n",
        as_of=dt.date(2026, 1, 10),
    )
    ingest_text(
        con,
        db_path,
        "week2.csv",
        "id,Lead Source,Created Date,Stage,Close Date\n"
        "1,Web,2026-01-02,Won,2026-01-15\n"  # won, dated by the file's close date
        "2,Web,2026-01-03,Won,\n"  # won, no close date: dated by the as-of date
        "3,Web,2026-01-04,Contacted,\n",  # unchanged: no new event
        as_of=dt.date(2026, 1, 20),
    )
    assert column(con, "stage") == {"1": "won", "2": "won", "3": "contacted"}
    assert events(con, "1")[-1] == ("won", D(2026, 1, 15))
    assert events(con, "2")[-1] == ("won", D(2026, 1, 20))
    assert [e[0] for e in events(con, "3")] == ["new", "contacted"]
    assert column(con, "won_at") == {"1": D(2026, 1, 15), "2": D(2026, 1, 20), "3": None}


def test_pipedrive_snapshots_won_event_dated_by_won_time_else_as_of(con, db_path):
    ingest_text(
        con,
        db_path,
        "pd_week1.csv",
        PIPEDRIVE_HEADER + "\n"
        "1,A,100,open,Contact Made,2026-01-02 09:00:00,,,Ann,Web\n"
        "2,B,100,open,Contact Made,2026-01-03 09:00:00,,,Ann,Web\n"
        "3,C,100,open,Contact Made,2026-01-04 09:00:00,,,Ann,Web\n",
        as_of=dt.date(2026, 1, 10),
    )
    assert [e[0] for e in events(con, "1")] == ["new", "contacted"]
    ingest_text(
        con,
        db_path,
        "pd_week2.csv",
        PIPEDRIVE_HEADER + "\n"
        "1,A,100,won,Contact Made,2026-01-02 09:00:00,2026-01-15 16:00:00,,Ann,Web\n"
        "2,B,100,won,Contact Made,2026-01-03 09:00:00,,,Ann,Web\n"
        "3,C,100,open,Contact Made,2026-01-04 09:00:00,,,Ann,Web\n",
        as_of=dt.date(2026, 1, 20),
    )
    # lead 1: created 2 Jan, contacted as of week 1, won at its won time
    assert events(con, "1") == [
        ("new", D(2026, 1, 2, 9)),
        ("contacted", D(2026, 1, 10)),
        ("won", D(2026, 1, 15, 16)),
    ]
    # lead 2: won with no won time -> the upload's as-of date
    assert events(con, "2")[-1] == ("won", D(2026, 1, 20))
    # lead 3: no change, no event
    assert len(events(con, "3")) == 2
    assert column(con, "won_at") == {"1": D(2026, 1, 15, 16), "2": D(2026, 1, 20), "3": None}


def test_reingest_of_a_snapshot_adds_no_events(con, db_path):
    text = PIPEDRIVE_HEADER + "\n1,A,100,open,Contact Made,2026-01-02 09:00:00,,,Ann,Web\n"
    ingest_text(con, db_path, "s1.csv", text, as_of=dt.date(2026, 1, 10))
    n = con.execute("SELECT count(*) FROM lead_events").fetchone()[0]
    # same content, next week's as-of date: a new upload, but the stage did not change
    ingest_text(con, db_path, "s2.csv", text, as_of=dt.date(2026, 1, 17))
    assert con.execute("SELECT count(*) FROM lead_events").fetchone()[0] == n


# --- outcome-only files and empty cells ---------------------------------------------------------

BASE = (
    "id,Lead Source,Created Date,Stage,Amount,Owner\n"
    "1,Referral,2026-01-01,Contacted,100,Ann\n"
    "2,Cold call,2026-01-02,Qualified,200,Bob\n"
    "3,Web,2026-01-03,New,300,Cy\n"
)
FIELDS = "crm_id, channel, channel_raw, created_at, stage, won_at, lost_at, value, owner"


def leads_rows(con) -> dict[str, tuple]:
    return {r[0]: r for r in con.execute(f"SELECT {FIELDS} FROM leads").fetchall()}


def test_outcome_only_file_updates_only_the_leads_it_names(con, db_path):
    ingest_text(con, db_path, "base.csv", BASE, as_of=dt.date(2026, 1, 10))
    before = leads_rows(con)
    result = ingest_text(
        con,
        db_path,
        "closed.csv",
        "id,Won date\n1,2026-01-20\n",  # a won date and no stage column: won
        as_of=dt.date(2026, 1, 25),
    )
    assert (result.read, result.loaded, result.rejected) == (1, 1, 0)
    after = leads_rows(con)
    # lead 1: stage and won date change, every other field as it was
    expected = dict(zip(FIELDS.split(", "), before["1"], strict=True))
    expected.update(stage="won", won_at=D(2026, 1, 20))
    assert dict(zip(FIELDS.split(", "), after["1"], strict=True)) == expected
    # leads 2 and 3 are untouched
    assert after["2"] == before["2"]
    assert after["3"] == before["3"]
    assert events(con, "1")[-1] == ("won", D(2026, 1, 20))


def test_outcome_row_for_an_unknown_lead_is_rejected_with_that_reason(con, db_path):
    ingest_text(con, db_path, "base.csv", BASE)
    result = ingest_text(con, db_path, "closed.csv", "id,Won date\n1,2026-01-20\n99,2026-01-21\n")
    assert (result.read, result.loaded, result.rejected) == (2, 1, 1)
    (row_number, _column, reason), = rejects(con, result.upload_id)
    assert row_number == 3
    assert "'99'" in reason and "not in the store" in reason
    assert "99" not in column(con, "stage")


def test_empty_cell_in_a_mapped_column_keeps_the_stored_value(con, db_path):
    ingest_text(con, db_path, "base.csv", BASE, as_of=dt.date(2026, 1, 10))
    before = leads_rows(con)
    ingest_text(
        con,
        db_path,
        "partial.csv",
        "id,Lead Source,Created Date,Stage,Amount,Owner\n"
        "2,,,,,\n"  # every mapped cell empty: lead 2 stays as it was
        "3,Referral,,Proposal,,Dee\n",  # channel, stage, owner change; created, amount kept
        as_of=dt.date(2026, 1, 17),
    )
    after = leads_rows(con)
    assert after["2"] == before["2"]
    assert after["3"] == (
        "3", "referral", "Referral", D(2026, 1, 3), "proposal", None, None, 300.0, "Dee",
    )
    assert after["1"] == before["1"]


def test_set_created_at_is_the_default_for_a_file_without_dates(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "no_dates.csv",
        "id,Lead Source,Converted\n1,Web,1\n2,Referral,0\n",
        constants={"created_at": "2024-01-01"},
    )
    assert (result.loaded, result.rejected) == (2, 0)
    assert column(con, "created_at") == {"1": D(2024, 1, 1), "2": D(2024, 1, 1)}
    # a yes/no outcome alone: 0 means lost
    assert column(con, "stage") == {"1": "won", "2": "lost"}


def test_set_created_at_fills_only_empty_cells(con, db_path):
    ingest_text(
        con,
        db_path,
        "some_dates.csv",
        "id,Lead Source,Created Date\n1,Web,2026-03-04\n2,Web,\n",
        constants={"created_at": "2024-01-01"},
    )
    assert column(con, "created_at") == {"1": D(2026, 3, 4), "2": D(2024, 1, 1)}


@pytest.mark.parametrize("constants,said", [
    ({"created_at": "garbage"}, "'garbage' given for Date the lead came in is not a date"),
    ({"converted": "maybe"}, "'maybe' given for Converted (yes / no) is not a yes/no"),
])
def test_an_unreadable_set_value_is_blamed_on_the_set(con, db_path, constants, said):
    # before: row 3's empty cell took 'garbage' and the row was rejected against the column
    # "Created Date", a cell the owner never typed; now nothing is loaded and the --set is named
    with pytest.raises(IngestError) as info:
        ingest_text(con, db_path, "set_bad.csv",
                    "id,Lead Source,Created Date,Converted\n1,Web,2026-03-04,1\n2,Web,,\n",
                    constants=constants)
    assert said in str(info.value)
    assert "set_bad.csv" in str(info.value)
    # the fix is the field's fixed value: each surface words it (a --set, a box on the page)
    (fix,) = info.value.fixes
    assert (fix.field, fix.action) == (next(iter(constants)), "set")
    assert con.execute("SELECT count(*) FROM leads").fetchone() == (0,)


def test_set_values_of_every_date_family_are_accepted(con, db_path):
    for i, value in enumerate(["2024-01-01", "01/31/2024", "31/01/2024", "Jan 31, 2024",
                               "45322"]):
        result = ingest_text(con, db_path, f"set_ok_{i}.csv", f"id,Lead Source\n{i},Web\n",
                             constants={"created_at": value})
        assert (result.loaded, result.rejected) == (1, 0), value


def test_without_a_created_date_a_new_lead_is_rejected(con, db_path):
    result = ingest_text(con, db_path, "undated.csv",
                         "id,Lead Source,Created Date\n1,Web,\n2,Web,2026-01-05\n")
    assert (result.loaded, result.rejected) == (1, 1)
    (row_number, column_name, reason), = rejects(con)
    assert (row_number, column_name) == (2, "Created Date")
    assert reason == "Created Date is empty, and lead '1' is not in the store yet"


def test_set_stage_constant(con, db_path):
    ingest_text(
        con,
        db_path,
        "all_won.csv",
        "id,Lead Source,Created Date\n1,Web,2026-01-05\n",
        constants={"stage": "proposal"},
    )
    assert column(con, "stage") == {"1": "proposal"}


@pytest.mark.parametrize("kind", ["--map", "--set"])
def test_unknown_field_is_an_ingest_error(con, db_path, kind):
    options = {"mapping": {"colour": "x"}} if kind == "--map" else {"constants": {"colour": "x"}}
    with pytest.raises(IngestError) as info:
        ingest_text(con, db_path, "f.csv", "id,Created Date\n1,2026-01-05\n", **options)
    assert "colour" in str(info.value) and kind in str(info.value)


def test_map_to_a_missing_column_is_an_ingest_error_listing_the_columns(con, db_path):
    with pytest.raises(IngestError) as info:
        ingest_text(
            con, db_path, "f.csv", "id,Created Date\n1,2026-01-05\n", mapping={"channel": "Src"}
        )
    assert "'Src'" in str(info.value) and "Created Date" in str(info.value)
    assert table_counts(con)["uploads"] == 0


# --- one transaction per upload -----------------------------------------------------------------


def test_a_failure_late_in_the_upload_leaves_the_store_as_it_was(con, db_path, monkeypatch):
    ingest_text(con, db_path, "base.csv", BASE, as_of=dt.date(2026, 1, 10))
    before_counts = table_counts(con)
    before_leads = leads_rows(con)
    revision = store.revision(con)

    def boom(_con):
        raise RuntimeError("disk full (simulated)")

    # bump_revision is the last write of an upload, after leads, events and rejects
    monkeypatch.setattr(store, "bump_revision", boom)
    with pytest.raises(RuntimeError, match="simulated"):
        ingest_text(
            con,
            db_path,
            "week2.csv",
            "id,Lead Source,Created Date,Stage,Amount,Owner\n"
            "1,Referral,2026-01-01,Proposal,999,Zed\n"
            "4,Web,2026-01-04,New,1,Zed\n"
            "5,Web,2026-02-31,New,1,Zed\n",
            as_of=dt.date(2026, 1, 17),
        )
    assert table_counts(con) == before_counts
    assert leads_rows(con) == before_leads
    assert store.revision(con) == revision

    # the connection is usable and the same file ingests once the fault is gone
    monkeypatch.undo()
    result = ingest_text(
        con,
        db_path,
        "week2.csv",
        "id,Lead Source,Created Date,Stage,Amount,Owner\n"
        "1,Referral,2026-01-01,Proposal,999,Zed\n"
        "4,Web,2026-01-04,New,1,Zed\n"
        "5,Web,2026-02-31,New,1,Zed\n",
        as_of=dt.date(2026, 1, 17),
    )
    assert not result.already_ingested
    assert (result.loaded, result.rejected) == (2, 1)
    assert column(con, "stage")["1"] == "proposal"


def test_a_failure_while_writing_leads_leaves_the_store_as_it_was(con, db_path, monkeypatch):
    ingest_text(con, db_path, "base.csv", BASE, as_of=dt.date(2026, 1, 10))
    before = table_counts(con), leads_rows(con)
    real_run = store.run

    def failing_run(c, name, params=None):
        real_run(c, name, params)
        if name == "ingest/insert_events":  # leads already deleted and re-inserted
            raise RuntimeError("killed after insert_events (simulated)")

    monkeypatch.setattr(store, "run", failing_run)
    with pytest.raises(RuntimeError, match="simulated"):
        ingest_text(con, db_path, "week2.csv", BASE.replace("Contacted", "Proposal"))
    monkeypatch.undo()
    assert (table_counts(con), leads_rows(con)) == before


# --- spend files --------------------------------------------------------------------------------


def test_spend_file_channel_labels_map_to_canonical_slugs(con, db_path):
    path = db_path.parent / "spend.csv"
    path.write_text(
        "Channel,Week starting,Money spent,Hours spent\n"
        'Cold call,2026-01-05,"$1,200.00",10\n'  # label "Cold call" -> cold_call
        "Events,2026-01-05,500,\n"  # label "Events" -> event
        "Referral,2026-01-05,,3.5\n"
        "Word of mouth,2026-01-12,,2\n"  # synonym -> referral
        "Google Ads,2026-01-12,250.50,\n"  # synonym -> paid_search
        "Billboards,2026-01-12,300,\n"  # unknown: its own slug
        ",2026-01-12,5,\n"  # row 8: no channel
        "Website,2026-13-01,5,\n"  # row 9: month 13
        "Email marketing,2026-01-12,,\n",  # row 10: neither money nor hours
    )
    result = ingest_spend(con, path)
    assert (result.read, result.loaded) == (9, 6)
    assert [r["row_number"] for r in result.rejected] == [8, 9, 10]
    rows = con.execute(
        "SELECT channel, period_start, period_end, money, hours FROM channel_spend "
        "ORDER BY channel, period_start"
    ).fetchall()
    day = dt.date
    # a period with no end is a week: start + 6 days
    assert rows == [
        ("billboards", day(2026, 1, 12), day(2026, 1, 18), 300.0, None),
        ("cold_call", day(2026, 1, 5), day(2026, 1, 11), 1200.0, 10.0),
        ("event", day(2026, 1, 5), day(2026, 1, 11), 500.0, None),
        ("paid_search", day(2026, 1, 12), day(2026, 1, 18), 250.5, None),
        ("referral", day(2026, 1, 5), day(2026, 1, 11), None, 3.5),
        ("referral", day(2026, 1, 12), day(2026, 1, 18), None, 2.0),
    ]


def test_spend_file_without_channel_column_is_an_ingest_error(con, db_path):
    path = db_path.parent / "spend_bad.csv"
    path.write_text("Week starting,Money spent\n2026-01-05,100\n")
    with pytest.raises(IngestError) as info:
        ingest_spend(con, path)
    assert "spend_bad.csv" in str(info.value)
    assert table_counts(con)["channel_spend"] == 0


def test_a_large_day_first_column_is_read_day_first(con, db_path, tmp_path):
    """Tens of thousands of distinct dates: the format vote must see values past '01/..' and
    '02/..' (which read the same day-first and month-first). 40,000 leads, ten a day over 4,000
    days from 2020-01-01, written dd/mm/yyyy HH:MM: in text order the first 3,000 distinct
    values all start 01/, 02/ or 03/."""
    import datetime as dt

    from funnel.ingest.core import IngestOptions
    from funnel.ingest.upload import ingest_file

    start = dt.datetime(2010, 1, 1, 9, 30)  # to 2020-12-13: no date after the upload day
    lines = ["id,Lead Source,Created Date"]
    for i in range(40000):
        day = start + dt.timedelta(days=i // 10, minutes=i % 10)
        lines.append(f"{i},Web,{day:%d/%m/%Y %H:%M}")
    path = tmp_path / "day_first.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = ingest_file(con, path, IngestOptions(), db_path=db_path)
    assert (result.loaded, result.rejected) == (40000, 0)
    assert result.date_formats["created_at"] == "day_first"
    # lead 123: day 12 after 2010-01-01 = 2010-01-13, minute 3: 09:33 (13/01 cannot be US)
    got = con.execute("SELECT created_at FROM leads WHERE crm_id = '123'").fetchone()[0]
    assert got == dt.datetime(2010, 1, 13, 9, 33)


# --- what an ingest leaves behind in memory -----------------------------------------------------


def temp_tables(con) -> list[str]:
    return sorted(
        r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary "
            "UNION ALL SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal"
        ).fetchall()
    )


def test_staging_tables_are_dropped_once_the_upload_is_committed(con, db_path, monkeypatch):
    # They hold a whole file's rows (raw, typed, keyed, merged): kept until the next ingest,
    # they were most of the memory a 1M-row upload left behind.
    ingest_text(con, db_path, "base.csv", BASE, as_of=dt.date(2026, 1, 10))
    assert temp_tables(con) == []

    def boom(_con):
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(store, "bump_revision", boom)
    with pytest.raises(RuntimeError, match="simulated"):
        ingest_text(con, db_path, "week2.csv", BASE.replace("Contacted", "Proposal"))
    assert temp_tables(con) == []


def test_preview_leaves_no_staged_rows(con, db_path):
    from funnel.ingest.upload import preview

    path = db_path.parent / "base.csv"
    path.write_text(BASE, encoding="utf-8")
    mapping, headers = preview(con, path)
    assert headers == ["id", "Lead Source", "Created Date", "Stage", "Amount", "Owner"]
    assert mapping.columns["channel"] == "Lead Source"
    assert temp_tables(con) == []


# --- ISO dates: the formats a column uses are tried first ---------------------------------------

ISO_SHAPES = [
    "2026-01-05 10:00:00", "2026-01-05", "2026/01/05 10:30", "2026.01.05T10:00:00.25Z",
    "2026-01-05T10:00:00", "2026-01-05 10:00:00.123456", "2026-01-05 10:00 PM",
    "2026-01-05 12:00:00 AM", "2026-01-05, 09:15 AM", "2026-01-05, 21:15", "2026-1-5 1:2:3",
    "2026-01-05T10:00:00Z", "2026-01-05 24:00:00", "2026-01-05 10:00:00+02:00",
    "2026-01-05T10:00", "2026-01-05 (BC)", "02026-01-05", "2026-02-30", "infinity",
    "2026 01 05", "2026-01-05 10:00:00.", "2026-01-05 13:00 PM", "26-01-05 10:00:00",
]


def test_iso_formats_read_the_same_values_in_any_order(con):
    """No value is read by two ISO formats, so trying first the one a column uses (ordered by
    the vote) changes no timestamp. Guards the family: a format added to it that overlaps
    another breaks this test. try_cast(... AS TIMESTAMP), the other fast path, does not pass:
    it reads '10:00 PM' as 10:00 and drops '+02:00'."""
    from funnel.ingest.dates import FAMILIES

    iso = FAMILIES["iso"]
    differ = []
    for fmt in iso:
        first = [fmt] + [f for f in iso if f != fmt]
        differ += con.execute(
            "SELECT $fmt, v FROM unnest($values) t(v) "
            "WHERE try_strptime(v, $iso) IS DISTINCT FROM try_strptime(v, $first)",
            {"fmt": fmt, "values": ISO_SHAPES, "iso": iso, "first": first},
        ).fetchall()
    assert differ == []


def test_iso_column_reads_its_most_used_format_first_with_the_same_result(
    con, db_path, monkeypatch
):
    from funnel.ingest import dates

    orders = []
    real = dates.formats_in_use_order
    monkeypatch.setattr(
        dates, "formats_in_use_order", lambda c, f: orders.append(real(c, f)) or orders[-1]
    )
    # 300 rows in the common shape, then one of each other shape (rows 302 onwards)
    cells = [f"2026-03-{1 + i % 28:02d} 08:{i % 60:02d}:00" for i in range(300)] + ISO_SHAPES
    text = "id,Lead Source,Created Date\n" + "".join(
        f"{i},Web,\"{cell}\"\n" for i, cell in enumerate(cells)
    )
    result = ingest_text(con, db_path, "iso.csv", text)
    assert result.date_formats["created_at"] == "iso"
    assert orders[0]["created_at"][0] == "%Y-%m-%d %H:%M:%S"
    assert sorted(orders[0]["created_at"]) == sorted(dates.FAMILIES["iso"])
    # every cell is stored (or rejected) as the family's formats in their own order read it
    expected = dict(con.execute(
        "SELECT i::VARCHAR, try_strptime(c, $iso) FROM unnest($cells) WITH ORDINALITY t(c, i)",
        {"cells": cells, "iso": dates.FAMILIES["iso"]},
    ).fetchall())
    # a date before 1900 (year 26) or after the upload day is no usable date (SPEC 3)
    expected = {
        str(int(i) - 1): ts if ts and ts.year >= 1900 and ts.date() <= dt.date.today() else None
        for i, ts in expected.items()
    }
    stored = column(con, "created_at")
    assert stored == {i: ts for i, ts in expected.items() if ts is not None}
    not_dates = sorted(int(i) + 2 for i, ts in expected.items() if ts is None)
    assert [r[0] for r in rejects(con)] == not_dates
    assert (result.loaded, result.rejected) == (len(stored), len(not_dates))
