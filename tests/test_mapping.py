"""Which CRM made a file, and which column feeds each canonical field (SPEC 3).

The header lists are written out as each CRM exports them; the expected mapping is what a person
reading the header would choose, field by field.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from funnel.ingest.core import IngestOptions
from funnel.ingest.mapping import map_columns
from funnel.ingest.upload import ingest_file


def headers(text: str) -> list[str]:
    return [h.strip() for h in text.split(",")]


HUBSPOT_CONTACTS = headers(
    "Record ID, First Name, Last Name, Email, Phone Number, Lifecycle Stage, Lead Status, "
    "Original Source, Create Date, Became a Customer Date, Contact owner"
)
HUBSPOT_DEALS = headers(
    "Record ID, Deal Name, Deal Stage, Amount, Close Date, Create Date, Deal owner, Pipeline"
)
SALESFORCE_LEADS = headers(
    "Lead ID, First Name, Last Name, Email, Phone, Company, Lead Source, Lead Status, "
    "Created Date, Converted, Converted Date, Lead Owner, Annual Revenue"
)
SALESFORCE_OPPORTUNITIES = headers(
    "Opportunity ID, Opportunity Name, Account Name, Stage, Amount, Close Date, Created Date, "
    "Lead Source, Opportunity Owner"
)
PIPEDRIVE_DEALS = headers(
    "Deal - ID, Deal - Title, Deal - Value, Deal - Status, Deal - Stage, Deal - Deal created, "
    "Deal - Won time, Deal - Lost time, Deal - Owner, Deal - Source channel, Person - Name, "
    "Person - Email, Person - Phone"
)
# As in ../shared/data/real/zoho_crm_analytics_sample (Leads.csv and Potentials.csv)
ZOHO_LEADS = headers(
    "LEADID,Last Name,Company,Lead Owner,Email,Mobile,Website,Industry,Lead Source,Lead Status,"
    "Created Time,CONVERTED,month_Created Time1"
)
ZOHO_POTENTIALS = headers(
    "Potential Name,Potential Owner,Created Time,Closing Date,Amount,Expected Revenue,Stage,"
    "Forecast Type,Type,Lead Source,Probability,Age in Days,Age Tier,Amount Tier,LEADID,"
    "Tasks Involved,Events Involved,Calls Involved,Activities Involved,Campaign Id"
)

EXPECTED = {
    "hubspot_contacts": (
        HUBSPOT_CONTACTS,
        {
            "id": "Record ID",
            "channel": "Original Source",
            "created_at": "Create Date",
            "stage": "Lifecycle Stage",
            "won_at": "Became a Customer Date",
            "owner": "Contact owner",
            "email": "Email",
            "phone": "Phone Number",
        },
    ),
    "hubspot_deals": (
        HUBSPOT_DEALS,
        {
            "id": "Record ID",
            "created_at": "Create Date",
            "stage": "Deal Stage",
            "closed_at": "Close Date",
            "value": "Amount",
            "owner": "Deal owner",
        },
    ),
    "salesforce_leads": (
        SALESFORCE_LEADS,
        {
            "id": "Lead ID",
            "channel": "Lead Source",
            "created_at": "Created Date",
            "stage": "Lead Status",
            "converted": "Converted",
            "won_at": "Converted Date",
            "owner": "Lead Owner",
            "email": "Email",
            "phone": "Phone",
        },
    ),
    "salesforce_opportunities": (
        SALESFORCE_OPPORTUNITIES,
        {
            "id": "Opportunity ID",
            "channel": "Lead Source",
            "created_at": "Created Date",
            "stage": "Stage",
            "closed_at": "Close Date",
            "value": "Amount",
            "owner": "Opportunity Owner",
        },
    ),
    "pipedrive_deals": (
        PIPEDRIVE_DEALS,
        {
            "id": "Deal - ID",
            "channel": "Deal - Source channel",
            "created_at": "Deal - Deal created",
            "stage": "Deal - Stage",
            "status": "Deal - Status",
            "won_at": "Deal - Won time",
            "lost_at": "Deal - Lost time",
            "value": "Deal - Value",
            "owner": "Deal - Owner",
            "email": "Person - Email",
            "phone": "Person - Phone",
            "name": "Person - Name",
        },
    ),
    "zoho_leads": (
        ZOHO_LEADS,
        {
            "id": "LEADID",
            "channel": "Lead Source",
            "created_at": "Created Time",
            "stage": "Lead Status",
            "owner": "Lead Owner",
            "email": "Email",
            "phone": "Mobile",
            "name": "Last Name",
        },
    ),
    "zoho_deals": (
        ZOHO_POTENTIALS,
        {
            "id": "LEADID",
            "channel": "Lead Source",
            "created_at": "Created Time",
            "stage": "Stage",
            "closed_at": "Closing Date",
            "value": "Amount",
            "owner": "Potential Owner",
        },
    ),
}

# Headers that must never feed a field (company facts, forecasts, derived columns).
NEVER_MAPPED = {
    "Annual Revenue",
    "Expected Revenue",
    "Probability",
    "Amount Tier",
    "Age in Days",
    "month_Created Time1",
    "Pipeline",
    "Campaign Id",
    "Company",
    "Account Name",
}


@pytest.mark.parametrize("source", list(EXPECTED))
def test_each_crm_export_is_detected_and_mapped(source):
    header, expected = EXPECTED[source]
    mapping = map_columns(header)
    assert mapping.source == source
    for fld, column in expected.items():
        assert mapping.columns.get(fld) == column, fld
    assert not NEVER_MAPPED & set(mapping.columns.values())


@pytest.mark.parametrize("source", list(EXPECTED))
def test_detection_ignores_column_order_case_and_extra_columns(source):
    header, expected = EXPECTED[source]
    shuffled = list(header)
    random.Random(7).shuffle(shuffled)
    noisy = [h.upper() if i % 2 else h.lower() for i, h in enumerate(shuffled)]
    noisy += ["Notes", "Custom field 1"]
    mapping = map_columns(noisy)
    assert mapping.source == source
    by_lower = {h.lower(): h for h in noisy}
    for fld, column in expected.items():
        assert mapping.columns.get(fld) == by_lower[column.lower()], fld


def test_hubspot_contacts_with_original_traffic_source():
    header = headers(
        "Record ID, First Name, Email, Original Traffic Source, Lifecycle Stage, Create Date"
    )
    mapping = map_columns(header)
    assert mapping.source == "hubspot_contacts"
    assert mapping.columns["channel"] == "Original Traffic Source"
    assert mapping.columns["stage"] == "Lifecycle Stage"


def test_zoho_converted_column_is_not_a_win():
    # Zoho's CONVERTED means "turned into a deal", not "became a paying customer".
    mapping = map_columns(ZOHO_LEADS)
    assert "converted" not in mapping.columns
    assert "CONVERTED" not in mapping.columns.values()


def test_pipedrive_status_and_stage_are_both_mapped():
    mapping = map_columns(PIPEDRIVE_DEALS)
    assert mapping.columns["status"] == "Deal - Status"
    assert mapping.columns["stage"] == "Deal - Stage"


# --- company facts are never a deal value -------------------------------------------------------


def test_annual_revenue_is_not_the_deal_value():
    mapping = map_columns(SALESFORCE_LEADS)
    assert "value" not in mapping.columns


def test_declared_monthly_revenue_is_not_the_deal_value():
    # Olist's closed-deals export (a marketplace's seller funnel) describes the seller company.
    header = headers(
        "mql_id,seller_id,sdr_id,sr_id,won_date,business_segment,lead_type,"
        "lead_behaviour_profile,has_company,has_gtin,average_stock,business_type,"
        "declared_product_catalog_size,declared_monthly_revenue"
    )
    mapping = map_columns(header)
    assert mapping.source == "generic"
    assert "value" not in mapping.columns
    assert mapping.columns["won_at"] == "won_date"


def test_lead_id_is_preferred_over_people_ids():
    header = headers("mql_id,seller_id,sdr_id,sr_id,won_date,business_segment,lead_type")
    assert map_columns(header).columns["id"] == "mql_id"


@pytest.mark.parametrize(
    "header",
    [
        ["id", "Lead Source", "Created", "Annual Revenue"],
        ["id", "Lead Source", "Created", "declared_monthly_revenue"],
        ["id", "Lead Source", "Created", "Expected Revenue", "Probability", "Amount Tier"],
    ],
)
def test_generic_file_never_takes_company_revenue_as_value(header):
    assert "value" not in map_columns(header).columns


def test_generic_file_takes_a_plain_amount_as_value():
    mapping = map_columns(["Lead ID", "Source", "Created Date", "Deal Value", "Annual Revenue"])
    assert mapping.columns["value"] == "Deal Value"


def test_annual_revenue_is_not_stored_as_value(con, db_path):
    path = db_path.parent / "sf_leads.csv"
    path.write_text(
        ",".join(SALESFORCE_LEADS)
        + "\n00Q1,Ann,Lee,ann@example.com,555-0100-222,Acme,Web,Open,2026-01-05,false,,Bo,"
        '"$5,000,000"\n'
    )
    result = ingest_file(con, path, IngestOptions(), db_path=db_path)
    assert result.loaded == 1
    assert con.execute("SELECT value FROM leads").fetchone()[0] is None


# --- an explicit mapping wins -------------------------------------------------------------------


def test_explicit_map_wins_over_detection():
    header = ["Prospect ID", "Lead Number", "Lead Origin", "Lead Source", "Converted"]
    assert map_columns(header).columns["channel"] == "Lead Source"
    mapping = map_columns(header, {"channel": "Lead Origin", "id": "Lead Number"})
    assert mapping.columns["channel"] == "Lead Origin"
    assert mapping.columns["id"] == "Lead Number"
    # a column taken by --map is not also used for another field
    assert list(mapping.columns.values()).count("Lead Origin") == 1
    assert list(mapping.columns.values()).count("Lead Number") == 1


def test_explicit_map_can_take_annual_revenue_as_value():
    mapping = map_columns(SALESFORCE_LEADS, {"value": "Annual Revenue"})
    assert mapping.columns["value"] == "Annual Revenue"
    assert mapping.source == "salesforce_leads"


def test_explicit_map_overrides_a_known_profile_column():
    mapping = map_columns(HUBSPOT_DEALS, {"created_at": "Close Date"})
    assert mapping.columns["created_at"] == "Close Date"
    assert mapping.columns.get("closed_at") != "Close Date"


def test_explicit_map_can_use_zoho_converted():
    mapping = map_columns(ZOHO_LEADS, {"converted": "CONVERTED"})
    assert mapping.columns["converted"] == "CONVERTED"


def test_explicit_map_wins_in_an_ingest(con, db_path):
    # Lead Origin is a better channel for this owner than Lead Source: --map says so.
    path = db_path.parent / "xed.csv"
    path.write_text(
        "Prospect ID,Lead Origin,Lead Source,Converted\n"
        "a,Landing Page Submission,Google,1\n"
        "b,API,Olark Chat,0\n"
    )
    options = IngestOptions(
        mapping={"channel": "Lead Origin"}, constants={"created_at": "2024-01-01"}
    )
    result = ingest_file(con, path, options, db_path=db_path)
    assert result.mapping["channel"] == "Lead Origin"
    raw = dict(con.execute("SELECT crm_id, channel_raw FROM leads").fetchall())
    assert raw == {"a": "Landing Page Submission", "b": "API"}


# --- personal columns ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source,personal",
    [
        ("hubspot_contacts", {"First Name", "Last Name", "Email", "Phone Number"}),
        ("salesforce_leads", {"First Name", "Last Name", "Email", "Phone"}),
        # a deal's title names its person ("Robert Miller - Office deep clean", issue 16)
        ("pipedrive_deals", {"Person - Name", "Person - Email", "Person - Phone",
                             "Deal - Title"}),
        ("zoho_leads", {"Last Name", "Email", "Mobile"}),
    ],
)
def test_personal_columns_of_known_exports(source, personal):
    header, _ = EXPECTED[source]
    found = set(map_columns(header).personal_columns)
    assert personal <= found
    # owner, company and stage columns describe the business, not a private person
    assert not found & {
        "Contact owner",
        "Lead Owner",
        "Deal - Owner",
        "Company",
        "Lead Status",
        "Lead Source",
    }


def test_personal_columns_of_a_generic_file():
    header = [
        "E-mail",
        "Mobile Phone",
        "Full Name",
        "Street Address",
        "Zip Code",
        "Company Name",
        "Owner Name",
        "Website",
        "Email Opt Out",
        "Lead Source",
        "Created",
    ]
    mapping = map_columns(header)
    personal = set(mapping.personal_columns)
    assert {"E-mail", "Mobile Phone", "Full Name", "Street Address", "Zip Code"} <= personal
    assert not personal & {"Company Name", "Owner Name", "Website", "Email Opt Out"}
    assert mapping.columns["email"] == "E-mail"
    assert mapping.columns["name"] == "Full Name"


def test_a_column_mapped_to_email_is_personal_whatever_its_name():
    mapping = map_columns(["id", "Created", "contact_info"], {"email": "contact_info"})
    assert "contact_info" in mapping.personal_columns


def test_mapping_of_a_file_is_reported_by_ingest(con, db_path):
    path: Path = db_path.parent / "pipedrive.csv"
    path.write_text(
        ",".join(PIPEDRIVE_DEALS)
        + "\n7,Deal,100,open,Lead In,2026-01-05 10:00:00,,,Ann,Referral,Jo Bloggs,jo@example.com,"
        "555-010-0101\n"
    )
    result = ingest_file(con, path, IngestOptions(), db_path=db_path)
    assert result.source == "pipedrive_deals"
    assert result.source_label.startswith("Pipedrive")
    assert result.mapping == EXPECTED["pipedrive_deals"][1]


def test_an_empty_explicit_mapping_unmaps_a_detected_field():
    from funnel.ingest.mapping import map_columns

    headers = ["Lead ID", "Lead Source", "Lead Status", "Created Date", "Converted"]
    assert map_columns(headers).columns["converted"] == "Converted"
    mapped = map_columns(headers, {"converted": ""}).columns
    assert "converted" not in mapped
    assert mapped["stage"] == "Lead Status"
