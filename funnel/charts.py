"""Plotly figure builders, one per metric and named like it: pure functions, no Streamlit.

Each takes the DataFrame its metric in :mod:`funnel.metrics` returns (plus, where the metric
has no ``label`` column, a ``labels`` mapping channel -> words) and returns a ``go.Figure``.
One colour per channel everywhere (:func:`channel_color`), numbers formatted for people, fonts
large enough for a meeting-room projector. Callers check :func:`has_rows` first and show an
empty-state message instead of an empty chart.

Names that came from a file or a person (a channel kept as its own, an owner's label) reach a
figure only through :func:`_label` (or :func:`funnel.safe_text.label_text`), so plotly shows
them as text: no ``<a href>`` link, ``<b>``, ``<br>`` or ``%{...}`` placeholder of theirs
works, in the dashboard, the weekly HTML pack or its PDF.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from funnel import format as fmt
from funnel.metrics import costs
from funnel.safe_text import label_text

FONT = "Source Sans Pro, Segoe UI, Helvetica, Arial, sans-serif"
FONT_SIZE = 17
TITLE_SIZE = 20
INK = "#262730"
MUTED = "#8a8f98"
GRID = "#e6e8eb"
LOSS = "#c0392b"
PREVIOUS = "#c9ccd1"
EMPTY_MESSAGE = "Nothing to show for these filters: widen the dates or pick more channels."

# One colour per canonical channel, the same on every chart: outbound in oranges and browns,
# inbound in greens, blues and purples, the unclassed in greys.
CHANNEL_COLORS: dict[str, str] = {
    "referral": "#2ca02c",
    "cold_call": "#e6550d",
    "cold_email": "#fdae6b",
    "purchased_list": "#a63603",
    "organic_search": "#1f77b4",
    "paid_search": "#6baed6",
    "social": "#9467bd",
    "paid_social": "#ce16ce",
    "email": "#17becf",
    "web": "#393b79",
    "event": "#e377c2",
    "partner": "#bcbd22",
    "advertising": "#8c564b",
    "other": "#7f7f7f",
    "unknown": "#b8b8b8",
}
# Channels an owner adds (or raw values kept as their own channel) draw from these, by a
# stable hash of the slug, so a channel keeps its colour across charts and sessions.
EXTRA_COLORS = [
    "#4a1486", "#637939", "#8c6d31", "#843c39", "#7b4173",
    "#5254a3", "#8ca252", "#bd9e39", "#ad494a", "#a55194",
    "#008080", "#800000", "#4682b4", "#556b2f", "#ff1493",
    "#00ced1", "#b8860b", "#2f4f4f", "#9acd32", "#6a5acd",
]
# Stacked and many-series charts draw the biggest channels and fold the rest into one
# segment: past about eight, segments are too thin to tell apart and colours run out.
TOP_CHANNELS = 8
DISTINCT_COLOUR = 100.0  # _colour_distance below which two channels' colours look alike
OTHER_CHANNELS = "other channels"  # the folded segment's key (no channel has a space)
OTHER_COLOR = "#d5d7db"
OTHER_PATTERN = {"shape": "/", "fgcolor": "#8a8f98", "size": 6, "solidity": 0.2}
TEMPERATURE_COLORS = {"cold": "#6baed6", "warm": "#fd8d3c", "hot": "#d62728"}
KIND_ORDER = ["inbound", "outbound", "unknown"]
STAGE_ORDER = ["new", "contacted", "qualified", "proposal", "won"]
COHORT_WEEKS = 16  # cohort weeks drawn at most: more cells than this are unreadable


def channel_color(channel: str) -> str:
    """The colour of a channel on every chart (alone; :func:`channel_colors` for several)."""
    return channel_colors([channel])[channel]


def channel_colors(channels: Sequence[str]) -> dict[str, str]:
    """A distinct colour for each of ``channels`` (the channels one chart draws).

    Known channels keep their own colour; the others take their preferred slot in
    :data:`EXTRA_COLORS` (a stable hash of the slug), or the next slot no other channel of
    this chart holds, in slug order, so no two channels of a chart share a colour."""
    out: dict[str, str] = {}
    for channel in map(str, channels):
        if channel in CHANNEL_COLORS:
            out[channel] = CHANNEL_COLORS[channel]
        elif channel == OTHER_CHANNELS:
            out[channel] = OTHER_COLOR
    used = set(out.values())
    for channel in sorted({str(c) for c in channels} - set(out)):
        start = zlib.crc32(channel.encode()) % len(EXTRA_COLORS)
        free = [EXTRA_COLORS[(start + k) % len(EXTRA_COLORS)] for k in range(len(EXTRA_COLORS))]
        free = [c for c in free if c not in used]
        # the first free colour unlike every known channel's (so it is the same alone and
        # beside others), else unlike the ones this chart draws (a gold beside advertising's
        # gold reads as the same channel), else the one least like any of them
        apart = [c for c in free if _looks_apart(c, used)]
        if apart:
            colour = next((c for c in apart if _looks_apart(c, CHANNEL_COLORS.values())),
                          apart[0])
        elif free:
            colour = max(free, key=lambda c: min(_colour_distance(c, u) for u in used))
        else:
            colour = _spread_color(len(used))
        out[channel] = colour
        used.add(colour)
    return out


def _looks_apart(colour: str, others) -> bool:
    return all(_colour_distance(colour, o) >= DISTINCT_COLOUR for o in others)


def _colour_distance(one: str, other: str) -> float:
    """How different two '#rrggbb' colours look (the 'redmean' weighting of RGB distance:
    a cheap stand-in for a perceptual one, 0 to about 765)."""
    r1, g1, b1 = (int(one[i:i + 2], 16) for i in (1, 3, 5))
    r2, g2, b2 = (int(other[i:i + 2], 16) for i in (1, 3, 5))
    mean = (r1 + r2) / 2
    dr, dg, db = r1 - r2, g1 - g2, b1 - b2
    return math.sqrt((2 + mean / 256) * dr * dr + 4 * dg * dg + (2 + (255 - mean) / 256) * db * db)


def _spread_color(i: int) -> str:
    """The i-th of as many hues as needed, a golden angle apart (beyond EXTRA_COLORS)."""
    import colorsys

    r, g, b = colorsys.hls_to_rgb((i * 0.381966) % 1.0, 0.45, 0.6)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def _colors(channels: Sequence[str]) -> list[str]:
    """Colours for a list of channels, distinct (:func:`channel_colors`)."""
    names = [str(c) for c in channels]
    chosen = channel_colors(names)
    return [chosen[c] for c in names]


def top_channels(totals: Mapping[str, float], top: int = TOP_CHANNELS) -> list[str]:
    """The channels a stacked chart draws by name, biggest first: all of them when they are
    at most ``top`` + 1 (folding one channel into "other" hides it for nothing), else the
    ``top`` biggest; the rest go into the "other channels" segment."""
    ranked = sorted(totals, key=lambda c: (-float(totals[c]), str(c)))
    return ranked if len(ranked) <= top + 1 else ranked[:top]


def other_name(count: int) -> str:
    return f"Other channels ({count})"


def _week_axis(weeks: Sequence, title: str | None = None, most: int = 12) -> dict:
    """A date axis of Monday weeks with one tick per week drawn (at most ``most``, evenly
    spaced): plotly's own ticks repeat a date when there are few weeks (one week: three
    ticks all reading 16 Nov)."""
    unique = sorted({pd.Timestamp(w) for w in weeks})
    step = max(1, math.ceil(len(unique) / most))
    shown = unique[::step]
    axis = {"tickvals": shown, "ticktext": [fmt.short_date(w) for w in shown],
            "tickformat": "%-d %b"}
    if len(unique) == 1:  # a single bar: half a week each side, not a day-wide axis
        axis["range"] = [unique[0] - pd.Timedelta(days=5), unique[0] + pd.Timedelta(days=5)]
    if title:
        axis["title"] = {"text": title}
    return axis


def drill(**narrow) -> str:
    """What a bar, cell or step stands for, as the leads behind it are narrowed
    (``metrics.leads_behind``'s keywords, None dropped): the last item of a point's customdata,
    which a page reads back when the point is clicked (``funnel.app.drill``)."""
    return json.dumps({k: v for k, v in narrow.items() if v is not None}, sort_keys=True,
                      default=str)


def has_rows(df: pd.DataFrame | None, column: str | None = None) -> bool:
    """True when there is something to draw (rows, and a non-zero total in ``column``)."""
    if df is None or df.empty:
        return False
    if column is None:
        return True
    values = pd.to_numeric(df[column], errors="coerce").fillna(0)
    return bool((values != 0).any())


def _label(channel: str, labels: Mapping[str, str] | None, row_label: object = None) -> str:
    """A channel's name as a plotly label (plain text: :func:`funnel.safe_text.label_text`)."""
    if labels and channel in labels:
        return label_text(labels[channel])
    return label_text(fmt.channel_label(channel,
                                        None if fmt.is_missing(row_label) else str(row_label)))


def _template() -> go.layout.Template:
    """plotly's "plotly_white" for what these charts draw: its layout without the polar,
    ternary, 3-D, geo and map settings, and its defaults for bars, scatters and heatmaps only.
    The charts look the same; setting the whole template by name cost ~8-12 ms per figure
    (it is validated and copied each time) and 7 KB of JSON. A Template object, not a dict:
    plotly merges a dict key by key (~40 ms)."""
    white = pio.templates["plotly_white"].to_plotly_json()
    unused = {"polar", "ternary", "scene", "geo", "mapbox"}
    return go.layout.Template({
        "layout": {k: v for k, v in white["layout"].items() if k not in unused},
        "data": {k: v for k, v in white["data"].items() if k in ("bar", "scatter", "heatmap")},
    })


TEMPLATE = _template()


def _layout(height: int = 460, legend: bool = False) -> dict:
    """The layout every chart shares, as a dict (for figures built in one go)."""
    return {
        "template": TEMPLATE,
        "height": height,
        "font": {"family": FONT, "size": FONT_SIZE, "color": INK},
        "title": {"font": {"size": TITLE_SIZE}},
        "margin": {"l": 10, "r": 30, "t": 30, "b": 10},
        "hoverlabel": {"font": {"size": 16}},
        "showlegend": legend,
        "legend": {"font": {"size": 16}, "title": {"text": ""}},
        "bargap": 0.25,
        "separators": ".,",
    }


AXIS = {"gridcolor": GRID, "zerolinecolor": GRID, "automargin": True}


def _built(
    traces: list[dict],
    height: int = 460,
    showlegend: bool = False,
    xaxis: dict | None = None,
    yaxis: dict | None = None,
    **layout,
) -> go.Figure:
    """A figure built in one go: the shared layout (:func:`_layout`), then this chart's (a
    dict merged into the shared one's, a level deep) and its axes (over :data:`AXIS`).
    Validated once, on construction: ~3x cheaper than building a figure and then updating it
    call by call (each ``add_bar`` or ``update_*`` validates and relayouts again)."""
    merged = _layout(height, showlegend)
    for key, value in layout.items():
        shared = merged.get(key)
        merged[key] = {**shared, **value} if isinstance(shared, dict) else value
    merged["xaxis"] = {**AXIS, **(xaxis or {})}
    merged["yaxis"] = {**AXIS, **(yaxis or {})}
    return go.Figure(data=traces, layout=merged)


def _top_down_axis(categories: Sequence[str]) -> dict:
    """Horizontal bars in the order given, first on top (a y axis)."""
    return {"categoryorder": "array", "categoryarray": list(reversed(list(categories)))}


def _bar_height(n: int, per_bar: int = 44, minimum: int = 260) -> int:
    return max(minimum, 80 + per_bar * n)


# --- marketing -------------------------------------------------------------------------------


def leads_by_week(df: pd.DataFrame, labels: Mapping[str, str] | None = None) -> go.Figure:
    """Stacked bars: leads created per ISO week, one segment per channel (biggest at the bottom),
    the biggest :data:`TOP_CHANNELS` by name and the rest as one "other channels" segment.

    ``df``: week, channel, leads (``metrics.leads_by_week``); ``labels`` also sets the stacking
    order (biggest channel first, as ``filter_options`` lists them).
    """
    order = [c for c in (labels or {}) if c in set(df["channel"])]
    order += [c for c in dict.fromkeys(df["channel"]) if c not in order]
    totals = df.groupby("channel", sort=False)["leads"].sum().to_dict()
    shown = top_channels(totals)
    order = [c for c in order if c in shown]
    folded = [c for c in totals if c not in shown]
    colors = channel_colors([*order, OTHER_CHANNELS])
    by_channel = dict(tuple(df.groupby("channel", sort=False)))
    traces = []
    for channel in order:
        part = by_channel[channel]
        name = _label(channel, labels)
        traces.append({
            "type": "bar",
            "x": part["week"],
            "y": part["leads"],
            "name": name,
            "marker": {"color": colors[channel]},
            "customdata": [[drill(channel=channel, week=pd.Timestamp(w).date().isoformat())]
                           for w in part["week"]],
            "hovertemplate": f"{name}<br>Week of %{{x|%d %b %Y}}: %{{y:,}} leads<extra></extra>",
        })
    if folded:
        rest = df[df["channel"].isin(folded)].groupby("week", as_index=False)["leads"].sum()
        names = ", ".join(_label(c, labels) for c in folded)
        traces.append({
            "type": "bar", "x": rest["week"], "y": rest["leads"],
            "name": other_name(len(folded)),
            "marker": {"color": OTHER_COLOR, "pattern": OTHER_PATTERN},
            "hovertemplate": f"{names}<br>Week of %{{x|%d %b %Y}}: %{{y:,}} leads"
                             "<extra></extra>",
        })
    return _built(
        traces, height=500, showlegend=True, barmode="stack",
        legend={"orientation": "v", "traceorder": "normal"},
        xaxis=_week_axis(df["week"], "Week starting (Monday)"),
        yaxis={"title": {"text": "New leads"}, "tickformat": ","},
    )


def leads_by_channel(df: pd.DataFrame) -> go.Figure:
    """Horizontal bars: each channel's share of the period's leads, with its lead count.

    ``df``: channel, label, leads, share (``metrics.leads_by_channel``, biggest first).
    """
    names = [_label(c, None, lab) for c, lab in zip(df["channel"], df["label"], strict=True)]
    text = [f"{fmt.pct(s)}  ({fmt.count(n)})"
            for s, n in zip(df["share"], df["leads"], strict=True)]
    bars = {
        "type": "bar",
        "x": df["share"],
        "y": names,
        "orientation": "h",
        "marker": {"color": _colors(df["channel"])},
        "text": text,
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": [[n, drill(channel=c)] for n, c in zip(df["leads"], df["channel"],
                                                               strict=True)],
        "hovertemplate": "%{y}: %{x:.1%} of leads (%{customdata[0]:,})<extra></extra>",
    }
    top = float(df["share"].max() or 0)
    return _built(
        [bars], height=_bar_height(len(df)), yaxis=_top_down_axis(names),
        # room for the 'share (count)' label right of the longest bar in a half-width column
        xaxis={"tickformat": ".0%", "range": [0, max(0.05, top * 1.7)],
               "title": {"text": "Share of leads"}},
    )


