"""Numbers and names as a person reads them: percentages, money, counts, days, channel labels.

Pure functions, no Streamlit. ``None`` and NaN show as an en dash.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import math
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from funnel.synonyms import CHANNELS, STAGES

if TYPE_CHECKING:
    import pandas as pd

MISSING = "–"
CURRENCY = "$"  # the mark money is written with when no file named a currency
# What an amount is written with, per ISO code of the store's currency (SPEC 3, "Currency");
# another code is written before the amount ('CHF 1,234').
CURRENCY_MARKS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "AUD": "A$",
                  "CAD": "C$", "NZD": "NZ$", "SGD": "S$", "HKD": "HK$", "MXN": "MX$",
                  "BRL": "R$", "ZAR": "R", "CNY": "CN¥", "KRW": "₩"}
# The mark of the store being shown, set per script run (app.py) or per command (the CLI), so
# no page or export writes "$" for a store of euros. A ContextVar: one run's setting never
# reaches another thread's.
_MARK: contextvars.ContextVar[str] = contextvars.ContextVar("funnel_currency_mark",
                                                            default=CURRENCY)


def currency_mark(code: str | None) -> str:
    """The mark an amount in ``code`` is written with: 'USD' -> '$', 'EUR' -> '€', 'CHF' ->
    'CHF '; no code (no file named a currency) -> :data:`CURRENCY`."""
    if not code:
        return CURRENCY
    code = str(code).strip().upper()
    return CURRENCY_MARKS.get(code, f"{code} ")


def current_mark() -> str:
    """The mark money is written with now (:func:`in_currency`)."""
    return _MARK.get()


@contextlib.contextmanager
def in_currency(code: str | None):
    """Write money in ``code``'s mark inside the block (the store's currency: a page run, a
    command)."""
    token = _MARK.set(currency_mark(code))
    try:
        yield
    finally:
        _MARK.reset(token)

KIND_LABELS = {"inbound": "Inbound (they come to you)", "outbound": "Outbound (you chase them)",
               "unknown": "Not classed"}
KIND_SHORT = {"inbound": "Inbound", "outbound": "Outbound", "unknown": "Not classed"}
TEMPERATURE_LABELS = {"cold": "Cold", "warm": "Warm", "hot": "Hot"}


def is_missing(value: object) -> bool:
    """True for None, NaN and pandas' NA/NaT. Imports no pandas: a process that has not loaded
    it (the CLI before its command runs) holds no NA or NaT."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    pandas = sys.modules.get("pandas")
    if pandas is None:
        return False
    try:
        return bool(pandas.isna(value))
    except (TypeError, ValueError):
        return False


def pct(value: float | None, decimals: int | None = None) -> str:
    """0.238 -> '24%', 0.046 -> '5%'; below 1% one decimal ('0.4%'); exact 0 -> '0%'.

    The same rounding as the sentences of ``funnel.metrics.stats`` so a number reads the same in a
    sentence and beside it."""
    if is_missing(value):
        return MISSING
    number = 100 * float(value)
    if decimals is None:
        decimals = 1 if 0 < abs(number) < 1 else 0
    return f"{number:.{decimals}f}%"


def pct_range(low: float | None, high: float | None) -> str:
    """(0.18, 0.31) -> '18–31%'."""
    if is_missing(low) or is_missing(high):
        return MISSING
    return f"{pct(low)[:-1]}–{pct(high)}"


def pct_with_range(value: float | None, low: float | None, high: float | None) -> str:
    """'24% (18–31%)': a rate and its 95% interval."""
    if is_missing(value):
        return MISSING
    return f"{pct(value)} ({pct_range(low, high)})"


def signed_pct(value: float | None) -> str:
    """0.12 -> '+12%', -0.05 -> '−5.0%'."""
    if is_missing(value):
        return MISSING
    text = pct(abs(float(value)))
    if float(value) > 0:
        return "+" + text
    return ("−" + text) if float(value) < 0 else text


def chance(value: float | None) -> str:
    """A probability: '>99.9%' and '<0.1%' at the extremes, else one decimal."""
    if is_missing(value):
        return MISSING
    number = float(value)
    if number > 0.999:
        return ">99.9%"
    if number < 0.001:
        return "<0.1%"
    return f"{100 * number:.1f}%"


def points(value: float | None) -> str:
    """A difference of two rates in percentage points: 0.031 -> '+3.1 pts'."""
    if is_missing(value):
        return MISSING
    number = 100 * float(value)
    sign = "+" if number > 0 else ("−" if number < 0 else "")
    return f"{sign}{abs(number):.1f} pts"


