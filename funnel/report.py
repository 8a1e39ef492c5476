"""The weekly report (SPEC 5): one JSON-safe dict built from funnel.metrics, rendered as JSON,
as Markdown that reads as is in a chat or a meeting note, or as a small HTML page."""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from funnel import forecast_log
from funnel import format as fmt
from funnel.allocation import recommend as allocation
from funnel.jsonsafe import json_ready
from funnel.metrics import costs, forecast, metrics, stage_time
from funnel.metrics.stats import MIN_LEADS_TO_JUDGE
from funnel.safe_text import md_text, neutralise
from funnel.store import currency as money
from funnel.synonyms import STAGES

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
# Issue 17's follow-up answers, beside SPEC 5's keys (JSON keeps slugs; the *_label keys are the
# words the Markdown shows).
LOST_REASON_KEYS = ["reason", "channel", "channel_label", "lost_at", "lost_at_label",
                    "lost_leads"]
TIME_IN_STAGE_KEYS = [
    "channel", "channel_label", "stage", "stage_label", "stays", "left", "still_there",
    "not_in_data", "median_days", "median_ci_low", "median_ci_high", "moved_on",
    "median_days_to_next_step",
]
WAITING_KEYS = [
    "channel", "channel_label", "stage", "stage_label", "open_leads", "open_value",
    "median_days_open", "oldest_days_open", "known_at_stage", "at_least_at_stage",
    "median_days_at_stage", "longest_days_at_stage",
]
LONGEST_WAIT_KEYS = ["channel", "channel_label", "stage", "stage_label", "open_leads", "days",
                     "basis", "at_least", "sentence"]
OWNER_KEYS = [
    "owner", "channel", "channel_label", "leads", "won", "lost", "open", "conversion_rate",
    "ci_low", "ci_high", "win_rate", "win_ci_low", "win_ci_high", "won_value", "too_few",
]
FORECAST_TOTAL_KEYS = [
    "horizon", "horizon_words", "horizon_end", "channel", "channel_label", "open_deals",
    "expected_wins", "wins_low", "wins_high", "expected_value", "value_low", "value_high",
]
FORECAST_STAGE_KEYS = [
    "channel", "channel_label", "stage", "stage_label", "open_deals", "open_value",
    "days_seen", "won_weekly", "lost_weekly", "moved_weekly", "chance", "chance_low",
    "chance_high", "basis", "basis_words",
]
KEPT_FORECAST_KEYS = [
    "forecast_id", "made_at", "as_of", "horizon", "horizon_end", "channel", "channel_label",
    "open_deals", "expected_wins", "wins_low", "wins_high", "expected_value", "actual_wins",
    "due", "verdict",
]
BREAKDOWNS = ("owner",)  # report --by
SPEND_KEYS = ["channel", "label", "leads", "spend", "hours", "cost_per_lead",
              "cost_per_lead_with_hours"]
WEEKS_SHOWN = 8  # the Markdown shows the last few weeks; the JSON has them all
OPEN_SHARE_WARNING = 0.3  # above this share of open leads the Markdown warns rates will rise
MIN_LEADS_FOR_BEST = 20  # the headline's "best conversion" ignores channels smaller than this
KEPT_SHOWN = 4  # the Markdown scores the latest few kept forecasts; the JSON has them all
NO_OWNER = "no owner in the data"
NO_REASON = "no reason in the data"


