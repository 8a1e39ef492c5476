"""Which CRM made a file, and which of its columns feed each canonical field (SPEC 3).

Known exports (HubSpot, Salesforce, Pipedrive, Zoho) are recognised by their headers; any other
file is mapped by header heuristics. An explicit ``--map field=COLUMN`` always wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from funnel.synonyms import slug

# Canonical fields a column can be mapped to (SPEC 3), plus `status` (open/won/lost, Pipedrive).
FIELDS = [
    "id",
    "channel",
    "created_at",
    "stage",
    "status",
    "converted",
    "won_at",
    "lost_at",
    "closed_at",
    "value",
    "owner",
    "email",
    "phone",
    "name",
]
DATE_FIELDS = ["created_at", "won_at", "lost_at", "closed_at"]
PERSONAL_FIELDS = ["email", "phone", "name"]

# Headers that hold personal data whatever they are mapped to (redacted in rejected rows).
PERSONAL_HEADER = re.compile(
    r"(^|_)(e_?mail|email_address|phone|phone_number|mobile|mobile_phone|fax|first_name|"
    r"last_name|full_name|name|contact_name|person_name|lead_name|potential_name|address|"
    r"street|postcode|postal_code|zip|zip_code|birth|date_of_birth|ssn)($|_)"
)
NOT_PERSONAL = re.compile(
    r"(company|organi[sz]ation|account|deal|product|campaign|owner|agent|"
    r"pipeline|stage|source|website|domain|do_not|opt_out|bounce)"
)


@dataclass(frozen=True)
class Profile:
    """A known CRM export: the headers that identify it and its columns for each field."""

    name: str
    label: str
    signature: tuple[tuple[str, ...], ...]  # every group needs one header present
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    never: tuple[str, ...] = ()  # headers never auto-mapped for this source


PROFILES = [
    Profile(
        "pipedrive_deals",
        "Pipedrive (deals)",
        (("deal_status",), ("deal_stage",), ("deal_deal_created", "deal_add_time")),
        {
            "id": ("deal_id",),
            "channel": (
                "deal_source_channel",
                "deal_lead_source",
                "deal_source",
                "deal_channel",
                "deal_source_origin",
            ),
            "created_at": ("deal_deal_created", "deal_add_time"),
            "stage": ("deal_stage",),
            "status": ("deal_status",),
            "won_at": ("deal_won_time",),
            "lost_at": ("deal_lost_time",),
            "closed_at": ("deal_deal_closed_on", "deal_close_time"),
            "value": ("deal_value",),
            "owner": ("deal_owner",),
            "email": ("person_email",),
            "phone": ("person_phone",),
            "name": ("person_name",),
        },
    ),
    Profile(
        "hubspot_deals",
        "HubSpot (deals)",
        (("deal_stage",), ("deal_name",), ("create_date",)),
        {
            "id": ("record_id", "deal_id"),
            "channel": (
                "original_source_type",
                "original_traffic_source",
                "original_source",
                "deal_source",
                "lead_source",
            ),
            "created_at": ("create_date",),
            "stage": ("deal_stage",),
            "closed_at": ("close_date",),
            "value": ("amount", "amount_in_company_currency"),
            "owner": ("deal_owner", "hubspot_owner"),
        },
    ),
    Profile(
        "hubspot_contacts",
        "HubSpot (contacts)",
        (
            (
                "lifecycle_stage",
                "original_source",
                "original_traffic_source",
                "became_a_customer_date",
            ),
            ("create_date",),
        ),
        {
            "id": ("record_id", "contact_id"),
            "channel": (
                "original_source",
                "original_traffic_source",
                "latest_source",
                "latest_traffic_source",
            ),
            "created_at": ("create_date",),
            "stage": ("lifecycle_stage", "lead_status"),
            "won_at": ("became_a_customer_date",),
            "value": ("total_revenue", "recent_deal_amount"),
            "owner": ("contact_owner", "hubspot_owner"),
            "email": ("email",),
            "phone": ("phone_number", "mobile_phone_number"),
            "name": ("first_name", "last_name"),
        },
    ),
    Profile(
        "salesforce_opportunities",
        "Salesforce (opportunities)",
        (("stage",), ("close_date",), ("opportunity_id", "opportunity_name", "opportunity_owner")),
        {
            "id": ("opportunity_id",),
            "channel": ("lead_source", "opportunity_source", "primary_campaign_source"),
            "created_at": ("created_date", "created_date_time"),
            "stage": ("stage",),
            "closed_at": ("close_date",),
            "value": ("amount",),
            "owner": ("opportunity_owner", "owner_name", "owner"),
        },
    ),
    Profile(
        "zoho_leads",
        "Zoho CRM (leads)",
        (("lead_source",), ("lead_status",), ("created_time",)),
        {
            "id": ("leadid", "lead_id", "record_id", "id"),
            "channel": ("lead_source",),
            "created_at": ("created_time",),
            "stage": ("lead_status",),
            "owner": ("lead_owner",),
            "email": ("email",),
            "phone": ("mobile", "phone"),
            "name": ("full_name", "last_name", "first_name"),
        },
        # Zoho's CONVERTED means "turned into a deal", not "became a paying customer".
        never=("converted",),
    ),
    Profile(
        "salesforce_leads",
        "Salesforce (leads)",
        (("lead_source",), ("lead_status",), ("created_date", "lead_id", "converted_date")),
        {
            "id": ("lead_id", "id"),
            "channel": ("lead_source",),
            "created_at": ("created_date", "create_date"),
            "stage": ("lead_status",),
            "converted": ("converted", "is_converted"),
            "won_at": ("converted_date",),
            "owner": ("lead_owner", "owner"),
            "email": ("email",),
            "phone": ("phone", "mobile", "mobile_phone"),
            "name": ("full_name", "name", "last_name", "first_name"),
        },
    ),
    Profile(
        "zoho_deals",
        "Zoho CRM (deals / potentials)",
        (("stage",), ("closing_date",), ("created_time",)),
        {
            "id": ("leadid", "lead_id", "deal_id", "potential_id", "record_id", "id"),
            "channel": ("lead_source",),
            "created_at": ("created_time",),
            "stage": ("stage",),
            "closed_at": ("closing_date",),
            "value": ("amount",),
            "owner": ("deal_owner", "potential_owner"),
        },
    ),
]

GENERIC = Profile("generic", "Other (columns matched by their names)", ())

# Header heuristics for any file: (field, patterns tried in order on the header's slug).
HEURISTICS: dict[str, tuple[str, ...]] = {
    "id": (
        r"^(lead|deal|record|opportunity|prospect|contact|crm|customer|mql|sql)_?id$",
        r"^id$",
        r"^(lead|prospect|deal)_?(number|no)$",
        r"^(?!.*(^|_)(campaign|account|owner|user|product|org|organization|company|parent|"
        r"session|visitor|sr|sdr|rep|seller|agent|employee|landing_page|page)(_|$)).*_id$",
    ),
    "channel": (
        r"^(lead_)?source$",
        r"^(original|lead|deal|traffic)_(traffic_)?source$",
        r"^(source|lead|marketing|acquisition)_?channel$",
        r"^channel$",
        r"^how_did_you_hear",
        r"source(?!.*(drill|detail|id|type))",
        r"channel",
        r"^(lead_)?origin$",
    ),
    "created_at": (
        r"^(created|create|creation)_?(date|time|at|on)?$",
        r"^date_created$",
        r"^(lead|deal|record)_?(created|create)(_date|_time|_at|_on)?$",
        r"created",
        r"first_contact",
        r"^engage_date$",
        r"^(lead_)?date$",
    ),
    "stage": (
        r"^(deal_|lead_|pipeline_|lifecycle_)?stage$",
        r"^deal_stage$",
        r"stage",
        r"^(lead_|deal_)?status$",
        r"(^|_)outcome$",
        r"status",
    ),
    "converted": (r"^(is_)?converted$", r"^(is_)?won$"),
    "won_at": (
        r"^(won|win)_(date|time|on|at)$",
        r"^date_won$",
        r"became_a_customer",
        r"^converted_(date|at|on)$",
    ),
    "lost_at": (r"^lost_(date|time|on|at)$", r"^date_lost$"),
    "closed_at": (
        r"^(close|closed|closing)_?(date|time|on|at)$",
        r"^date_closed$",
        r"(close|closing)_date",
    ),
    "value": (
        r"^(deal_)?(value|amount)$",
        r"^(close|closed|deal|won|opportunity)_(value|amount)$",
        r"^(?!.*(annual|monthly|expected|tier|declared|probability|revenue)).*(amount|value)$",
    ),
    "owner": (
        r"^(lead_|deal_|contact_|opportunity_|record_)?owner(_name)?$",
        r"^sales_?(agent|rep)$",
        r"^assigned_to$",
        r"owner$",
    ),
    "email": (r"^e_?mail(_address)?$", r"^(person|contact|lead|primary)_e_?mail$"),
    "phone": (r"^(phone|mobile|telephone)(_number)?$", r"^(person|contact|lead)_(phone|mobile)$"),
    "name": (r"^(full_)?name$", r"^(person|contact|lead)_name$", r"^(first|last)_name$"),
}


@dataclass
class Mapping:
    """The outcome of detection: the source and, per field, the file column that feeds it."""

    source: str
    source_label: str
    columns: dict[str, str]  # field -> header as in the file
    personal_columns: list[str]  # headers redacted in rejected rows and never stored

    def as_dict(self) -> dict[str, str]:
        return dict(self.columns)


def detect_source(headers: list[str]) -> Profile:
    """The known CRM export these headers come from, or the generic profile."""
    slugs = {slug(h) for h in headers}
    for profile in PROFILES:
        if all(any(s in slugs for s in group) for group in profile.signature):
            return profile
    return GENERIC


def map_columns(headers: list[str], explicit: dict[str, str] | None = None) -> Mapping:
    """Detect the source and map its columns; ``explicit`` (field -> header) always wins, and
    an empty header (``--map converted=``) leaves a field unmapped even if one was detected."""
    explicit = explicit or {}
    profile = detect_source(headers)
    by_slug: dict[str, str] = {}
    for header in headers:
        by_slug.setdefault(slug(header), header)
    taken: set[str] = {c for c in explicit.values() if c}
    columns: dict[str, str] = {}
    for fld in FIELDS:
        if fld in explicit:
            if explicit[fld]:  # an empty column name says: do not read this field at all
                columns[fld] = explicit[fld]
            continue
        header = _pick(fld, profile, by_slug, taken)
        if header is not None:
            columns[fld] = header
            taken.add(header)
    if "stage" not in explicit and columns.get("stage") == columns.get("status"):
        columns.pop("status", None)
    return Mapping(
        source=profile.name,
        source_label=profile.label,
        columns=columns,
        personal_columns=personal_columns(headers, columns),
    )


def _pick(fld: str, profile: Profile, by_slug: dict[str, str], taken: set[str]) -> str | None:
    for candidate in profile.columns.get(fld, ()):
        header = by_slug.get(candidate)
        if header is not None and header not in taken:
            return header
    if fld == "status" or (profile is not GENERIC and fld in profile.columns):
        return None  # a known export without this column: do not guess
    if fld == "converted" and profile is not GENERIC and "converted" not in profile.columns:
        return None
    for pattern in HEURISTICS.get(fld, ()):
        regex = re.compile(pattern)
        matches = [
            header
            for s, header in by_slug.items()
            if regex.search(s) and header not in taken and s not in profile.never
        ]
        if matches:
            return min(matches, key=len)
    return None


def personal_columns(headers: list[str], columns: dict[str, str]) -> list[str]:
    """Headers holding personal data: mapped e-mail/phone/name plus any header named like one."""
    mapped_personal = {columns[f] for f in PERSONAL_FIELDS if f in columns}
    mapped_other = {h for f, h in columns.items() if f not in PERSONAL_FIELDS}
    out = []
    for header in headers:
        s = slug(header)
        named_personal = bool(PERSONAL_HEADER.search(s)) and not NOT_PERSONAL.search(s)
        if header in mapped_personal or (named_personal and header not in mapped_other):
            out.append(header)
    return out
