"""Plotly figure builders, one per metric and named like it: pure functions, no Streamlit.

Each takes the DataFrame its metric in :mod:`funnel.metrics` returns (plus, where the metric
has no ``label`` column, a ``labels`` mapping channel -> words) and returns a ``go.Figure``.
One colour per channel everywhere (:func:`channel_color`), numbers formatted for people, fonts
large enough for a meeting-room projector. Callers check :func:`has_rows` first and show an
empty-state message instead of an empty chart.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from funnel import format as fmt

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
    "paid_social": "#c5b0d5",
    "email": "#17becf",
    "web": "#393b79",
    "event": "#e377c2",
    "partner": "#bcbd22",
    "advertising": "#d4a017",
    "other": "#7f7f7f",
    "unknown": "#b8b8b8",
}
# Channels an owner adds (or raw values kept as their own channel) draw from these, by a
# stable hash of the slug, so a channel keeps its colour across charts and sessions.
EXTRA_COLORS = [
    "#4a1486", "#637939", "#8c6d31", "#843c39", "#7b4173",
    "#5254a3", "#8ca252", "#bd9e39", "#ad494a", "#a55194",
]
TEMPERATURE_COLORS = {"cold": "#6baed6", "warm": "#fd8d3c", "hot": "#d62728"}
KIND_ORDER = ["inbound", "outbound", "unknown"]
STAGE_ORDER = ["new", "contacted", "qualified", "proposal", "won"]
COHORT_WEEKS = 16  # cohort weeks drawn at most: more cells than this are unreadable


def channel_color(channel: str) -> str:
    """The colour of a channel on every chart."""
    if channel in CHANNEL_COLORS:
        return CHANNEL_COLORS[channel]
    return EXTRA_COLORS[zlib.crc32(str(channel).encode()) % len(EXTRA_COLORS)]


def has_rows(df: pd.DataFrame | None, column: str | None = None) -> bool:
    """True when there is something to draw (rows, and a non-zero total in ``column``)."""
    if df is None or df.empty:
        return False
    if column is None:
        return True
    values = pd.to_numeric(df[column], errors="coerce").fillna(0)
    return bool((values != 0).any())


def _label(channel: str, labels: Mapping[str, str] | None, row_label: object = None) -> str:
    if labels and channel in labels:
        return labels[channel]
    return fmt.channel_label(channel, None if fmt.is_missing(row_label) else str(row_label))


def _style(fig: go.Figure, height: int = 460, legend: bool = False) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        font={"family": FONT, "size": FONT_SIZE, "color": INK},
        title_font={"size": TITLE_SIZE},
        margin={"l": 10, "r": 30, "t": 30, "b": 10},
        hoverlabel={"font_size": 16},
        showlegend=legend,
        legend={"font": {"size": 16}, "title": {"text": ""}},
        bargap=0.25,
        separators=".,",
    )
    fig.update_xaxes(gridcolor=GRID, zerolinecolor=GRID, automargin=True)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor=GRID, automargin=True)
    return fig


def _bar_height(n: int, per_bar: int = 44, minimum: int = 260) -> int:
    return max(minimum, 80 + per_bar * n)


def _top_down(fig: go.Figure, categories: Sequence[str]) -> None:
    """Horizontal bars in the order given, first on top."""
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(list(categories))))


# --- marketing -------------------------------------------------------------------------------


def leads_by_week(df: pd.DataFrame, labels: Mapping[str, str] | None = None) -> go.Figure:
    """Stacked bars: leads created per ISO week, one segment per channel (biggest at the bottom).

    ``df``: week, channel, leads (``metrics.leads_by_week``); ``labels`` also sets the stacking
    order (biggest channel first, as ``filter_options`` lists them).
    """
    order = [c for c in (labels or {}) if c in set(df["channel"])]
    order += [c for c in dict.fromkeys(df["channel"]) if c not in order]
    fig = go.Figure()
    for channel in order:
        part = df[df["channel"] == channel]
        name = _label(channel, labels)
        fig.add_bar(
            x=part["week"],
            y=part["leads"],
            name=name,
            marker_color=channel_color(channel),
            hovertemplate=f"{name}<br>Week of %{{x|%d %b %Y}}: %{{y:,}} leads<extra></extra>",
        )
    fig.update_layout(barmode="stack", bargap=0.15)
    _style(fig, height=500, legend=True)
    fig.update_layout(legend={"orientation": "v", "traceorder": "normal"})
    fig.update_xaxes(tickformat="%d %b", title_text="Week starting (Monday)")
    fig.update_yaxes(title_text="New leads", tickformat=",")
    return fig


def leads_by_channel(df: pd.DataFrame) -> go.Figure:
    """Horizontal bars: each channel's share of the period's leads, with its lead count.

    ``df``: channel, label, leads, share (``metrics.leads_by_channel``, biggest first).
    """
    names = [_label(c, None, lab) for c, lab in zip(df["channel"], df["label"], strict=True)]
    text = [f"{fmt.pct(s)}  ({fmt.count(n)})"
            for s, n in zip(df["share"], df["leads"], strict=True)]
    fig = go.Figure(
        go.Bar(
            x=df["share"],
            y=names,
            orientation="h",
            marker_color=[channel_color(c) for c in df["channel"]],
            text=text,
            textposition="outside",
            cliponaxis=False,
            customdata=df["leads"],
            hovertemplate="%{y}: %{x:.1%} of leads (%{customdata:,})<extra></extra>",
        )
    )
    _style(fig, height=_bar_height(len(df)))
    _top_down(fig, names)
    top = float(df["share"].max() or 0)
    fig.update_xaxes(tickformat=".0%", range=[0, max(0.05, top * 1.35)],
                     title_text="Share of leads")
    return fig


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
    fig = go.Figure()
    for row in df.itertuples(index=False):
        name = _label(row.channel, None, row.label)
        fig.add_bar(
            x=[row.leads],
            y=[kind_names.get(row.kind, fmt.kind_label(row.kind))],
            orientation="h",
            name=name,
            marker_color=channel_color(row.channel),
            marker_line={"color": "white", "width": 1},
            text=[name],
            textposition="inside",
            insidetextanchor="middle",
            textangle=0,
            hovertemplate=f"{name}: %{{x:,}} leads<extra></extra>",
        )
    fig.update_layout(barmode="stack", bargap=0.3, uniformtext={"minsize": 13, "mode": "hide"})
    _style(fig, height=_bar_height(len(present), per_bar=110, minimum=260))
    _top_down(fig, [kind_names[k] for k in present])
    fig.update_xaxes(title_text="New leads", tickformat=",")
    return fig


def lead_volume_vs_previous(df: pd.DataFrame) -> go.Figure:
    """Grouped horizontal bars per channel: this period in the channel's colour, the previous
    period of the same length in grey, and the change written beside them.

    ``df``: channel, label, leads, previous_leads, change, change_pct
    (``metrics.lead_volume_vs_previous``).
    """
    names = [_label(c, None, lab) for c, lab in zip(df["channel"], df["label"], strict=True)]
    fig = go.Figure()
    fig.add_bar(
        x=df["previous_leads"], y=names, orientation="h", name="Previous period",
        marker_color=PREVIOUS, hovertemplate="%{y}, previous period: %{x:,} leads<extra></extra>",
    )
    fig.add_bar(
        x=df["leads"], y=names, orientation="h", name="This period",
        marker_color=[channel_color(c) for c in df["channel"]],
        hovertemplate="%{y}, this period: %{x:,} leads<extra></extra>",
    )
    top = float(max(df["leads"].max(), df["previous_leads"].max()) or 1)
    for name, row in zip(names, df.itertuples(index=False), strict=True):
        change = fmt.signed_pct(row.change_pct) if fmt.finite(row.change_pct) else "new"
        colour = INK if not fmt.finite(row.change_pct) or row.change_pct >= 0 else LOSS
        fig.add_annotation(
            x=max(row.leads, row.previous_leads), y=name, xanchor="left", showarrow=False,
            xshift=8, text=f"{fmt.signed_count(row.change)} ({change})",
            font={"color": colour},
        )
    fig.update_layout(barmode="group", bargap=0.3, bargroupgap=0.05)
    _style(fig, height=_bar_height(len(df), per_bar=56), legend=True)
    fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0,
                              "traceorder": "reversed"})
    _top_down(fig, names)
    fig.update_xaxes(range=[0, top * 1.45], title_text="New leads", tickformat=",")
    return fig


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
    fig = go.Figure(
        go.Bar(
            x=df["cost_per_lead"], y=names, orientation="h",
            marker_color=[channel_color(c) for c in df["channel"]],
            text=text, textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{x:$,.2f} per lead<extra></extra>",
        )
    )
    _style(fig, height=_bar_height(len(df)))
    _top_down(fig, names)
    top = float(df["cost_per_lead"].max() or 1)
    fig.update_xaxes(tickprefix=fmt.CURRENCY, tickformat=",.0f", range=[0, top * 1.9],
                     title_text="Money spent per new lead")
    return fig


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
    fig = go.Figure()
    fig.add_bar(
        x=rate,
        y=names,
        orientation="h",
        marker_color=[channel_color(c) for c in data["channel"]],
        error_x={
            "type": "data",
            "array": (data["ci_high"].astype(float) - rate).clip(lower=0),
            "arrayminus": (rate - data["ci_low"].astype(float)).clip(lower=0),
            "color": INK,
            "thickness": 1.6,
            "width": 6,
        },
        customdata=list(zip(data["won"], data["leads"], strict=True)),
        hovertemplate="%{y}: %{x:.1%} converted (%{customdata[0]:,} won of "
        "%{customdata[1]:,} leads)<extra></extra>",
    )
    fig.add_scatter(
        x=data["ci_high"].astype(float),
        y=names,
        mode="text",
        text=[" " + fmt.pct_with_range(r, lo, hi)
              for r, lo, hi in zip(rate, data["ci_low"], data["ci_high"], strict=True)],
        textposition="middle right",
        hoverinfo="skip",
        cliponaxis=False,
    )
    _style(fig, height=_bar_height(len(data)))
    _top_down(fig, names)
    _rate_axis(fig, float(data["ci_high"].max() or 0.05))
    return fig


def _rate_axis(fig: go.Figure, top: float) -> None:
    """A 0-100% axis with room on the right for the 'rate (interval)' labels."""
    wanted = top * 1.45 + 0.01
    if wanted > 1.0:  # labels past 100% go into the right margin, not past the axis
        fig.update_layout(margin={"r": 170})
    fig.update_xaxes(tickformat=".0%", range=[0, min(1.0, wanted)],
                     title_text="Leads that became customers (bar: 95% interval)")


def funnel_by_channel(
    df: pd.DataFrame, labels: Mapping[str, str] | None = None, columns: int = 4
) -> go.Figure:
    """Small multiples: one funnel per channel (share of its leads reaching each stage), the
    step where the channel loses the most leads compared with the others marked in red.

    ``df``: channel, stage, reached, cumulative_pct, drop_pct, is_worst_step
    (``metrics.funnel_by_channel``); channels in the order they come.
    """
    channels = list(dict.fromkeys(df["channel"]))
    rows = math.ceil(len(channels) / columns)
    titles = []
    for channel in channels:
        first = df[(df["channel"] == channel) & (df["stage"] == "new")]
        leads = int(first["reached"].iloc[0]) if len(first) else 0
        titles.append(f"<b>{_label(channel, labels)}</b> · {fmt.count(leads)} leads")
    height = 40 + 230 * rows
    fig = make_subplots(
        rows=rows, cols=columns, shared_yaxes=True, subplot_titles=titles,
        horizontal_spacing=0.05, vertical_spacing=min(0.3, 75 / height),
    )
    stage_names = [fmt.stage_label(s) for s in STAGE_ORDER]
    for i, channel in enumerate(channels):
        row, col = divmod(i, columns)
        part = df[df["channel"] == channel].set_index("stage").reindex(STAGE_ORDER)
        worst = part["is_worst_step"].fillna(False).astype(bool)
        colours = [LOSS if w else channel_color(channel) for w in worst]
        text = [
            f"{fmt.pct(p)}  ▼{fmt.pct(d)} lost" if w else fmt.pct(p)
            for p, d, w in zip(part["cumulative_pct"], part["drop_pct"], worst, strict=True)
        ]
        fig.add_bar(
            x=part["cumulative_pct"].fillna(0),
            y=stage_names,
            orientation="h",
            marker_color=colours,
            text=text,
            textposition="outside",
            cliponaxis=False,
            textfont={"size": 14, "color": [LOSS if w else INK for w in worst]},
            customdata=part["reached"].fillna(0),
            hovertemplate=f"{_label(channel, labels)}<br>%{{y}}: %{{customdata:,}} leads "
            "(%{x:.0%})<extra></extra>",
            row=row + 1,
            col=col + 1,
        )
    _style(fig, height=height)
    fig.update_layout(margin={"t": 40})
    fig.update_annotations(font_size=16)
    fig.update_xaxes(range=[0, 1.75], showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(stage_names)),
                     tickfont={"size": 14})
    return fig


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
    fig = go.Figure()
    for channel in wanted:
        part = df[df["channel"] == channel].sort_values("days")
        if part.empty:
            continue
        name = _label(channel, labels)
        colour = channel_color(channel)
        if bands:
            fig.add_scatter(
                x=list(part["days"]) + list(part["days"])[::-1],
                y=list(1 - part["ci_low"]) + list(1 - part["ci_high"])[::-1],
                fill="toself", fillcolor=colour, opacity=0.15, line={"width": 0},
                hoverinfo="skip", showlegend=False,
            )
        fig.add_scatter(
            x=part["days"], y=part["won_share"], mode="lines", name=name,
            line={"color": colour, "width": 3, "shape": "hv"},
            hovertemplate=f"{name}: %{{y:.0%}} won by day %{{x:.0f}}<extra></extra>",
        )
    _style(fig, height=480, legend=True)
    fig.update_xaxes(title_text="Days since the lead came in", rangemode="tozero")
    fig.update_yaxes(title_text="Share of leads won", tickformat=".0%", rangemode="tozero")
    return fig


def value_per_lead(df: pd.DataFrame) -> go.Figure:
    """Won value per lead by channel: what one more lead of each channel is worth today.

    ``df``: channel, label, leads, won_value, value_per_lead (``metrics.conversion_by_channel``).
    """
    data = df.sort_values("value_per_lead", ascending=False)
    names = [_label(c, None, lab) for c, lab in zip(data["channel"], data["label"], strict=True)]
    fig = go.Figure(
        go.Bar(
            x=data["value_per_lead"],
            y=names,
            orientation="h",
            marker_color=[channel_color(c) for c in data["channel"]],
            text=[f"{fmt.money(v)} per lead" for v in data["value_per_lead"]],
            textposition="outside",
            cliponaxis=False,
            customdata=list(zip(data["won_value"], data["leads"], strict=True)),
            hovertemplate="%{y}: %{x:$,.0f} per lead (won %{customdata[0]:$,.0f} from "
            "%{customdata[1]:,} leads)<extra></extra>",
        )
    )
    _style(fig, height=_bar_height(len(data)))
    _top_down(fig, names)
    top = float(data["value_per_lead"].max() or 1)
    fig.update_xaxes(tickprefix=fmt.CURRENCY, tickformat=",.0f", range=[0, top * 1.4],
                     title_text="Value won per lead")
    return fig


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
    grid = df.set_index(["channel", "cohort_week"])

    def matrix(mature: bool) -> tuple[list[list], list[list], list[list]]:
        z, text, hover = [], [], []
        for channel in channels:
            zr, tr, hr = [], [], []
            for w in weeks:
                key = (channel, w)
                if key in grid.index and bool(grid.loc[key, "is_mature"]) == mature:
                    cell = grid.loc[key]
                    zr.append(float(cell["conversion_rate"]))
                    tr.append(fmt.pct(cell["conversion_rate"], 0))
                    hr.append(f"{fmt.count(cell['won'])} won of {fmt.count(cell['leads'])}")
                else:
                    zr.append(None)
                    tr.append("")
                    hr.append("")
            z.append(zr)
            text.append(tr)
            hover.append(hr)
        return z, text, hover

    fig = go.Figure()
    for mature in (True, False):
        z, text, hover = matrix(mature)
        fig.add_heatmap(
            z=z, x=week_names, y=names, text=text, texttemplate="%{text}",
            textfont={"size": 14, "color": INK if mature else MUTED}, customdata=hover,
            xgap=2, ygap=2,
            colorscale=[[0, "#f7fbff"], [1, "#5b9bd5"]] if mature else [[0, "#ececec"],
                                                                        [1, "#ececec"]],
            zmin=0, zmax=max(0.05, min(0.6, float(df["conversion_rate"].max() or 0))),
            showscale=False,
            hovertemplate="%{y}, leads of week %{x}: %{z:.0%} (%{customdata})"
            + ("" if mature else "<br>Too young to judge: most of its wins are still to come")
            + "<extra></extra>",
        )
    _style(fig, height=_bar_height(len(channels), per_bar=38, minimum=300))
    _top_down(fig, names)
    fig.update_xaxes(title_text="Week the leads came in", side="bottom", tickangle=0,
                     showgrid=False, tickfont={"size": 13})
    fig.update_yaxes(showgrid=False)
    return fig


def head_to_head(result: Mapping) -> go.Figure:
    """Two channels' conversion side by side with their 95% intervals (``metrics.head_to_head``)."""
    sides = [(result["channel_a"], result["a"]), (result["channel_b"], result["b"])]
    fig = go.Figure()
    highs = []
    for channel, side in sides:
        rate = side["conversion_rate"] or 0.0
        low = side["ci_low"] if side["ci_low"] is not None else rate
        high = side["ci_high"] if side["ci_high"] is not None else rate
        highs.append(high)
        fig.add_bar(
            x=[rate], y=[side["label"]], orientation="h", marker_color=channel_color(channel),
            error_x={"type": "data", "array": [high - rate], "arrayminus": [rate - low],
                     "color": INK, "thickness": 1.6, "width": 6},
            hovertemplate=f"%{{y}}: {side['won']:,} won of {side['leads']:,} leads<extra></extra>",
        )
        fig.add_scatter(
            x=[high], y=[side["label"]], mode="text", textposition="middle right",
            text=[" " + fmt.pct_with_range(side["conversion_rate"], side["ci_low"],
                                           side["ci_high"])],
            hoverinfo="skip", cliponaxis=False,
        )
    _style(fig, height=230)
    _top_down(fig, [s["label"] for _, s in sides])
    _rate_axis(fig, max(highs + [0.05]))
    return fig


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
    fig = go.Figure()
    # grouped horizontal bars draw the first trace lowest: 'recommended' under 'now'
    fig.add_bar(
        x=plan, y=names, orientation="h", name="Recommended",
        marker_color=[channel_color(c) for c in data["channel"]],
        text=change, textposition="outside", cliponaxis=False,
        hovertemplate="%{y}, recommended: %{x:.1%} of the budget<extra></extra>",
    )
    fig.add_bar(
        x=now, y=names, orientation="h", name="Now",
        marker_color=[_faded(channel_color(c)) for c in data["channel"]],
        text=[f"now {fmt.pct(v)}" for v in now], textposition="outside", cliponaxis=False,
        textfont={"size": 14, "color": MUTED},
        hovertemplate="%{y}, now: %{x:.1%} of the budget<extra></extra>",
    )
    fig.update_layout(barmode="group", bargap=0.28, bargroupgap=0.06)
    _style(fig, height=_bar_height(len(data), per_bar=66))
    _top_down(fig, names)
    top = float(max(now.max(), plan.max()) or 0.05)
    fig.update_xaxes(tickformat=".0%", range=[0, top * 1.45],
                     title_text="Share of the weekly budget (pale: now · full colour: "
                     "recommended)")
    return fig