def build_report(
    con,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    compare: Sequence[str] | str | None = None,
    by: str | None = None,
) -> dict[str, Any]:
    """The report over leads created in [start, end] (None = all the data), as a JSON-safe dict.

    Keys: period {start, end} (the bounds given, else the first/last created date), as_of,
    headline, marketing {leads_by_channel, leads_by_week, lead_volume_vs_previous}, sales
    {conversion_by_channel, funnel, open_by_temperature, time_to_win, lost_reasons,
    time_in_stage, open_leads_waiting, longest_waits}, forecast (what the period's open deals
    should win, and the kept forecasts scored), allocation (one object per channel with spend:
    funnel.allocation.report_records), head_to_head when ``compare`` names two channels ("a,b"
    or ("a", "b")), and sales.by_owner when ``by`` is "owner".
    """
    if by is not None and by not in BREAKDOWNS:
        raise ValueError(f"by takes {', '.join(BREAKDOWNS)} (got {by!r})")
    f = {"start": start, "end": end}
    options = metrics.filter_options(con).iloc[0]
    as_of = metrics.as_of_date(con).iloc[0]
    conversion = metrics.conversion_by_channel(con, **f)
    coverage = metrics.data_coverage(con, **f)
    notes = metrics.coverage_notes(coverage)
    # no stage funnel, stays or waits at stages for leads whose files hold no stages (they would
    # be invented)
    staged = not notes["funnel"]
    waiting = stage_time.open_leads_waiting(con, **f) if staged else None
    report: dict[str, Any] = {
        "period": {
            "start": json_ready(start if start is not None else options["min_created"]),
            "end": json_ready(end if end is not None else options["max_created"]),
        },
        "as_of": json_ready(as_of["as_of_date"]),
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
            "funnel": _records(metrics.funnel_by_channel(con, **f), FUNNEL_KEYS) if staged else [],
            "open_by_temperature": _records(metrics.open_by_temperature(con, **f), OPEN_KEYS),
            "time_to_win": _records(metrics.time_to_win(con, **f), TIME_TO_WIN_KEYS),
            "lost_reasons": _records(metrics.lost_reasons(con, **f), LOST_REASON_KEYS),
            "time_in_stage": (_records(stage_time.time_in_stage(con, **f), TIME_IN_STAGE_KEYS)
                              if staged else []),
            "open_leads_waiting": _records(waiting, WAITING_KEYS) if staged else [],
            "longest_waits": _longest_waits(waiting) if staged else [],
        },
        "forecast": _forecast(con, start, end, money.store_currency(con)),
        "allocation": json_ready(allocation.report_records(con, start, end)),
        "currency": money.store_currency(con),
        "not_in_the_data": {k: v for k, v in notes.items() if v},
        "data_coverage": json_ready(coverage.iloc[0].to_dict()) if len(coverage) else {},
    }
    if note := money.other_currency_note(con):
        report["not_in_the_data"]["currency"] = note
    if by == "owner":
        report["sales"]["by_owner"] = _records(metrics.conversion_by_owner(con, **f), OWNER_KEYS)
    if compare:
        a, b = _pair(compare)
        report["head_to_head"] = json_ready(metrics.head_to_head(con, a, b, start, end))
    return report


def _channel_words(channel: Any, label: Any) -> str:
    """A channel in words, a raw one kept as its own tidied ("yelp" -> "Yelp"); None (every
    channel) is "All channels"."""
    if channel is None or fmt.is_missing(channel):
        return forecast.ALL_CHANNELS
    return fmt.channel_label(channel, label)


def _words(channel: str) -> str:
    """A channel slug in words, as the dashboard names it ("cold_call" -> "Cold call")."""
    return _channel_words(channel, None)


def _longest_waits(waiting: pd.DataFrame) -> list[dict[str, Any]]:
    """Per channel (all channels first) the stage where its open leads wait longest, with the
    sentence saying so (the channel in words)."""
    rows = _records(stage_time.longest_waits(waiting), LONGEST_WAIT_KEYS)
    for row in rows:
        row["sentence"] = stage_time.wait_sentence(
            _channel_words(row["channel"], row["channel_label"]), row["stage_label"],
            row["open_leads"], row["days"], row["basis"], row["at_least"])
    return rows


def _forecast(con, start, end, currency: str | None) -> dict[str, Any]:
    """What the period's open deals should win (funnel.metrics.forecast), each total with its
    sentence, and every kept forecast scored against the wins that came."""
    result = forecast.forecast(con, start, end)
    totals = _records(result["totals"], FORECAST_TOTAL_KEYS)
    for row in totals:
        row["sentence"] = _forecast_sentence(row, currency)
    kept = _records(forecast_log.scored(con), KEPT_FORECAST_KEYS)
    for row in kept:
        row["sentence"] = forecast.score_sentence(
            {**row, "channel_label": _channel_words(row["channel"], row["channel_label"])})
    return {
        "as_of": json_ready(result["as_of"]),
        "method": result["method"],
        "range": result["range"],
        "horizons": [{"key": h.key, "words": h.words, "end": json_ready(h.end)}
                     for h in result["horizons"]],
        "totals": totals,
        "stages": _records(result["stages"], FORECAST_STAGE_KEYS),
        "notes": list(result["notes"]),
        "kept_forecasts": kept,
    }


