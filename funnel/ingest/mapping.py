"""Which CRM made a file, and which of its columns feed each canonical field (SPEC 3).

Known exports (HubSpot, Salesforce reports and raw API exports, Pipedrive, Zoho) are recognised by
their headers; any other file is mapped by header heuristics, checked against what its columns
hold (:class:`ColumnStats`): an id must be unique, a yes/no flag is never an owner. An explicit
``--map field=COLUMN`` always wins.
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
    "is_closed",
    "won_at",
    "lost_at",
    "closed_at",
    "value",
    "currency",
    "owner",
    "lost_reason",
    "email",
    "phone",
    "name",
]
# Words for each canonical field, in the order of FIELDS: what a person reads (the Upload page,
# messages about a fixed value given for a field).
FIELD_LABELS = {
    "id": "Lead or deal ID",
    "channel": "Channel (lead source)",
    "created_at": "Date the lead came in",
    "stage": "Stage",
    "status": "Status (open / won / lost)",
    "converted": "Converted (yes / no)",
    "is_closed": "Closed (yes / no)",
    "won_at": "Date won",
    "lost_at": "Date lost",
    "closed_at": "Date closed (won or lost)",
    "value": "Deal value",
    "currency": "Currency of the deal value",
    "owner": "Owner (sales person)",
    "lost_reason": "Why the deal was lost",
    "email": "E-mail (kept only as a hash)",
    "phone": "Phone (kept only as a hash)",
    "name": "Name (never stored)",
}
DATE_FIELDS = ["created_at", "won_at", "lost_at", "closed_at"]
YES_NO_FIELDS = ["converted", "is_closed"]
PERSONAL_FIELDS = ["email", "phone", "name"]

# Headers that hold personal data whatever they are mapped to (redacted in rejected rows).
PERSONAL_HEADER = re.compile(
    r"(^|_)(e_?mail|email_address|phone|phone_number|mobile|mobile_phone|fax|first_name|"
    r"last_name|full_name|name|contact_name|person_name|lead_name|potential_name|address|"
    r"street|postcode|postal_code|zip|zip_code|birth|date_of_birth|ssn|"
    # free text that names people: a deal's title ("Robert Miller - Office deep clean"),
    # a subject, notes and comments
    r"title|subject|description|notes?|comments?)($|_)"
)
NOT_PERSONAL = re.compile(
    r"(company|organi[sz]ation|account|product|campaign|owner|agent|"
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
    kind: str = "leads"  # "leads": one row per lead or deal; "history": dated stage changes


PROFILES = [
    # Raw Salesforce API exports (Data Loader, Workbench, the weekly Data Export): field API
    # names, CamelCase (``StageName`` -> stage_name) or upper case (``STAGENAME``). The stage
    # history comes first: it names deals by OpportunityId and is no export of deals itself.
    Profile(
        "salesforce_api_opportunity_history",
        "Salesforce (opportunity stage history, API export)",
        (("opportunity_id", "opportunityid"), ("stage_name", "stagename"),
         ("created_date", "createddate")),
        {
            "id": ("opportunity_id", "opportunityid"),
            "stage": ("stage_name", "stagename"),
            "created_at": ("created_date", "createddate"),
        },
        kind="history",
    ),
    Profile(
        "salesforce_api_opportunities",
        "Salesforce (opportunities, API export)",
        (("stage_name", "stagename"), ("is_won", "iswon", "is_closed", "isclosed"),
         ("created_date", "createddate")),
        {
            "id": ("id",),
            "channel": ("lead_source", "leadsource"),
            "created_at": ("created_date", "createddate"),
            "stage": ("stage_name", "stagename"),
            "converted": ("is_won", "iswon"),
            "is_closed": ("is_closed", "isclosed"),
            "closed_at": ("close_date", "closedate"),
            "value": ("amount",),
            "currency": ("currency_iso_code", "currencyisocode"),
            "owner": ("owner_id", "ownerid"),
            "lost_reason": ("loss_reason_c", "loss_reason__c", "lossreason_c", "loss_reason",
                            "reason_lost_c", "lost_reason_c"),
        },
    ),
    Profile(
        "salesforce_api_leads",
        "Salesforce (leads, API export)",
        (("status",), ("is_converted", "isconverted", "converted_date", "converteddate"),
         ("created_date", "createddate")),
        {
            "id": ("id",),
            "channel": ("lead_source", "leadsource"),
            "created_at": ("created_date", "createddate"),
            "stage": ("status",),
            "converted": ("is_converted", "isconverted"),
            "won_at": ("converted_date", "converteddate"),
            "currency": ("currency_iso_code", "currencyisocode"),
            "owner": ("owner_id", "ownerid"),
            "email": ("email",),
            "phone": ("phone", "mobile_phone", "mobilephone"),
            "name": ("name", "first_name", "firstname", "last_name", "lastname"),
        },
    ),
    Profile(
        "pipedrive_deals",
        "Pipedrive (deals)",
        (
            ("deal_status",),
            ("deal_stage", "deal_stage_pipeline"),
            ("deal_deal_created", "deal_add_time", "deal_creation_date", "deal_deal_created_on"),
        ),
        {
            "id": ("deal_id", "deal_pipedrive_system_id"),
            "channel": (
                "deal_source_channel",
                "deal_lead_source",
                "deal_source",
                "deal_channel",
                "deal_source_origin",
            ),
            "created_at": (
                "deal_deal_created", "deal_add_time", "deal_creation_date", "deal_deal_created_on",
            ),
            "stage": ("deal_stage", "deal_stage_pipeline"),
            "status": ("deal_status",),
            "won_at": ("deal_won_time",),
            "lost_at": ("deal_lost_time",),
            "closed_at": ("deal_deal_closed_on", "deal_close_time", "deal_closed_on"),
            "value": ("deal_value",),
            "currency": ("deal_currency", "deal_currency_of_value"),
            "owner": ("deal_owner",),
            "lost_reason": ("deal_lost_reason",),
            "email": ("person_email", "person_email_work", "person_email_home",
                      "person_email_other"),
            "phone": ("person_phone", "person_phone_work", "person_phone_mobile",
                      "person_phone_home", "person_phone_other"),
            "name": ("person_name", "deal_contact_person"),
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
            "currency": ("currency", "deal_currency_code"),
            "owner": ("deal_owner", "hubspot_owner"),
            "lost_reason": ("closed_lost_reason",),
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
            "won_at": (
                "became_a_customer_date",
                "date_entered_customer_lifecycle_stage_pipeline",
            ),
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
            "converted": ("won",),
            "is_closed": ("closed",),
            "closed_at": ("close_date",),
            "value": ("amount",),
            "currency": ("opportunity_currency", "amount_currency", "currency"),
            "owner": ("opportunity_owner", "owner_name", "owner"),
            "lost_reason": ("reason_lost", "loss_reason", "lost_reason", "closed_lost_reason"),
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
            "name": ("full_name", "lead_name", "last_name", "first_name"),
        },
        # Zoho's CONVERTED means "turned into a deal", not "became a paying customer".
        never=("converted", "is_converted"),
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
            "currency": ("currency",),
            "owner": ("deal_owner", "potential_owner"),
            "lost_reason": ("reason_for_loss", "reason_for_loss_s"),
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
        r"session|visitor|sr|sdr|rep|seller|agent|employee|landing_page|page|e_?mail|mail|"
        r"phone|mobile|created_by|modified_by)(_|$)).*_id$",
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
        r"created(?!_by)",
        r"first_contact",
        r"^engage_date$",
        r"^(lead_)?date$",
    ),
    "stage": (
        r"^(deal_|lead_|pipeline_|lifecycle_)?stage(_name)?$",
        r"^deal_stage$",
        r"stage",
        r"^(lead_|deal_)?status$",
        r"(^|_)outcome$",
        r"status",
    ),
    "converted": (r"^(is_)?converted$", r"^(is_)?won$", r"^is_closed_won$"),
    "is_closed": (r"^is_closed$", r"^closed$"),
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
        r"^(?!.*expected).*(close|closing)_date",
    ),
    "value": (
        r"^(deal_)?(value|amount)$",
        r"^(close|closed|deal|won|opportunity)_(value|amount)$",
        r"^(?!.*(annual|monthly|expected|tier|declared|probability|revenue|currency))"
        r".*(amount|value)$",
    ),
    "currency": (
        r"^(deal_|opportunity_|amount_)?currency(_iso)?(_code)?$",
        r"^currency_iso_code$",
        r"^(deal_|opportunity_)?currency_of_value$",
    ),
    "lost_reason": (
        r"(^|_)(lost|loss|closed_lost)_reason(_c)?$",
        r"(^|_)reason_(for_)?(lost|loss)(_s|_c)?$",
    ),
    "owner": (
        r"^(lead_|deal_|contact_|opportunity_|record_)?owner(_name)?$",
        r"^sales_?(agent|rep)$",
        r"^assigned_to$",
        r"owner$",
    ),
    "email": (
        r"^e_?mail(_address)?$",
        r"^(person|contact|lead|primary)_e_?mail$",
        r"^e_?mail_?id$",
    ),
    "phone": (r"^(phone|mobile|telephone)(_number)?$", r"^(person|contact|lead)_(phone|mobile)$"),
    "name": (r"^(full_)?name$", r"^(person|contact|lead)_name$", r"^(first|last)_name$"),
}
# Fields whose heuristic picks are checked against what the column holds (ColumnStats).
NOT_A_FLAG = ("channel", "stage", "owner", "name")
MUST_BE_FLAG = ("converted", "is_closed")
EMAIL_VALUE = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
# a phone written as people write them: digits with a '+', brackets, dashes, dots or spaces
PHONE_VALUE = r"^\+?[0-9(][0-9 ().\-]{5,}[0-9]$"


def header_slug(header: str) -> str:
    """The slug a header is matched on: ``LeadSource`` and ``Lead Source`` are both
    ``lead_source`` (raw API exports write field names in CamelCase)."""
    return slug(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(header)))


@dataclass(frozen=True)
class ColumnStats:
    """What a column holds, over the whole file: how many cells are filled, how many distinct
    values, and how many of the filled cells read as yes/no, e-mail addresses or phones."""

    rows: int
    filled: int
    distinct: int
    flags: int
    emails: int
    phones: int

    @property
    def is_flag(self) -> bool:
        return self.filled > 0 and self.flags == self.filled

    @property
    def mostly_flags(self) -> bool:
        """At least half the filled cells read as yes/no (a few may be typos: cell warnings)."""
        return self.flags > 0 and self.flags * 2 >= self.filled

    @property
    def looks_email(self) -> bool:
        return self.filled > 0 and self.emails * 2 > self.filled

    @property
    def looks_phone(self) -> bool:
        return self.filled > 0 and self.phones * 2 > self.filled

    @property
    def is_identifier(self) -> bool:
        """Filled in most rows, with values that do not repeat in most rows."""
        return (
            self.filled * 2 >= self.rows
            and self.distinct * 2 >= self.filled
            and not self.looks_email
            and not self.looks_phone
        )


@dataclass
class Mapping:
    """The outcome of detection: the source and, per field, the file column that feeds it."""

    source: str
    source_label: str
    columns: dict[str, str]  # field -> header as in the file
    personal_columns: list[str]  # headers redacted in rejected rows and never stored
    kind: str = "leads"  # the profile's kind: "leads" or "history"

    def as_dict(self) -> dict[str, str]:
        return dict(self.columns)


def detect_source(headers: list[str]) -> Profile:
    """The known CRM export these headers come from, or the generic profile."""
    slugs = {header_slug(h) for h in headers} | {slug(h) for h in headers}
    for profile in PROFILES:
        if all(any(s in slugs for s in group) for group in profile.signature):
            return profile
    return GENERIC


def profile_label(source: str) -> str:
    """Words for a detected source (``pipedrive_deals`` -> "Pipedrive (deals)")."""
    labels = {p.name: p.label for p in [*PROFILES, GENERIC]}
    return labels.get(source, source.replace("_", " ").capitalize())


def stat_candidates(headers: list[str]) -> list[str]:
    """The headers whose contents decide whether a heuristic may take them (ids, flags, owner,
    channel, stage, name, e-mail or phone look-alikes): the columns to profile."""
    fields = ("id", *NOT_A_FLAG, *MUST_BE_FLAG, "email", "phone")
    patterns = [re.compile(p) for f in fields for p in HEURISTICS[f]]
    out = []
    for header in headers:
        s = header_slug(header)
        if any(p.search(s) for p in patterns) or re.search(r"(^|_)(id|mail|contact|customer)",
                                                           s):
            out.append(header)
    return out


def map_columns(
    headers: list[str],
    explicit: dict[str, str] | None = None,
    stats: dict[str, ColumnStats] | None = None,
) -> Mapping:
    """Detect the source and map its columns; ``explicit`` (field -> header) always wins, and
    an empty header (``--map converted=``) leaves a field unmapped even if one was detected.
    ``stats`` (header -> what it holds) keeps heuristics from taking a repeating column as the
    id, a yes/no flag as owner or channel, or a column of e-mails as anything but the e-mail."""
    explicit = explicit or {}
    stats = stats or {}
    profile = detect_source(headers)
    by_slug: dict[str, str] = {}
    for header in headers:
        by_slug.setdefault(header_slug(header), header)
        by_slug.setdefault(slug(header), header)
    taken: set[str] = {c for c in explicit.values() if c}
    columns: dict[str, str] = {}
    for fld in FIELDS:
        if fld in explicit:
            if explicit[fld]:  # an empty column name says: do not read this field at all
                columns[fld] = explicit[fld]
            continue
        header = _pick(fld, profile, by_slug, taken, stats)
        if header is not None:
            columns[fld] = header
            taken.add(header)
    if "stage" not in explicit and columns.get("stage") == columns.get("status"):
        columns.pop("status", None)
    for fld, test in (("email", "looks_email"), ("phone", "looks_phone")):
        if fld not in explicit and fld not in columns:
            # a column of addresses under another name (``Email ID``, ``Customer ID``)
            found = [h for h in headers if h not in taken and h in stats
                     and getattr(stats[h], test)]
            if found:
                columns[fld] = min(found, key=len)
                taken.add(columns[fld])
    return Mapping(
        source=profile.name,
        source_label=profile.label,
        columns=columns,
        personal_columns=personal_columns(headers, columns),
        kind=profile.kind,
    )


def _fits(fld: str, header: str, stats: dict[str, ColumnStats]) -> bool:
    """Whether what ``header`` holds suits ``fld`` (True when its contents are not known)."""
    seen = stats.get(header)
    if seen is None:
        return True
    if fld == "id":
        return seen.is_identifier
    if fld in NOT_A_FLAG:
        return not seen.is_flag and not seen.looks_email and not seen.looks_phone
    if fld in MUST_BE_FLAG:
        return seen.mostly_flags
    return True


def _pick(
    fld: str, profile: Profile, by_slug: dict[str, str], taken: set[str],
    stats: dict[str, ColumnStats],
) -> str | None:
    for candidate in profile.columns.get(fld, ()):
        header = by_slug.get(candidate)
        if header is not None and header not in taken:
            return header
    if fld == "status" or (profile is not GENERIC and fld in profile.columns):
        return None  # a known export without this column: do not guess
    if fld in MUST_BE_FLAG and profile is not GENERIC and fld not in profile.columns:
        return None
    if profile.kind == "history":
        return None  # a stage history holds deal, stage and date: nothing else is read
    found = _heuristic(fld, profile, by_slug, taken, lambda h: _fits(fld, h, stats))
    if found is None and fld == "id":
        # no candidate is unique: a repeating one may still be the id (several rows of one lead
        # in one file: the later counts), unless it holds e-mails or phones (SPEC 3)
        found = _heuristic(fld, profile, by_slug, taken, lambda h: _fits_repeating_id(h, stats))
    return found


def _heuristic(fld: str, profile: Profile, by_slug: dict[str, str], taken: set[str],
               fits) -> str | None:
    """The shortest header matching the first of ``fld``'s patterns that any fitting header
    matches."""
    for pattern in HEURISTICS.get(fld, ()):
        regex = re.compile(pattern)
        matches = [
            header
            for s, header in by_slug.items()
            if regex.search(s) and header not in taken and s not in profile.never and fits(header)
        ]
        if matches:
            return min(matches, key=len)
    return None


def _fits_repeating_id(header: str, stats: dict[str, ColumnStats]) -> bool:
    seen = stats.get(header)
    return seen is None or (seen.filled * 2 >= seen.rows and not seen.looks_email
                            and not seen.looks_phone)


def named_personal(header: str) -> bool:
    """A header whose name says it holds personal data (an e-mail, a phone, a name, ...)."""
    return any(PERSONAL_HEADER.search(s) and not NOT_PERSONAL.search(s)
               for s in (slug(header), header_slug(header)))


def personal_columns(headers: list[str], columns: dict[str, str]) -> list[str]:
    """Headers holding personal data: mapped e-mail/phone/name plus any header named like one."""
    mapped_personal = {columns[f] for f in PERSONAL_FIELDS if f in columns}
    mapped_other = {h for f, h in columns.items() if f not in PERSONAL_FIELDS}
    out = []
    for header in headers:
        if header in mapped_personal or (named_personal(header) and header not in mapped_other):
            out.append(header)
    return out
