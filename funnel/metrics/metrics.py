"""The metrics the dashboard and the report read: one function per metric, typed DataFrames.

Every function takes an open connection (give it a cursor per thread) and the same filters:
``start``/``end`` (date or ISO string, inclusive, on the lead's created date; None = unbounded),
``channels``/``owners`` (list of names; None = all, an empty list selects nothing). Each runs
``queries/metrics/<name>.sql`` through :mod:`funnel.store`. No caching here: the app caches.
Definitions in plain words: ``docs/METRICS.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import duckdb
import pandas as pd

from funnel import format as fmt
from funnel.metrics import costs, stage_time, stats
from funnel.metrics.filters import DateLike, Names, filter_params
from funnel.store import connection as store

# What to do next with an open lead, by the temperature of its stage (SPEC 1).
# The next action each temperature of open lead wants (SPEC 1, issue 6); funnel.weekly words
# the same actions.
NEXT_ACTION = {
    "cold": "Introduce the business: mailing, promotion.",
    "warm": "Follow up: call, letter, seminar.",
    "hot": "Close: call, presentation, proposal.",
}


# Lost reasons: the most common ones shown by name; one a single lost deal gives is "Other".
LOST_REASONS_SHOWN = 8
LOST_REASON_MIN_LEADS = 2


def _fetch(con: duckdb.DuckDBPyConnection, name: str, start, end, channels, owners):
    return _worded(store.fetch_df(con, f"metrics/{name}",
                                  filter_params(start, end, channels, owners)))


_SLUG = re.compile(r"[a-z0-9]+(_[a-z0-9]+)*")


def _worded(df: pd.DataFrame) -> pd.DataFrame:
    """A channel kept as its own named in words in the label columns (one place for all)."""
    return fmt.worded_labels(df)
    for column in ("label", "channel_label"):
        if column in df.columns:
            df[column] = [lab if fmt.is_missing(lab) or fmt.is_missing(ch) else
                          fmt.channel_label(ch, lab)
                          for ch, lab in zip(df["channel"], df[column], strict=True)]
    return df


def leads_by_channel(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """Leads created in the period per channel.

    Columns: channel, kind (inbound/outbound/unknown), label, leads, share (of all leads in the
    selection). Ordered by leads descending, then channel.
    """
    return _fetch(con, "leads_by_channel", start, end, channels, owners)


def leads_by_week(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """Leads created per ISO week and channel, zero-filled between the first and last week.

    Columns: week (the Monday, datetime64), channel, leads.
    """
    return _fetch(con, "leads_by_week", start, end, channels, owners)


def lead_volume_vs_previous(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """Leads per channel in the period against the same-length period just before it.

    Columns: channel, kind, label, leads, previous_leads, change, change_pct (NULL when
    previous_leads = 0), period_start, period_end, previous_start, previous_end.
    """
    return _fetch(con, "lead_volume_vs_previous", start, end, channels, owners)


def conversion_by_channel(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """Conversion of the period's leads per channel (SPEC 4).

    Columns: channel, kind, label, leads, won, lost, open, conversion_rate, win_rate, ci_low,
    ci_high (Wilson 95% on won of leads), median_days_to_win, won_value, value_per_lead.
    """
    return _fetch(con, "conversion_by_channel", start, end, channels, owners)


def conversion_by_owner(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """Conversion of the period's leads per owner (salesperson), over all channels (channel
    None) and per channel.

    Columns: owner (None: no owner in the files), channel, channel_label, leads, won, lost,
    open, conversion_rate, ci_low, ci_high (Wilson 95% on won of leads), win_rate, win_ci_low,
    win_ci_high (on won of won + lost), won_value, too_few (fewer than
    ``stats.MIN_LEADS_TO_JUDGE`` leads: too few to judge). Each owner's all-channels row comes
    first, then its channels; owners by leads descending.
    """
    df = _fetch(con, "conversion_by_owner", start, end, channels, owners)
    df["too_few"] = df["leads"] < stats.MIN_LEADS_TO_JUDGE
    return df


def lost_reasons(
    con, start=None, end=None, channels=None, owners=None, top: int = LOST_REASONS_SHOWN,
    min_leads: int = LOST_REASON_MIN_LEADS,
) -> pd.DataFrame:
    """Why the period's lost deals were lost, per channel and per stage they were lost at.

    The ``top`` most common reasons held by at least ``min_leads`` lost deals keep their words,
    the rest are "Other"; reason None: the files give none. Columns: reason, reason_rank,
    channel, channel_label, lost_at (stage, None when not in the data), lost_at_label,
    lost_at_position, lost_leads.
    """
    params = filter_params(start, end, channels, owners)
    return _worded(store.fetch_df(con, "metrics/lost_reasons",
                                  {**params, "top": int(top), "min_leads": int(min_leads)}))


# The drill-down shows this many leads at most (its CSV holds them all up to DRILL_CSV_LIMIT).
DRILL_ROWS = 500
DRILL_CSV_LIMIT = 1_000_000


def leads_behind(
    con, start=None, end=None, channels=None, owners=None, *, channel: str | None = None,
    stage: str | None = None, reached: str | None = None, outcome: str | None = None,
    owner: str | None = None, no_owner: bool = False, week: DateLike = None,
    lost_reason: str | None = None, no_reason: bool = False,
    other_than: Sequence[str] | None = None, limit: int = DRILL_ROWS,
) -> pd.DataFrame:
    """The selection's leads behind a bar, cell or funnel step, nothing personal: CRM id,
    channel and stage (in words), owner, created day, value (as given) and currency; newest
    first, at most ``limit``. Column ``total``: how many match in all.

    Narrowed by ``channel`` (slug), ``stage`` (current), ``reached`` (a funnel step reached),
    ``outcome`` ('won', 'lost', 'open'), ``owner`` (or ``no_owner``), ``week`` (created week's
    Monday), ``lost_reason`` (the words lost_reasons shows; or ``no_reason``; or
    ``other_than``: a reason given that is none of these words, lost_reasons' "Other").
    """
    params = {**filter_params(start, end, channels, owners), "channel": channel,
              "stage": stage, "reached": reached, "outcome": outcome, "owner_is": owner,
              "no_owner": bool(no_owner), "week": None if week is None else str(week)[:10],
              "lost_reason": lost_reason, "no_reason": bool(no_reason),
              "other_than": None if other_than is None else [str(w) for w in other_than],
              "limit": int(limit)}
    behind = store.fetch_df(con, "metrics/leads_behind", params)
    # its channel column holds the label already: a raw channel's slug said in words
    behind["channel"] = [fmt.humanize(c) if isinstance(c, str) and _SLUG.fullmatch(c) else c
                         for c in behind["channel"]]
    return behind


def funnel_by_channel(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """Leads reaching each stage per channel, from event history.

    Columns: channel, stage, position, reached, step_pct, cumulative_pct, drop_pct,
    others_drop_pct, excess_drop_pct, is_worst_step.
    """
    return _fetch(con, "funnel_by_channel", start, end, channels, owners)


def open_by_temperature(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """Open leads (neither won nor lost) by temperature: cold, warm, hot.

    Columns: temperature, stages, open_leads, share, open_value, median_age_days,
    oldest_age_days, next_action.
    """
    df = _fetch(con, "open_by_temperature", start, end, channels, owners)
    df["next_action"] = df["temperature"].map(NEXT_ACTION)
    return df


def spend_by_channel(con, start=None, end=None, channels=None, owners=None,
                     hourly_rate: float = costs.DEFAULT_HOURLY_RATE) -> pd.DataFrame:
    """Money and hours spent per channel against its leads and wins.

    Columns: channel, kind, label, leads, won, won_value, spend, hours, cost_per_win, roi,
    hours_per_lead, hours_per_win, cost_per_lead (money only) and cost_per_lead_with_hours
    (money plus hours at ``hourly_rate``), both from :mod:`funnel.metrics.costs` (ratios NULL
    with an owners filter: spend is not recorded per owner).
    """
    df = _fetch(con, "spend_by_channel", start, end, channels, owners)
    apply = owners is None
    df["cost_per_lead"] = pd.Series(
        [costs.cost_per_lead(m, n) if apply else None
         for m, n in zip(df["spend"], df["leads"], strict=True)], index=df.index, dtype="float64")
    df["cost_per_lead_with_hours"] = pd.Series(
        [costs.cost_per_lead(m, n, h, hourly_rate) if apply else None
         for m, n, h in zip(df["spend"], df["leads"], df["hours"], strict=True)],
        index=df.index, dtype="float64")
    return df


def weekly_cohorts(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """Conversion by created-week cohort per channel, with maturity.

    Columns: cohort_week, channel, leads, won, lost, open, as_of_date, age_days, channel_wins,
    channel_p90_days, all_wins, all_p90_days, conversion_rate, ci_low, ci_high, horizon_days,
    horizon_basis, is_mature.
    """
    return stats.cohort_maturity(_fetch(con, "weekly_cohorts", start, end, channels, owners))


def time_to_win_rows(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """Durations for the time-to-win curves, grouped.

    Columns: channel, days, is_won (False = censored: open at the as-of date or lost), leads.
    """
    return _fetch(con, "time_to_win_rows", start, end, channels, owners)


def time_to_win(
    con, start=None, end=None, channels=None, owners=None, rows: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Kaplan-Meier median days to win per channel, open and lost leads censored.

    Columns: channel, leads, wins, median_days, median_ci_low, median_ci_high (None where the
    curve or its interval does not reach 50%). ``rows``: :func:`time_to_win_rows` for the
    same filters when the caller has them already (the app reads them once for the summary
    and the curve); then nothing is read from ``con``.
    """
    if rows is None:
        rows = time_to_win_rows(con, start, end, channels, owners)
    return stats.time_to_win(rows)[0]


def time_to_win_curve(
    con, start=None, end=None, channels=None, owners=None, rows: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Kaplan-Meier curve per channel.

    Columns: channel, days, survival (share not yet won), ci_low, ci_high, won_share.
    ``rows``: as for :func:`time_to_win`.
    """
    if rows is None:
        rows = time_to_win_rows(con, start, end, channels, owners)
    return stats.time_to_win(rows)[1]


# Metrics computed from another metric's result, which a caller may pass as ``rows=``.
READS_ROWS_OF = {"time_to_win": "time_to_win_rows", "time_to_win_curve": "time_to_win_rows",
                 "time_in_stage": "time_in_stage_rows"}


def headline_by_week(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """Per ISO week: leads created, won so far, conversion, wins closed that week.

    Columns: week, leads, won, conversion_rate, wins_closed, won_value_closed.
    """
    return _fetch(con, "headline_by_week", start, end, channels, owners)


def as_of_date(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """The store's as-of date (filters accepted for a uniform signature, and ignored).

    Columns: as_of_date, basis ('uploads' or 'data'). One row.
    """
    return store.fetch_df(con, "metrics/as_of_date")


def filter_options(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """What the sidebar filters can offer (filters accepted and ignored).

    Columns: channels (list, by leads descending), channel_labels (parallel list), owners
    (list), min_created, max_created. One row.
    """
    options = store.fetch_df(con, "metrics/filter_options")
    options["channel_labels"] = [[fmt.channel_label(c, lab) for c, lab in zip(chs, labs,
                                                                              strict=True)]
                                 for chs, labs in zip(options["channels"],
                                                      options["channel_labels"], strict=True)]
    return options


def head_to_head(
    con,
    a: str = "referral",
    b: str = "cold_call",
    start: DateLike = None,
    end: DateLike = None,
    owners: Names = None,
    seed: int = stats.DEFAULT_SEED,
    conversion: pd.DataFrame | None = None,
) -> dict:
    """Bayesian comparison of two channels' conversion in the period (see
    :func:`funnel.metrics.stats.head_to_head` for the keys); adds ``channel_a``/``channel_b`` slugs.
    ``conversion``: :func:`conversion_by_channel` for the same period and owners, any channels
    (a page that shows it already has it; each channel's row does not depend on the others)."""
    if conversion is None:
        conversion = conversion_by_channel(con, start, end, [a, b], owners)
    conv = conversion.set_index("channel")

    def side(channel: str) -> tuple[int, int, str]:
        if channel in conv.index:
            row = conv.loc[channel]
            return int(row["won"]), int(row["leads"]), fmt.channel_label(channel, row["label"])
        return 0, 0, fmt.channel_label(channel)

    won_a, leads_a, label_a = side(a)
    won_b, leads_b, label_b = side(b)
    result = stats.head_to_head(won_a, leads_a, won_b, leads_b, label_a, label_b, seed=seed)
    return {"channel_a": a, "channel_b": b, **result}


Metric = Callable[..., pd.DataFrame]

def data_coverage(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """What the selected leads' files hold (one row): leads, with_stages (a stage column, or
    seen past 'new'), won, won_dated (a known won date), won_valued, other_currency (money in
    another currency than the store's). A page draws the stage funnel only when with_stages > 0
    and measures time to win on the won_dated wins only."""
    return _fetch(con, "data_coverage", start, end, channels, owners)


def coverage_notes(coverage: pd.DataFrame) -> dict[str, str | None]:
    """Sentences for what the data does not hold, keyed by the section they belong to
    (``funnel``, ``time_to_win``, ``wins_by_week``, ``value``); None where the data holds it
    all."""
    row = coverage.iloc[0] if len(coverage) else None
    notes: dict[str, str | None] = {"funnel": None, "time_to_win": None, "wins_by_week": None,
                                    "value": None}
    if row is None or not row["leads"]:
        return notes
    if not row["with_stages"]:
        notes["funnel"] = ("Not in the data: these leads' files say only whether each lead was "
                           "won, not the stages it went through, so there is no funnel to draw.")
    won, dated = int(row["won"]), int(row["won_dated"])
    if won and not dated:
        notes["time_to_win"] = ("Not in the data: the files give no date the leads were won, so "
                                "how fast they are won cannot be measured.")
        notes["wins_by_week"] = ("Not in the data: the files give no date the leads were won, "
                                 "so no win is counted in any week.")
    elif won > dated:
        notes["time_to_win"] = (f"{won - dated:,} of the {won:,} wins have no won date in the "
                                "files and are left out of how fast leads are won.")
        notes["wins_by_week"] = (f"{won - dated:,} of the {won:,} wins have no won date in the "
                                 "files and are counted in no week.")
    if int(row["other_currency"]):
        notes["value"] = (f"{int(row['other_currency']):,} deals are in another currency and "
                          "are left out of money figures.")
    return notes


METRICS: dict[str, Metric] = {
    f.__name__: f
    for f in (
        leads_by_channel,
        leads_by_week,
        data_coverage,
        lead_volume_vs_previous,
        conversion_by_channel,
        conversion_by_owner,
        lost_reasons,
        funnel_by_channel,
        open_by_temperature,
        spend_by_channel,
        weekly_cohorts,
        time_to_win_rows,
        time_to_win,
        time_to_win_curve,
        headline_by_week,
        as_of_date,
        filter_options,
        stage_time.time_in_stage_rows,
        stage_time.time_in_stage,
        stage_time.open_leads_waiting,
    )
}