def _forecast_sentence(row: dict[str, Any], currency: str | None) -> str:
    """forecast.sentence's words, the money in the store's currency ('worth about 150 USD (0
    to 600 USD)'): its own money part (a '$' whatever the currency) is left out and put back
    here."""
    words = forecast.sentence({**row, "expected_value": 0,
                               "channel_label": _channel_words(row["channel"],
                                                               row["channel_label"])})
    if not row["expected_value"] or row["expected_value"] <= 0:
        return words
    return (f"{words[:-1]}, worth about {_cash(row['expected_value'], currency)} "
            f"({_cash(row['value_low'], currency)} to {_cash(row['value_high'], currency)}).")


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
    return [{k: json_ready(v) for k, v in zip(keys, row, strict=True)}
            for row in df[keys].itertuples(index=False, name=None)]


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
    with fmt.in_currency(report.get("currency")):  # money in the store's mark, as the pages
        blocks = _blocks(report)
    for block in blocks:
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
    with fmt.in_currency(report.get("currency")):  # money in the store's mark, as the pages
        blocks = _blocks(report)
    for block in blocks:
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
    start = fmt.date(period["start"]) if period["start"] else "the start"
    end = fmt.date(period["end"]) if period["end"] else "the end"
    return f"Funnel report: {start} to {end}"


def _blocks(report: dict[str, Any]) -> list[tuple]:
    head, currency = report["headline"], report.get("currency")
    as_of = f"Data as of {fmt.date(report['as_of'])}. " if report.get("as_of") else ""
    blocks: list[tuple] = [
        ("h1", _title(report)),
        ("p", f"{as_of}{_count(head['leads'])} leads, {_count(head['won'])} won "
              f"({_pct(head['conversion_rate'])}), {_count(head['open'])} still open; "
              f"won value {_cash(head['won_value'], currency)}."),
        *_marketing(report["marketing"]),
        *_costs(report["marketing"]),
        *_sales(report["sales"], report.get("not_in_the_data", {}), currency),
    ]
    if head["leads"]:  # the follow-up questions (issue 17); an empty period has none
        sales, missing = report["sales"], report.get("not_in_the_data", {})
        if "by_owner" in sales:
            blocks += _by_owner(sales["by_owner"], currency)
        blocks += _lost(sales.get("lost_reasons", []), head["lost"])
        blocks += _stuck(sales, missing, currency)
        blocks += _coming(report.get("forecast"), currency)
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
    mix = ", ".join(f"{fmt.kind_label(k).lower()} {_count(n)} ({_pct(n / total)})"
                    for k, n in sorted(kinds.items()))
    text = (f"{_count(total)} leads from {len(by_channel)} channels; most from "
            f"{_words(top['channel'])} ({_count(top['leads'])}, {_pct(top['share'])}). By kind: "
            f"{mix}.")
    volume = m.get("lead_volume_vs_previous", [])
    before = sum(r["previous_leads"] for r in volume)
    header, align = ["Channel", "Kind", "Leads", "Share"], "llrr"
    previous = {r["channel"]: r for r in volume}
    rows = [[r["channel"], fmt.kind_label(r["kind"]), _count(r["leads"]), _pct(r["share"])]
            for r in by_channel]
    if before:  # without a previous period (e.g. a report over all the data) say nothing
        word = "up" if total > before else "down" if total < before else "no change"
        amount = f" {_pct(abs(total / before - 1))}" if total != before else ""
        text += f" The period of the same length just before brought {_count(before)}: "
        text += f"{word}{amount}."
        header, align = [*header, "vs previous period"], align + "l"
        rows = [[*row, _change(previous.get(row[0]))] for row in rows]
    rows = [[_words(row[0]), *row[1:]] for row in rows]  # the slug was the key: now its words
    return [*blocks, ("p", text), ("table", header, rows, align), *_weeks(m["leads_by_week"])]


