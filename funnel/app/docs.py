"""Plain-words help for the dashboard, written for an owner: what each number means
(:data:`OWNER_DEFINITIONS`, the Definitions page and the definition under every help card) and
how to read each chart (:data:`CHART_HELP`).

docs/METRICS.md stays the engineers' reference (columns, SQL, formulas); nothing here reads it,
so no column name, slug or SQL reaches a person. A test renders every page and fails on any.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    """One definition: its heading, level (2 a part, 3 an entry), text (Markdown, Funnel's own
    words) and the metric names it defines (what :func:`definition_for` looks up)."""

    title: str
    level: int
    body: str
    names: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The heading as a lookup key: words only."""
        return _key(self.title)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower().replace("`", "")).strip("_")


def _entry(title: str, names: tuple[str, ...], body: str) -> Definition:
    return Definition(title, 3, " ".join(body.split()), names)


OWNER_DEFINITIONS: list[Definition] = [
    Definition("The ground rules", 2, "What every page has in common."),
    _entry("Which leads a number counts", ("period", "selection"), """
        A number counts the leads that came in (were created in your CRM) between the two dates
        in the sidebar, both days included, and only the channels and salespeople picked there.
        A lead stays with the week it came in, whatever happened to it later."""),
    _entry("Won, lost and open", ("won", "lost", "open", "stage"), """
        A lead's outcome is what your latest export says: won, lost, or anything else, which
        counts as still open. So the conversion of recent weeks keeps rising while their open
        leads are worked."""),
    _entry("Channels", ("channel", "channels"), """
        Where a lead came from, read from your CRM's source column. Names that mean the same
        (Word of mouth, Referral, Customer referral) count as one channel. A source Funnel does
        not know keeps your CRM's own name and is listed on the Upload page until you map it."""),
    _entry("Inbound and outbound", ("kind",), """
        Inbound channels bring people who come to you (referrals, search, your website, events,
        partners); outbound channels chase them (cold calls, cold e-mails, bought lists)."""),
    _entry("Weeks", ("week", "weeks"), """
        Monday to Sunday, named by their Monday ("Week of 16 Nov")."""),
    _entry("Data as of", ("as_of", "as_of_date"), """
        The day of the newest export you uploaded (or, without one, the latest date in your
        data). Open leads are aged up to that day. A date after the day its file was uploaded (a
        mistyped 2030) is treated as unknown and reported on the Upload page."""),
    _entry("Unknown stays unknown", ("not_in_the_data", "data_coverage"), """
        When your files do not say when a deal was won, Funnel does not guess: the deal counts
        as a win, and is left out of anything measured in days, with a note saying how many."""),
    _entry("Money", ("currency", "money"), """
        Amounts add up in your store's currency only. Deals in another currency count as leads
        and wins but are left out of money totals, with a note saying how many."""),
    _entry("The range after a rate", ("ci_low", "ci_high", "interval", "wilson"), """
        "24% (18–31%)": 24% is what happened; the range is where the true rate of that channel
        very likely lies (95 times in 100), given how few or many leads it had. With 6 leads and
        3 won the rate is 50% but the range runs from 19% to 81%. Two channels whose ranges
        overlap a lot may not really differ."""),
    Definition("The numbers", 2, "Each number on the pages, in the order of the weekly meeting."),
    _entry("New leads", ("leads", "leads_by_week", "headline_by_week"), """
        Leads that came in, per channel and per week. A marketing number: it says whether the
        phone is ringing, not whether the leads were good."""),
    _entry("Share by channel", ("leads_by_channel", "share"), """
        Each channel's part of all new leads in the period."""),
    _entry("This period against the one before", ("lead_volume_vs_previous",), """
        New leads per channel in the chosen period, next to the period of the same length just
        before it."""),
    _entry("What a lead costs", ("spend_by_channel", "cost_per_lead", "cost_per_win", "roi"), """
        Money spent on a channel in the period divided by the new leads it brought. Hours are
        shown beside it where your spend file records them; the Allocation page also counts
        hours at your hourly rate, so its cost per lead can be higher."""),
    _entry("Conversion by channel", ("conversion_by_channel", "conversion_rate", "conversion"), """
        Of the leads a channel brought, the share that became paying customers. Every lead
        counts, open ones too, so a young period reads low until its leads are decided. Shown
        with its range (see "The range after a rate")."""),
    _entry("Close rate", ("win_rate", "close_rate"), """
        Of the deals already decided (won or lost), the share won. Open leads do not count, so
        it is higher than conversion. The weekly pack uses it for the deals decided that
        week."""),
    _entry("Days to win", ("median_days_to_win", "time_to_win", "time_to_win_curve"), """
        How long won deals took, from the day the lead came in to the day it was won: half took
        less than the number shown. The curve counts leads still open as "not won yet", so young
        leads do not make a channel look faster or slower than it is."""),
    _entry("Won value and value per lead", ("won_value", "value_per_lead"), """
        Won value: the deal values of the won leads added up. Value per lead: that total
        divided by all the leads the channel brought, won or not: what one more lead of that
        channel has been worth."""),
    _entry("Where each channel loses its leads", ("funnel_by_channel", "reached"), """
        The share of a channel's leads that got at least as far as each stage: new, contacted,
        qualified, proposal, won. A lost lead counts as reaching the furthest stage it was seen
        at before it was lost."""),
    _entry("Open leads by temperature", ("open_by_temperature", "temperature"), """
        Leads still open, by how close they are to buying: cold (new or contacted) want an
        introduction to the business, warm (qualified) want a follow-up, hot (proposal sent)
        want closing."""),
    _entry("Cohort maturity", ("weekly_cohorts", "cohort_maturity", "is_mature"), """
        The conversion of the leads that came in each week. A week is old enough to judge once
        about 90% of that channel's wins usually have arrived; younger weeks are greyed out
        because their open leads are not failures yet."""),
    _entry("Who converts which channel", ("conversion_by_owner",), """
        Conversion per salesperson and channel. Cells with fewer than 30 leads are too few to
        judge."""),
    _entry("Why deals are lost", ("lost_reasons",), """
        The reasons your CRM gives for lost deals, per channel; reasons spelt alike count as
        one."""),
    _entry("Head to head", ("head_to_head",), """
        Two channels' conversion side by side, each with its range, and the chance that the
        first truly converts better, worked out from the leads each had (a few leads prove
        little). When it is not yet clear, it says roughly how many more leads would settle
        it."""),
    _entry("Time at each stage", ("time_in_stage", "open_leads_waiting"), """
        How long leads stay at a stage before they move on: half the stays are over within the
        days shown. It needs two uploads a while apart, or a stage history, to time a stay."""),
    _entry("What is coming", ("forecast",), """
        The wins your open deals should bring, from how deals have moved between stages so far,
        with a range that holds the outcome about 8 times in 10."""),
    _entry("The leads behind a number", ("leads_behind",), """
        The leads counted in a bar or cell: CRM id, channel, stage, owner, the day they came in
        and their value; nothing personal."""),
    _entry("Allocation: next week's money and hours", ("allocation", "recommendation"), """
        A suggested split of next week's budget across channels, from each channel's conversion
        (leads old enough to judge only), what a lead costs (money plus hours at your hourly
        rate) and what a won deal is worth. It moves money a step at a time and only on clear
        evidence."""),
    _entry("Extra wins and their likely range", ("extra_wins", "extra_value"), """
        How many more wins (and how much more won value) the suggested split should bring from
        the next few weeks of leads than today's split, with a likely range that holds the
        outcome about 9 times in 10. Numbers are rounded: they are estimates."""),
    _entry("Chance best", ("p_best", "p_beats_mix", "chance"), """
        How sure the allocation is that a channel brings more per dollar than the others, in
        words: "almost certain", "likely", "about an even chance". Money moves only when it is
        clearly likely."""),
    _entry("Normal range (weekly pack)", ("normal_range", "band"), """
        The range an ordinary week lands in, given the weeks before: 99 weeks in 100 stay
        inside it by chance alone. A number outside it is flagged as a real change; anything
        inside is normal variation, however it looks next to last week."""),
    _entry("Decisions and their score", ("decisions", "decision_log"), """
        A plan you accept on the Allocation page is kept with its forecast. Once its leads are
        old enough, each channel is scored: did its wins land inside, above or below the
        forecast range?"""),
]


