"""The allocator's words: every sentence of a recommendation (the summary, each channel's
reason and what would change it, notes, the what-if sentence, the infeasible-settings error)
and the number formatters they use (:func:`_pct`, :func:`_prob`, :func:`_money`, ...).
:class:`TextContext` carries what the sentences read. No model arithmetic beyond reading
the draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import special as spsp  # scipy.stats costs ~0.6 s more to import

from funnel.allocation.types import ChannelInput, ChannelPlan, Settings, WhatIf

if TYPE_CHECKING:
    from funnel.allocation.model import Model

LEADS_NEEDED_CAP = 10_000


# --- what the sentences read -----------------------------------------------------------------


@dataclass(eq=False)
class TextContext:
    """What the sentences read: the settings, the model, the shares before and after, the
    evidence behind them (per-channel columns sorted by channel) and the guardrails."""

    settings: Settings
    objective: str
    chans: list[ChannelInput]
    model: Model
    before: np.ndarray
    after: np.ndarray
    amounts: np.ndarray
    extra: np.ndarray
    eff: np.ndarray
    mix: np.ndarray
    p_best: np.ndarray
    p_beats: np.ndarray
    frozen: np.ndarray
    locked: np.ndarray
    caps: np.ndarray
    growth_hi: np.ndarray
    pool: float

    @property
    def gains(self) -> np.ndarray:
        return np.where(self.after - self.before > 1e-9, self.after - self.before, 0.0)

    @property
    def cuts(self) -> np.ndarray:
        return np.where(self.before - self.after > 1e-9, self.before - self.after, 0.0)

    @property
    def per_cost(self) -> str:
        return "per dollar" if self.settings.currency == "$" else "per unit of cost"


# --- one channel's reason and what would change it -------------------------------------------


def _leads_to_settle(c: ChannelInput, p_hat: float, p_star: float, confidence: float) -> int | None:
    """Roughly how many more judged leads would tell whether the rate is above or below p_star."""
    gap = abs(p_hat - p_star)
    if gap < 1e-6:
        return None
    z = float(spsp.ndtri(confidence))  # normal quantile
    needed = z * z * p_hat * (1 - p_hat) / (gap * gap) - c.judged_leads
    needed = max(10, math.ceil(needed))
    return needed if needed <= LEADS_NEEDED_CAP else None


def with_words(ctx: TextContext, i: int, plan: ChannelPlan) -> ChannelPlan:
    reason = _reason(ctx, i, plan)
    change = _what_would_change(ctx, i, plan)
    return replace(plan, reason=reason, what_would_change=change)


def _reason(ctx: TextContext, i: int, plan: ChannelPlan) -> str:
    s, weeks = ctx.settings, ctx.settings.forecast_weeks
    low = plan.label.lower()
    share_now, share_new = _pct(plan.current_share), _pct(plan.recommended_share)
    now_amount = _amount_phrase(plan.current_money, plan.current_hours, s.currency)
    if plan.status == "locked":
        return f"Keep {low} at {now_amount} a week ({share_now} of the budget): locked by you."
    if plan.status == "too_few_leads":
        judged = (f"only {plan.judged_leads} of its leads are" if plan.judged_leads
                  else "none of its leads is yet")
        return (f"Keep {low} at {share_now} of the budget: {judged} old enough to judge; it "
                f"needs {plan.leads_needed} more before its share moves.")
    limit_words = _limit_words(plan, s)
    if plan.status == "gain":
        donors = _names([j for j in np.argsort(-ctx.cuts) if ctx.cuts[j] > 0], ctx)
        new_amount = _amount_phrase(plan.recommended_money, plan.recommended_hours, s.currency)
        if plan.p_beats_mix < s.confidence:
            why = "the caps and locks you set leave that money nowhere else to go"
        elif plan.p_best >= 0.2:
            why = f"it is the best channel {ctx.per_cost} in {_prob(plan.p_best)} of simulations"
        else:
            why = (f"it beats the current mix {ctx.per_cost} with {_prob(plan.p_beats_mix)} "
                   "probability")
        return (f"Raise {low} from {now_amount} to {new_amount} a week ({share_now} to "
                f"{share_new} of the budget), taking from {donors}: {why}; expected "
                f"{_wins_range(plan)} wins from {weeks} weeks of leads{limit_words}.")
    if plan.status == "cut":
        receivers = [j for j in np.argsort(-ctx.gains) if ctx.gains[j] > 0]
        net = _pair_effect(ctx, i)
        moved = _moved_phrase(plan, s)
        names = _names(receivers, ctx)
        fraction = _share_of(ctx, i)
        parts = ", ".join(
            f"{ctx.chans[j].name.lower()} {_signed(float(ctx.extra[:, j].mean()) * fraction)}"
            for j in receivers[:3]
        )
        if plan.p_beats_mix <= 1 - s.confidence:
            why = (f"{low} does worse {ctx.per_cost} than the current mix with "
                   f"{_prob(1 - plan.p_beats_mix)} probability")
        elif "cap" in plan.limits:
            why = f"you capped {low} at {_pct(s.caps.get(plan.channel, 1.0))}"
        else:
            why = "the guardrails you set require it"
        limit_words = _limit_words(plan, s, skip=("cap",) if "cap" in why else ())
        effect = (f"add {_range_text(*net)} wins" if net[0] >= 0 else
                  f"cost {_range_text(-net[0], -net[2], -net[1], signed=False)} wins")
        return (f"Moving {moved} to {names} is expected to {effect} "
                f"from {weeks} weeks of leads ({parts}, {low} "
                f"{_signed(plan.expected_extra_wins)}): {why}{limit_words}.")
    why = _hold_why(ctx, i, plan)
    return f"Keep {low} at {now_amount} a week ({share_now} of the budget): {why}."


def _hold_why(ctx: TextContext, i: int, plan: ChannelPlan) -> str:
    s = ctx.settings
    if plan.p_beats_mix >= s.confidence:
        best = int(np.argmax(ctx.p_best))
        if ctx.cuts.sum() <= 0:
            return (f"it beats the current mix {ctx.per_cost} ({_prob(plan.p_beats_mix)} likely), "
                    "but no channel is clearly worse to take from")
        if best != i:
            return (f"it beats the current mix {ctx.per_cost} ({_prob(plan.p_beats_mix)} likely), "
                    f"but {ctx.chans[best].name.lower()} is likely better still")
        return (f"it beats the current mix {ctx.per_cost} ({_prob(plan.p_beats_mix)} likely), "
                "but it is at its limit for this period")
    if plan.p_beats_mix <= 1 - s.confidence:
        if "min_share" in plan.limits:
            return (f"it does worse {ctx.per_cost} than the current mix "
                    f"({_prob(1 - plan.p_beats_mix)} likely), but it is at the "
                    f"{_pct(s.min_share)} exploration floor, kept so its numbers stay current")
        return (f"it does worse {ctx.per_cost} than the current mix "
                f"({_prob(1 - plan.p_beats_mix)} likely), but the channels that would take its "
                "money are at their limits this period")
    return (f"the evidence is not clear enough: it beats the current mix {ctx.per_cost} in "
            f"{_prob(plan.p_beats_mix)} of simulations, and money moves in only from "
            f"{_pct(s.confidence)} and out only from {_pct(1 - s.confidence)} or less")


def _limit_words(plan: ChannelPlan, s: Settings, skip: tuple[str, ...] = ()) -> str:
    words = {
        "cap": f"capped at {_pct(s.caps.get(plan.channel, 1.0))} by you",
        "max_change": f"limited to {round(100 * s.max_change)} share points a period",
        "max_growth": f"limited to {s.max_growth or 0:g}x its usual share in one period",
        "min_share": f"kept at the {_pct(s.min_share)} exploration floor",
    }
    found = [words[k] for k in plan.limits if k in words and k not in skip]
    return f" ({'; '.join(found)})" if found else ""


def _what_would_change(ctx: TextContext, i: int, plan: ChannelPlan) -> str:
    s, low = ctx.settings, plan.label.lower()
    if plan.status == "locked":
        return f"Unlock {low} to let the evidence move it."
    if plan.status == "too_few_leads":
        return (f"Its share can move once {plan.leads_needed} more of its leads are old enough "
                f"to judge ({s.min_leads} in all).")
    if plan.status == "cut" and "cap" in plan.limits and plan.p_beats_mix > 1 - s.confidence:
        return f"Raise or remove your cap on {low} to let it keep its share."
    if plan.status == "gain" and plan.p_beats_mix < s.confidence:
        return (f"{plan.label} gains only because your caps and locks leave the money nowhere "
                "else; lift them and it would not.")
    conv = (f"now {_pct(plan.conversion)} of its {plan.judged_leads:,} leads old enough to "
            f"judge, 95% interval {_pct(plan.conversion_low)}-{_pct(plan.conversion_high)}")
    p_star = plan.break_even_conversion
    cpl = plan.cost_per_lead_with_hours
    cpl_star = None
    if cpl is not None and float(ctx.mix.mean()) > 0:
        cpl_star = cpl * float(ctx.eff[:, i].mean()) / float(ctx.mix.mean())
    if p_star is None:
        return "It would need leads that convert before the allocator could judge it."
    cost_text = ""
    if cpl is not None and cpl_star is not None:
        cur = s.currency
        cost_text = (f" or a lead cost {{}} {_money(cpl_star, cur)} (now {_money(cpl, cur)}, "
                     f"money and hours at {_money(s.hourly_rate, cur)} an hour)")
    if plan.status == "gain" or (plan.status == "hold" and plan.p_beats_mix >= s.confidence):
        verb = "stop gaining" if plan.status == "gain" else "stop beating the mix"
        return (f"{plan.label} would {verb} if its conversion proved below {_pct(p_star)} "
                f"({conv}){cost_text.format('more than')}.")
    if plan.status == "cut" or plan.p_beats_mix <= 1 - s.confidence:
        verb = "keep its share" if plan.status == "cut" else "stop trailing the mix"
        return (f"{plan.label} would {verb} if its conversion rose above {_pct(p_star)} "
                f"({conv}){cost_text.format('less than')}.")
    needed = _leads_to_settle(ctx.chans[i], float(ctx.model.p[:, i].mean()), p_star,
                              s.confidence)
    settle = (f"; about {needed:,} more judged leads would tell" if needed else
              "; it sits at break-even, so more leads would hardly tell")
    return (f"{plan.label} beats the mix {ctx.per_cost} if it converts above {_pct(p_star)} "
            f"({conv}){settle}.")


def _share_of(ctx: TextContext, i: int) -> float:
    total = ctx.cuts.sum()
    return float(ctx.cuts[i] / total) if total > 0 else 0.0


def _pair_effect(ctx: TextContext, i: int) -> tuple[float, float, float]:
    """Net extra wins of moving donor i's cut to the receivers (their gains pro rata)."""
    fraction = _share_of(ctx, i)
    receivers = ctx.gains > 0
    draws = ctx.extra[:, receivers].sum(axis=1) * fraction + ctx.extra[:, i]
    low, high = ctx.model.interval_of(draws)
    return float(draws.mean()), float(low), float(high)