def _costs(m: dict[str, Any]) -> list[tuple]:
    """What a lead costs per channel with spend, under the names every page uses."""
    rows = [r for r in m.get("spend_by_channel", []) if r["cost_per_lead"] is not None]
    if not rows:
        return []
    rate = m.get("hourly_rate", costs.DEFAULT_HOURLY_RATE)
    header = ["Channel", "Leads", "Money spent", "Hours spent", costs.money_only_name(),
              costs.with_hours_name(rate, fmt.current_mark())]
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
    body = [[fmt.date(week), *(_count(v) for v in values)] for week, values in
            zip(table.index, table.to_numpy().tolist(), strict=True)]
    header = ["Week", *({"others": "Other channels", "total": "Total"}.get(c) or _words(c)
                        for c in table.columns)]
    return [("p", title), ("table", header, body, "l" + "r" * len(table.columns))]


def _sales(s: dict[str, Any], missing: dict[str, str], currency: str | None) -> list[tuple]:
    blocks: list[tuple] = [("h2", "Sales: are we answering it well?")]
    conv = s["conversion_by_channel"]
    if not conv:
        return [*blocks, ("p", "No leads in this period.")]
    sizeable = [r for r in conv if r["leads"] >= MIN_LEADS_FOR_BEST] or conv
    best = max(sizeable, key=lambda r: (r["conversion_rate"] or 0, r["leads"]))
    among = f" among channels with {MIN_LEADS_FOR_BEST}+ leads" if len(sizeable) < len(conv) else ""
    text = (f"Best conversion{among}: {_words(best['channel'])}, "
            f"{_pct(best['conversion_rate'])} of "
            f"{_count(best['leads'])} leads "
            f"(95% interval {_range(best['ci_low'], best['ci_high'])}).")
    leads, still_open = sum(r["leads"] for r in conv), sum(r["open"] for r in conv)
    if leads and still_open / leads >= OPEN_SHARE_WARNING:
        text += (f" {_pct(still_open / leads)} of these leads are still open, so these rates "
                 "will still rise: judge channels on older weeks.")
    rows = [[_words(r["channel"]), _count(r["leads"]), _count(r["won"]), _count(r["lost"]),
             _count(r["open"]), _rate(r["conversion_rate"], r["ci_low"], r["ci_high"]),
             _pct(r["win_rate"]),
             _days(r["median_days_to_win"]), _cash(r["won_value"], currency),
             _cash(r["value_per_lead"], currency)]
            for r in conv]
    header = ["Channel", "Leads", "Won", "Lost", "Open", "Conversion (95% interval)", "Win rate",
              "Median days to win", "Won value", "Value per lead"]
    notes = [("p", missing[k]) for k in ("funnel", "time_to_win", "value", "currency")
             if missing.get(k)]
    return [*blocks, ("p", text), ("table", header, rows, "lrrrrrrrrr"), *_funnel(s["funnel"]),
            *_time_to_win(s.get("time_to_win", [])), *notes,
            *_open(s.get("open_by_temperature", []), currency)]


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
        body.append([_words(channel), *(f"{_count(reached[st])}" + (
            f" ({_pct(reached[st] / leads)})" if leads and st != stages[0] else "")
            for st in stages)])
    header = ["Channel", *(fmt.stage_label(st) for st in stages)]
    return [("p", "Funnel: leads that reached each stage (share of the channel's leads):"),
            ("table", header, body, "l" + "r" * len(stages))]


def _time_to_win(rows: list[dict[str, Any]]) -> list[tuple]:
    rows = [r for r in rows if r["wins"]]
    if not rows:
        return []
    body = [[_words(r["channel"]), _count(r["wins"]), _days(r["median_days"], "not reached"),
             _days_range(r["median_ci_low"], r["median_ci_high"])]
            for r in rows]
    return [("p", "Time to win (open leads counted until the as-of date, lost leads until they "
                  "were lost; 'not reached': fewer than half of the leads still in play have "
                  "won so far):"),
            ("table", ["Channel", "Wins", "Median days", "95% interval"], body, "lrrr")]


def _open(rows: list[dict[str, Any]], currency: str | None) -> list[tuple]:
    if not rows or not sum(r["open_leads"] for r in rows):
        return []
    parts = [f"{_count(r['open_leads'])} {r['temperature']}" for r in rows]
    body = [[fmt.TEMPERATURE_LABELS.get(r["temperature"], r["temperature"]),
             _count(r["open_leads"]), _cash(r["open_value"], currency),
             _days(r["median_age_days"]), r["next_action"] or ""] for r in rows]
    header = ["Temperature", "Open", "Value", "Median age (days)", "Next action"]
    return [("p", f"Open pipeline: {', '.join(parts)}."), ("table", header, body, "lrrrl")]


