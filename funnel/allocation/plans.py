"""One :class:`ChannelPlan` per allocated channel: its forecast numbers, its status (gain,
cut, hold, locked, too_few_leads), the guardrails its share sits against and its break-even
conversion; the sentences come from :mod:`funnel.allocation.words`.
"""

from __future__ import annotations

import numpy as np

from funnel.allocation.types import ChannelPlan, CurveFit
from funnel.allocation.words import TextContext, with_words
from funnel.metrics import costs, stats


def plan(ctx: TextContext, i: int, curve: CurveFit, predictive: np.ndarray) -> ChannelPlan:
    c, m, s = ctx.chans[i], ctx.model, ctx.settings
    extra = ctx.extra[:, i]
    e_low, e_high = m.interval_of(extra)
    value = (None, None, None)
    value_per_win = value_per_lead = None
    vpc = (None, None, None)
    eff_wins = ctx.model.efficiency(ctx.model.current, by_value=False)[:, i]
    if m.v is not None:
        ev = extra * m.v[:, i]
        value = (float(ev.mean()), *map(float, m.interval_of(ev)))
        value_per_win = float(m.v[:, i].mean())
        value_per_lead = float((m.p[:, i] * m.v[:, i]).mean())
        vpc_draws = eff_wins * m.v[:, i]
        vpc = (float(vpc_draws.mean()), *map(float, m.interval_of(vpc_draws)))
    f_low, f_high = m.interval_of(predictive)
    # the conversion a person reads: won / judged leads with its Wilson 95% interval, the
    # Sales page's definition (the posterior draws m.p stay the model's)
    conversion = c.judged_won / c.judged_leads if c.judged_leads else None
    p_low, p_high = stats.wilson(c.judged_won, c.judged_leads)
    status = _status(ctx, i)
    limits = _limits(ctx, i)
    break_even = _break_even(ctx, i)
    fixed_money = float(ctx.settings.fixed_costs.get(c.channel, 0.0)) * c.history_weeks
    leads_needed = max(0, s.min_leads - c.judged_leads) if status == "too_few_leads" else 0
    plan = ChannelPlan(
        channel=c.channel,
        label=c.name,
        status=status,
        current_share=float(ctx.before[i]),
        recommended_share=float(ctx.after[i]),
        current_amount=float(m.current[i]),
        recommended_amount=float(ctx.amounts[i]),
        current_money=float(m.current[i] * m.money_per_amount[i]),
        current_hours=float(m.current[i] * m.hours_per_amount[i]),
        recommended_money=float(ctx.amounts[i] * m.money_per_amount[i]),
        recommended_hours=float(ctx.amounts[i] * m.hours_per_amount[i]),
        expected_extra_wins=float(extra.mean()),
        expected_extra_wins_low=float(e_low),
        expected_extra_wins_high=float(e_high),
        expected_extra_value=value[0],
        expected_extra_value_low=value[1],
        expected_extra_value_high=value[2],
        forecast_wins=float(m.wins(ctx.amounts)[:, i].mean()),
        forecast_wins_low=float(f_low),
        forecast_wins_high=float(f_high),
        judged_leads=int(c.judged_leads),
        judged_won=int(c.judged_won),
        leads_needed=int(leads_needed),
        conversion=conversion,
        conversion_low=p_low,
        conversion_high=p_high,
        cost_per_lead=costs.cost_per_lead(c.history_money, c.history_leads),
        cost_per_lead_with_hours=costs.cost_per_lead(c.history_money + fixed_money,
                                                     c.history_leads, c.history_hours,
                                                     s.hourly_rate),
        value_per_win=value_per_win,
        value_per_lead=value_per_lead,
        value_per_cost=vpc[0],
        value_per_cost_low=vpc[1],
        value_per_cost_high=vpc[2],
        wins_per_cost=float(eff_wins.mean()),
        p_best=float(ctx.p_best[i]),
        p_beats_mix=float(ctx.p_beats[i]),
        break_even_conversion=break_even,
        response_curve=curve,
        limits=limits,
        reason="",
        what_would_change="",
    )
    return with_words(ctx, i, plan)


def _status(ctx: TextContext, i: int) -> str:
    if ctx.locked[i]:
        return "locked"
    if ctx.frozen[i] and abs(ctx.after[i] - ctx.before[i]) <= 1e-9:
        return "too_few_leads"
    if ctx.after[i] > ctx.before[i] + 1e-9:
        return "gain"
    if ctx.after[i] < ctx.before[i] - 1e-9:
        return "cut"
    return "hold"


def _limits(ctx: TextContext, i: int) -> tuple[str, ...]:
    """The guardrails the recommended share sits against."""
    s, a, c = ctx.settings, ctx.after[i], ctx.before[i]
    out = []
    if ctx.locked[i]:
        out.append("locked")
    if ctx.frozen[i]:
        out.append("min_leads")
    if ctx.caps[i] < 1 and a >= ctx.caps[i] - 1e-9:
        out.append("cap")
    if abs(abs(a - c) - s.max_change) < 1e-9 and a != c:
        out.append("max_change")
    if s.max_growth is not None and a > c and a >= ctx.growth_hi[i] - 1e-9:
        out.append("max_growth")
    floor = min(s.min_share, c)
    if c > 0 and abs(a - floor) < 1e-9 and ctx.p_beats[i] <= 1 - s.confidence:
        out.append("min_share")
    return tuple(out)


def _break_even(ctx: TextContext, i: int) -> float | None:
    """The conversion at which the channel would match the current mix per unit of cost."""
    m = ctx.model
    rest = m.per_lead_won(m.current, ctx.objective == "won_value")[:, i]
    if float(rest.mean()) <= 0:
        return None
    return float(ctx.mix.mean() / rest.mean())