def inbound_vs_outbound(df: pd.DataFrame) -> go.Figure:
    """Leads by how channels reach people (inbound / outbound), stacked by channel.

    ``df``: channel, kind, label, leads (``metrics.leads_by_channel``). Each bar's label gives
    its total and share: the sums of the segments drawn.
    """
    present = [k for k in KIND_ORDER if k in set(df["kind"])]
    totals = {k: int(df.loc[df["kind"] == k, "leads"].sum()) for k in present}
    grand = sum(totals.values()) or 1
    kind_names = {
        k: f"<b>{fmt.kind_label(k)}</b><br>{fmt.count(totals[k])} leads · "
        f"{fmt.pct(totals[k] / grand)}"
        for k in present
    }
    shown = set(top_channels(dict(zip(df["channel"], df["leads"], strict=True))))
    colors = channel_colors([*df["channel"], OTHER_CHANNELS])
    traces = []
    for row in df[df["channel"].isin(shown)].itertuples(index=False):
        name = _label(row.channel, None, row.label)
        traces.append({
            "type": "bar",
            "x": [row.leads],
            "y": [kind_names.get(row.kind, fmt.kind_label(row.kind))],
            "orientation": "h",
            "name": name,
            "marker": {"color": colors[str(row.channel)],
                       "line": {"color": "white", "width": 1}},
            "text": [name],
            "textposition": "inside",
            "insidetextanchor": "middle",
            "textangle": 0,
            "hovertemplate": f"{name}: %{{x:,}} leads<extra></extra>",
        })
    for kind, rest in df[~df["channel"].isin(shown)].groupby("kind", sort=False):
        names = ", ".join(_label(c, None, lab) for c, lab in
                          zip(rest["channel"], rest["label"], strict=True))
        traces.append({
            "type": "bar", "x": [int(rest["leads"].sum())],
            "y": [kind_names.get(kind, fmt.kind_label(kind))], "orientation": "h",
            "name": other_name(len(rest)),
            "marker": {"color": OTHER_COLOR, "pattern": OTHER_PATTERN,
                       "line": {"color": "white", "width": 1}},
            "hovertemplate": f"{names}: %{{x:,}} leads<extra></extra>",
        })
    return _built(
        traces, height=_bar_height(len(present), per_bar=110, minimum=260), barmode="stack",
        uniformtext={"minsize": 13, "mode": "hide"},
        yaxis=_top_down_axis([kind_names[k] for k in present]),
        xaxis={"title": {"text": "New leads"}, "tickformat": ","},
    )