def _head_to_head(h: dict[str, Any]) -> list[tuple]:
    a, b = _words(h["channel_a"]), _words(h["channel_b"])
    blocks = [("h2", f"Head-to-head: {a} vs {b}"), ("p", h["sentence"])]
    if h["a"]["leads"] and h["b"]["leads"]:
        blocks.append(("p", f"Difference in conversion ({a} minus "
                            f"{b}): {_points(h['difference_mean'])}, 95% credible "
                            f"interval {_points(h['difference_ci_low'])} to "
                            f"{_points(h['difference_ci_high'])} (Beta(1,1) prior, "
                            f"{h['draws']:,} seeded draws)."))
    return blocks


# --- the follow-up questions (issue 17) --------------------------------------------------------


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _rate(rate: float | None, low: float | None, high: float | None) -> str:
    """'50% (19–81%)': a rate and its 95% interval, as the pages show it."""
    return "n/a" if rate is None else f"{_pct(rate)} ({_range(low, high)})"


def _range(low: float | None, high: float | None) -> str:
    """'19–81%': a rate's 95% interval, as the pages show it."""
    return "n/a" if low is None or high is None else fmt.pct_range(low, high)


def _owner_words(owner: str | None) -> str:
    return _capital(NO_OWNER) if owner is None else owner


def _by_owner(rows: list[dict[str, Any]], currency: str | None) -> list[tuple]:
    """Who converts which channel: each owner's conversion and win rate, then per channel."""
    blocks: list[tuple] = [("h2", "Sales by owner: who converts which channel?")]
    totals = [r for r in rows if r["channel"] is None]
    if not totals:
        return [*blocks, ("p", "No leads in this period.")]
    if all(r["owner"] is None for r in totals):
        return [*blocks, ("p", "Not in the data: the files name no owner (salesperson) for "
                               "these leads, so who converts which channel cannot be told.")]
    judged = [r for r in totals if not r["too_few"]]
    if judged:
        best = max(judged, key=lambda r: (r["conversion_rate"] or 0, r["leads"]))
        text = (f"Best conversion among owners with {MIN_LEADS_TO_JUDGE}+ leads: "
                f"{_owner_words(best['owner'])}, {_pct(best['conversion_rate'])} of "
                f"{_count(best['leads'])} leads (95% interval {_pct(best['ci_low'])} to "
                f"{_pct(best['ci_high'])}).")
    else:
        text = (f"Every owner has fewer than {MIN_LEADS_TO_JUDGE} leads here: too few leads to "
                "judge any one of them; the intervals say how far each true rate may be.")
    text += (" Win rate: won of the deals closed (won or lost). An owner or a cell with fewer "
             f"than {MIN_LEADS_TO_JUDGE} leads is marked too few leads to judge.")

    def mark(r: dict[str, Any]) -> str:
        return "too few leads to judge" if r["too_few"] else ""

    def numbers(r: dict[str, Any]) -> list[str]:
        return [_count(r["leads"]), _count(r["won"]), _count(r["lost"]), _count(r["open"]),
                _rate(r["conversion_rate"], r["ci_low"], r["ci_high"]),
                _rate(r["win_rate"], r["win_ci_low"], r["win_ci_high"])]

    header = ["Leads", "Won", "Lost", "Open", "Conversion (95% interval)",
              "Win rate (95% interval)"]
    owners = [[_owner_words(r["owner"]), *numbers(r), _cash(r["won_value"], currency), mark(r)]
              for r in totals]
    cells = [[_owner_words(r["owner"]), _channel_words(r["channel"], r["channel_label"]),
              *numbers(r), mark(r)] for r in rows if r["channel"] is not None]
    return [*blocks, ("p", text),
            ("table", ["Owner", *header, "Won value", "Note"], owners, "lrrrrrrrl"),
            ("p", "By owner and channel:"),
            ("table", ["Owner", "Channel", *header, "Note"], cells, "llrrrrrrl")]


