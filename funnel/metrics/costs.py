"""Cost per lead: the one definition every page, export and the allocator use (SPEC 4).

Two figures, each with its own name so the same name always means the same number:

- **cost per lead (money only)**: money spent / leads;
- **cost per lead (money and hours)**: (money spent + hours x the hourly rate) / leads, the
  hours of unpaid work (cold calls, asking for referrals) costed at the owner's hourly rate.

Both are None when there are no leads or no spend recorded.
"""

from __future__ import annotations

import math

DEFAULT_HOURLY_RATE = 30.0  # what an hour of the team's time is worth, unless the owner says


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def cost_per_lead(money: object, leads: object, hours: object = None,
                  hourly_rate: float | None = None) -> float | None:
    """Money per lead (``hourly_rate`` None), or money plus ``hours`` at ``hourly_rate`` per
    lead. None without leads or without any spend recorded."""
    money_, leads_, hours_ = _number(money), _number(leads), _number(hours)
    if not leads_ or leads_ <= 0:
        return None
    if hourly_rate is None:
        return None if money_ is None else money_ / leads_
    if money_ is None and hours_ is None:
        return None
    return ((money_ or 0.0) + (hours_ or 0.0) * float(hourly_rate)) / leads_


def money_only_name() -> str:
    """The name of the money-only figure, as every page and export writes it."""
    return "Cost per lead (money only)"


def with_hours_name(hourly_rate: float, currency: str | None = None) -> str:
    """The name of the money-and-hours figure, with the rate it uses (in the store's currency
    mark unless ``currency`` is given)."""
    if currency is None:
        from funnel import format as fmt

        currency = fmt.current_mark()
    rate = f"{currency}{hourly_rate:,.0f}" if float(hourly_rate).is_integer() \
        else f"{currency}{hourly_rate:,.2f}"
    return f"Cost per lead (money and hours at {rate} an hour)"
