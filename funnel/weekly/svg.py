"""The weekly pack's two charts as static SVG for the HTML and PDF exports: no script, no
library, a few kilobytes each, drawn the same offline, in a mail client and in print.

(The full plotly.js inlined made the HTML pack 4.9 MB; pip's plotly ships no partial bundle and
kaleido is not installed. The Weekly page keeps the interactive plotly figures of
:mod:`funnel.weekly.export`; these draw the same data.) Every word from a file goes through
:func:`html.escape`.
"""

from __future__ import annotations

import html

import pandas as pd

from funnel import charts
from funnel import format as fmt
from funnel.weekly.pack import WeeklyPack

INK = "#262730"
MUTED = "#6b7280"
BAND = "#d9dde3"
GRID = "#eef0f2"
FONT = 'font-family="Source Sans Pro, Segoe UI, Helvetica, Arial, sans-serif"'


def _text(x: float, y: float, words: str, size: int = 12, anchor: str = "start",
          colour: str = INK, weight: str = "normal", full: str | None = None) -> str:
    """A label; ``full``: the whole text, shown on hover, when ``words`` is shortened."""
    tip = f"<title>{html.escape(full)}</title>" if full and full != words else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{colour}" font-weight="{weight}">{tip}{html.escape(words)}</text>')


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    # inline in HTML5: no namespace needed (and the page names no address at all)
    return (f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="{html.escape(title)}" {FONT}>'
            f"<title>{html.escape(title)}</title>{''.join(body)}</svg>")


