"""The bundled demo data: a seeded generator of Pipedrive deal snapshots and channel spend.

The business is a small commercial heating/cooling and facility-services company. Its deals
are simulated once (created, moved through Pipedrive's default stages, won or lost or left
open), then written as three weekly "Deals" exports, each showing every deal created up to its
as-of date in the state it was in on that date. ``python -m funnel.demo.generate data/demo``
rewrites the files; the same seed always gives the same bytes.
"""

from __future__ import annotations

import argparse
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from funnel.synonyms import default_channel_map, slug

DEFAULT_OUT_DIR = Path("data/demo")
DEFAULT_SEED = 7
FIRST_DAY = datetime(2026, 8, 3)  # a Monday: the first lead is created in this week
WEEKS = 16
AS_OF_DATES = (date(2026, 11, 8), date(2026, 11, 15), date(2026, 11, 22))
MATURE_DAYS = 42  # a cohort this old has had time to close (SPEC story: "at least 6 weeks")
FIRST_DEAL_ID = 1042  # older deals (before the demo window) took the lower ids
CURRENCY = "USD"

HEADER = [
    "Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency", "Deal - Status",
    "Deal - Stage", "Deal - Pipeline", "Deal - Deal created", "Deal - Won time",
    "Deal - Lost time", "Deal - Lost reason", "Deal - Owner", "Deal - Source channel",
    "Person - Name", "Person - Email", "Person - Phone", "Organization - Name",
]
PIPELINE_STAGES = [
    "Lead In", "Contact Made", "Demo Scheduled", "Proposal Made", "Negotiations Started",
]
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

DIP_WEEK = 5  # the week of Monday 2026-09-07 (Labor Day): fewer leads
EVENT_WEEKS = (6, 10, 13)  # trade shows: event leads and event money land in these weeks


@dataclass(frozen=True)
class ChannelProfile:
    """How one canonical channel behaves: how often it brings leads and how they end."""

    labels: dict[str, float]  # raw "Source channel" values as the owner typed them -> weight
    share: float  # share of the non-event lead volume
    win: float  # chance a deal is eventually won
    lose: float  # chance it is eventually lost (the rest go stale and stay open)
    days_to_win: float  # median days from created to won
    days_to_lose: float  # median days from created to lost
    value: float  # median deal value
    lost_stages: tuple[float, ...] = (0.2, 0.3, 0.25, 0.17, 0.08)  # where lost deals stop


_COLD_LOST_STAGES = (0.45, 0.35, 0.12, 0.06, 0.02)
CHANNELS: dict[str, ChannelProfile] = {
    # labels, share, win, lose, days_to_win, days_to_lose, value[, lost_stages]
    "cold_call": ChannelProfile(
        {"Cold call": 0.55, "Cold Calling": 0.35, "Outbound call": 0.1},
        0.28, 0.07, 0.78, 37, 10, 1300, _COLD_LOST_STAGES,
    ),
    "paid_search": ChannelProfile(
        {"Google Ads": 0.75, "PPC": 0.15, "AdWords": 0.1}, 0.11, 0.11, 0.7, 27, 18, 1400,
    ),
    "web": ChannelProfile(
        {"Website": 0.55, "Web form": 0.4, "Chat": 0.05}, 0.10, 0.13, 0.68, 26, 18, 1350,
    ),
    "organic_search": ChannelProfile(
        {"Organic search": 0.7, "SEO": 0.2, "Google organic": 0.1},
        0.09, 0.14, 0.67, 26, 18, 1500,
    ),
    "referral": ChannelProfile(
        {"Referral": 0.5, "Word of mouth": 0.25, "Customer referral": 0.2, "referral": 0.05},
        0.12, 0.25, 0.55, 20, 21, 2400, (0.1, 0.2, 0.3, 0.25, 0.15),
    ),
    "social": ChannelProfile(
        {"Facebook": 0.6, "Instagram": 0.2, "LinkedIn": 0.2}, 0.08, 0.12, 0.7, 30, 16, 950,
    ),
    "partner": ChannelProfile(
        {"Partner": 0.8, "Reseller": 0.2}, 0.05, 0.22, 0.6, 24, 21, 3200,
    ),
    "cold_email": ChannelProfile(
        {"Cold email": 0.7, "Cold Email": 0.2, "Outbound email": 0.1},
        0.06, 0.10, 0.75, 34, 10, 1200, _COLD_LOST_STAGES,
    ),
    "email": ChannelProfile(
        {"Newsletter": 0.7, "Email marketing": 0.3}, 0.03, 0.12, 0.68, 25, 18, 1100,
    ),
    "yelp": ChannelProfile({"Yelp": 1.0}, 0.025, 0.14, 0.68, 22, 16, 800),  # not a SPEC synonym
    "unknown": ChannelProfile({"": 1.0}, 0.01, 0.10, 0.7, 30, 18, 1200),
    "event": ChannelProfile(  # share unused: event leads come from EVENT_WEEKS
        {"Trade show": 0.7, "Trade Show": 0.2, "Conference": 0.1},
        0.0, 0.16, 0.64, 28, 21, 2000,
    ),
}