# --- overview --------------------------------------------------------------------------------


def headline_by_week(df: pd.DataFrame, weeks: int = 12) -> go.Figure:
    """Two small bar charts of the last ``weeks`` weeks: new leads, and deals won (closed) in
    each week; the latest week in full colour.

    ``df``: week, leads, wins_closed (``metrics.headline_by_week``).
    """
    data = df.tail(weeks)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("New leads per week",
                                                        "Deals won per week"),
                        horizontal_spacing=0.08)
    last = len(data) - 1
    for col, column, colour in ((1, "leads", "#1f77b4"), (2, "wins_closed", "#2ca02c")):
        fig.add_bar(
            x=data["week"], y=data[column],
            marker_color=[colour if i == last else _faded(colour) for i in range(len(data))],
            text=[fmt.count(v) for v in data[column]], textposition="outside", cliponaxis=False,
            textfont={"size": 13},
            hovertemplate="Week of %{x|%d %b}: %{y:,}<extra></extra>",
            row=1, col=col,
        )
    _style(fig, height=380)
    fig.update_layout(margin={"t": 50})
    fig.update_annotations(font_size=18)
    fig.update_xaxes(tickformat="%d %b", tickfont={"size": 13})
    fig.update_yaxes(tickformat=",", rangemode="tozero")
    for col, column in ((1, "leads"), (2, "wins_closed")):
        top = float(data[column].max() or 0)
        fig.update_yaxes(range=[0, max(top * 1.2, 5)], tickformat=",d", row=1, col=col)
        if top == 0:
            fig.add_annotation(text="None in these weeks", showarrow=False, font={"color": MUTED},
                               xref=f"x{col if col > 1 else ''} domain",
                               yref=f"y{col if col > 1 else ''} domain", x=0.5, y=0.5)
    return fig