# --- the recommendation's summary ------------------------------------------------------------


def summary(ctx: TextContext, mean: float, low: float, high: float, value) -> str:
    s = ctx.settings
    moved = ctx.gains.sum()
    if moved <= 1e-9:
        return "Keep the current split: " + _why_no_move(ctx) + "."
    donors = _names([j for j in np.argsort(-ctx.cuts) if ctx.cuts[j] > 0], ctx)
    receivers = _names([j for j in np.argsort(-ctx.gains) if ctx.gains[j] > 0], ctx)
    base = float(ctx.model.wins(ctx.model.current).sum(axis=1).mean())
    effect = (f"{_range_text(mean, low, high)} wins more" if mean >= 0 else
              f"{_range_text(-mean, -high, -low, signed=False)} fewer wins")
    text = (f"Move {_pct(moved)} of the weekly budget ({_money(moved * ctx.pool, s.currency)} "
            f"a week) from {donors} to {receivers}: the next {s.forecast_weeks} weeks of leads "
            f"are expected to bring {effect} than the current split (about {base:.0f})")
    if value[0] is not None:
        v_low, v_high = (_signed_money(x, s.currency) for x in value[1:])
        text += f" and {_signed_money(value[0], s.currency)} ({v_low} to {v_high}) won value"
    return text + "."


