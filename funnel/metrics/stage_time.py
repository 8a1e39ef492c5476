"""Where leads get stuck: how long they stay at each stage, and where the open ones wait.

Read from the dated stage events (``schema/006``'s ``stage_spells``): snapshots a while apart,
or a stage history such as Salesforce's OpportunityHistory. A stay counts only where the data
dates it: a lead a file first showed already at a stage has no known entry, and a stay that
ended at a stage first seen in a file has no known exit (unknown stays unknown). A lead still
at its stage at the as-of date is censored there, as for time to win (Kaplan-Meier).
Definitions in plain words: ``docs/METRICS.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel import format as fmt
from funnel.metrics import stats
from funnel.metrics.filters import filter_params
from funnel.store import connection as store

ALL_CHANNELS = "All channels"

TIME_IN_STAGE_COLUMNS = [
    "channel", "channel_label", "stage", "stage_label", "position", "stays", "left",
    "still_there", "not_in_data", "median_days", "median_ci_low", "median_ci_high",
    "moved_on", "median_days_to_next_step",
]


def time_in_stage_rows(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """Each stay of the period's leads at an open stage, grouped.

    Columns: channel, channel_label, stage, stage_label, position, days (None: how long it
    lasted is not in the data), left (the
    stay ended: False = still there at the as-of date), moved_on (it ended at a later stage,
    not lost), leads.
    """
    return fmt.worded_labels(store.fetch_df(con, "metrics/time_in_stage_rows",
                                            filter_params(start, end, channels, owners)))


def time_in_stage(
    con, start=None, end=None, channels=None, owners=None, rows: pd.DataFrame | None = None
) -> pd.DataFrame:
    """How long leads stay at each open stage, per channel and for all channels (channel None).

    Columns: channel, channel_label, stage, stage_label, position, stays (every stay of the
    period's leads at the stage), left (stays that ended on a known date), still_there (stays
    going on at the as-of date, entry known), not_in_data (stays the data does not time),
    median_days (Kaplan-Meier: the days by which half the timed stays had ended, the ones
    still going censored), median_ci_low, median_ci_high (None where not reached),
    moved_on (stays that ended at a later stage), median_days_to_next_step (their plain
    median: the time between this step and the next, for the leads that took it).
    ``rows``: :func:`time_in_stage_rows` for the same filters when the caller has them.
    """
    if rows is None:
        rows = time_in_stage_rows(con, start, end, channels, owners)
    out = []
    pooled = rows.assign(channel=None, channel_label=ALL_CHANNELS)
    keys = ["channel", "channel_label", "stage", "stage_label", "position"]
    for frame in (pooled, rows):
        for key, group in frame.groupby(keys, sort=False, dropna=False):
            out.append({**dict(zip(keys, key, strict=True)), **_summary(group)})
    df = pd.DataFrame(out, columns=TIME_IN_STAGE_COLUMNS)
    df["channel"] = df["channel"].astype(object).where(df["channel"].notna(), None)
    order = {c: i for i, c in enumerate(dict.fromkeys(rows["channel"]))}
    df["_order"] = [-1 if c is None else order[c] for c in df["channel"]]
    df = df.sort_values(["_order", "position"], kind="stable").drop(columns="_order")
    for col in ("median_days", "median_ci_low", "median_ci_high", "median_days_to_next_step"):
        df[col] = pd.to_numeric(df[col]).astype(float)  # None (not reached) as NaN
    return df.reset_index(drop=True)


def _summary(group: pd.DataFrame) -> dict:
    days = group["days"].to_numpy(dtype=float, na_value=np.nan)  # NaN: not timed
    left = group["left"].fillna(False).to_numpy(dtype=bool)
    moved_on = group["moved_on"].fillna(False).to_numpy(dtype=bool)
    leads = group["leads"].to_numpy(dtype=np.int64)
    timed = ~np.isnan(days)
    km = stats.kaplan_meier(days[timed], left[timed], leads[timed])
    moved = timed & left & moved_on
    return {
        "stays": int(leads.sum()),
        "left": int(leads[timed & left].sum()),
        "still_there": int(leads[timed & ~left].sum()),
        "not_in_data": int(leads[~timed].sum()),
        "median_days": km["median_days"],
        "median_ci_low": km["median_ci_low"],
        "median_ci_high": km["median_ci_high"],
        "moved_on": int(leads[moved].sum()),
        "median_days_to_next_step": _weighted_median(days[moved], leads[moved]),
    }


def _weighted_median(values, counts) -> float | None:
    """The median of ``values`` each repeated ``counts`` times (the mean of the two middle
    ones for an even number), or None when there are none."""
    values = np.asarray(values, dtype=float)
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    if n == 0:
        return None
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    cumulative = np.cumsum(counts[order])
    low = sorted_values[np.searchsorted(cumulative, (n - 1) // 2 + 1)]
    high = sorted_values[np.searchsorted(cumulative, n // 2 + 1)]
    return float((low + high) / 2)


def open_leads_waiting(con, start=None, end=None, channels=None, owners=None) -> pd.DataFrame:
    """Where the period's open leads wait at the as-of date, per channel and stage, and per
    stage for all channels (channel None, first).

    Columns: channel, channel_label, stage, stage_label, position, open_leads, open_value,
    median_days_open, oldest_days_open (whole days since they came in), known_at_stage (open
    leads whose days at the stage are known), at_least_at_stage (first seen there: their days
    at the stage are a lower bound), median_days_at_stage, longest_days_at_stage (over both).
    """
    return fmt.worded_labels(store.fetch_df(con, "metrics/open_leads_waiting",
                                            filter_params(start, end, channels, owners)))


def longest_waits(waiting: pd.DataFrame) -> pd.DataFrame:
    """Per channel (and all channels), the open stage where its open leads wait longest.

    Judged by the median days at the stage (basis 'at the stage'; a lower bound, 'at least',
    where some of the stage's leads were first seen there) when the channel's open leads'
    days at their stage are known for at least half of them; else by the median days since
    they came in (basis 'since they came in'). Columns: channel, channel_label, stage,
    stage_label, open_leads, days (the median judged), basis, at_least, sentence.
    """
    rows = []
    for channel, group in waiting.groupby("channel", sort=False, dropna=False):
        known = int(group["known_at_stage"].sum())
        if known * 2 >= int(group["open_leads"].sum()):
            timed = group[group["median_days_at_stage"].notna()]
            best = timed.sort_values(["median_days_at_stage", "position"],
                                     ascending=[False, True]).iloc[0]
            days, basis = float(best["median_days_at_stage"]), "at the stage"
            at_least = bool(best["at_least_at_stage"] > 0)
        else:
            best = group.sort_values(["median_days_open", "position"],
                                     ascending=[False, True]).iloc[0]
            days, basis, at_least = float(best["median_days_open"]), "since they came in", False
        rows.append({
            "channel": None if pd.isna(channel) else channel,
            "channel_label": best["channel_label"],
            "stage": best["stage"],
            "stage_label": best["stage_label"],
            "open_leads": int(best["open_leads"]),
            "days": days,
            "basis": basis,
            "at_least": at_least,
            "sentence": wait_sentence(str(best["channel_label"]), str(best["stage_label"]),
                                      int(best["open_leads"]), days, basis, at_least),
        })
    return pd.DataFrame(rows, columns=["channel", "channel_label", "stage", "stage_label",
                                       "open_leads", "days", "basis", "at_least", "sentence"])


def wait_sentence(channel_label: str, stage_label: str, open_leads: int, days: float,
                  basis: str, at_least: bool = False) -> str:
    """'Referral: longest wait at Proposal, 12 open leads, half of them there for 9 days or
    more.'"""
    several = open_leads > 1
    leads = f"{open_leads:,} open lead{'s' if several else ''}"
    if basis == "at the stage":
        wait = (f"half of them there for {days:,.0f} days or more" if several
                else f"there for {days:,.0f} days")
        if at_least:
            wait += ", counted from when a file first showed them there"
    else:
        wait = ((f"half of them open for {days:,.0f} days or more" if several
                 else f"open for {days:,.0f} days")
                + " since they came in (the data times the stay at the stage for fewer than"
                " half of this channel's open leads)")
    return f"{channel_label}: longest wait at {stage_label}, {leads}, {wait}."