OPEN_STALE_STAGES = (0.35, 0.35, 0.18, 0.1, 0.02)  # where deals that never close sit

OWNERS = {"Maria Lopez": 0.3, "Dan Whitaker": 0.3, "Priya Nair": 0.22, "Tom Becker": 0.18}
LOST_REASONS = ["Price", "No response", "Went with competitor", "Not a fit", ""]
OUTBOUND = {"cold_call", "cold_email"}  # chased leads: lost early, mostly to silence
LOST_REASON_WEIGHTS = {
    "cold": (0.12, 0.5, 0.08, 0.22, 0.08),
    "warm": (0.33, 0.22, 0.22, 0.15, 0.08),
}
SERVICES = [
    "Maintenance plan", "AC replacement", "Boiler service", "Duct cleaning",
    "Heat pump install", "Emergency repair", "Office deep clean", "Ventilation upgrade",
    "Thermostat retrofit", "Annual inspection",
]
FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Carlos", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty",
    "Mark", "Sandra", "Steven", "Ashley", "Andrew", "Kimberly", "Kevin", "Emily", "Brian",
    "Donna", "George", "Michelle", "Edward", "Carol", "Ronald", "Amanda", "Timothy", "Melissa",
    "Jason", "Deborah", "José", "Zoë", "Renée", "Björn", "Aisha", "Wei", "Priyanka", "Omar",
    "Fatima", "Hiroshi", "Olga", "Kwame", "Siobhan", "Mateo",
]
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Kowalski", "O'Brien", "Müller",
    "Okafor", "Chen", "Patel", "Novak", "Lindqvist", "Fitzgerald", "Abernathy",
]
PLACES = [
    "Northside", "Lakeview", "Riverbend", "Maple Street", "Summit", "Cedar", "Harbor", "Prairie",
    "Bluebird", "Copper Kettle", "Granite", "Elm Grove", "Westgate", "Sunrise", "Oak Hill",
    "Union Square", "Pinecrest", "Fox Valley", "Bridgeport", "Southport",
]
TRADES = [
    "Dental", "Bakery", "Auto Repair", "Family Clinic", "Law Office", "Fitness", "Veterinary",
    "Print Shop", "Coffee Co.", "Realty", "Florist", "Hardware", "Daycare", "Accounting",
    "Insurance", "Pizzeria", "Salon", "Brewing", "Physio", "Pharmacy", "Bistro", "Storage",
    "Montessori", "Yoga Studio", "Tire & Lube",
]
ORG_SUFFIXES = ["", "", "", " LLC", " Inc."]
AREA_CODES = [  # Illinois; phone numbers use the 555-01xx block reserved for fiction
    "217", "224", "309", "312", "331", "447", "464", "618", "630", "708", "773", "779", "815",
    "847", "861", "872",
]


@dataclass
class Deal:
    """One simulated deal: its fixed facts and the times it moved (days after FIRST_DAY)."""

    deal_id: int
    channel: str
    label: str
    created: float
    stage_times: list[float] = field(default_factory=list)  # one per stage reached, in order
    won_at: float = math.nan
    lost_at: float = math.nan
    value: int = 0
    value_from_stage: int = 0  # the value is typed in once the deal reaches this stage
    owner: str = ""
    lost_reason: str = ""


# ---------------------------------------------------------------------------- lead volume