def _lost(rows: list[dict[str, Any]], lost: int) -> list[tuple]:
    """Why deals are lost: the reasons, by channel and by the stage they were lost at."""
    blocks: list[tuple] = [("h2", "Why deals are lost")]
    if not rows:
        return [*blocks, ("p", "No deal of this period was lost.")]
    reasons: dict[str | None, int] = {}
    for r in rows:  # ordered by the reason's rank: most common first, then Other, then none
        reasons[r["reason"]] = reasons.get(r["reason"], 0) + r["lost_leads"]
    total = sum(reasons.values())
    listed = ", ".join(f"{NO_REASON if reason is None else reason} {_count(n)} "
                       f"({_pct(n / total)})" for reason, n in reasons.items())
    text = f"{_count(lost)} deals lost in this period; why: {listed}."
    if list(reasons) == [None]:
        text = (f"{_count(lost)} deals lost in this period; why is not in the data: the files "
                "give no reason for any of them ('Lost reason' or a column mapped to it).")
    return [*blocks, ("p", text), *_lost_tables(rows, reasons)]


def _reason_words(reason: str | None) -> str:
    return _capital(NO_REASON) if reason is None else reason


def _lost_tables(rows: list[dict[str, Any]], reasons: dict[str | None, int]) -> list[tuple]:
    """Lost deals by reason x channel (the 4 biggest channels, the rest together) and by
    reason x the stage they were lost at."""
    channel_words = {r["channel"]: _channel_words(r["channel"], r["channel_label"])
                     for r in rows}
    stage_words = {r["lost_at"]: ("Not in the data" if r["lost_at"] is None
                                  else r["lost_at_label"]) for r in rows}
    stages = sorted(stage_words, key=lambda s: STAGES.get(s, (len(STAGES) + 1,))[0])
    channels, by_channel = _grid(rows, "reason", "channel", "lost_leads", reasons,
                                 list(channel_words), most=4)
    stages, by_stage = _grid(rows, "reason", "lost_at", "lost_leads", reasons, stages)
    head_channels = [channel_words.get(c, "Other channels") for c in channels]
    return [("p", "Lost deals by reason and channel:"),
            ("table", ["Reason", "Lost", *head_channels],
             [[_reason_words(k), _count(reasons[k]), *(_count(v) for v in values)]
              for k, values in by_channel], "lr" + "r" * len(head_channels)),
            ("p", "Lost deals by reason and the stage they were lost at:"),
            ("table", ["Reason", *(stage_words[st] for st in stages)],
             [[_reason_words(k), *(_count(v) for v in values)] for k, values in by_stage],
             "l" + "r" * len(stages))]


OTHERS = "others"


def _grid(rows: list[dict[str, Any]], row_key: str, column_key: str, value_key: str,
          row_order: Sequence, columns: list, most: int | None = None
          ) -> tuple[list, list[tuple[Any, list[float]]]]:
    """``rows`` summed into a grid: (columns, [(row, values)]), rows and columns in the given
    orders; with ``most``, the columns with the largest sums first and the rest added up as
    ``OTHERS``."""
    sums: dict[tuple, float] = {}
    for r in rows:
        key = (r[row_key], r[column_key])
        sums[key] = sums.get(key, 0) + r[value_key]
    if most is not None:
        size = {c: sum(v for (_, col), v in sums.items() if col == c) for c in columns}
        columns = sorted(columns, key=lambda c: -size[c])
        if len(columns) > most:
            rest = set(columns[most:])
            for (row, col), v in list(sums.items()):
                if col in rest:
                    sums[(row, OTHERS)] = sums.get((row, OTHERS), 0) + v
            columns = [*columns[:most], OTHERS]
    return columns, [(row, [sums.get((row, c), 0) for c in columns]) for row in row_order]


def _stuck(sales: dict[str, Any], missing: dict[str, str], currency: str | None
           ) -> list[tuple]:
    """Where leads get stuck: how long they stay at each stage, where the open ones wait."""
    stays, waiting = sales.get("time_in_stage", []), sales.get("open_leads_waiting", [])
    blocks: list[tuple] = [("h2", "Where leads get stuck")]
    if not stays and not waiting:
        if missing.get("funnel"):
            return [*blocks, ("p", "Not in the data: these leads' files say only whether each "
                                   "lead was won, not the stages it went through, so how long "
                                   "leads stay at a stage cannot be measured.")]
        return []
    return [*blocks, *_stays(stays), *_stays_per_channel(stays),
            *_waiting(waiting, sales.get("longest_waits", []), currency)]