def open_by_temperature(df: pd.DataFrame) -> go.Figure:
    """Open leads by temperature (cold, warm, hot), with their count and open value.

    ``df``: temperature, open_leads, open_value (``metrics.open_by_temperature``).
    """
    names = [fmt.TEMPERATURE_LABELS.get(t, fmt.humanize(t)) for t in df["temperature"]]
    fig = go.Figure(
        go.Bar(
            x=df["open_leads"], y=names, orientation="h",
            marker_color=[TEMPERATURE_COLORS.get(t, MUTED) for t in df["temperature"]],
            text=[f"{fmt.count(n)} leads · {fmt.money_short(v)}"
                  for n, v in zip(df["open_leads"], df["open_value"], strict=True)],
            textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{x:,} open leads<extra></extra>",
        )
    )
    _style(fig, height=_bar_height(len(df), per_bar=60, minimum=220))
    _top_down(fig, names)
    fig.update_xaxes(range=[0, float(df["open_leads"].max() or 1) * 1.6], tickformat=",",
                     title_text="Open leads")
    return fig


def _faded(hex_colour: str, amount: float = 0.55) -> str:
    """The colour mixed with white (for the weeks before the latest)."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    mix = [round(c + (255 - c) * amount) for c in (r, g, b)]
    return "#" + "".join(f"{c:02x}" for c in mix)