def money(value: float | None, decimals: int = 0, currency: str | None = None) -> str:
    """1234.5 -> '$1,235'; below $10 with cents. ``currency``: the symbol or code written
    before the amount ('$', '€', 'EUR ')."""
    if is_missing(value):
        return MISSING
    number = float(value)
    if decimals == 0 and 0 < abs(number) < 10:
        decimals = 2
    sign = "−" if number < 0 else ""
    mark = _MARK.get() if currency is None else currency
    return f"{sign}{mark}{abs(number):,.{decimals}f}"


def signed_money(value: float | None, currency: str | None = None) -> str:
    """A change in money: 120 -> '+$120', -35 -> '−$35', under 50 cents -> '$0'."""
    if is_missing(value):
        return MISSING
    number = float(value)
    sign = "+" if number >= 0.5 else ("−" if number <= -0.5 else "")
    return sign + money(abs(number) if sign else 0.0, currency=currency)


def money_and_hours(money: float | None, hours: float | None, currency: str | None = None,
                    short: bool = False) -> str:
    """What a channel costs in a period: '2.7 hours + $25', '$550', '20.1 hours'
    ('2.7 h + $25' when ``short``, for tables); nothing spent -> '$0'."""
    parts = []
    if finite(hours) and round(float(hours), 1) != 0:
        parts.append(f"{float(hours):.1f} {'h' if short else 'hours'}")
    if finite(money) and round(float(money)) != 0:
        parts.append(money_text(money, currency))
    return " + ".join(parts) or money_text(0, currency)


def money_text(value: float | None, currency: str | None = None) -> str:
    """:func:`money` with a currency (a name :func:`money_and_hours` can use beside its own
    ``money`` argument)."""
    return money(value, currency=currency)


def round_figures(value: float, figures: int = 2) -> float:
    """``value`` to ``figures`` significant figures: 62820 -> 63000, 47947 -> 48000, 364 -> 360.

    For estimates (a forecast, a simulation's mean and range): the data cannot tell $62,820
    from $62,000, so neither should the words."""
    number = float(value)
    if number == 0 or not math.isfinite(number):
        return number
    digits = figures - 1 - math.floor(math.log10(abs(number)))
    return float(round(number, digits))


def about_money(value: float | None, currency: str | None = None) -> str:
    """An estimated amount at two significant figures: 62820 -> '$63,000', 4.37 -> '$4.40'."""
    if is_missing(value):
        return MISSING
    number = round_figures(float(value))
    return money(number, decimals=2 if 0 < abs(number) < 10 else 0, currency=currency)


def about_money_range(low: float | None, high: float | None, currency: str | None = None) -> str:
    """'$48,000 to $79,000' (each end at two significant figures)."""
    return f"{about_money(low, currency)} to {about_money(high, currency)}"


def about_count(value: float | None) -> str:
    """An estimated count in whole numbers: 25.5 -> '26', 19.8 -> '20'; under 2 one decimal
    ('0.7'), where a whole number would read as none or one."""
    if is_missing(value):
        return MISSING
    number = float(value)
    if abs(number) < 2:
        text = f"{abs(number):.1f}".removesuffix(".0")
        return ("−" if number <= -0.05 else "") + text
    return f"{round(number):,}".replace("-", "−")


def about_count_range(low: float | None, high: float | None) -> str:
    """'20 to 32' (see :func:`about_count`)."""
    return f"{about_count(low)} to {about_count(high)}"


def more_or_fewer(mean: float, low: float, high: float, noun: str = "wins") -> str:
    """An estimated change in words: (25.5, 19.8, 31.8) -> 'about 26 more wins (20 to 32)';
    (-1.5, -2.2, -1.0) -> 'about 1.5 fewer wins (1 to 2)'; near zero -> 'about the same
    wins'. ``noun`` '' for a table cell: 'about 26 more (20 to 32)'."""
    if is_missing(mean):
        return MISSING
    noun = f" {noun}" if noun else ""
    if abs(float(mean)) < 0.05:
        return f"about the same{noun}" if noun else "no change"
    if float(mean) > 0:
        return f"about {about_count(mean)} more{noun} ({about_count_range(low, high)})"
    return (f"about {about_count(-float(mean))} fewer{noun} "
            f"({about_count_range(-float(high), -float(low))})")


