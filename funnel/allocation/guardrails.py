"""The allocator's guardrails: which channels can be compared (:func:`usable`), the current
split of weekly cost (:func:`current_split`), and the recommended shares
(:func:`choose_shares`): Thompson-sampling targets kept inside locks, caps, the minimum share,
the limits on change and growth and the evidence needed to move (:func:`_bounds`), projected
onto splits that sum to 1 (:func:`_project`), relaxing the softest guardrails first when caps
and locks leave no room.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from funnel.allocation.model import Model, weekly_cost
from funnel.allocation.types import AllocationError, ChannelInput, Excluded, Settings
from funnel.allocation.words import infeasible_message

MIN_WEEKLY_COST = 0.01  # a channel that cost less than this a week cannot be compared
EPS = 1e-9

# Softest first: when caps and locks leave no split that keeps every guardrail, these give way
# in this order (and the recommendation says so).
_SOFT_GUARDRAILS = ("evidence", "min_share", "max_growth", "max_change", "min_leads")


def _bounds(
    current: np.ndarray,
    growth_hi: np.ndarray,
    locked: np.ndarray,
    frozen: np.ndarray,
    caps: np.ndarray,
    can_gain: np.ndarray,
    can_lose: np.ndarray,
    settings: Settings,
    active: set[str],
) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.zeros(len(current)), np.ones(len(current))
    for i, c in enumerate(current):
        if locked[i]:
            lo[i] = hi[i] = c
            continue
        if frozen[i] and "min_leads" in active:
            lo[i] = hi[i] = c
        else:
            if "max_change" in active:
                lo[i] = max(0.0, c - settings.max_change)
                hi[i] = min(1.0, c + settings.max_change)
            if "max_growth" in active:
                hi[i] = min(hi[i], max(growth_hi[i], c))
            if "min_share" in active:  # never cut below the floor (nor raise a channel to it)
                lo[i] = max(lo[i], min(settings.min_share, c, hi[i]))
            if "evidence" in active:
                if not can_gain[i]:
                    hi[i] = min(hi[i], max(c, lo[i]))
                if not can_lose[i]:
                    lo[i] = max(lo[i], min(c, hi[i]))
        hi[i] = min(hi[i], caps[i])  # a cap the owner set wins over every default guardrail
        lo[i] = min(lo[i], hi[i])
    return lo, hi


def _project(target: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The split nearest ``target`` (least squares) with lo <= s <= hi and sum(s) = 1."""
    def total(mu: float) -> float:
        return float(np.clip(target + mu, lo, hi).sum())

    a, b = -2.0, 2.0
    for _ in range(200):
        mid = (a + b) / 2
        a, b = (mid, b) if total(mid) < 1 else (a, mid)
    s = np.clip(target + b, lo, hi)
    residual = 1.0 - s.sum()  # rounding only: hand it to channels with room
    for i in np.argsort(-(hi - s) if residual > 0 else -(s - lo)):
        if abs(residual) < 1e-15:
            break
        room = hi[i] - s[i] if residual > 0 else s[i] - lo[i]
        step = math.copysign(min(abs(residual), room), residual)
        s[i] += step
        residual -= step
    return s


def usable(
    channels: Sequence[ChannelInput], settings: Settings
) -> tuple[list[ChannelInput], list[Excluded]]:
    """The channels with a cost to compare (sorted by slug), and the others with the reason."""
    chans, excluded = [], []
    for c in sorted(channels, key=lambda c: c.channel):
        fixed = settings.fixed_costs.get(c.channel, 0.0)
        cost = (weekly_cost(c.history_money, c.history_hours, settings.hourly_rate)
                + fixed * c.history_weeks)
        if c.history_weeks <= 0 or (c.history_money <= 0 and c.history_hours <= 0 and not fixed):
            excluded.append(Excluded(c.channel, c.name, "no money or hours recorded in the spend "
                                     "data: add it to the spend file to plan for it"))
        elif cost <= 0:
            excluded.append(Excluded(c.channel, c.name, "costs nothing at an hourly rate of 0: "
                                     "set the hourly rate to compare it"))
        elif cost < MIN_WEEKLY_COST * c.history_weeks:
            excluded.append(Excluded(c.channel, c.name, "next to nothing was spent on it, so "
                                     "its cost per lead cannot be compared"))
        else:
            chans.append(c)
    return chans, excluded


@dataclass(eq=False)
class _Split:
    """Weekly costs of the allocated channels (money plus hours at the hourly rate)."""

    fixed: np.ndarray  # fixed costs a week
    hist_cost: np.ndarray  # over the whole spend history
    anchor: np.ndarray  # an average week of the history
    current: np.ndarray  # an average recent week
    shares: np.ndarray  # current / current.sum()
    money_per_amount: np.ndarray  # money in one unit of amount (the rest is hours)
    hours_per_amount: np.ndarray  # hours in one unit of amount
    pool_money: float
    pool_hours: float
    pool: float
    notes: list[str]