def lead_volume_vs_previous(df: pd.DataFrame) -> go.Figure:
    """Grouped horizontal bars per channel: this period in the channel's colour, the previous
    period of the same length in grey, and the change written beside them.

    ``df``: channel, label, leads, previous_leads, change, change_pct
    (``metrics.lead_volume_vs_previous``).
    """
    names = [_label(c, None, lab) for c, lab in zip(df["channel"], df["label"], strict=True)]
    traces = [
        {"type": "bar", "x": df["previous_leads"], "y": names, "orientation": "h",
         "name": "Previous period", "marker": {"color": PREVIOUS},
         "hovertemplate": "%{y}, previous period: %{x:,} leads<extra></extra>"},
        {"type": "bar", "x": df["leads"], "y": names, "orientation": "h",
         "name": "This period", "marker": {"color": _colors(df["channel"])},
         "hovertemplate": "%{y}, this period: %{x:,} leads<extra></extra>"},
    ]
    top = float(max(df["leads"].max(), df["previous_leads"].max()) or 1)
    changes = []
    for name, row in zip(names, df.itertuples(index=False), strict=True):
        change = fmt.signed_pct(row.change_pct) if fmt.finite(row.change_pct) else "new"
        colour = INK if not fmt.finite(row.change_pct) or row.change_pct >= 0 else LOSS
        changes.append({
            "x": max(row.leads, row.previous_leads), "y": name, "xanchor": "left",
            "showarrow": False, "xshift": 8,
            "text": f"{fmt.signed_count(row.change)} ({change})", "font": {"color": colour},
        })
    return _built(
        traces, height=_bar_height(len(df), per_bar=56), showlegend=True, barmode="group",
        bargroupgap=0.05, annotations=changes,
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0,
                "traceorder": "reversed"},
        yaxis=_top_down_axis(names),
        xaxis={"range": [0, top * 1.45], "title": {"text": "New leads"}, "tickformat": ","},
    )


def spend_by_channel(df: pd.DataFrame) -> go.Figure:
    """Cost per lead by channel, with the money and hours spent written beside each bar.

    ``df``: channel, label, leads, spend, hours, cost_per_lead (``metrics.spend_by_channel``,
    channels without a cost per lead left out by the caller).
    """
    names = [_label(c, None, lab) for c, lab in zip(df["channel"], df["label"], strict=True)]
    text = []
    for row in df.itertuples(index=False):
        spent = f"{fmt.money(row.cost_per_lead)} per lead · {fmt.money(row.spend)} spent"
        if fmt.finite(row.hours) and row.hours > 0:
            spent += f" · {fmt.count(row.hours)} h"
        text.append(spent)
    bars = {
        "type": "bar",
        "x": df["cost_per_lead"], "y": names, "orientation": "h",
        "marker": {"color": _colors(df["channel"])},
        "text": text, "textposition": "outside", "cliponaxis": False,
        "hovertemplate": f"%{{y}}: {fmt.current_mark()}%{{x:,.2f}} per lead<extra></extra>",
    }
    top = float(df["cost_per_lead"].max() or 1)
    return _built(
        [bars], height=_bar_height(len(df)), yaxis=_top_down_axis(names),
        xaxis={"tickprefix": fmt.current_mark(), "tickformat": ",.0f", "range": [0, top * 1.9],
               "title": {"text": costs.money_only_name()}},
    )