def _stays(stays: list[dict[str, Any]]) -> list[tuple]:
    """How long leads stay at each open stage, all channels, and how many stays are untimed."""
    every = [r for r in stays if r["channel"] is None]
    if not every:
        return []
    blocks: list[tuple] = [
        ("p", "How long leads stay at each open stage (the median: the days by which half the "
              "timed stays had ended, the stays still going counted until the as-of date; "
              "'not reached': fewer than half have ended):"),
        ("table", ["Stage", "Stays", "Timed", "Median days (95% interval)",
                   "Moved on to a later stage", "Median days to the next step"],
         [[r["stage_label"], _count(r["stays"]), _count(r["left"] + r["still_there"]),
           _stay(r), _count(r["moved_on"]), _days(r["median_days_to_next_step"])]
          for r in every], "lrrrrr")]
    untimed, all_stays = (sum(r[k] for r in every) for k in ("not_in_data", "stays"))
    if untimed:
        blocks.append(("p", f"{_count(untimed)} of the {_count(all_stays)} stays are not timed: "
                            "the files do not date when they began or ended (a lead a file "
                            "first showed already at the stage, or one that left it for a stage "
                            "first seen in a file), so they are left out of the medians."))
    return blocks


def _stays_per_channel(stays: list[dict[str, Any]]) -> list[tuple]:
    """The median days at each stage per channel, when there are two channels or more."""
    every = [r for r in stays if r["channel"] is None]
    per_channel = [r for r in stays if r["channel"] is not None]
    channels = list(dict.fromkeys(r["channel"] for r in per_channel))
    if len(channels) < 2:
        return []
    stages = [r["stage"] for r in every]
    cell = {(r["channel"], r["stage"]): r for r in per_channel}
    words = {r["channel"]: _channel_words(r["channel"], r["channel_label"]) for r in per_channel}
    body = [[words[c], *(_stay(cell[(c, st)], interval=False) if (c, st) in cell else ""
                         for st in stages)] for c in channels]
    return [("p", "Median days at each stage, per channel:"),
            ("table", ["Channel", *(r["stage_label"] for r in every)], body,
             "l" + "r" * len(stages))]


def _stay(r: dict[str, Any], interval: bool = True) -> str:
    if not r["left"] + r["still_there"]:
        return "n/a"  # no stay at the stage is timed
    median = _days(r["median_days"], "not reached")
    if not interval:
        return median
    return f"{median} ({_days_range(r['median_ci_low'], r['median_ci_high'])})"


def _waiting(rows: list[dict[str, Any]], longest: list[dict[str, Any]],
             currency: str | None) -> list[tuple]:
    every = [r for r in rows if r["channel"] is None]
    if not every:
        return []
    blocks: list[tuple] = [("p", "Where the open leads wait, at the as-of date:"),
                           *(("p", r["sentence"]) for r in longest)]
    blocks.append(("table", ["Stage", "Open leads", "Value", "Median days since they came in",
                             "Median days at the stage", "Longest at the stage (days)"],
                   [[r["stage_label"], _count(r["open_leads"]), _cash(r["open_value"], currency),
                     _days(r["median_days_open"]), _days(r["median_days_at_stage"]),
                     _count(r["longest_days_at_stage"])] for r in every], "lrrrrr"))
    at_least = sum(r["at_least_at_stage"] for r in every)
    if at_least:
        blocks.append(("p", f"{_count(at_least)} of these open leads were first shown at their "
                            "stage by a file: their days there count from that file, so they "
                            "have been there at least that long."))
    return blocks


METHOD_WORDS = {
    "stages": "the pace deals have moved between stages before",
    "days": "the days since deals came in (the files do not date moves between stages)",
}


def _coming(f: dict[str, Any] | None, currency: str | None) -> list[tuple]:
    """What is coming: the pipeline forecast in sentences, per channel and per stage, and the
    kept forecasts scored."""
    if not f:
        return []
    blocks: list[tuple] = [("h2", "What is coming")]
    totals = f["totals"]
    if f["as_of"] and totals:
        blocks.append(("p", f"Forecast from the data as of {fmt.date(f['as_of'])} (the latest "
                            f"upload), read from {METHOD_WORDS.get(f['method'], f['method'])}; "
                            f"each range holds {round(f['range'] * 10)} in 10 outcomes."))
    blocks += [("p", r["sentence"]) for r in totals if r["channel"] is None]
    blocks += [("p", note) for note in f["notes"]]
    if totals:
        blocks += _coming_per_channel([r for r in totals if r["channel"] is not None
                                       and r["horizon"] == totals[0]["horizon"]], currency)
    return [*blocks, *_coming_per_stage(f["stages"]), *_kept(f.get("kept_forecasts", []))]