def dashboard_definitions() -> list[Definition]:
    """The Definitions page: every definition, parts (level 2) and entries (level 3)."""
    return list(OWNER_DEFINITIONS)


def title_in_words(title: str) -> str:
    """A definition's heading as shown (already words)."""
    return title


def definition_for(names: str | list[str]) -> Definition | None:
    """The definition of the first of ``names`` that has one (matched on its names, then its
    heading)."""
    wanted = [_key(n) for n in ([names] if isinstance(names, str) else list(names))]
    entries = [d for d in OWNER_DEFINITIONS if d.level == 3]
    for key in wanted:
        for entry in entries:
            if key in entry.names or key == entry.key:
                return entry
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
        "its likely range, and how likely the first truly converts better (the same "
        "comparison as the head-to-head card on the Sales page).",
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
        "paying customers. The black line is its range: with few leads the true rate could be "
        "anywhere on it, so two channels whose lines overlap may not really differ. "
        "The number after the channel is its lead count.",
        "metrics": ["conversion_by_channel", "conversion_rate", "ci_low"],
    },
    "head_to_head": {
        "text": "Two channels compared fairly on small samples: each one's conversion with its "
        "range, the chance the first truly converts better, and how many more leads "
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
        "to today, so young leads do not pull the curve down. The shaded band is where the "
        "true curve very likely lies.",
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
    "allocation": {
        "text": "Where next week's money and hours should go. **Share**: a channel's part of "
        "the weekly budget, now and suggested (hours count at your hourly rate). **Close "
        "rate** and conversion come from leads old enough to judge only, so this page's rates "
        "can differ from the Sales page's. **Extra wins**: how many more wins the suggested "
        "split should bring from the next few weeks of leads than today's split, rounded, "
        "with a **likely range** that holds the outcome about 9 times in 10. **Chance best**: "
        "how sure it is that a channel brings more per dollar, in words; money moves only "
        "when that is clearly likely, and a step at a time. **What would change it**: the "
        "conversion or cost per lead at which the advice would flip.",
        "metrics": ["allocation", "extra_wins"],
    },
    "weekly": {
        "text": "The week against the weeks before it. Each number has a **normal range**: "
        "where an ordinary week lands 99 times in 100, given the weeks before. Only a number "
        "outside it is flagged (▲ or ▼); the rest is normal variation, however it looks next "
        "to last week. **Close rate**: of the deals decided (won or lost) this week, the share "
        "won. **Deals won** count by the day they were won, whenever the lead came in. The "
        "pack also carries this week's head to head, the current allocation advice and what "
        "would change it, and how the last decision is doing.",
        "metrics": ["normal_range", "close_rate"],
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
    "allocation": "Where next week's money goes (Allocation)",
    "weekly": "Is a change real? (Weekly pack)",
}