def money_more_or_less(mean: float | None, low: float | None, high: float | None,
                       currency: str | None = None, noun: str = "won value") -> str:
    """'about $63,000 more won value ($48,000 to $79,000)', or '... less ...'; ``noun`` ''
    for a table cell."""
    if is_missing(mean):
        return MISSING
    noun = f" {noun}" if noun else ""
    if abs(float(mean)) < 0.5:
        return f"about the same{noun}" if noun else "no change"
    if float(mean) > 0:
        return (f"about {about_money(mean, currency)} more{noun} "
                f"({about_money_range(low, high, currency)})")
    return (f"about {about_money(-float(mean), currency)} less{noun} "
            f"({about_money_range(-float(high), -float(low), currency)})")


def signed_about_count(value: float | None) -> str:
    """An estimated change for a headline number: 25.5 -> '+26', -0.7 -> '−0.7', 0 -> '0'."""
    if is_missing(value):
        return MISSING
    if abs(float(value)) < 0.05:
        return "0"
    return ("+" if float(value) > 0 else "") + about_count(value)


def signed_about_money(value: float | None, currency: str | None = None) -> str:
    """An estimated change in money for a headline number: 62820 -> '+$63,000'."""
    if is_missing(value):
        return MISSING
    number = float(value)
    if abs(number) < 0.5:
        return money(0, currency=currency)
    return ("+" if number > 0 else "−") + about_money(abs(number), currency)


def chance_words(value: float | None) -> str:
    """A probability in words, as in 'it is ___ that ...': 'almost certain' (above 99%),
    'very likely' (95%), 'likely' (75%), 'more likely than not' (60%), 'about an even chance'
    (40-60%), 'less likely than not', 'unlikely' (below 25%), 'very unlikely' (below 5%).

    A simulation's 55% is not a number to read to the point: it is an even chance."""
    if is_missing(value):
        return MISSING
    p = float(value)
    if p >= 0.4 and p <= 0.6:
        return "about an even chance"
    for floor, words in ((0.99, "almost certain"), (0.95, "very likely"), (0.75, "likely"),
                         (0.6, "more likely than not"), (0.25, "less likely than not"),
                         (0.05, "unlikely")):
        if p > floor:
            return words
    return "very unlikely"


def chance_that(value: float | None, clause: str) -> str:
    """'it is almost certain that referral is better', 'there is about an even chance that it
    is the best channel per dollar'."""
    words = chance_words(value)
    if words == "about an even chance":
        return f"there is about an even chance that {clause}"
    return f"it is {words} that {clause}"


def md_table(header: list[str], rows: Iterable[Iterable[object]],
             right: Iterable[bool] | None = None) -> list[str]:
    """A Markdown table's lines. Cells are written as given (escape words from files with
    :func:`funnel.safe_text.md_text` first); a '|' inside a cell is escaped, line breaks become
    spaces. ``right``: which columns to right-align (numbers)."""
    def cell(value: object) -> str:
        text = "" if is_missing(value) else str(value)
        return text.replace("\r", " ").replace("\n", " ").replace("|", "\\|")

    header = list(header)
    align = list(right) if right is not None else [False] * len(header)
    out = ["| " + " | ".join(cell(h) for h in header) + " |",
           "| " + " | ".join("---:" if r else "---" for r in align) + " |"]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return out


def money_short(value: float | None) -> str:
    """Compact money for tight labels: '$1.2k', '$3.4M'."""
    if is_missing(value):
        return MISSING
    number = float(value)
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(number) >= limit:
            return f"{_MARK.get()}{number / limit:.1f}{suffix}"
    return money(number)


def count(value: float | None) -> str:
    """1234 -> '1,234'."""
    if is_missing(value):
        return MISSING
    return f"{int(round(float(value))):,}"


def signed_count(value: float | None) -> str:
    """12 -> '+12', -3 -> '−3'."""
    if is_missing(value):
        return MISSING
    number = int(round(float(value)))
    return f"+{number:,}" if number > 0 else (f"−{abs(number):,}" if number < 0 else "0")


def delta_count(value: float | None) -> str | None:
    """A change in a count for ``st.metric`` (ASCII minus so it points down; '0' is neutral)."""
    if is_missing(value):
        return None
    number = int(round(float(value)))
    return f"{number:+,}" if number else "0"


def delta_points(value: float | None) -> str | None:
    """A change in a rate for ``st.metric``: '+3.1 pts', '-2.0 pts', '0' when unchanged."""
    if is_missing(value):
        return None
    number = 100 * float(value)
    return f"{number:+.1f} pts" if abs(number) >= 0.05 else "0"


