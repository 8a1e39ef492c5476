"""Plain-words help for the dashboard: the metric definitions of ``docs/METRICS.md`` (read at
run time, so the file stays the one source) and how to read each chart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from funnel.store.connection import ROOT

METRICS_DOC = ROOT / "docs" / "METRICS.md"
HEADING = re.compile(r"^(#{2,4})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class Definition:
    """One section of METRICS.md: its heading, level (2-4) and text."""

    title: str
    level: int
    body: str

    @property
    def key(self) -> str:
        """The heading as a lookup key: 'Conversion rate (`conversion_rate`)' -> words only."""
        return _key(self.title)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower().replace("`", "")).strip("_")


def definitions(path: Path = METRICS_DOC) -> list[Definition]:
    """Every section of METRICS.md under a level-2 to level-4 heading; [] if the file is absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    out: list[Definition] = []
    title, level, lines = None, 0, []
    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if match:
            if title is not None:
                out.append(Definition(title, level, "\n".join(lines).strip()))
            title, level, lines = match.group(2), len(match.group(1)), []
        elif title is not None:
            lines.append(line)
    if title is not None:
        out.append(Definition(title, level, "\n".join(lines).strip()))
    return out


def dashboard_definitions(path: Path = METRICS_DOC) -> list[Definition]:
    """The sections an owner needs: those before the part about the report command, without
    the paragraphs listing column names (they are for developers)."""
    out = []
    for section in definitions(path):
        if section.level == 2 and "report" in section.title.lower():
            break
        out.append(Definition(section.title, section.level, for_owner(section.body)))
    return out


def for_owner(body: str) -> str:
    """A definition without its 'Columns: ...' paragraph."""
    paragraphs = re.split(r"\n\s*\n", body)
    return "\n\n".join(p for p in paragraphs if not p.lstrip().startswith("Columns:")).strip()


def title_in_words(title: str) -> str:
    """'conversion_by_channel' -> 'Conversion by channel'; other headings unchanged but for
    backticks."""
    plain = re.sub(r"\s*\(`[^`]*`\)", "", title).replace("`", "").strip()
    if re.fullmatch(r"[a-z0-9_]+", plain):
        plain = plain.replace("_", " ")
        return plain[:1].upper() + plain[1:]
    return plain


def definition_for(names: str | list[str], path: Path = METRICS_DOC) -> Definition | None:
    """The section defining a metric: a heading naming it, else one whose text names it in
    backticks (e.g. `conversion_rate`)."""
    wanted = [names] if isinstance(names, str) else list(names)
    sections = dashboard_definitions(path)
    for name in wanted:
        key = _key(name)
        for section in sections:
            if section.key == key or re.search(rf"(^|_){re.escape(key)}($|_)", section.key):
                return section
    for name in wanted:
        for section in sections:
            if f"`{name}`" in section.body:
                return section
    return None