def current_split(chans: Sequence[ChannelInput], s: Settings) -> _Split:
    rate = s.hourly_rate
    notes: list[str] = []
    fixed = np.array([s.fixed_costs.get(c.channel, 0.0) for c in chans])
    weeks = np.array([c.history_weeks for c in chans], dtype=float)
    hist_money = np.array([c.history_money for c in chans], dtype=float)
    hist_hours = np.array([c.history_hours for c in chans], dtype=float)
    hist_cost = hist_money + hist_hours * rate + fixed * weeks
    active_now = np.array([c.current_money > 0 or c.current_hours > 0 for c in chans])
    cur_money = np.array([c.current_money for c in chans]) + np.where(active_now, fixed, 0.0)
    cur_hours = np.array([c.current_hours for c in chans], dtype=float)
    if (cur_money + cur_hours * rate).sum() <= 0:
        notes.append("no spend in the recent weeks: the current split is the average week of "
                     "the whole spend history")
        cur_money, cur_hours = hist_money / weeks + fixed, hist_hours / weeks
    current = cur_money + cur_hours * rate
    # a channel keeps its own mix of money and hours (its history's when it is not running now)
    mix_money = np.where(current > 0, cur_money, hist_money / weeks + fixed)
    mix_hours = np.where(current > 0, cur_hours, hist_hours / weeks)
    mix_total = mix_money + mix_hours * rate
    safe_total = np.where(mix_total > 0, mix_total, 1.0)
    pool_money = float(s.budget_money if s.budget_money is not None else cur_money.sum())
    pool_hours = float(s.budget_hours if s.budget_hours is not None else cur_hours.sum())
    return _Split(
        fixed=fixed, hist_cost=hist_cost, anchor=hist_cost / weeks, current=current,
        shares=current / current.sum(),
        money_per_amount=np.where(mix_total > 0, mix_money / safe_total, 1.0),
        hours_per_amount=np.where(mix_total > 0, mix_hours / safe_total, 0.0),
        pool_money=pool_money, pool_hours=pool_hours, pool=pool_money + pool_hours * rate,
        notes=notes,
    )


@dataclass(eq=False)
class _Choice:
    """The recommended shares and the evidence behind them."""

    shares: np.ndarray
    relaxed: tuple[str, ...]
    eff: np.ndarray  # (draws, channels): value or wins per unit of cost at the current amounts
    mix: np.ndarray  # (draws,): the same for the current mix of the channels that can move
    p_best: np.ndarray
    p_beats: np.ndarray
    locked: np.ndarray
    frozen: np.ndarray
    caps: np.ndarray
    growth_hi: np.ndarray


def choose_shares(
    chans: Sequence[ChannelInput], model: Model, split: _Split, s: Settings, by_value: bool
) -> _Choice:
    """Thompson-sampling target shares, kept inside the guardrails."""
    n, now = len(chans), split.shares
    eff = model.efficiency(split.current, by_value)
    locked = np.array([c.channel in s.locked for c in chans])
    frozen = np.array([c.judged_leads < s.min_leads for c in chans]) & ~locked
    movable = ~locked & ~frozen
    # Thompson sampling: how often each channel is the best per unit of cost
    p_best = np.bincount(np.argmax(eff, axis=1), minlength=n) / s.draws
    target = np.zeros(n)
    if movable.any():
        best_movable = np.flatnonzero(movable)[np.argmax(eff[:, movable], axis=1)]
        target = np.bincount(best_movable, minlength=n) / s.draws * (1.0 - now[~movable].sum())
    # "the mix": what a unit of cost does now in the channels whose share can move
    weights = np.where(movable, now, 0.0)
    weights = weights / weights.sum() if weights.sum() > 0 else now
    mix = eff @ weights
    p_beats = (eff > mix[:, None]).mean(axis=0)
    caps = np.array([s.caps.get(c.channel, 1.0) for c in chans])
    growth_hi = np.ones(n)
    if s.max_growth is not None:  # in shares, so a bigger budget is not held back
        usual = np.maximum(now, split.anchor / split.anchor.sum())
        growth_hi = np.minimum(1.0, s.max_growth * usual)

    def bounds(active: set[str]) -> tuple[np.ndarray, np.ndarray]:
        return _bounds(now, growth_hi, locked, frozen, caps, p_beats >= s.confidence,
                       p_beats <= 1 - s.confidence, s, active)

    def feasible(active: set[str]) -> bool:
        lo, hi = bounds(active)
        return lo.sum() <= 1 + EPS and hi.sum() >= 1 - EPS

    active = set(_SOFT_GUARDRAILS)
    relaxed: list[str] = []
    for guardrail in _SOFT_GUARDRAILS:  # give way softest first, only as far as needed ...
        if feasible(active):
            break
        active.discard(guardrail)
        relaxed.append(guardrail)
    if not feasible(active):
        lo, hi = bounds(active)
        raise AllocationError(infeasible_message(chans, locked, caps, lo, hi))
    for guardrail in reversed(relaxed[:-1]):  # ... and restore those that did not need to
        if feasible(active | {guardrail}):
            active.add(guardrail)
            relaxed.remove(guardrail)
    shares = _project(target, *bounds(active))
    unchanged = np.abs(shares - now) < 1e-12
    shares[unchanged] = now[unchanged]
    return _Choice(shares, tuple(relaxed), eff, mix, p_best, p_beats, locked, frozen, caps,
                   growth_hi)
