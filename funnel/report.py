"""The weekly report (SPEC 5): one JSON-safe dict built from funnel.metrics, rendered as JSON,
as Markdown that reads as is in a chat or a meeting note, or as a small HTML page."""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from funnel import format as fmt
from funnel.allocation import recommend as allocation
from funnel.metrics import costs, metrics
from funnel.safe_text import md_text, neutralise
from funnel.store import currency as money

# The SPEC 5 contract: these keys, in this shape, never renamed (more may be added elsewhere).
LEADS_BY_CHANNEL_KEYS = ["channel", "kind", "leads", "share"]
LEADS_BY_WEEK_KEYS = ["week", "channel", "leads"]
CONVERSION_KEYS = [
    "channel", "leads", "won", "lost", "open", "conversion_rate", "win_rate", "ci_low",
    "ci_high", "median_days_to_win", "won_value", "value_per_lead",
]
FUNNEL_KEYS = ["channel", "stage", "reached"]
VOLUME_KEYS = ["channel", "leads", "previous_leads", "change", "change_pct"]
OPEN_KEYS = ["temperature", "open_leads", "share", "open_value", "median_age_days", "next_action"]
TIME_TO_WIN_KEYS = ["channel", "leads", "wins", "median_days", "median_ci_low", "median_ci_high"]
SPEND_KEYS = ["channel", "label", "leads", "spend", "hours", "cost_per_lead",
              "cost_per_lead_with_hours"]
WEEKS_SHOWN = 8  # the Markdown shows the last few weeks; the JSON has them all
OPEN_SHARE_WARNING = 0.3  # above this share of open leads the Markdown warns rates will rise
MIN_LEADS_FOR_BEST = 20  # the headline's "best conversion" ignores channels smaller than this


def build_report(
    con,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    compare: Sequence[str] | str | None = None,
) -> dict[str, Any]:
    """The report over leads created in [start, end] (None = all the data), as a JSON-safe dict.

    Keys: period {start, end} (the bounds given, else the first/last created date), as_of,
    headline, marketing {leads_by_channel, leads_by_week, lead_volume_vs_previous}, sales
    {conversion_by_channel, funnel, open_by_temperature, time_to_win}, allocation (one object
    per channel with spend: funnel.allocation.report_records), and head_to_head when
    ``compare`` names two channels ("a,b" or ("a", "b")).
    """
    f = {"start": start, "end": end}
    options = metrics.filter_options(con).iloc[0]
    as_of = metrics.as_of_date(con).iloc[0]
    conversion = metrics.conversion_by_channel(con, **f)
    coverage = metrics.data_coverage(con, **f)
    notes = metrics.coverage_notes(coverage)
    report: dict[str, Any] = {
        "period": {
            "start": _json_value(start if start is not None else options["min_created"]),
            "end": _json_value(end if end is not None else options["max_created"]),
        },
        "as_of": _json_value(as_of["as_of_date"]),
        "headline": _headline(conversion),
        "marketing": {
            "leads_by_channel": _records(metrics.leads_by_channel(con, **f), LEADS_BY_CHANNEL_KEYS),
            "leads_by_week": _records(metrics.leads_by_week(con, **f), LEADS_BY_WEEK_KEYS),
            "lead_volume_vs_previous": _records(
                metrics.lead_volume_vs_previous(con, **f), VOLUME_KEYS
            ),
            # cost per lead: money only, and money plus hours at this hourly rate
            # (funnel.metrics.costs, the definitions every page uses)
            "spend_by_channel": _records(metrics.spend_by_channel(con, **f), SPEND_KEYS),
            "hourly_rate": costs.DEFAULT_HOURLY_RATE,
        },
        "sales": {
            "conversion_by_channel": _records(conversion, CONVERSION_KEYS),
            # no stage funnel for leads whose files hold no stages (it would be invented)
            "funnel": [] if notes["funnel"] else _records(metrics.funnel_by_channel(con, **f),
                                                           FUNNEL_KEYS),
            "open_by_temperature": _records(metrics.open_by_temperature(con, **f), OPEN_KEYS),
            "time_to_win": _records(metrics.time_to_win(con, **f), TIME_TO_WIN_KEYS),
        },
        "allocation": _clean(allocation.report_records(con, start, end)),
        "currency": money.store_currency(con),
        "not_in_the_data": {k: v for k, v in notes.items() if v},
        "data_coverage": _clean(coverage.iloc[0].to_dict()) if len(coverage) else {},
    }
    if note := money.other_currency_note(con):
        report["not_in_the_data"]["currency"] = note
    if compare:
        a, b = _pair(compare)
        report["head_to_head"] = _clean(metrics.head_to_head(con, a, b, start, end))
    return report