def weekly_lead_counts(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Leads per week: (non-event leads, event leads), with a mild upward trend and one dip."""
    weeks = np.arange(WEEKS)
    expected = 82.0 * (1 + 0.25 * weeks / (WEEKS - 1)) * rng.lognormal(0.0, 0.08, WEEKS)
    expected[DIP_WEEK] *= 0.62
    event_expected = np.full(WEEKS, 0.8)
    for week in EVENT_WEEKS:
        event_expected[week] = 24.0
        if week + 1 < WEEKS:
            event_expected[week + 1] = 5.0  # follow-ups typed in the week after the show
    return rng.poisson(expected), rng.poisson(event_expected)


def created_times(rng: np.random.Generator, week: int, n: int) -> np.ndarray:
    """Creation times (days after FIRST_DAY) of n leads in one week, mostly on weekday hours."""
    day_weights = np.array([1.2, 1.1, 1.1, 1.0, 0.9, 0.3, 0.2])
    days = rng.choice(7, size=n, p=day_weights / day_weights.sum())
    hours = rng.uniform(7.5, 19.0, size=n)
    return week * 7 + days + hours / 24


def draw_leads(rng: np.random.Generator) -> list[tuple[float, str]]:
    """(created, channel) for every lead of the demo window, in creation order."""
    base_counts, event_counts = weekly_lead_counts(rng)
    channels = [name for name, p in CHANNELS.items() if p.share > 0]
    shares = np.array([CHANNELS[name].share for name in channels])
    leads: list[tuple[float, str]] = []
    for week in range(WEEKS):
        picked = rng.choice(channels, size=base_counts[week], p=shares / shares.sum())
        leads += zip(created_times(rng, week, base_counts[week]), picked, strict=True)
        leads += [(t, "event") for t in created_times(rng, week, event_counts[week])]
    return sorted(leads)


# ---------------------------------------------------------------------------- deal history


def in_office_hours(rng: np.random.Generator, times: np.ndarray, after: float) -> np.ndarray:
    """Each time moved to a moment of its own day's office hours, kept in order after ``after``."""
    snapped = np.floor(times) + rng.uniform(8.0, 18.5, len(times)) / 24
    ordered = []
    for moment in snapped:
        after = max(float(moment), after + 1 / 1440)  # at least a minute after the last move
        ordered.append(after)
    return np.array(ordered)


def draw_path(
    rng: np.random.Generator, profile: ChannelProfile, created: float
) -> tuple[list[float], float, float]:
    """Times of the stage moves after ``Lead In``, then won_at and lost_at (NaN if not)."""
    chances = [profile.win, profile.lose, 1 - profile.win - profile.lose]
    outcome = rng.choice(["won", "lost", "open"], p=chances)
    if outcome == "open":  # goes stale: moves a few stages, then nobody closes it
        furthest = int(rng.choice(5, p=OPEN_STALE_STAGES))
        moves = in_office_hours(rng, created + np.cumsum(rng.exponential(6.0, furthest)), created)
        return moves.tolist(), math.nan, math.nan
    if outcome == "won":
        days = rng.lognormal(math.log(profile.days_to_win), 0.4)
        furthest = 3 if rng.random() < 0.25 else 4  # some are won from the proposal
    else:
        days = rng.lognormal(math.log(profile.days_to_lose), 0.6)
        furthest = int(rng.choice(5, p=profile.lost_stages))
    steps = np.append(np.sort(rng.uniform(0.05, 0.9, furthest)), 1.0)
    *moves, closed = in_office_hours(rng, created + steps * days, created).tolist()
    if outcome == "won":
        return moves, closed, math.nan
    return moves, math.nan, closed


def simulate_deal(rng: np.random.Generator, deal_id: int, created: float, channel: str) -> Deal:
    """One deal's whole life: its stage moves and, if it closes, when it is won or lost."""
    profile = CHANNELS[channel]
    weights = np.array(list(profile.labels.values()))
    label = str(rng.choice(list(profile.labels), p=weights / weights.sum()))
    moves, won_at, lost_at = draw_path(rng, profile, created)
    value = rng.lognormal(math.log(profile.value), 0.45)
    reasons = LOST_REASON_WEIGHTS["cold" if channel in OUTBOUND else "warm"]
    return Deal(
        deal_id, channel, label, created,
        stage_times=[created, *moves],
        won_at=won_at,
        lost_at=lost_at,
        value=max(300, 50 * round(float(value) / 50)),
        value_from_stage=0 if rng.random() < 0.65 else 2,
        owner=str(rng.choice(list(OWNERS), p=list(OWNERS.values()))),
        lost_reason=str(rng.choice(LOST_REASONS, p=reasons)),
    )


# ---------------------------------------------------------------------------- fake people


def ascii_lower(text: str) -> str:
    """Accents stripped, lower case, letters only: the local part of a fake e-mail address."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalpha())


def fake_email(rng: np.random.Generator, first: str, last: str, taken: set[str]) -> str:
    """A unique address at example.com / example.org in one of the shapes people use."""
    f, la = ascii_lower(first), ascii_lower(last)
    local = [f"{f}.{la}", f"{f[0]}{la}", f"{f}{la[0]}", f"{f}_{la}"][rng.integers(4)]
    domain = "example.com" if rng.random() < 0.7 else "example.org"
    email, n = f"{local}@{domain}", 2
    while email in taken:
        email, n = f"{local}{n}@{domain}", n + 1
    taken.add(email)
    return email


def fake_phones(rng: np.random.Generator, n: int) -> list[str]:
    """n distinct numbers in the 555-0100..0199 block, formatted as people type them."""
    picks = rng.choice(len(AREA_CODES) * 100, size=n, replace=False)
    shapes = ["({a}) 555-01{x:02d}", "{a}-555-01{x:02d}", "+1 {a} 555 01{x:02d}"]
    return [
        shapes[int(rng.integers(len(shapes)))].format(a=AREA_CODES[p // 100], x=p % 100)
        for p in picks
    ]


def fake_organization(rng: np.random.Generator) -> str:
    """A small-company name; a few carry a comma, so the CSV quoting gets exercised."""
    roll = rng.random()
    if roll < 0.04:
        a, b = rng.choice(LAST_NAMES, size=2, replace=False)
        return f"{a}, {b} & Co."
    first = rng.choice(PLACES) if roll < 0.55 else rng.choice(LAST_NAMES)
    return f"{first} {rng.choice(TRADES)}{rng.choice(ORG_SUFFIXES)}"


def fake_contacts(rng: np.random.Generator, deals: list[Deal]) -> pd.DataFrame:
    """Title, person, e-mail, phone and organization for each deal, in deal order."""
    phones = iter(fake_phones(rng, len(deals)))
    taken: set[str] = set()
    rows = []
    for deal in deals:
        first, last = str(rng.choice(FIRST_NAMES)), str(rng.choice(LAST_NAMES))
        org = fake_organization(rng) if rng.random() < 0.7 else ""
        email = fake_email(rng, first, last, taken) if rng.random() < 0.9 else ""
        phone = next(phones) if deal.channel == "cold_call" or rng.random() < 0.8 else ""
        title = f"{org or f'{first} {last}'} - {rng.choice(SERVICES)}"
        rows.append((title, f"{first} {last}", email, phone, org))
    return pd.DataFrame(rows, columns=HEADER[1:2] + HEADER[13:], dtype=str)


# ---------------------------------------------------------------------------- snapshots


def deals_table(deals: list[Deal]) -> pd.DataFrame:
    """The simulated deals as one row each, stage times in columns ``stage_0`` .. ``stage_4``."""
    table = pd.DataFrame(
        {
            "deal_id": [d.deal_id for d in deals],
            "label": [d.label for d in deals],
            "created": [d.created for d in deals],
            "won_at": [d.won_at for d in deals],
            "lost_at": [d.lost_at for d in deals],
            "value": [d.value for d in deals],
            "value_from_stage": [d.value_from_stage for d in deals],
            "owner": [d.owner for d in deals],
            "lost_reason": [d.lost_reason for d in deals],
        }
    )
    for stage in range(len(PIPELINE_STAGES)):
        table[f"stage_{stage}"] = [
            d.stage_times[stage] if stage < len(d.stage_times) else math.nan for d in deals
        ]
    return table


def format_times(days: pd.Series) -> pd.Series:
    """Days after FIRST_DAY as Pipedrive's ``YYYY-MM-DD HH:MM:SS``; missing as empty text."""
    stamps = pd.Timestamp(FIRST_DAY) + pd.to_timedelta((days * 86400).round(), unit="s")
    return stamps.dt.strftime(TIME_FORMAT).fillna("")


def snapshot(table: pd.DataFrame, contacts: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The Pipedrive export as it would have looked at the end of ``as_of``."""
    cutoff = (datetime.combine(as_of, datetime.max.time()) - FIRST_DAY).total_seconds() / 86400
    seen = (table["created"] <= cutoff).to_numpy()
    deals, people = table[seen], contacts[seen]
    stage = (deals.filter(like="stage_") <= cutoff).sum(axis=1) - 1
    is_won, is_lost = deals["won_at"] <= cutoff, deals["lost_at"] <= cutoff
    status = np.select([is_won, is_lost], ["won", "lost"], "open")
    has_value = is_won | (stage >= deals["value_from_stage"])
    out = pd.DataFrame(
        {
            "Deal - ID": deals["deal_id"].astype(str),
            "Deal - Title": people["Deal - Title"],
            "Deal - Value": deals["value"].astype(str).where(has_value, ""),
            "Deal - Currency": CURRENCY,
            "Deal - Status": status,
            "Deal - Stage": [PIPELINE_STAGES[s] for s in stage],
            "Deal - Pipeline": "Sales",
            "Deal - Deal created": format_times(deals["created"]),
            "Deal - Won time": format_times(deals["won_at"].where(is_won)),
            "Deal - Lost time": format_times(deals["lost_at"].where(is_lost)),
            "Deal - Lost reason": deals["lost_reason"].where(is_lost, ""),
            "Deal - Owner": deals["owner"],
            "Deal - Source channel": deals["label"],
        }
    )
    return pd.concat([out, people[HEADER[13:]]], axis=1)[HEADER]


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write UTF-8, comma-delimited, minimal quoting, ``\\n`` line ends (stable bytes)."""
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


# ---------------------------------------------------------------------------- channel spend

# channel label -> (money per week, hours per week); money and hours vary about 15% a week
SPEND_BASE = {
    "Referral": (0.0, 2.5),
    "Cold call": (30.0, 20.0),
    "Paid search": (620.0, 1.5),
    "Organic search": (0.0, 4.0),
    "Social": (110.0, 3.5),
    "Events": (0.0, 0.5),
    "Partners": (0.0, 2.0),
    "Cold email": (25.0, 4.0),
    "Email marketing": (18.0, 1.5),
    "Website": (22.0, 1.0),
}


def lumpy_money(rng: np.random.Generator, channel: str, week: int) -> tuple[float, float]:
    """Money and hours that come in lumps: shows, referral fees, SEO retainer, commissions."""
    if channel == "Events" and week in EVENT_WEEKS:
        return rng.uniform(1200, 2600), rng.uniform(14, 24)
    if channel == "Referral" and rng.random() < 0.3:
        return 100.0 * (1 + rng.poisson(0.8)), 0.0  # $100 thank-you per referral that closed
    if channel == "Organic search" and week % 4 == 0:
        return 450.0, 0.0  # monthly SEO retainer
    if channel == "Partners" and rng.random() < 0.25:
        return rng.uniform(150, 450), 0.0  # partner commissions
    return 0.0, 0.0


def channel_spend(rng: np.random.Generator) -> pd.DataFrame:
    """Weekly money and hours per channel over the demo window."""
    rows = []
    for week in range(WEEKS):
        monday = (FIRST_DAY + timedelta(weeks=week)).date().isoformat()
        for channel, (money, hours) in SPEND_BASE.items():
            extra_money, extra_hours = lumpy_money(rng, channel, week)
            money_spent = money * rng.lognormal(0.0, 0.15) + extra_money
            hours_spent = round((hours * rng.lognormal(0.0, 0.15) + extra_hours) * 4) / 4
            rows.append((channel, monday, f"{money_spent:.2f}", f"{hours_spent:.2f}"))
    return pd.DataFrame(rows, columns=["Channel", "Week starting", "Money spent", "Hours spent"])


# ---------------------------------------------------------------------------- the story


def snapshot_name(as_of: date) -> str:
    """File name of the snapshot taken on ``as_of``."""
    return f"pipedrive_deals_{as_of.isoformat()}.csv"


def channel_story(snapshot_csv: Path) -> pd.DataFrame:
    """Per canonical channel, from one export with plain pandas: volume and mature conversion.

    ``share`` is over all deals; ``conversion`` and ``median_days_to_win`` are over deals
    created at least six weeks before the file's as-of date (its name's date).
    """
    deals = pd.read_csv(snapshot_csv, dtype=str, keep_default_na=False)
    as_of = pd.Timestamp(snapshot_csv.stem.rsplit("_", 1)[1]) + pd.Timedelta(days=1)
    mapping = default_channel_map()
    raw = deals["Deal - Source channel"].map(slug)
    deals["channel"] = raw.map(lambda s: mapping.get(s, s) if s else "unknown")
    created = pd.to_datetime(deals["Deal - Deal created"])
    won_at = pd.to_datetime(deals["Deal - Won time"].replace("", None))
    deals["days_to_win"] = (won_at - created).dt.total_seconds() / 86400
    deals["is_won"] = deals["Deal - Status"] == "won"
    mature = deals[created <= as_of - pd.Timedelta(days=MATURE_DAYS)]
    story = pd.DataFrame(
        {
            "deals": deals.groupby("channel").size(),
            "share": deals.groupby("channel").size() / len(deals),
            "mature_deals": mature.groupby("channel").size(),
            "won": mature.groupby("channel")["is_won"].sum(),
            "conversion": mature.groupby("channel")["is_won"].mean(),
            "median_days_to_win": mature.groupby("channel")["days_to_win"].median(),
        }
    )
    counts = ["mature_deals", "won"]  # a channel with no mature deal counts 0, not NaN
    story[counts] = story[counts].fillna(0)
    return story.sort_values("deals", ascending=False)


def weekly_story(snapshot_csv: Path) -> pd.DataFrame:
    """Deals per creation week (Monday) and the share of them still open, from one export."""
    deals = pd.read_csv(snapshot_csv, dtype=str, keep_default_na=False)
    created = pd.to_datetime(deals["Deal - Deal created"])
    monday = (created.dt.normalize() - pd.to_timedelta(created.dt.day_of_week, unit="D"))
    by_week = deals.assign(week=monday.dt.strftime("%Y-%m-%d")).groupby("week")
    return pd.DataFrame(
        {
            "deals": by_week.size(),
            "open_share": by_week["Deal - Status"].apply(lambda s: (s == "open").mean()),
        }
    )


def markdown_table(frame: pd.DataFrame, formats: dict[str, str]) -> str:
    """A small GitHub-style table; ``formats`` gives each column's format spec, NaN shows "-"."""
    lines = [
        "| " + " | ".join([frame.index.name or "", *frame.columns]) + " |",
        "| " + " | ".join(["---"] * (len(frame.columns) + 1)) + " |",
    ]
    for key in frame.index:
        values = [frame.at[key, col] for col in frame.columns]
        cells = [
            "-" if pd.isna(v) else format(v, formats.get(col, ""))
            for col, v in zip(frame.columns, values, strict=True)
        ]
        lines.append("| " + " | ".join([str(key), *cells]) + " |")
    return "\n".join(lines)


def story_text(out_dir: Path) -> str:
    """The story the last snapshot tells, as markdown: channel mix, conversion, weekly volume."""
    last = out_dir / snapshot_name(AS_OF_DATES[-1])
    channels = channel_story(last).rename_axis("channel")
    searchish = channels.loc[["web", "organic_search", "paid_search"], "share"].sum()
    weeks = weekly_story(last).rename_axis("week")
    formats = {
        "deals": "d", "share": ".1%", "mature_deals": "d", "won": "d", "conversion": ".1%",
        "median_days_to_win": ".1f", "open_share": ".0%",
    }
    referral, cold_call = channels.loc["referral"], channels.loc["cold_call"]
    ratio = referral["conversion"] / cold_call["conversion"]
    rates = f"{referral['conversion']:.1%} vs {cold_call['conversion']:.1%}"
    days = f"{referral['median_days_to_win']:.1f} days vs {cold_call['median_days_to_win']:.1f}"
    cutoff = AS_OF_DATES[-1] - timedelta(days=MATURE_DAYS)
    facts = [
        f"{int(channels['deals'].sum())} deals in the last snapshot ({AS_OF_DATES[-1]}).",
        f"Website, organic search and paid search together bring {searchish:.1%} of them.",
        f"Referral converts at {ratio:.1f}x the rate of cold calls ({rates}) "
        + f"and wins in a median {days}.",
        f"Conversion and days to win count the {int(channels['mature_deals'].sum())} deals "
        + f"created on or before {cutoff}, at least {MATURE_DAYS // 7} weeks before the as-of "
        + "date; younger deals are mostly still open.",
    ]
    counts = {"deals": int, "mature_deals": int, "won": int}
    return "\n\n".join(
        [
            "\n".join(f"- {fact}" for fact in facts),
            markdown_table(channels.astype(counts), formats),
            "Deals by creation week, and the share still open on the last as-of date:",
            markdown_table(weeks, formats),
        ]
    )


README_TEMPLATE = """# Demo data

Fake data for trying Funnel without a CRM of your own: a small commercial heating/cooling and
facility-services company that logs its deals in Pipedrive. Every name, e-mail address
(example.com / example.org), phone number (555-01xx) and company is made up.

Made by `python -m funnel.demo.generate data/demo` (seed {seed}, numpy's `default_rng`); the
same seed gives the same bytes, and `tests/test_demo_data.py` checks these files against a
fresh run. Do not edit them by hand: change `funnel/demo/generate.py` and run it again.

## Files

- `pipedrive_deals_2026-11-08.csv`, `pipedrive_deals_2026-11-15.csv`,
  `pipedrive_deals_2026-11-22.csv`: three weekly exports of Pipedrive's Deals list, taken
  on the Sundays {as_of}.
  Each holds every deal created from Monday {first_day} up to its as-of date, in the stage
  and status it had on that date: deals move forward and get won or lost between snapshots,
  and deal ids stay the same. Ingest them oldest first to build the stage history.
  Values are in {currency}; deals that never got past `Contact Made` often have none.
  `Deal - Source channel` holds labels as an owner types them (`Cold call` and
  `Cold Calling`, `Website` and `Web form`, ...); `Yelp` maps to no channel in the SPEC, so
  the app lists it as unmapped, and a few cells are empty (channel `unknown`).
- `channel_spend.csv`: money ({currency}) and hours spent per channel per week
  (`Week starting` is the Monday) over the same {weeks} weeks. Cold calling costs hours,
  paid search costs money, events cost money only in the weeks of the three trade shows.

## The story in numbers

Computed with plain pandas from the last snapshot (channels mapped with the SPEC's default
synonyms):

{story}
"""


def readme_text(out_dir: Path, seed: int) -> str:
    """The README of the demo data, with the story read back from the written snapshot."""
    return README_TEMPLATE.format(
        seed=seed,
        as_of=", ".join(d.isoformat() for d in AS_OF_DATES),
        first_day=FIRST_DAY.date().isoformat(),
        currency=CURRENCY,
        weeks=WEEKS,
        story=story_text(out_dir),
    )


# ---------------------------------------------------------------------------- entry points


def generate(out_dir: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the demo snapshots, channel spend and README into ``out_dir``; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    leads = draw_leads(rng)
    # one child stream per deal, so tuning one channel leaves every other deal as it was
    deals = [
        simulate_deal(deal_rng, FIRST_DEAL_ID + i, created, channel)
        for i, (deal_rng, (created, channel)) in enumerate(
            zip(rng.spawn(len(leads)), leads, strict=True)
        )
    ]
    table, contacts = deals_table(deals), fake_contacts(rng, deals)
    paths = [
        write_csv(snapshot(table, contacts, as_of), out_dir / snapshot_name(as_of))
        for as_of in AS_OF_DATES
    ]
    paths.append(write_csv(channel_spend(rng), out_dir / "channel_spend.csv"))
    readme = out_dir / "README.md"
    readme.write_text(readme_text(out_dir, seed), encoding="utf-8", newline="\n")
    return [*paths, readme]


def main(argv: list[str] | None = None) -> int:
    """``python -m funnel.demo.generate [OUT_DIR] [--seed N]``: write the files, print the story."""
    parser = argparse.ArgumentParser(prog="python -m funnel.demo.generate", description=__doc__)
    parser.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    for path in generate(args.out_dir, args.seed):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    print()
    print(story_text(args.out_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