# --- sales -----------------------------------------------------------------------------------


def conversion_by_channel(df: pd.DataFrame) -> go.Figure:
    """Conversion rate per channel as bars with their Wilson 95% interval, best on top.

    ``df``: channel, label, leads, won, conversion_rate, ci_low, ci_high
    (``metrics.conversion_by_channel``). Each bar is labelled 'rate (interval)'.
    """
    data = df.sort_values(["conversion_rate", "leads"], ascending=[False, False])
    names = [
        f"{_label(c, None, lab)} ({fmt.count(n)})"
        for c, lab, n in zip(data["channel"], data["label"], data["leads"], strict=True)
    ]
    rate = data["conversion_rate"].astype(float)
    bars = {
        "type": "bar",
        "x": rate,
        "y": names,
        "orientation": "h",
        "marker": {"color": _colors(data["channel"])},
        "error_x": {
            "type": "data",
            "array": (data["ci_high"].astype(float) - rate).clip(lower=0),
            "arrayminus": (rate - data["ci_low"].astype(float)).clip(lower=0),
            "color": INK,
            "thickness": 1.6,
            "width": 6,
        },
        "customdata": [[w, n, drill(channel=c)] for w, n, c in
                       zip(data["won"], data["leads"], data["channel"], strict=True)],
        "hovertemplate": "%{y}: %{x:.1%} converted (%{customdata[0]:,} won of "
        "%{customdata[1]:,} leads)<extra></extra>",
    }
    labels = {
        "type": "scatter",
        "x": data["ci_high"].astype(float),
        "y": names,
        "mode": "text",
        "text": [" " + fmt.pct_with_range(r, lo, hi)
                 for r, lo, hi in zip(rate, data["ci_low"], data["ci_high"], strict=True)],
        "textposition": "middle right",
        "hoverinfo": "skip",
        "cliponaxis": False,
    }
    xaxis, margin = _rate_axis(float(data["ci_high"].max() or 0.05))
    return _built([bars, labels], height=_bar_height(len(data)), xaxis=xaxis,
                  yaxis=_top_down_axis(names), margin=margin)


def _rate_axis(top: float) -> tuple[dict, dict]:
    """A 0-100% x axis with room on the right for the 'rate (interval)' labels: (the axis,
    the margin to merge)."""
    wanted = top * 1.45 + 0.01
    # labels past 100% go into the right margin, not past the axis
    margin = {"r": 170} if wanted > 1.0 else {}
    axis = {"tickformat": ".0%", "range": [0, min(1.0, wanted)],
            "title": {"text": "Leads that became customers (bar: 95% interval)"}}
    return axis, margin


def funnel_by_channel(
    df: pd.DataFrame, labels: Mapping[str, str] | None = None, columns: int = 4
) -> go.Figure:
    """Small multiples: one funnel per channel (share of its leads reaching each stage), the
    step where the channel loses the most leads compared with the others marked in red.

    ``df``: channel, stage, reached, cumulative_pct, drop_pct, is_worst_step
    (``metrics.funnel_by_channel``); channels in the order they come.

    Built in one go (traces, axes and titles as plain dicts, validated once): the grid of
    ``make_subplots`` with shared y axes per row, without its per-trace ``add_bar`` calls,
    which cost ~10 ms each.
    """
    channels = list(dict.fromkeys(df["channel"]))
    rows = math.ceil(len(channels) / columns)
    height = 40 + 230 * rows
    grid = _grid(rows, columns, horizontal_spacing=0.05, vertical_spacing=min(0.3, 75 / height))
    stage_names = [fmt.stage_label(s) for s in STAGE_ORDER]
    by_channel = dict(tuple(df.groupby("channel", sort=False)))
    layout = _layout(height=height)
    layout["margin"] = {**layout["margin"], "t": 40}
    traces, titles = [], []
    colours = channel_colors(channels)
    for i, channel in enumerate(channels):
        row, col = divmod(i, columns)
        (x0, x1), (y0, y1) = grid[row][col]
        n = i + 1
        part = by_channel[channel].set_index("stage").reindex(STAGE_ORDER)
        worst = part["is_worst_step"].fillna(False).astype(bool)
        leads = part["reached"].get("new")
        name = _label(channel, labels)
        text = [
            f"{fmt.pct(p)}  ▼{fmt.pct(d)} lost" if w else fmt.pct(p)
            for p, d, w in zip(part["cumulative_pct"], part["drop_pct"], worst, strict=True)
        ]
        traces.append({
            "type": "bar",
            "x": part["cumulative_pct"].fillna(0),
            "y": stage_names,
            "orientation": "h",
            "marker": {"color": [LOSS if w else colours[channel] for w in worst]},
            "text": text,
            "textposition": "outside",
            "cliponaxis": False,
            "textfont": {"size": 14, "color": [LOSS if w else INK for w in worst]},
            "customdata": [[n, drill(channel=channel, reached=stage)] for n, stage in
                           zip(part["reached"].fillna(0), STAGE_ORDER, strict=True)],
            "hovertemplate": f"{name}<br>%{{y}}: %{{customdata[0]:,}} leads "
            "(%{x:.0%})<extra></extra>",
            "xaxis": _axis_ref("x", n),
            "yaxis": _axis_ref("y", n),
        })
        titles.append({
            "text": f"<b>{name}</b> · {fmt.count(0 if pd.isna(leads) else int(leads))} leads",
            "x": (x0 + x1) / 2, "y": y1, "xref": "paper", "yref": "paper",
            "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 16},
        })
    for i in range(rows * columns):
        row, col = divmod(i, columns)
        (x0, x1), (y0, y1) = grid[row][col]
        n = i + 1
        layout[_axis_name("x", n)] = {
            **AXIS, "anchor": _axis_ref("y", n), "domain": [x0, x1], "range": [0, 1.75],
            "showticklabels": False, "showgrid": False, "zeroline": False,
        }
        y_axis = {**AXIS, "anchor": _axis_ref("x", n), "domain": [y0, y1],
                  "tickfont": {"size": 14}, "categoryorder": "array",
                  "categoryarray": list(reversed(stage_names))}
        if col:  # shared within the row: the first plot of the row carries the stage names
            y_axis.update(matches=_axis_ref("y", row * columns + 1), showticklabels=False)
        layout[_axis_name("y", n)] = y_axis
    layout["annotations"] = titles
    return go.Figure(data=traces, layout=layout)