def _coming_per_channel(rows: list[dict[str, Any]], currency: str | None) -> list[tuple]:
    """One horizon's forecast per channel, the most expected wins first."""
    if not rows:
        return []
    body = [[_channel_words(r["channel"], r["channel_label"]), _count(r["open_deals"]),
             f"{r['expected_wins']:.1f}", f"{_count(r['wins_low'])} and {_count(r['wins_high'])}",
             _cash(r["expected_value"], currency),
             f"{_cash(r['value_low'], currency)} and {_cash(r['value_high'], currency)}"]
            for r in sorted(rows, key=lambda r: -r["expected_wins"])]
    return [("p", f"Per channel, {rows[0]['horizon_words']} (to "
                  f"{fmt.date(rows[0]['horizon_end'])}):"),
            ("table", ["Channel", "Open deals", "Expected wins", "8 in 10 between",
                       "Expected value", "Value between"], body, "lrrrrr")]


def _coming_per_stage(rows: list[dict[str, Any]]) -> list[tuple]:
    """The chance an open deal is won within the forecast's weeks, per channel and stage."""
    if not rows:
        return []
    stages = sorted({r["stage"]: r["stage_label"] for r in rows}.items(),
                    key=lambda s: STAGES.get(s[0], (len(STAGES) + 1,))[0])
    cell = {(r["channel"], r["stage"]): r for r in rows}
    words = {r["channel"]: _channel_words(r["channel"], r["channel_label"]) for r in rows}
    return [("p", f"Chance an open deal is won within {forecast.FORECAST_WEEKS} weeks, by the "
                  "stage it is at (8 in 10 range; 'not in the data': no deal was seen leaving "
                  "that stage):"),
            ("table", ["Channel", *(label for _, label in stages)],
             [[words[c], *(_chance(cell.get((c, st))) for st, _ in stages)] for c in words],
             "l" + "r" * len(stages))]


def _kept(rows: list[dict[str, Any]]) -> list[tuple]:
    """The latest few kept forecasts (all channels), scored against the wins that came."""
    ids = sorted({r["forecast_id"] for r in rows})[-KEPT_SHOWN:]
    shown = [r for r in rows if r["channel"] is None and r["forecast_id"] in ids]
    if not shown:
        return []
    return [("p", "Kept forecasts, scored against the wins that came:"),
            *(("p", r["sentence"]) for r in shown)]


def _chance(r: dict[str, Any] | None) -> str:
    if r is None:
        return ""
    if r["basis"] == "none":
        return "not in the data"
    if r["chance_low"] is None:
        return _pct(r["chance"])
    return _rate(r["chance"], r["chance_low"], r["chance_high"])


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
    return "n/a" if x is None else fmt.pct(x)  # rounded as on the pages: one number, one name


def _points(x: float | None) -> str:
    # words, not a sign: a cell or line starting with '-' reads as a formula or a list item
    if x is None:
        return "n/a"
    return f"{abs(100 * x):.1f} points {'lower' if x < 0 else 'higher'}"


def _count(n: float | None) -> str:
    return "n/a" if n is None else f"{int(round(n)):,}"


def _money(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def _cash(x: float | None, currency: str | None) -> str:
    """Money with the store's currency code ('2,300 USD'); a bare number when no file named
    a currency (the code is not in the data, so none is made up)."""
    return _money(x) if x is None or not currency else f"{_money(x)} {currency}"


def _days(x: float | None, missing: str = "n/a") -> str:
    return missing if x is None else fmt.day_count(x)  # as the pages round days


def _days_range(low: float | None, high: float | None) -> str:
    """A median's 95% interval in days: '18 to 45', '26 or more' (no upper end yet), or 'not
    known yet' when the data cannot bound it."""
    if low is None:
        return "not known yet"
    return f"{_days(low)} or more" if high is None else f"{_days(low)} to {_days(high)}"
