"""Which two channels a head-to-head compares by default (issue 15): the owner's pinned pair,
else referral against cold call when both have leads, else the two biggest channels whose
conversion really differs. Pure: it reads ``metrics.conversion_by_channel``'s rows."""

from __future__ import annotations

import pandas as pd

from funnel.metrics import stats

DEFAULT_PAIR = ("referral", "cold_call")
# A channel needs this many leads in the period to be put forward as a finding by size.
MIN_LEADS = 30
FALLBACK_MIN_LEADS = 10
# Channels that are not a channel a person could invest in.
NOT_ACTIONABLE = {"unknown", "other"}
# "A real difference": one channel converts better with this probability (stats.head_to_head).
REAL = stats.CERTAINTY


def _both_present(pair: tuple[str, str] | None, channels) -> bool:
    return pair is not None and pair[0] != pair[1] and pair[0] in channels and pair[1] in channels


def finding_pair(conversion: pd.DataFrame, pinned: tuple[str, str] | None = None
                 ) -> tuple[str, str] | None:
    """The pair "Worth discussing" compares, or None.

    1. ``pinned`` (the owner's choice, in the owner's order) when both channels have leads;
    2. referral against cold call when both have leads;
    3. else, among channels with at least :data:`MIN_LEADS` leads (:data:`FALLBACK_MIN_LEADS`
       when fewer than two have that many), 'unknown' and 'other' left out, the biggest pair
       (pairs ordered by the smaller channel's size rank, then the bigger's) where one converts
       better with probability :data:`REAL`; the better one first. None when no pair differs.
    """
    present = set(conversion.loc[conversion["leads"] > 0, "channel"])
    for pair in (pinned, DEFAULT_PAIR):
        if _both_present(pair, present):
            return pair
    pool = conversion[~conversion["channel"].isin(NOT_ACTIONABLE)]
    for minimum in (MIN_LEADS, FALLBACK_MIN_LEADS):
        ranked = pool[pool["leads"] >= minimum].sort_values(["leads", "channel"],
                                                            ascending=[False, True])
        if len(ranked) >= 2:
            return _biggest_real_difference(ranked)
    return None


def _biggest_real_difference(ranked: pd.DataFrame) -> tuple[str, str] | None:
    rows = list(ranked.itertuples(index=False))
    for j in range(1, len(rows)):
        for i in range(j):
            a, b = rows[i], rows[j]
            p = stats.prob_a_better(1 + a.won, 1 + a.leads - a.won, 1 + b.won, 1 + b.leads - b.won)
            if p >= REAL:
                return str(a.channel), str(b.channel)
            if p <= 1 - REAL:
                return str(b.channel), str(a.channel)
    return None


def default_pair(channels: list[str], pinned: tuple[str, str] | None = None
                 ) -> tuple[str, str] | None:
    """What the Sales page's head to head starts on: ``pinned`` when both channels are in
    ``channels``, else referral against cold call, else the two biggest (``channels`` biggest
    first)."""
    for pair in (pinned, DEFAULT_PAIR):
        if _both_present(pair, set(channels)):
            return pair
    if len(channels) >= 2:
        return channels[0], channels[1]
    return None