def _grid(
    rows: int, columns: int, horizontal_spacing: float, vertical_spacing: float
) -> list[list[tuple[tuple[float, float], tuple[float, float]]]]:
    """``[row][col] -> ((x0, x1), (y0, y1))``: the paper domains ``make_subplots`` gives a
    rows x columns grid (first row on top), computed the way it computes them (same floats)."""
    widths = [(1.0 - horizontal_spacing * (columns - 1)) / columns] * columns
    heights = [(1.0 - vertical_spacing * (rows - 1)) / rows] * rows
    out = []
    for r in range(rows):
        from_bottom = rows - 1 - r
        y0 = sum(heights[:from_bottom]) + from_bottom * vertical_spacing
        y1 = y0 + heights[-1 - r]
        y0, y1 = max(y0, 0.0), min(y1, 1.0)  # rounding past the paper's edges
        line = []
        for c in range(columns):
            x0 = sum(widths[:c]) + c * horizontal_spacing
            line.append(((x0, x0 + widths[c]), (y0, y1)))
        out.append(line)
    return out


def _axis_name(letter: str, n: int) -> str:
    return f"{letter}axis{n if n > 1 else ''}"


def _axis_ref(letter: str, n: int) -> str:
    return f"{letter}{n if n > 1 else ''}"


def time_to_win_curve(
    df: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    channels: Sequence[str] | None = None,
) -> go.Figure:
    """Kaplan-Meier curves: share of a channel's leads won by each day since they came in,
    open and lost leads counted as 'not won yet' up to the day they were last seen.

    ``df``: channel, days, won_share, ci_low, ci_high (``metrics.time_to_win_curve``;
    ci_* bound the share not yet won); ``channels`` limits and orders the curves. The 95%
    band is drawn when two curves or fewer are shown.
    """
    wanted = list(channels) if channels else list(dict.fromkeys(df["channel"]))
    bands = len(wanted) <= 2  # more overlapping bands hide the curves
    colors = channel_colors(wanted)
    by_channel = dict(tuple(df.groupby("channel", sort=False)))
    traces = []
    for channel in wanted:
        part = by_channel.get(channel)
        if part is None or part.empty:
            continue
        part = part.sort_values("days")
        name = _label(channel, labels)
        colour = colors[str(channel)]
        if bands:
            traces.append({
                "type": "scatter",
                "x": list(part["days"]) + list(part["days"])[::-1],
                "y": list(1 - part["ci_low"]) + list(1 - part["ci_high"])[::-1],
                "fill": "toself", "fillcolor": colour, "opacity": 0.15, "line": {"width": 0},
                "hoverinfo": "skip", "showlegend": False,
            })
        traces.append({
            "type": "scatter",
            "x": part["days"], "y": part["won_share"], "mode": "lines", "name": name,
            "line": {"color": colour, "width": 3, "shape": "hv"},
            "hovertemplate": f"{name}: %{{y:.0%}} won by day %{{x:.0f}}<extra></extra>",
        })
    return _built(
        traces, height=480, showlegend=True,
        xaxis={"title": {"text": "Days since the lead came in"}, "rangemode": "tozero"},
        yaxis={"title": {"text": "Share of leads won"}, "tickformat": ".0%",
               "rangemode": "tozero"},
    )


def value_per_lead(df: pd.DataFrame) -> go.Figure:
    """Won value per lead by channel: what one more lead of each channel is worth today.

    ``df``: channel, label, leads, won_value, value_per_lead (``metrics.conversion_by_channel``).
    """
    data = df.sort_values("value_per_lead", ascending=False)
    mark = fmt.current_mark()  # the store's currency (plotly's own "$" format is a dollar)
    names = [_label(c, None, lab) for c, lab in zip(data["channel"], data["label"], strict=True)]
    bars = {
        "type": "bar",
        "x": data["value_per_lead"],
        "y": names,
        "orientation": "h",
        "marker": {"color": _colors(data["channel"])},
        "text": [f"{fmt.money(v)} per lead" for v in data["value_per_lead"]],
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": [[v, n, drill(channel=c, outcome="won")] for v, n, c in
                       zip(data["won_value"], data["leads"], data["channel"], strict=True)],
        "hovertemplate": f"%{{y}}: {mark}%{{x:,.0f}} per lead (won {mark}%{{customdata[0]:,.0f}} "
        "from %{customdata[1]:,} leads)<extra></extra>",
    }
    top = float(data["value_per_lead"].max() or 1)
    return _built(
        [bars], height=_bar_height(len(data)), yaxis=_top_down_axis(names),
        xaxis={"tickprefix": fmt.current_mark(), "tickformat": ",.0f", "range": [0, top * 1.4],
               "title": {"text": "Value won per lead"}},
    )


def weekly_cohorts(
    df: pd.DataFrame, labels: Mapping[str, str] | None = None, max_weeks: int = COHORT_WEEKS
) -> go.Figure:
    """Cohort maturity: conversion of each created-week cohort per channel; cohorts still too
    young to judge (not yet past the time in which ~90% of wins arrive) are greyed out.

    ``df``: cohort_week, channel, leads, won, conversion_rate, is_mature
    (``metrics.weekly_cohorts``). Only the latest ``max_weeks`` weeks are drawn, so each cell
    stays readable.
    """
    weeks = sorted(df["cohort_week"].unique())[-max_weeks:]
    df = df[df["cohort_week"].isin(weeks)]
    channels = list(dict.fromkeys(c for c in (labels or {}) if c in set(df["channel"])))
    channels += [c for c in dict.fromkeys(df["channel"]) if c not in channels]
    names = [_label(c, labels) for c in channels]
    week_names = [fmt.short_date(w) for w in weeks]
    # one dict lookup per cell (a .loc lookup per cell cost ~0.1 ms, 400 of them per chart)
    grid = {(r.channel, r.cohort_week): r for r in df.itertuples(index=False)}

    def matrix(mature: bool) -> tuple[list[list], list[list], list[list]]:
        z, text, hover = [], [], []
        for channel in channels:
            zr, tr, hr = [], [], []
            for w in weeks:
                cell = grid.get((channel, w))
                if cell is not None and bool(cell.is_mature) == mature:
                    zr.append(float(cell.conversion_rate))
                    tr.append(fmt.pct(cell.conversion_rate, 0))
                    hr.append([f"{fmt.count(cell.won)} won of {fmt.count(cell.leads)}",
                               drill(channel=channel,
                                     week=pd.Timestamp(w).date().isoformat())])
                else:
                    zr.append(None)
                    tr.append("")
                    hr.append(["", ""])
            z.append(zr)
            text.append(tr)
            hover.append(hr)
        return z, text, hover

    zmax = max(0.05, min(0.6, float(df["conversion_rate"].max() or 0)))
    traces = []
    for mature in (True, False):
        z, text, hover = matrix(mature)
        traces.append({
            "type": "heatmap",
            "z": z, "x": week_names, "y": names, "text": text, "texttemplate": "%{text}",
            "textfont": {"size": 14, "color": INK if mature else MUTED}, "customdata": hover,
            "xgap": 2, "ygap": 2,
            "colorscale": [[0, "#f7fbff"], [1, "#5b9bd5"]] if mature else [[0, "#ececec"],
                                                                           [1, "#ececec"]],
            "zmin": 0, "zmax": zmax, "showscale": False,
            "hovertemplate": "%{y}, leads of week %{x}: %{z:.0%} (%{customdata[0]})"
            + ("" if mature else "<br>Too young to judge: most of its wins are still to come")
            + "<extra></extra>",
        })
    return _built(
        traces, height=_bar_height(len(channels), per_bar=38, minimum=300),
        yaxis={**_top_down_axis(names), "showgrid": False},
        xaxis={"title": {"text": "Week the leads came in"}, "side": "bottom", "tickangle": 0,
               "showgrid": False, "tickfont": {"size": 13},
               # more than 10 weeks: every other week named (the latest always), else the
               # labels run into each other at 1280 px
               "tickvals": week_names[::-2][::-1] if len(week_names) > 10 else week_names},
    )