def days(value: float | None) -> str:
    """17.94 -> '18 days'; one decimal under 10 days, none when it is whole (7.0 -> '7 days')."""
    if is_missing(value):
        return MISSING
    text = day_count(value)
    return f"{text} day" if text == "1" else f"{text} days"


def day_count(value: float) -> str:
    """The number of :func:`days` without its unit, for a column headed in days: '18', '3.5'."""
    number = float(value)
    text = f"{number:.1f}" if number < 10 else f"{number:,.0f}"
    return text.removesuffix(".0")


def median_stay(median: float | None, timed: int) -> str:
    """A stage's median stay in words: unknown when the data times no stay there; when more
    than half the timed stays are still going, the median is not reached yet."""
    if not is_missing(median):
        return days(median)
    return "not reached: most are still there" if timed else "not in the data"


def date(value: object) -> str:
    """A date as '16 Nov 2026'."""
    if is_missing(value):
        return MISSING
    stamp = _timestamp(value)
    return f"{stamp.day} {stamp:%b %Y}"


def date_time(value: object) -> str:
    """A moment as '7 Dec 2026 23:12' (the day as ``date`` writes it)."""
    if is_missing(value):
        return MISSING
    stamp = _timestamp(value)
    return f"{stamp.day} {stamp:%b %Y %H:%M}"


def week(value: object) -> str:
    """An ISO week's Monday as 'Week of 16 Nov'."""
    if is_missing(value):
        return MISSING
    stamp = _timestamp(value)
    return f"Week of {stamp.day} {stamp:%b}"


def short_date(value: object) -> str:
    """'16 Nov'."""
    if is_missing(value):
        return MISSING
    stamp = _timestamp(value)
    return f"{stamp.day} {stamp:%b}"


def _timestamp(value: object):
    import pandas as pd  # here, not at import: the CLI's start stays light

    return pd.Timestamp(value)


def iso(value: dt.date | None) -> str | None:
    """A date as ISO text, None stays None."""
    return value.isoformat() if value is not None else None


def humanize(slug_text: str) -> str:
    """'sales_mail_alias' -> 'Sales mail alias'."""
    text = str(slug_text).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else MISSING


def channel_label(channel: str, label: str | None = None) -> str:
    """The words for a channel: its stored label, the SPEC's label, else its slug in words.

    A raw value kept as its own slug has label == slug (e.g. 'yelp'): shown as 'Yelp'.
    """
    if label and not is_missing(label) and str(label) != str(channel):
        return str(label)
    if channel in CHANNELS:
        return CHANNELS[channel][1]
    return humanize(channel)


def in_sentence(label: str) -> str:
    """A channel's words inside a sentence: Funnel's own labels in lower case ('cold call',
    'website'); a name from the files as it is written ('Google', 'Welingak website'), which
    lower-cased would read as a slug or lose its capital."""
    text = str(label)
    own = {words for _, words in CHANNELS.values()}
    return text.lower() if text in own else text


def worded_labels(df: pd.DataFrame) -> pd.DataFrame:
    """A metric's label columns ('label', 'channel_label') in words: the queries' label of a
    channel kept as its own is its slug (``coalesce(c.label, channel)``); said here as
    :func:`channel_label` says it ('Welingak website', SPEC 5). In place; returns ``df``."""
    if "channel" not in df.columns or df.empty:
        return df
    for column in ("label", "channel_label"):
        if column in df.columns:
            df[column] = [lab if is_missing(lab) or is_missing(ch) else channel_label(ch, lab)
                          for ch, lab in zip(df["channel"], df[column], strict=True)]
    return df


def channel_labels(channels: Iterable[str], labels: Iterable[str | None]) -> dict[str, str]:
    """channel -> words, from parallel lists (e.g. ``filter_options``)."""
    return {c: channel_label(c, lab) for c, lab in zip(channels, labels, strict=False)}


def stage_label(stage: str) -> str:
    """'qualified' -> 'Qualified'."""
    return STAGES[stage][2] if stage in STAGES else humanize(stage)


def kind_label(kind: str | None, short: bool = True) -> str:
    """'inbound' -> 'Inbound'."""
    table = KIND_SHORT if short else KIND_LABELS
    return table.get(str(kind), humanize(str(kind)))


def finite(value: float | None) -> bool:
    """A real number (not None, NaN or infinite)."""
    return not is_missing(value) and math.isfinite(float(value))