def _ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to about ``top``."""
    if top <= 0:
        return [0.0]
    raw = top / count
    step = fmt.round_figures(raw, 1)
    step = step if step > 0 else 1.0
    return [i * step for i in range(int(top / step) + 1)]


def leads_against_band(pack: WeeklyPack, title: str = "") -> str:
    """Each channel's new leads this week (dot, its number beside it) on its normal range (grey
    bar), with the 4-week average (tick). Flagged dots are larger and say 'outside'."""
    rows = pack.changes[(pack.changes["metric"] == "leads") & ~pack.changes["is_total"]]
    rows = rows[rows["band_high"].notna()]
    label_w, plot_w, right = 150, 380, 90
    row_h, top_pad, bottom_pad = 24, 30, 26
    width = label_w + plot_w + right
    height = top_pad + row_h * max(len(rows), 1) + bottom_pad
    top = float(max(rows["band_high"].max(), rows["this_week"].max(), 1)) if len(rows) else 1.0

    def x(value: float) -> float:
        return label_w + plot_w * float(value) / top

    body = [_legend(label_w, 14)]
    for tick in _ticks(top):
        body.append(f'<line x1="{x(tick):.1f}" y1="{top_pad - 6}" x2="{x(tick):.1f}" '
                    f'y2="{height - bottom_pad}" stroke="{GRID}"/>')
        body.append(_text(x(tick), height - 8, fmt.count(tick), 11, "middle", MUTED))
    colours = charts.channel_colors([str(c) for c in rows["channel"]])  # as the page draws
    for i, r in enumerate(rows.itertuples(index=False)):
        y = top_pad + row_h * i + row_h / 2
        body.append(_text(label_w - 8, y + 4, _short(r.label), 12, "end", full=str(r.label)))
        body.append(f'<rect x="{x(r.band_low):.1f}" y="{y - 7:.1f}" '
                    f'width="{max(x(r.band_high) - x(r.band_low), 1):.1f}" height="14" '
                    f'fill="{BAND}" rx="2"/>')
        if not fmt.is_missing(r.trailing_mean):
            body.append(f'<line x1="{x(r.trailing_mean):.1f}" y1="{y - 9:.1f}" '
                        f'x2="{x(r.trailing_mean):.1f}" y2="{y + 9:.1f}" stroke="{MUTED}" '
                        'stroke-width="2"/>')
        flagged = bool(r.is_flagged)
        colour = colours[str(r.channel)]
        body.append(f'<circle cx="{x(r.this_week):.1f}" cy="{y:.1f}" r="{7 if flagged else 5}" '
                    f'fill="{colour}" stroke="{INK}" stroke-width="{2 if flagged else 1}"/>')
        note = fmt.count(r.this_week)
        if flagged:
            note += " ▲ outside" if r.direction == "up" else " ▼ outside"
        body.append(_text(max(x(r.this_week), x(r.band_high)) + 10, y + 4, note, 12,
                          weight="bold" if flagged else "normal"))
    return _svg(width, height, body, title or "New leads by channel against their normal range")


def _legend(x0: float, y: float) -> str:
    return "".join([
        f'<rect x="{x0}" y="{y - 9}" width="18" height="10" fill="{BAND}"/>',
        _text(x0 + 24, y, "Normal range", 11, colour=MUTED),
        f'<line x1="{x0 + 118}" y1="{y - 10}" x2="{x0 + 118}" y2="{y + 1}" stroke="{MUTED}" '
        'stroke-width="2"/>',
        _text(x0 + 126, y, "4-week average", 11, colour=MUTED),
        f'<circle cx="{x0 + 236}" cy="{y - 4}" r="5" fill="{MUTED}" stroke="{INK}"/>',
        _text(x0 + 246, y, "This week", 11, colour=MUTED),
    ])


def _short(words: str, limit: int = 22) -> str:
    text = str(words)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def trend(pack: WeeklyPack, title: str = "") -> str:
    """New leads and deals won per week, all channels, two small bar charts side by side; the
    chosen week in full colour, the weeks before faded."""
    df = pack.trend.sort_values("week_start")
    panel_w, gap, margin, height = 300, 40, 16, 230
    width = 2 * panel_w + gap + 2 * margin  # the margins keep the end dates inside
    body = []
    for n, (column, colour, name) in enumerate((("leads", "#1f77b4", "New leads per week"),
                                                ("won", "#2ca02c", "Deals won per week"))):
        left = margin + n * (panel_w + gap)
        body.append(_text(left + panel_w / 2, 18, name, 14, "middle", weight="bold"))
        body += _bars(df, column, colour, left, panel_w, top=40, bottom=height - 34)
    return _svg(width, height, body, title or "The last weeks, all channels")


def _bars(df: pd.DataFrame, column: str, colour: str, left: float, width: float, top: float,
          bottom: float) -> list[str]:
    values = [float(v) for v in df[column]]
    if not values:
        return []
    peak = max(max(values), 1.0)
    slot = width / len(values)
    bar = min(slot * 0.7, 40)
    out = [f'<line x1="{left}" y1="{bottom}" x2="{left + width}" y2="{bottom}" stroke="{MUTED}"/>']
    last = len(values) - 1
    every = max(1, round(len(values) / 6))  # at most about 6 dates under the bars
    for i, (value, start) in enumerate(zip(values, df["week_start"], strict=True)):
        cx = left + slot * (i + 0.5)
        h = (bottom - top - 16) * value / peak
        fill = colour if i == last else colour + "66"
        out.append(f'<rect x="{cx - bar / 2:.1f}" y="{bottom - h:.1f}" width="{bar:.1f}" '
                   f'height="{h:.1f}" fill="{fill}"/>')
        out.append(_text(cx, bottom - h - 4, fmt.count(value), 11, "middle",
                         INK if i == last else MUTED, "bold" if i == last else "normal"))
        if i == last or (last - i) % every == 0:
            out.append(_text(cx, bottom + 16, fmt.short_date(start), 11, "middle", MUTED))
    if not any(values):
        out.append(_text(left + width / 2, (top + bottom) / 2, "None in these weeks", 12,
                         "middle", MUTED))
    return out


def figures(pack: WeeklyPack) -> dict[str, str]:
    """The pack's charts as SVG by title, the same titles as ``export.figures``."""
    out: dict[str, str] = {}
    leads = pack.changes[(pack.changes["metric"] == "leads") & ~pack.changes["is_total"]]
    if leads["band_high"].notna().any():
        title = "New leads by channel against their normal range"
        out[title] = leads_against_band(pack, title)
    if len(pack.trend):
        title = (f"The last {len(pack.trend)} weeks, all channels" if len(pack.trend) > 1
                 else "This week, all channels")
        out[title] = trend(pack, title)
    return out