def head_to_head(result: Mapping) -> go.Figure:
    """Two channels' conversion side by side with their 95% intervals (``metrics.head_to_head``)."""
    sides = [(result["channel_a"], result["a"]), (result["channel_b"], result["b"])]
    names = [label_text(side["label"]) for _, side in sides]
    traces = []
    highs = []
    for (channel, side), name in zip(sides, names, strict=True):
        rate = side["conversion_rate"] or 0.0
        low = side["ci_low"] if side["ci_low"] is not None else rate
        high = side["ci_high"] if side["ci_high"] is not None else rate
        highs.append(high)
        traces.append({
            "type": "bar",
            "x": [rate], "y": [name], "orientation": "h",
            "marker": {"color": channel_color(channel)},
            "error_x": {"type": "data", "array": [high - rate], "arrayminus": [rate - low],
                        "color": INK, "thickness": 1.6, "width": 6},
            "hovertemplate": f"%{{y}}: {side['won']:,} won of {side['leads']:,} leads"
            "<extra></extra>",
        })
        traces.append({
            "type": "scatter",
            "x": [high], "y": [name], "mode": "text", "textposition": "middle right",
            "text": [" " + fmt.pct_with_range(side["conversion_rate"], side["ci_low"],
                                              side["ci_high"])],
            "hoverinfo": "skip", "cliponaxis": False,
        })
    xaxis, margin = _rate_axis(max(highs + [0.05]))
    return _built(traces, height=230, xaxis=xaxis, margin=margin,
                  yaxis=_top_down_axis(names))


# --- follow-up questions (issue 17) ----------------------------------------------------------

NO_OWNER = "No owner in the data"
NO_REASON = "No reason in the data"
OTHER_REASON = "Other"
REASON_COLORS = ["#3b6ea8", "#e1812c", "#3a923a", "#c03d3e", "#9372b2", "#845b53", "#d684bd",
                 "#b5bd61"]
ALL_CHANNELS = "All channels"


def owner_conversion(df: pd.DataFrame, max_channels: int = 8) -> go.Figure:
    """Which salesperson converts which channel: a grid of owners (rows, most leads first) by
    channel (columns: all channels first, then the biggest ``max_channels``), each cell the
    conversion with its lead count; cells with too few leads to judge are grey.

    ``df``: ``metrics.conversion_by_owner`` (owner, channel (None: all channels),
    channel_label, leads, won, conversion_rate, ci_low, ci_high, too_few).
    """
    owners = list(dict.fromkeys(None if pd.isna(o) else o for o in df["owner"]))
    per_channel = df[df["channel"].notna()]
    biggest = (per_channel.groupby("channel")["leads"].sum()
               .sort_values(ascending=False).index[:max_channels])
    words = dict(zip(per_channel["channel"], per_channel["channel_label"], strict=True))
    columns = [None, *biggest]
    column_names = [ALL_CHANNELS, *(_label(c, words) for c in biggest)]
    row_names = [NO_OWNER if o is None else label_text(str(o)) for o in owners]
    grid = {(None if pd.isna(r.owner) else r.owner, None if pd.isna(r.channel) else r.channel): r
            for r in df.itertuples(index=False)}

    def matrix(judged: bool) -> tuple[list, list, list]:
        z, text, custom = [], [], []
        for owner in owners:
            zr, tr, cr = [], [], []
            for channel in columns:
                cell = grid.get((owner, channel))
                if cell is not None and bool(cell.too_few) != judged:
                    zr.append(float(cell.conversion_rate))
                    tr.append(f"{fmt.pct(cell.conversion_rate, 0)} ({fmt.count(cell.leads)})")
                    cr.append([f"{fmt.count(cell.won)} won of {fmt.count(cell.leads)} leads, "
                               f"95% interval {fmt.pct_range(cell.ci_low, cell.ci_high)}"
                               + ("" if judged else "; too few leads to judge"),
                               drill(owner=owner, no_owner=True if owner is None else None,
                                     channel=channel)])
                else:
                    zr.append(None)
                    tr.append("")
                    cr.append(["", ""])
            z.append(zr)
            text.append(tr)
            custom.append(cr)
        return z, text, custom

    top = max(0.05, min(0.8, float(df.loc[~df["too_few"], "conversion_rate"].max()
                                   if (~df["too_few"]).any() else 0.05)))
    traces = []
    for judged in (True, False):
        z, text, custom = matrix(judged)
        traces.append({
            "type": "heatmap", "z": z, "x": column_names, "y": row_names, "text": text,
            "texttemplate": "%{text}", "customdata": custom, "xgap": 2, "ygap": 2,
            "textfont": {"size": 14, "color": INK if judged else MUTED},
            "colorscale": ([[0, "#f7fbff"], [1, "#5b9bd5"]] if judged
                           else [[0, "#ececec"], [1, "#ececec"]]),
            "zmin": 0, "zmax": top, "showscale": False,
            "hovertemplate": "%{y}, %{x}: %{z:.0%} converted (%{customdata[0]})"
                             "<extra></extra>",
        })
    return _built(
        traces, height=_bar_height(len(owners), per_bar=40, minimum=260),
        yaxis={**_top_down_axis(row_names), "showgrid": False},
        xaxis={"side": "top", "showgrid": False, "tickfont": {"size": 14}},
    )


