"""The allocator's words: every sentence of a recommendation (the summary, each channel's
reason and what would change it, notes, the what-if sentence, the infeasible-settings error)
in the one vocabulary of :mod:`funnel.format`: estimates (extra wins, won value, a break-even
cost) rounded to what the data carries, chances in words. :class:`TextContext` carries what the
sentences read. No model arithmetic beyond reading the draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import special as spsp  # scipy.stats costs ~0.6 s more to import

from funnel import format as fmt
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
    low = fmt.in_sentence(plan.label)
    share_now, share_new = fmt.pct(plan.current_share), fmt.pct(plan.recommended_share)
    now_amount = fmt.money_and_hours(plan.current_money, plan.current_hours, s.currency)
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
        new_amount = fmt.money_and_hours(plan.recommended_money, plan.recommended_hours,
                                         s.currency)
        if plan.p_beats_mix < s.confidence:
            why = "the caps and locks you set leave that money nowhere else to go"
        elif plan.p_best >= 0.2:
            why = fmt.chance_that(plan.p_best, f"it is the best channel {ctx.per_cost}")
        else:
            why = fmt.chance_that(plan.p_beats_mix, f"it beats the current mix {ctx.per_cost}")
        return (f"Raise {low} from {now_amount} to {new_amount} a week ({share_now} to "
                f"{share_new} of the budget), taking from {donors}: {why}; expected to bring "
                f"{_wins_range(plan)} from {weeks} weeks of leads{limit_words}.")
    if plan.status == "cut":
        receivers = [j for j in np.argsort(-ctx.gains) if ctx.gains[j] > 0]
        net = _pair_effect(ctx, i)
        moved = _moved_phrase(plan, s)
        names = _names(receivers, ctx)
        fraction = _share_of(ctx, i)
        parts = ", ".join(
            f"{fmt.in_sentence(ctx.chans[j].name)} "
            f"{fmt.signed_about_count(float(ctx.extra[:, j].mean()) * fraction)}"
            for j in receivers[:3]
        )
        if plan.p_beats_mix <= 1 - s.confidence:
            why = fmt.chance_that(1 - plan.p_beats_mix,
                                  f"{low} does worse {ctx.per_cost} than the current mix")
        elif "cap" in plan.limits:
            why = f"you capped {low} at {fmt.pct(s.caps.get(plan.channel, 1.0))}"
        else:
            why = "the guardrails you set require it"
        limit_words = _limit_words(plan, s, skip=("cap",) if "cap" in why else ())
        effect = fmt.more_or_fewer(*net)
        return (f"Moving {moved} to {names} is expected to bring {effect} "
                f"from {weeks} weeks of leads ({parts}, {low} "
                f"{fmt.signed_about_count(plan.expected_extra_wins)}): {why}{limit_words}.")
    why = _hold_why(ctx, i, plan)
    return f"Keep {low} at {now_amount} a week ({share_now} of the budget): {why}."


def _hold_why(ctx: TextContext, i: int, plan: ChannelPlan) -> str:
    s = ctx.settings
    beats = fmt.chance_that(plan.p_beats_mix, f"it beats the current mix {ctx.per_cost}")
    worse = fmt.chance_that(1 - plan.p_beats_mix,
                            f"it does worse {ctx.per_cost} than the current mix")
    if plan.p_beats_mix >= s.confidence:
        best = int(np.argmax(ctx.p_best))
        if ctx.cuts.sum() <= 0:
            return (f"{beats}, but no channel is clearly worse to take from")
        if best != i:
            return (f"{beats}, but {fmt.in_sentence(ctx.chans[best].name)} is likely better still")
        return f"{beats}, but it is at its limit for this period"
    if plan.p_beats_mix <= 1 - s.confidence:
        if "min_share" in plan.limits:
            return (f"{worse}, but it is at the {fmt.pct(s.min_share)} exploration floor, kept "
                    "so its numbers stay current")
        return (f"{worse}, but the channels that would take its money are at their limits "
                "this period")
    return (f"the evidence is not clear enough: {beats}, and money moves in only when that "
            f"is at least {fmt.pct(s.confidence)} likely and out only at "
            f"{fmt.pct(1 - s.confidence)} or less")


def _limit_words(plan: ChannelPlan, s: Settings, skip: tuple[str, ...] = ()) -> str:
    words = {
        "cap": f"capped at {fmt.pct(s.caps.get(plan.channel, 1.0))} by you",
        "max_change": f"limited to {round(100 * s.max_change)} share points a period",
        "max_growth": f"limited to {s.max_growth or 0:g}x its usual share in one period",
        "min_share": f"kept at the {fmt.pct(s.min_share)} exploration floor",
    }
    found = [words[k] for k in plan.limits if k in words and k not in skip]
    return f" ({'; '.join(found)})" if found else ""


def _what_would_change(ctx: TextContext, i: int, plan: ChannelPlan) -> str:
    s, low = ctx.settings, fmt.in_sentence(plan.label)
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
    conv = (f"now {fmt.pct(plan.conversion)} of its {plan.judged_leads:,} leads old enough to "
            f"judge, {fmt.pct_range(plan.conversion_low, plan.conversion_high)}")
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
        cost_text = (f" or a lead cost {{}} about {fmt.about_money(cpl_star, cur)} "
                     f"(now {fmt.money(cpl, currency=cur)}, money and hours at "
                     f"{fmt.money(s.hourly_rate, currency=cur)} an hour)")
    if plan.status == "gain" or (plan.status == "hold" and plan.p_beats_mix >= s.confidence):
        verb = "stop gaining" if plan.status == "gain" else "stop beating the mix"
        return (f"{plan.label} would {verb} if its conversion proved below {fmt.pct(p_star)} "
                f"({conv}){cost_text.format('more than')}.")
    if plan.status == "cut" or plan.p_beats_mix <= 1 - s.confidence:
        verb = "keep its share" if plan.status == "cut" else "stop trailing the mix"
        return (f"{plan.label} would {verb} if its conversion rose above {fmt.pct(p_star)} "
                f"({conv}){cost_text.format('less than')}.")
    needed = _leads_to_settle(ctx.chans[i], float(ctx.model.p[:, i].mean()), p_star,
                              s.confidence)
    settle = (f"; about {fmt.count(fmt.round_figures(needed))} more judged leads would tell"
              if needed else
              "; it sits at break-even, so more leads would hardly tell")
    return (f"{plan.label} beats the mix {ctx.per_cost} if it converts above {fmt.pct(p_star)} "
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
    text = (f"Move {fmt.pct(moved)} of the weekly budget "
            f"({fmt.money(moved * ctx.pool, currency=s.currency)} a week) from {donors} to "
            f"{receivers}: the next {s.forecast_weeks} weeks of leads "
            f"are expected to bring {fmt.more_or_fewer(mean, low, high)} than the current "
            f"split (about {fmt.about_count(base)})")
    if value[0] is not None:
        text += " and " + fmt.money_more_or_less(*value, currency=s.currency)
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
            f"({fmt.pct(s.confidence)} likelihood needed to move money)")


def _names(indices, ctx: TextContext) -> str:
    return names_text([fmt.in_sentence(ctx.chans[j].name) for j in indices])


def names_text(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b and 3 others'."""
    if len(names) > 3:
        names = [*names[:2], f"{len(names) - 2} others"]
    if len(names) <= 1:
        return "".join(names) or "no channel"
    return ", ".join(names[:-1]) + " and " + names[-1]