def _pair(compare: Sequence[str] | str) -> tuple[str, str]:
    names = compare.split(",") if isinstance(compare, str) else list(compare)
    names = [n.strip() for n in names if n.strip()]
    if len(names) != 2:
        raise ValueError(f"compare needs two channels, like referral,cold_call (got {compare!r})")
    return names[0], names[1]


def _headline(conversion: pd.DataFrame) -> dict[str, Any]:
    leads = int(conversion["leads"].sum())
    won = int(conversion["won"].sum())
    return {
        "leads": leads,
        "won": won,
        "lost": int(conversion["lost"].sum()),
        "open": int(conversion["open"].sum()),
        "conversion_rate": won / leads if leads else None,
        "won_value": float(conversion["won_value"].sum()),
    }


def _records(df: pd.DataFrame, keys: list[str]) -> list[dict[str, Any]]:
    return [{k: _json_value(v) for k, v in zip(keys, row, strict=True)}
            for row in df[keys].itertuples(index=False, name=None)]


def _json_value(value: Any) -> Any:
    """A value json.dumps accepts and reads back the same: no NaN, dates as YYYY-MM-DD."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat() if _is_midnight(value) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy scalars and arrays
        return _json_value(value.tolist())
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _is_midnight(value: dt.datetime) -> bool:
    return (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    return _json_value(obj)


def render_json(report: dict[str, Any]) -> str:
    """The report as indented JSON (strict: NaN is refused, never written)."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False)


# --- Markdown and HTML -----------------------------------------------------------------------
# The section builders return blocks, ("h1" | "h2" | "p", text) or ("table", header, rows,
# align), which render_markdown and render_html lay out.