def lost_reasons(df: pd.DataFrame) -> go.Figure:
    """Why deals are lost, per channel: one bar per channel split by reason (the most common
    reasons by name, then Other, then no reason given), channels with most lost deals on top.

    ``df``: ``metrics.lost_reasons`` (reason, reason_rank, channel, channel_label,
    lost_leads, ...).
    """
    per = df.groupby(["channel", "channel_label", "reason_rank"], dropna=False, sort=False)[
        "lost_leads"].sum().reset_index()
    reasons = (df[["reason", "reason_rank"]].drop_duplicates("reason_rank")
               .sort_values("reason_rank"))
    totals = per.groupby("channel", sort=False)["lost_leads"].sum().sort_values(
        ascending=False)
    words = dict(zip(per["channel"], per["channel_label"], strict=True))
    names = [_label(c, words) for c in totals.index]
    traces = []
    for i, (reason, rank) in enumerate(zip(reasons["reason"], reasons["reason_rank"],
                                           strict=True)):
        missing = reason is None or (isinstance(reason, float) and pd.isna(reason))
        label = NO_REASON if missing else label_text(str(reason))
        color = ("#d9d9d9" if missing else MUTED if reason == OTHER_REASON
                 else REASON_COLORS[i % len(REASON_COLORS)])
        part = per[per["reason_rank"] == rank].set_index("channel")["lost_leads"]
        counts = [int(part.get(c, 0)) for c in totals.index]
        share = [n / int(totals[c]) if totals[c] else 0 for n, c in
                 zip(counts, totals.index, strict=True)]
        narrow = ({"no_reason": True} if missing else
                  {"lost_reason": None if reason == OTHER_REASON else str(reason),
                   "other_reasons": True if reason == OTHER_REASON else None})
        traces.append({
            "type": "bar", "orientation": "h", "name": label, "x": counts, "y": names,
            "marker": {"color": color},
            "text": [fmt.pct(v, 0) for v in share],
            "textposition": "inside", "insidetextanchor": "middle",
            "customdata": [[n, fmt.pct(v, 0), drill(channel=c, outcome="lost", **narrow)]
                           for n, v, c in zip(counts, share, totals.index, strict=True)],
            "hovertemplate": f"%{{y}}: {label}, %{{customdata[0]:,}} lost deals "
                             "(%{customdata[1]})<extra></extra>",
        })
    return _built(
        traces, height=_bar_height(len(names), per_bar=46, minimum=300), showlegend=True,
        barmode="stack", yaxis=_top_down_axis(names),
        xaxis={"title": {"text": "Lost deals"}, "tickformat": ","},
        legend={"orientation": "h", "y": -0.2, "x": 0, "traceorder": "normal"},
        uniformtext={"minsize": 12, "mode": "hide"},  # no share squeezed into a thin segment
    )


def open_waiting(df: pd.DataFrame) -> go.Figure:
    """Where open leads wait: channels (rows, all channels first) by open stage, each cell the
    open leads there and half of them waiting at least this many days at the stage.

    ``df``: ``stage_time.open_leads_waiting``.
    """
    rows = list(dict.fromkeys(None if pd.isna(c) else c for c in df["channel"]))
    words = dict(zip(df["channel"].dropna(), df.loc[df["channel"].notna(), "channel_label"],
                     strict=True))
    names = [ALL_CHANNELS if c is None else _label(c, words) for c in rows]
    stages = [s for s in STAGE_ORDER if s != "won" and s in set(df["stage"])]
    grid = {(None if pd.isna(r.channel) else r.channel, r.stage): r
            for r in df.itertuples(index=False)}
    z, text, custom = [], [], []
    for channel in rows:
        zr, tr, cr = [], [], []
        for stage in stages:
            cell = grid.get((channel, stage))
            if cell is None:
                zr.append(None)
                tr.append("")
                cr.append(["", ""])
                continue
            days = cell.median_days_at_stage
            at_least = "≥ " if cell.at_least_at_stage else ""
            zr.append(None if pd.isna(days) else float(days))
            tr.append(f"{fmt.count(cell.open_leads)} · {at_least}{fmt.days(days)}"
                      if not pd.isna(days) else fmt.count(cell.open_leads))
            came = fmt.days(cell.median_days_open)
            cr.append([f"{fmt.count(cell.open_leads)} open leads, half of them at the stage "
                       f"{at_least}{fmt.days(days)} or more; half came in {came} ago or more",
                       drill(channel=channel, stage=stage, outcome="open")])
        z.append(zr)
        text.append(tr)
        custom.append(cr)
    trace = {
        "type": "heatmap", "z": z, "x": [fmt.stage_label(s) for s in stages], "y": names,
        "text": text, "texttemplate": "%{text}", "customdata": custom, "xgap": 2, "ygap": 2,
        "textfont": {"size": 14, "color": INK},
        "colorscale": [[0, "#fff5eb"], [1, "#fd8d3c"]], "zmin": 0, "showscale": False,
        "hovertemplate": "%{y} at %{x}: %{customdata[0]}<extra></extra>",
    }
    return _built(
        [trace], height=_bar_height(len(rows), per_bar=40, minimum=260),
        yaxis={**_top_down_axis(names), "showgrid": False},
        xaxis={"side": "top", "showgrid": False, "tickfont": {"size": 14}},
    )


def time_in_stage(df: pd.DataFrame) -> go.Figure:
    """How long leads stay at each stage, all channels: the median days (Kaplan-Meier) as bars
    with its 95% interval where known; stages the data does not time are left empty.

    ``df``: ``stage_time.time_in_stage`` rows of all channels (channel None).
    """
    data = df[df["channel"].isna()].sort_values("position")
    names = [fmt.stage_label(s) for s in data["stage"]]
    median = data["median_days"].astype(float)
    low = data["median_ci_low"].astype(float).fillna(median)
    high = data["median_ci_high"].astype(float)
    bars = {
        "type": "bar", "orientation": "h", "x": median.fillna(0), "y": names,
        "marker": {"color": "#5b9bd5"},
        "error_x": {"type": "data", "array": (high - median).clip(lower=0).fillna(0),
                    "arrayminus": (median - low).clip(lower=0).fillna(0), "color": INK,
                    "thickness": 1.6, "width": 6},
        "customdata": [[int(t), int(lft), int(still), int(n)] for t, lft, still, n in
                       zip(data["stays"], data["left"], data["still_there"],
                           data["not_in_data"], strict=True)],
        "hovertemplate": "%{y}: half the stays over within %{x:.1f} days (%{customdata[1]:,} "
                         "timed stays ended, %{customdata[2]:,} still going, "
                         "%{customdata[3]:,} not timed in the data)<extra></extra>",
    }
    labels = {
        "type": "scatter", "mode": "text", "x": high.fillna(median).fillna(0), "y": names,
        "text": [" " + fmt.median_stay(m, timed) for m, timed in
                 zip(median, data["left"] + data["still_there"], strict=True)],
        "textposition": "middle right", "hoverinfo": "skip", "cliponaxis": False,
    }
    top = float(high.fillna(median).max()) if median.notna().any() else 1.0
    return _built([bars, labels], height=_bar_height(len(names), per_bar=52, minimum=240),
                  yaxis=_top_down_axis(names),
                  xaxis={"range": [0, max(1.0, top * 1.5)],
                         "title": {"text": "Days at the stage (median, 95% interval)"}})


def forecast_by_channel(df: pd.DataFrame) -> go.Figure:
    """What is coming per channel: the expected wins of one horizon as bars, with the range
    8 in 10 outcomes fall in, most first.

    ``df``: ``forecast.forecast(...)["totals"]`` rows of one horizon, channels only.
    """
    data = df.sort_values("expected_wins", ascending=False)
    names = [label_text(str(n)) for n in data["channel_label"]]
    expected = data["expected_wins"].astype(float)
    bars = {
        "type": "bar", "orientation": "h", "x": expected, "y": names,
        "marker": {"color": _colors(data["channel"])},
        "error_x": {"type": "data",
                    "array": (data["wins_high"].astype(float) - expected).clip(lower=0),
                    "arrayminus": (expected - data["wins_low"].astype(float)).clip(lower=0),
                    "color": INK, "thickness": 1.6, "width": 6},
        "customdata": [[fmt.count(lo), fmt.count(hi), fmt.count(n), drill(channel=c,
                                                                         outcome="open")]
                       for lo, hi, n, c in zip(data["wins_low"], data["wins_high"],
                                               data["open_deals"], data["channel"],
                                               strict=True)],
        "hovertemplate": "%{y}: about %{x:.0f} wins (8 in 10 chances: %{customdata[0]} to "
                         "%{customdata[1]}) from %{customdata[2]} open deals<extra></extra>",
    }
    top = float(data["wins_high"].max() or 1)
    return _built([bars], height=_bar_height(len(names)), yaxis=_top_down_axis(names),
                  xaxis={"range": [0, top * 1.15], "title": {"text": "Wins expected "
                                                                     "(bar: 8 in 10 range)"}})