# How to read each chart, in the words of the weekly meeting; ``metrics`` lists the names whose
# definition in METRICS.md is shown with it.
CHART_HELP: dict[str, dict] = {
    "headline": {
        "text": "The latest week in the data against the week before. **New leads**: leads "
        "created that week. **Deals won**: deals closed as won that week, whenever the lead "
        "came in. **Converted so far**: of the leads created that week, the share already won; "
        "a young week's leads are mostly still open, so this number grows for weeks.",
        "metrics": ["headline_by_week"],
    },
    "finding": {
        "text": "The two channels you pinned on the Sales page; else referral against cold "
        "call; else the two biggest channels whose conversion really differs. Each rate with "
        "its 95% interval, and how likely the first truly converts better (a Bayesian "
        "comparison, the same as the head-to-head card on the Sales page).",
        "metrics": ["head_to_head", "conversion_rate"],
    },
    "open_by_temperature": {
        "text": "Leads still open (neither won nor lost) by how close they are to buying: "
        "**cold** = new or contacted, **warm** = qualified, **hot** = proposal sent. The value "
        "is the deal value of those leads where the CRM has one.",
        "metrics": ["open_by_temperature"],
    },
    "leads_by_week": {
        "text": "How many new leads each channel brought, week by week (weeks start on "
        "Monday). A marketing number: it says whether the phone is ringing, not whether the "
        "leads were good.",
        "metrics": ["leads_by_week", "leads"],
    },
    "leads_by_channel": {
        "text": "Each channel's share of all new leads in the period, with its count.",
        "metrics": ["leads_by_channel", "share"],
    },
    "inbound_vs_outbound": {
        "text": "**Inbound** channels attract people who come to you (referrals, search, the "
        "website, events, partners); **outbound** channels chase them (cold calls, cold "
        "e-mails, bought lists). Each bar is split by channel.",
        "metrics": ["leads_by_channel", "kind"],
    },
    "lead_volume_vs_previous": {
        "text": "New leads per channel in the chosen period against the period of the same "
        "length just before it (grey). Pick a shorter period in the sidebar (e.g. the last 4 "
        "weeks) to compare recent weeks.",
        "metrics": ["lead_volume_vs_previous"],
    },
    "spend_by_channel": {
        "text": "What one lead costs per channel: money spent in the period divided by its "
        "new leads, with the hours spent where they were recorded.",
        "metrics": ["spend_by_channel", "cost_per_lead"],
    },
    "conversion_by_channel": {
        "text": "Of the leads each channel brought in the period, the share that became "
        "paying customers. The black line is the 95% interval: with few leads the true rate "
        "could be anywhere on it, so two channels whose lines overlap may not really differ. "
        "The number after the channel is its lead count.",
        "metrics": ["conversion_by_channel", "conversion_rate", "ci_low"],
    },
    "head_to_head": {
        "text": "Two channels compared fairly on small samples: each one's conversion with its "
        "95% interval, the chance the first truly converts better, and how many more leads "
        "would settle it if the rates hold.",
        "metrics": ["head_to_head"],
    },
    "funnel_by_channel": {
        "text": "For each channel, the share of its leads that reached each stage (from the "
        "stage history of every upload). The red bar marks the step where that channel loses "
        "the most leads compared with the other channels: the place to look first.",
        "metrics": ["funnel_by_channel", "reached"],
    },
    "time_to_win_curve": {
        "text": "How fast leads turn into customers: the share of a channel's leads won by "
        "each number of days after they came in. Leads still open count as 'not won yet' up "
        "to today (Kaplan-Meier), so young leads do not pull the curve down. The shaded band "
        "is the 95% interval.",
        "metrics": ["time_to_win", "time_to_win_curve", "median_days_to_win"],
    },
    "value_per_lead": {
        "text": "Value of the deals won, divided by all the leads the channel brought: what "
        "one more lead of that channel has been worth.",
        "metrics": ["value_per_lead", "won_value"],
    },
    "weekly_cohorts": {
        "text": "Conversion of the leads created each week, per channel. Grey cells are weeks "
        "still too young to judge: not yet past the time in which about 90% of that "
        "channel's wins arrive, so their open leads are not failures yet.",
        "metrics": ["weekly_cohorts", "cohort_maturity", "is_mature"],
    },
    "conversion_by_owner": {
        "text": "Which salesperson converts which channel: each cell is the share of that "
        "owner's leads from that channel that became customers, with the lead count in "
        "brackets. Grey cells have fewer than 30 leads: too few to judge, however good or bad "
        "they look. Click a cell to see its leads.",
        "metrics": ["conversion_by_owner"],
    },
    "lost_reasons": {
        "text": "Why each channel's deals were lost, from the lost-reason column of your CRM. "
        "Reasons spelt alike count as one; the less common ones are 'Other'. The table below "
        "shows the stage the deals were lost at. Click a bar to see its deals.",
        "metrics": ["lost_reasons"],
    },
    "time_in_stage": {
        "text": "How long leads stay at each stage before they move on, are won or are lost: "
        "half the stays are over within the days shown (leads still there count as 'not over "
        "yet'). Only stays the data dates are timed: it takes two uploads a while apart, or a "
        "stage history such as Salesforce's OpportunityHistory.",
        "metrics": ["time_in_stage"],
    },
    "open_leads_waiting": {
        "text": "Where the open leads are now, per channel and stage: how many, and how long "
        "half of them have waited at that stage (≥: counted from when a file first showed "
        "them there, so at least that long). Click a cell to see its leads.",
        "metrics": ["open_leads_waiting"],
    },
    "forecast": {
        "text": "The wins your open deals should bring, from how deals have moved between "
        "stages so far: about this many, and 8 times in 10 between the two numbers. Keep a "
        "forecast to see, weeks later, whether the wins that came fell in its range.",
        "metrics": ["forecast"],
    },
    "leads_behind": {
        "text": "The leads behind any number, under the sidebar's filters: CRM id, channel, "
        "stage, owner, the day they came in and their value, nothing personal. Download them "
        "all as CSV to work through them in your CRM.",
        "metrics": ["leads_behind"],
    },
}

CHART_TITLES = {
    "headline": "This week against last week (Overview)",
    "finding": "Worth discussing (Overview)",
    "open_by_temperature": "Open leads: what to do next (Overview)",
    "leads_by_week": "New leads per week, by channel (Marketing)",
    "leads_by_channel": "Share by channel (Marketing)",
    "inbound_vs_outbound": "Inbound vs outbound (Marketing)",
    "lead_volume_vs_previous": "This period vs the previous one (Marketing)",
    "spend_by_channel": "What a lead costs (Marketing)",
    "conversion_by_channel": "Conversion by channel (Sales)",
    "head_to_head": "Head to head (Sales)",
    "funnel_by_channel": "Where each channel loses its leads (Sales)",
    "time_to_win_curve": "How fast leads are won (Sales)",
    "value_per_lead": "Value per lead (Sales)",
    "weekly_cohorts": "Cohort maturity (Sales)",
    "conversion_by_owner": "Who converts which channel (Sales)",
    "lost_reasons": "Why deals are lost (Sales)",
    "time_in_stage": "How long leads stay at each stage (Pipeline)",
    "open_leads_waiting": "Where open leads wait (Pipeline)",
    "forecast": "What is coming (Pipeline)",
    "leads_behind": "The leads behind a number (Pipeline)",
}
