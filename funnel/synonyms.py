"""Canonical channels and stages, and the default synonyms of SPEC 2.

Raw values are matched on their slug: accents stripped, lower case, runs of
non-alphanumerics turned into one ``_``, none at either end.
"""

from __future__ import annotations

import re
import unicodedata

STAGE_ORDER = ["new", "contacted", "qualified", "proposal", "won", "lost"]

# stage -> (position, temperature, label)
STAGES = {
    "new": (1, "cold", "New"),
    "contacted": (2, "cold", "Contacted"),
    "qualified": (3, "warm", "Qualified"),
    "proposal": (4, "hot", "Proposal"),
    "won": (5, None, "Won"),
    "lost": (6, None, "Lost"),
}

STAGE_SYNONYMS = {
    "new": [
        "new",
        "open",
        "open - not contacted",
        "not contacted",
        "lead",
        "subscriber",
        "lead in",
    ],
    "contacted": [
        "contacted",
        "working",
        "working - contacted",
        "attempted to contact",
        "contact in future",
        "appointmentscheduled",
        "appointment scheduled",
        "contact made",
    ],
    "qualified": [
        "qualified",
        "pre-qualified",
        "qualification",
        "needs analysis",
        "value proposition",
        "id. decision makers",
        "identify decision makers",
        "perception analysis",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "mql",
        "sql",
        "marketing qualified lead",
        "sales qualified lead",
        "qualifiedtobuy",
        "qualified to buy",
        "presentationscheduled",
        "presentation scheduled",
        "decisionmakerboughtin",
        "decision maker bought-in",
        "demo scheduled",
    ],
    "proposal": [
        "proposal",
        "proposal/price quote",
        "negotiation",
        "negotiation/review",
        "opportunity",
        "proposal made",
        "negotiations started",
        "contract sent",
        "contractsent",
    ],
    "won": [
        "won",
        "closed won",
        "closedwon",
        "closed - converted",
        "converted",
        "customer",
        "evangelist",
    ],
    "lost": [
        "lost",
        "closed lost",
        "closedlost",
        "closed - not converted",
        "closed-lost to competition",
        "junk lead",
        "lost lead",
        "not qualified",
        "unqualified",
        "disqualified",
    ],
}

# channel -> (kind, label)
CHANNELS = {
    "referral": ("inbound", "Referral"),
    "cold_call": ("outbound", "Cold call"),
    "cold_email": ("outbound", "Cold email"),
    "purchased_list": ("outbound", "Purchased list"),
    "organic_search": ("inbound", "Organic search"),
    "paid_search": ("inbound", "Paid search"),
    "social": ("inbound", "Social"),
    "paid_social": ("inbound", "Paid social"),
    "email": ("inbound", "Email marketing"),
    "web": ("inbound", "Website"),
    "event": ("inbound", "Events"),
    "partner": ("inbound", "Partners"),
    "advertising": ("inbound", "Advertising"),
    "other": ("unknown", "Other"),
    "unknown": ("unknown", "Unknown"),
}

CHANNEL_SYNONYMS = {
    "referral": [
        "referral",
        "referrals",
        "word of mouth",
        "reference",
        "customer referral",
        "employee referral",
        "external referral",
        "partner referral",
    ],
    "cold_call": [
        "cold call",
        "cold calling",
        "outbound call",
        "telemarketing",
        "phone (outbound)",
    ],
    "cold_email": ["cold email", "outbound email", "sales email alias"],
    "purchased_list": ["purchased list", "list purchase"],
    "organic_search": ["organic search", "organic_search", "seo", "google organic", "web research"],
    "paid_search": ["paid search", "paid_search", "google ads", "adwords", "ppc"],
    "social": ["social", "social media", "organic social", "facebook", "linkedin", "instagram"],
    "paid_social": ["paid social", "facebook ads", "linkedin ads"],
    "email": ["email", "email marketing", "newsletter"],
    "web": [
        "web",
        "website",
        "direct traffic",
        "direct_traffic",
        "web form",
        "web download",
        "online store",
        "chat",
    ],
    "event": [
        "event",
        "trade show",
        "seminar",
        "internal seminar",
        "seminar partner",
        "webinar",
        "conference",
    ],
    "partner": ["partner", "reseller"],
    "advertising": [
        "advertising",
        "advertisement",
        "display",
        "print",
        "radio",
        "public relations",
        "other_publicities",
    ],
    "other": ["other", "other campaigns", "offline sources"],
    "unknown": ["unknown", "n/a", "none", "select"],
}


def slug(raw: str | None) -> str:
    """A header's or a typed name's matching key. For plain ASCII it is what the store's SQL
    ``funnel_slug`` macro gives; a raw value from a file is keyed in SQL, by that macro alone
    (queries/schema/005_middle_layer.sql), so a synonym always matches its values."""
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKD", str(raw))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def default_channel_map() -> dict[str, str]:
    """Raw slug -> canonical channel, from SPEC 2 (each channel's own name included)."""
    out: dict[str, str] = {}
    for channel, raws in CHANNEL_SYNONYMS.items():
        for raw in [channel, *raws]:
            out[slug(raw)] = channel
    return out


def default_stage_map() -> dict[str, str]:
    """Raw slug -> canonical stage, from SPEC 2."""
    out: dict[str, str] = {}
    for stage, raws in STAGE_SYNONYMS.items():
        for raw in [stage, *raws]:
            out[slug(raw)] = stage
    return out