def _moved_phrase(plan: ChannelPlan, s: Settings) -> str:
    """'4.1 of cold call's 20.3 hours a week' (or money, whichever is most of its cost)."""
    low = fmt.in_sentence(plan.label)
    moved_hours = plan.current_hours - plan.recommended_hours
    moved_money = plan.current_money - plan.recommended_money
    hours_cost = plan.current_hours * s.hourly_rate
    if hours_cost >= plan.current_money and plan.current_hours > 0:
        text = f"{moved_hours:.1f} of {_possessive(low)} {plan.current_hours:.1f} hours a week"
        if plan.current_money >= 0.1 * plan.current_amount and moved_money >= 0.5:
            text += (f" (and {fmt.money(moved_money, currency=s.currency)} of its "
                     f"{fmt.money(plan.current_money, currency=s.currency)})")
        return text
    text = (f"{fmt.money(moved_money, currency=s.currency)} of {_possessive(low)} "
            f"{fmt.money(plan.current_money, currency=s.currency)} a week")
    if hours_cost >= 0.1 * plan.current_amount and moved_hours >= 0.05:
        text += f" (and {moved_hours:.1f} of its {plan.current_hours:.1f} hours)"
    return text


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def _wins_range(plan: ChannelPlan) -> str:
    return fmt.more_or_fewer(plan.expected_extra_wins, plan.expected_extra_wins_low,
                             plan.expected_extra_wins_high)


# --- the what-if sentence, notes and errors --------------------------------------------------


def what_if_sentence(w: WhatIf, weeks: int, currency: str) -> str:
    """The sentence under a what-if split (:meth:`funnel.allocation.model.Model.what_if`)."""
    sentence = (
        f"This split is expected to bring about {fmt.about_count(w.expected_wins)} wins "
        f"({fmt.about_count_range(w.expected_wins_low, w.expected_wins_high)} may actually "
        f"happen) from {weeks} weeks of leads: "
        f"{fmt.more_or_fewer(w.extra_wins, w.extra_wins_low, w.extra_wins_high)} than the "
        "current split"
    )
    if w.extra_value is not None:
        sentence += ", " + fmt.money_more_or_less(w.extra_value, w.extra_value_low,
                                                  w.extra_value_high, currency)
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
    notes = [f"hours are costed at {fmt.money(settings.hourly_rate, currency=cur)} an hour"]
    hours_gap = plan_hours - pool_hours
    money_gap = plan_money - pool_money
    if abs(hours_gap) * settings.hourly_rate > 0.05 * (pool_money + pool_hours
                                                      * settings.hourly_rate):
        more_less = "more" if hours_gap > 0 else "fewer"
        notes.append(
            f"this plan trades money for hours: it needs {abs(hours_gap):.1f} {more_less} hours "
            f"a week ({plan_hours:.1f} against a budget of {pool_hours:.1f}) and "
            f"{fmt.money(abs(money_gap), currency=cur)} {'more' if money_gap > 0 else 'less'} "
            f"money ({fmt.money(plan_money, currency=cur)} against "
            f"{fmt.money(pool_money, currency=cur)}); if that trade is not possible, lock the "
            "channels that cannot change or raise the hourly rate"
        )
    return notes