def _why_no_move(ctx: TextContext) -> str:
    s = ctx.settings
    movable = ~ctx.locked & ~ctx.frozen
    if not movable.any():
        return "every channel is locked or has too few judged leads to move"
    better = [j for j in np.flatnonzero(movable) if ctx.p_beats[j] >= s.confidence]
    worse = [j for j in np.flatnonzero(movable) if ctx.p_beats[j] <= 1 - s.confidence]
    if better and not worse:
        verb = "looks" if len(better) == 1 else "look"
        return (f"{_names(better, ctx)} {verb} better {ctx.per_cost} than the current mix, but "
                "no channel is clearly worse to take money from")
    if worse and not better:
        verb = "looks" if len(worse) == 1 else "look"
        return (f"{_names(worse, ctx)} {verb} worse {ctx.per_cost} than the current mix, but "
                "no channel is clearly better to give their money to")
    if better and worse:
        return "the guardrails leave no room to move money this period"
    return (f"no channel is clearly better or worse {ctx.per_cost} than the current mix "
            f"({_pct(s.confidence)} likelihood needed to move money)")


def _names(indices, ctx: TextContext) -> str:
    return names_text([ctx.chans[j].name.lower() for j in indices])


def names_text(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b and 3 others'."""
    if len(names) > 3:
        names = [*names[:2], f"{len(names) - 2} others"]
    if len(names) <= 1:
        return "".join(names) or "no channel"
    return ", ".join(names[:-1]) + " and " + names[-1]


def _moved_phrase(plan: ChannelPlan, s: Settings) -> str:
    """'4.1 of cold call's 20.3 hours a week' (or money, whichever is most of its cost)."""
    low = plan.label.lower()
    moved_hours = plan.current_hours - plan.recommended_hours
    moved_money = plan.current_money - plan.recommended_money
    hours_cost = plan.current_hours * s.hourly_rate
    if hours_cost >= plan.current_money and plan.current_hours > 0:
        text = f"{moved_hours:.1f} of {_possessive(low)} {plan.current_hours:.1f} hours a week"
        if plan.current_money >= 0.1 * plan.current_amount and moved_money >= 0.5:
            text += (f" (and {_money(moved_money, s.currency)} of its "
                     f"{_money(plan.current_money, s.currency)})")
        return text
    text = (f"{_money(moved_money, s.currency)} of {_possessive(low)} "
            f"{_money(plan.current_money, s.currency)} a week")
    if hours_cost >= 0.1 * plan.current_amount and moved_hours >= 0.05:
        text += f" (and {moved_hours:.1f} of its {plan.current_hours:.1f} hours)"
    return text


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def _amount_phrase(money: float, hours: float, currency: str) -> str:
    parts = []
    if hours >= 0.05:
        parts.append(f"{hours:.1f} hours")
    if money >= 0.5 or not parts:
        parts.append(_money(money, currency))
    return " + ".join(parts)


def _wins_range(plan: ChannelPlan) -> str:
    return _range_text(plan.expected_extra_wins, plan.expected_extra_wins_low,
                       plan.expected_extra_wins_high)


# --- number formats --------------------------------------------------------------------------


def _range_text(mean: float, low: float, high: float, signed: bool = True) -> str:
    return f"{_signed(mean) if signed else f'{mean:.1f}'} ({low:.1f} to {high:.1f})"


def _signed(x: float) -> str:
    return f"{'+' if x >= 0.05 else ('-' if x <= -0.05 else '')}{abs(x):.1f}"


def _pct(x: float | None) -> str:
    """0.238 -> '24%', 0.046 -> '4.6%', 0.05 -> '5%'."""
    if x is None:
        return "n/a"
    value = 100 * x
    text = f"{value:.1f}" if 0 < abs(value) < 10 else f"{value:.0f}"
    return text.removesuffix(".0") + "%"


def _prob(x: float) -> str:
    """A probability from simulations: never '100%' or '0%' (it is an estimate)."""
    if x > 0.999:
        return ">99.9%"
    if x < 0.001:
        return "<0.1%"
    return f"{100 * x:.1f}%" if x >= 0.99 or x <= 0.01 else _pct(x)


def _money(x: float, currency: str = "$") -> str:
    return f"{currency}{x:,.2f}" if 0 < abs(x) < 10 else f"{currency}{x:,.0f}"


def _signed_money(x: float | None, currency: str = "$") -> str:
    if x is None:
        return "n/a"
    sign = "+" if x >= 0.5 else ("-" if x <= -0.5 else "")
    return f"{sign}{_money(abs(x), currency)}"


# --- the what-if sentence, notes and errors --------------------------------------------------


def what_if_sentence(w: WhatIf, weeks: int, currency: str) -> str:
    """The sentence under a what-if split (:meth:`funnel.allocation.model.Model.what_if`)."""
    sentence = (
        f"This split is expected to bring {w.expected_wins:.1f} wins "
        f"({w.expected_wins_low:.0f}-{w.expected_wins_high:.0f} may actually happen) from {weeks} "
        f"weeks of leads: {_signed(w.extra_wins)} ({_signed(w.extra_wins_low)} to "
        f"{_signed(w.extra_wins_high)}) against the current split"
    )
    if w.extra_value is not None:
        sentence += f", {_signed_money(w.extra_value, currency)} won value"
    return sentence + "."


def infeasible_message(chans, locked, caps, lo, hi) -> str:
    locked_names = [c.name for c, is_locked in zip(chans, locked, strict=True) if is_locked]
    capped = [f"{c.name} {cap:.0%}" for c, cap in zip(chans, caps, strict=True) if cap < 1]
    short = 1 - hi.sum() if hi.sum() < 1 else lo.sum() - 1
    return (
        f"locks ({', '.join(locked_names) or 'none'}) and caps ({', '.join(capped) or 'none'}) "
        f"leave {short:.0%} of the budget with nowhere to go: raise a cap or unlock a channel"
    )


GUARDRAIL_WORDS = {
    "evidence": "moves only on clear evidence",
    "min_share": "the minimum exploration share",
    "max_growth": "the limit on growth per period",
    "max_change": "the limit on change per period",
    "min_leads": "no move for channels with too few judged leads",
}


def mix_notes(settings, pool_money, pool_hours, plan_money, plan_hours) -> list[str]:
    cur = settings.currency
    notes = [f"hours are costed at {_money(settings.hourly_rate, cur)} an hour"]
    hours_gap = plan_hours - pool_hours
    money_gap = plan_money - pool_money
    if abs(hours_gap) * settings.hourly_rate > 0.05 * (pool_money + pool_hours
                                                      * settings.hourly_rate):
        more_less = "more" if hours_gap > 0 else "fewer"
        notes.append(
            f"this plan trades money for hours: it needs {abs(hours_gap):.1f} {more_less} hours "
            f"a week ({plan_hours:.1f} against a budget of {pool_hours:.1f}) and "
            f"{_money(abs(money_gap), cur)} {'more' if money_gap > 0 else 'less'} money "
            f"({_money(plan_money, cur)} against {_money(pool_money, cur)}); if that trade is "
            "not possible, lock the channels that cannot change or raise the hourly rate"
        )
    return notes