def render_markdown(report: dict[str, Any]) -> str:
    """The report as short headline sentences and compact tables (readable as plain text).

    Every line and cell is plain text (:func:`funnel.safe_text.md_text`): channel names, the
    head-to-head sentence (which names channels as their owner spelled them) and the like show
    as typed; Funnel's own words have nothing to escape and read as they are."""
    out: list[str] = []
    for block in _blocks(report):
        kind = block[0]
        if kind == "table":
            out += _md_table(*block[1:])
        else:
            out.append({"h1": "# ", "h2": "## ", "p": ""}[kind] + md_text(block[1]))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (text escaped, cells neutralised)."""
    parts = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(_title(report))}</title>", f"<style>{_CSS}</style>",
             "</head><body>"]
    for block in _blocks(report):
        kind = block[0]
        if kind == "table":
            parts.append(_html_table(*block[1:]))
        else:
            parts.append(f"<{kind}>{html.escape(block[1])}</{kind}>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


_CSS = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
        "th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem}.r{text-align:right}")


def _title(report: dict[str, Any]) -> str:
    period = report["period"]
    return f"Funnel report: {period['start'] or 'start'} to {period['end'] or 'end'}"


def _blocks(report: dict[str, Any]) -> list[tuple]:
    head = report["headline"]
    as_of = f"Data as of {report['as_of']}. " if report.get("as_of") else ""
    blocks: list[tuple] = [
        ("h1", _title(report)),
        ("p", f"{as_of}{_count(head['leads'])} leads, {_count(head['won'])} won "
              f"({_pct(head['conversion_rate'])}), {_count(head['open'])} still open; "
              f"won value {_money(head['won_value'])}."),
        *_marketing(report["marketing"]),
        *_costs(report["marketing"]),
        *_sales(report["sales"], report.get("not_in_the_data", {})),
    ]
    if report.get("head_to_head"):
        blocks += _head_to_head(report["head_to_head"])
    return blocks


def _marketing(m: dict[str, Any]) -> list[tuple]:
    blocks: list[tuple] = [("h2", "Marketing: is the phone ringing?")]
    by_channel = m["leads_by_channel"]
    if not by_channel:
        return [*blocks, ("p", "No leads in this period.")]
    top = by_channel[0]
    kinds: dict[str, int] = {}
    for row in by_channel:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + row["leads"]
    total = sum(kinds.values())
    mix = ", ".join(f"{k} {_count(n)} ({_pct(n / total)})" for k, n in sorted(kinds.items()))
    text = (f"{_count(total)} leads from {len(by_channel)} channels; most from "
            f"{top['channel']} ({_count(top['leads'])}, {_pct(top['share'])}). By kind: {mix}.")
    volume = m.get("lead_volume_vs_previous", [])
    before = sum(r["previous_leads"] for r in volume)
    header, align = ["Channel", "Kind", "Leads", "Share"], "llrr"
    previous = {r["channel"]: r for r in volume}
    rows = [[r["channel"], r["kind"], _count(r["leads"]), _pct(r["share"])] for r in by_channel]
    if before:  # without a previous period (e.g. a report over all the data) say nothing
        word = "up" if total > before else "down" if total < before else "no change"
        amount = f" {_pct(abs(total / before - 1))}" if total != before else ""
        text += f" The period of the same length just before brought {_count(before)}: "
        text += f"{word}{amount}."
        header, align = [*header, "vs previous period"], align + "l"
        rows = [[*row, _change(previous.get(row[0]))] for row in rows]
    return [*blocks, ("p", text), ("table", header, rows, align), *_weeks(m["leads_by_week"])]


def _costs(m: dict[str, Any]) -> list[tuple]:
    """What a lead costs per channel with spend, under the names every page uses."""
    rows = [r for r in m.get("spend_by_channel", []) if r["cost_per_lead"] is not None]
    if not rows:
        return []
    rate = m.get("hourly_rate", costs.DEFAULT_HOURLY_RATE)
    header = ["Channel", "Leads", "Money spent", "Hours spent", costs.money_only_name(),
              costs.with_hours_name(rate, fmt.CURRENCY)]
    table = [[r["label"], _count(r["leads"]), fmt.money(r["spend"]), _count(r["hours"]),
              fmt.money(r["cost_per_lead"]), fmt.money(r["cost_per_lead_with_hours"])]
             for r in rows]
    return [("p", "What a lead costs:"), ("table", header, table, "lrrrrr")]


def _change(row: dict[str, Any] | None) -> str:
    if not row:
        return ""
    if not row["previous_leads"]:
        return "new (0 before)" if row["leads"] else ""
    change = row["change_pct"]
    word = "up" if change > 0 else "down" if change < 0 else "same"
    amount = "" if change == 0 else f" {_pct(abs(change))}"
    return f"{word}{amount}, from {_count(row['previous_leads'])}"


def _weeks(rows: list[dict[str, Any]]) -> list[tuple]:
    if not rows:
        return []
    df = pd.DataFrame(rows)
    wide = df.pivot_table(index="week", columns="channel", values="leads", aggfunc="sum",
                          sort=False).fillna(0)
    channels = list(dict.fromkeys(df["channel"]))  # already ordered by leads, most first
    shown = channels[:4]
    table = wide[shown].copy()
    if len(channels) > len(shown):
        table["others"] = wide[channels[len(shown):]].sum(axis=1)
    table["total"] = wide.sum(axis=1)
    table = table.tail(WEEKS_SHOWN)
    title = f"Leads per week (last {len(table)} of {len(wide)} weeks, labelled by their Monday):"
    body = [[week, *(_count(v) for v in values)] for week, values in
            zip(table.index, table.to_numpy().tolist(), strict=True)]
    header = ["Week", *table.columns]
    return [("p", title), ("table", header, body, "l" + "r" * len(table.columns))]


def _sales(s: dict[str, Any], missing: dict[str, str]) -> list[tuple]:
    blocks: list[tuple] = [("h2", "Sales: are we answering it well?")]
    conv = s["conversion_by_channel"]
    if not conv:
        return [*blocks, ("p", "No leads in this period.")]
    sizeable = [r for r in conv if r["leads"] >= MIN_LEADS_FOR_BEST] or conv
    best = max(sizeable, key=lambda r: (r["conversion_rate"] or 0, r["leads"]))
    among = f" among channels with {MIN_LEADS_FOR_BEST}+ leads" if len(sizeable) < len(conv) else ""
    text = (f"Best conversion{among}: {best['channel']}, {_pct(best['conversion_rate'])} of "
            f"{_count(best['leads'])} leads (95% interval {_pct(best['ci_low'])} to "
            f"{_pct(best['ci_high'])}).")
    leads, still_open = sum(r["leads"] for r in conv), sum(r["open"] for r in conv)
    if leads and still_open / leads >= OPEN_SHARE_WARNING:
        text += (f" {_pct(still_open / leads)} of these leads are still open, so these rates "
                 "will still rise: judge channels on older weeks.")
    rows = [[r["channel"], _count(r["leads"]), _count(r["won"]), _count(r["lost"]),
             _count(r["open"]), f"{_pct(r['conversion_rate'])} "
             f"({_pct(r['ci_low'])}-{_pct(r['ci_high'])})", _pct(r["win_rate"]),
             _days(r["median_days_to_win"]), _money(r["won_value"]), _money(r["value_per_lead"])]
            for r in conv]
    header = ["Channel", "Leads", "Won", "Lost", "Open", "Conversion (95% CI)", "Win rate",
              "Median days to win", "Won value", "Value per lead"]
    notes = [("p", missing[k]) for k in ("funnel", "time_to_win", "value", "currency")
             if missing.get(k)]
    return [*blocks, ("p", text), ("table", header, rows, "lrrrrrrrrr"), *_funnel(s["funnel"]),
            *_time_to_win(s.get("time_to_win", [])), *notes,
            *_open(s.get("open_by_temperature", []))]


def _funnel(rows: list[dict[str, Any]]) -> list[tuple]:
    if not rows:
        return []
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    by_channel: dict[str, dict[str, int]] = {}
    for r in rows:
        by_channel.setdefault(r["channel"], {})[r["stage"]] = r["reached"]
    body = []
    for channel, reached in by_channel.items():
        leads = reached[stages[0]]
        body.append([channel, *(f"{_count(reached[st])}" + (
            f" ({_pct(reached[st] / leads)})" if leads and st != stages[0] else "")
            for st in stages)])
    header = ["Channel", *(st.capitalize() for st in stages)]
    return [("p", "Funnel: leads that reached each stage (share of the channel's leads):"),
            ("table", header, body, "l" + "r" * len(stages))]


def _time_to_win(rows: list[dict[str, Any]]) -> list[tuple]:
    rows = [r for r in rows if r["wins"]]
    if not rows:
        return []
    body = [[r["channel"], _count(r["wins"]), _days(r["median_days"], "not reached"),
             f"{_days(r['median_ci_low'], '?')} to {_days(r['median_ci_high'], '?')}"]
            for r in rows]
    return [("p", "Time to win (Kaplan-Meier: open leads counted until the as-of date, lost "
                  "leads until they were lost; 'not reached': fewer than half of the leads "
                  "still in play have won so far; '?' = not estimable yet):"),
            ("table", ["Channel", "Wins", "Median days", "95% interval"], body, "lrrr")]


def _open(rows: list[dict[str, Any]]) -> list[tuple]:
    if not rows or not sum(r["open_leads"] for r in rows):
        return []
    parts = [f"{_count(r['open_leads'])} {r['temperature']}" for r in rows]
    body = [[r["temperature"], _count(r["open_leads"]), _money(r["open_value"]),
             _days(r["median_age_days"]), r["next_action"] or ""] for r in rows]
    header = ["Temperature", "Open", "Value", "Median age (days)", "Next action"]
    return [("p", f"Open pipeline: {', '.join(parts)}."), ("table", header, body, "lrrrl")]


def _head_to_head(h: dict[str, Any]) -> list[tuple]:
    blocks = [("h2", f"Head-to-head: {h['channel_a']} vs {h['channel_b']}"), ("p", h["sentence"])]
    if h["a"]["leads"] and h["b"]["leads"]:
        blocks.append(("p", f"Difference in conversion ({h['channel_a']} minus "
                            f"{h['channel_b']}): {_points(h['difference_mean'])}, 95% credible "
                            f"interval {_points(h['difference_ci_low'])} to "
                            f"{_points(h['difference_ci_high'])} (Beta(1,1) prior, "
                            f"{h['draws']:,} seeded draws)."))
    return blocks


def _cell(value: Any) -> str:
    """A table cell's text, neutralised against formula injection (SPEC 6), on one line."""
    text = str(neutralise("" if value is None else str(value)))
    return text.replace("\r", " ").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[Any]], align: str) -> list[str]:
    def cell(value: Any) -> str:
        return md_text(_cell(value))  # '|' included

    rule = ["---:" if a == "r" else "---" for a in align]
    out = ["| " + " | ".join(cell(h) for h in header) + " |", "| " + " | ".join(rule) + " |"]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return out


def _html_table(header: list[str], rows: list[list[Any]], align: str) -> str:
    def tr(cells: list[Any], tag: str) -> str:
        return "<tr>" + "".join(
            f'<{tag}{" class=r" if a == "r" else ""}>{html.escape(_cell(c))}</{tag}>'
            for c, a in zip(cells, align, strict=True)) + "</tr>"

    return ("<table><thead>" + tr(header, "th") + "</thead><tbody>"
            + "".join(tr(row, "td") for row in rows) + "</tbody></table>")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _points(x: float | None) -> str:
    # words, not a sign: a cell or line starting with '-' reads as a formula or a list item
    if x is None:
        return "n/a"
    return f"{abs(100 * x):.1f} points {'lower' if x < 0 else 'higher'}"


def _count(n: float | None) -> str:
    return "n/a" if n is None else f"{int(round(n)):,}"


def _money(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def _days(x: float | None, missing: str = "n/a") -> str:
    return missing if x is None else f"{x:.1f}"