# --- allocation ------------------------------------------------------------------------------


def allocation_shares(df: pd.DataFrame) -> go.Figure:
    """Each channel's share of the weekly budget now (pale, upper bar) and recommended (full
    colour, with the change in percentage points), channels that gain on top and those cut at
    the bottom.

    ``df``: channel, label, current_share, recommended_share
    (``allocation.Recommendation.to_frame``).
    """
    data = df.assign(change=df["recommended_share"] - df["current_share"]).sort_values(
        ["change", "recommended_share"], ascending=False)
    names = [_label(c, None, lab) for c, lab in zip(data["channel"], data["label"], strict=True)]
    now = data["current_share"].astype(float)
    plan = data["recommended_share"].astype(float)
    change = []
    for before, after in zip(now, plan, strict=True):
        moved = fmt.points(after - before) if abs(after - before) >= 0.0005 else "no change"
        change.append(f"<b>{fmt.pct(after)}</b>  ({moved})")
    # grouped horizontal bars draw the first trace lowest: 'recommended' under 'now'
    traces = [
        {"type": "bar", "x": plan, "y": names, "orientation": "h", "name": "Recommended",
         "marker": {"color": _colors(data["channel"])},
         "text": change, "textposition": "outside", "cliponaxis": False,
         "hovertemplate": "%{y}, recommended: %{x:.1%} of the budget<extra></extra>"},
        {"type": "bar", "x": now, "y": names, "orientation": "h", "name": "Now",
         "marker": {"color": [_faded(c) for c in _colors(data["channel"])]},
         "text": [f"now {fmt.pct(v)}" for v in now], "textposition": "outside",
         "cliponaxis": False, "textfont": {"size": 14, "color": MUTED},
         "hovertemplate": "%{y}, now: %{x:.1%} of the budget<extra></extra>"},
    ]
    top = float(max(now.max(), plan.max()) or 0.05)
    return _built(
        traces, height=_bar_height(len(data), per_bar=66), barmode="group", bargroupgap=0.06,
        yaxis=_top_down_axis(names),
        xaxis={"tickformat": ".0%", "range": [0, top * 1.45],
               "title": {"text": "Share of the weekly budget (pale: now · full colour: "
                                 "recommended)"}},
    )


# --- overview --------------------------------------------------------------------------------


def headline_by_week(df: pd.DataFrame, weeks: int = 12) -> go.Figure:
    """Two small bar charts of the last ``weeks`` weeks: new leads, and deals won (closed) in
    each week; the latest week in full colour.

    ``df``: week, leads, wins_closed (``metrics.headline_by_week``).
    """
    data = df.tail(weeks)
    grid = _grid(1, 2, horizontal_spacing=0.08, vertical_spacing=0.3)[0]
    last = len(data) - 1
    layout = _layout(height=380)
    layout["margin"] = {**layout["margin"], "t": 50}
    traces, notes = [], []
    panels = (("leads", "#1f77b4", "New leads per week"),
              ("wins_closed", "#2ca02c", "Deals won per week"))
    for n, ((column, colour, title), ((x0, x1), (y0, y1))) in enumerate(
            zip(panels, grid, strict=True), start=1):
        traces.append({
            "type": "bar",
            "x": data["week"], "y": data[column],
            "marker": {"color": [colour if i == last else _faded(colour)
                                 for i in range(len(data))]},
            "text": [fmt.count(v) for v in data[column]], "textposition": "outside",
            "cliponaxis": False, "textfont": {"size": 13},
            "hovertemplate": "Week of %{x|%d %b}: %{y:,}<extra></extra>",
            "xaxis": _axis_ref("x", n), "yaxis": _axis_ref("y", n),
        })
        notes.append({"text": title, "x": (x0 + x1) / 2, "y": y1, "xref": "paper",
                      "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                      "showarrow": False, "font": {"size": 18}})
        top = float(data[column].max() or 0)
        layout[_axis_name("x", n)] = {**AXIS, "anchor": _axis_ref("y", n), "domain": [x0, x1],
                                      **_week_axis(data["week"], most=6),
                                      "tickfont": {"size": 13}}
        layout[_axis_name("y", n)] = {**AXIS, "anchor": _axis_ref("x", n), "domain": [y0, y1],
                                      "rangemode": "tozero", "range": [0, max(top * 1.2, 5)],
                                      "tickformat": ",d"}
    for n, (column, _, _) in enumerate(panels, start=1):
        if not float(data[column].max() or 0):
            notes.append({"text": "None in these weeks", "showarrow": False,
                          "font": {"color": MUTED}, "xref": f"{_axis_ref('x', n)} domain",
                          "yref": f"{_axis_ref('y', n)} domain", "x": 0.5, "y": 0.5})
    layout["annotations"] = notes
    return go.Figure(data=traces, layout=layout)


def open_by_temperature(df: pd.DataFrame) -> go.Figure:
    """Open leads by temperature (cold, warm, hot), with their count and open value.

    ``df``: temperature, open_leads, open_value (``metrics.open_by_temperature``).
    """
    names = [fmt.TEMPERATURE_LABELS.get(t) or label_text(fmt.humanize(t))
             for t in df["temperature"]]
    bars = {
        "type": "bar",
        "x": df["open_leads"], "y": names, "orientation": "h",
        "marker": {"color": [TEMPERATURE_COLORS.get(t, MUTED) for t in df["temperature"]]},
        "text": [f"{fmt.count(n)} leads · {fmt.money_short(v)}"
                 for n, v in zip(df["open_leads"], df["open_value"], strict=True)],
        "textposition": "outside", "cliponaxis": False,
        "hovertemplate": "%{y}: %{x:,} open leads<extra></extra>",
    }
    return _built(
        [bars], height=_bar_height(len(df), per_bar=60, minimum=220),
        yaxis=_top_down_axis(names),
        xaxis={"range": [0, float(df["open_leads"].max() or 1) * 1.6], "tickformat": ",",
               "title": {"text": "Open leads"}},
    )


def _faded(hex_colour: str, amount: float = 0.55) -> str:
    """The colour mixed with white (for the weeks before the latest)."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    mix = [round(c + (255 - c) * amount) for c in (r, g, b)]
    return "#" + "".join(f"{c:02x}" for c in mix)
