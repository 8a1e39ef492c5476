"""``python -m funnel allocate``: next period's split of money and hours, as JSON or as Markdown
that reads as is in a meeting note; ``--record`` stores it in the decision log.

Wired into :mod:`funnel.cli` with :func:`add_allocate_parser` and :func:`run_allocate`.
Heavy modules are imported inside :func:`run_allocate` to keep the CLI's start-up lean.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from funnel import format as fmt
from funnel.cli.common import iso_date
from funnel.errors import UsageError
from funnel.safe_text import md_text

FORMATS = ("md", "json")


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' must be 0 or more")
    return value


def _share(text: str) -> float:
    """'30%' or '0.3' -> 0.3."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a share; write 30% or 0.3") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a share between 0% and 100%")
    return value


def add_allocate_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``allocate`` command to ``subparsers`` (from ``add_subparsers``)."""
    from funnel.allocation.types import (
        DEFAULT_FORECAST_WEEKS,
        DEFAULT_HOURLY_RATE,
        DEFAULT_MAX_CHANGE,
        DEFAULT_MAX_GROWTH,
        DEFAULT_MIN_LEADS,
        DEFAULT_MIN_SHARE,
        DEFAULT_SEED,
    )

    p = subparsers.add_parser(
        "allocate",
        help="where next week's money and hours should go, and why",
        description="Recommend next period's split of money and hours across channels from "
        "what sales learned about each (docs/ALLOCATION.md).",
    )
    p.add_argument("--db", type=Path, help="store file (default $FUNNEL_DB or data/funnel.duckdb)")
    p.add_argument("--start", type=iso_date, help="use leads and spend from this date")
    p.add_argument("--end", type=iso_date, help="use leads and spend up to this date")
    p.add_argument("--budget", type=_non_negative, metavar="MONEY",
                   help="money to spend a week (default: an average recent week)")
    p.add_argument("--hours", type=_non_negative, metavar="HOURS",
                   help="hours to spend a week (default: an average recent week)")
    p.add_argument("--hourly-rate", type=_non_negative, default=DEFAULT_HOURLY_RATE, metavar="R",
                   help=f"what an hour costs, to compare unpaid channels (default "
                   f"{DEFAULT_HOURLY_RATE:g})")
    p.add_argument("--lock", action="extend", nargs="+", metavar="CH", default=[],
                   help="channels whose share must not change")
    p.add_argument("--cap", action="append", metavar="CH=SHARE", default=[],
                   help="the most share a channel may get, e.g. --cap paid_search=30%%")
    p.add_argument("--fixed-cost", action="append", metavar="CH=MONEY", default=[],
                   help="money a week a channel costs beyond the spend file (fees, a stand)")
    p.add_argument("--plan", action="append", metavar="CH=SHARE", default=[],
                   help="your own share for a channel (what-if; recorded with --record)")
    p.add_argument("--min-share", type=_share, default=DEFAULT_MIN_SHARE, metavar="SHARE",
                   help=f"exploration floor (default {DEFAULT_MIN_SHARE:.0%}%)")
    p.add_argument("--max-change", type=_share, default=DEFAULT_MAX_CHANGE, metavar="SHARE",
                   help=f"most share a channel may gain or lose in one period (default "
                   f"{DEFAULT_MAX_CHANGE:.0%}%)")
    p.add_argument("--max-growth", type=float, default=DEFAULT_MAX_GROWTH, metavar="X",
                   help=f"a channel's share grows at most X times in one period (default "
                   f"{DEFAULT_MAX_GROWTH:g})")
    p.add_argument("--min-leads", type=int, default=DEFAULT_MIN_LEADS, metavar="N",
                   help=f"judged leads before a channel may move (default {DEFAULT_MIN_LEADS})")
    p.add_argument("--weeks", type=int, default=DEFAULT_FORECAST_WEEKS, metavar="N",
                   help=f"weeks the plan runs and the forecast covers (default "
                   f"{DEFAULT_FORECAST_WEEKS})")
    p.add_argument("--objective", choices=["auto", "won_value", "wins"], default="auto",
                   help="rank channels by won value or wins per unit of cost (default auto)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (same seed, "
                   "same answer)")
    p.add_argument("--format", choices=FORMATS, default="md")
    p.add_argument("--record", action="store_true",
                   help="store the recommendation (or your --plan) in the decision log")
    p.add_argument("--period-start", type=iso_date,
                   help="first day of the recorded plan (default: the Monday after the data)")
    p.add_argument("--note", help="a note stored with --record")
    return p


def run_allocate(args: argparse.Namespace) -> int:
    """Run ``allocate``: 0 success, 1 a store that cannot be used (message on stderr);
    usage mistakes raise :class:`funnel.errors.UsageError` (exit code 2 in funnel.cli)."""
    from funnel.store import connection as store
    from funnel.store.currency import store_currency

    db = Path(args.db) if args.db else store.default_db_path()
    if not db.exists():
        print(f"error: {db}: no store here; build one with `python -m funnel demo` or "
              "`python -m funnel ingest FILE`", file=sys.stderr)
        return 1
    try:
        con = store.connect(db)
    except store.StoreBusyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        with fmt.in_currency(store_currency(con)):  # money in the store's mark
            return _allocate(con, args)
    finally:
        con.close()


def _allocate(con, args: argparse.Namespace) -> int:
    """The recommendation (and the decision recorded, with --record), printed."""
    from funnel.allocation import decisions
    from funnel.allocation import recommend as allocation

    inputs = allocation.load_inputs(con, args.start, args.end)
    known = [c.channel for c in inputs.channels]
    settings = _settings(args, known)
    try:
        rec = allocation.allocate(inputs.channels, settings, inputs.as_of)
    except allocation.AllocationError as exc:
        raise UsageError(str(exc)) from exc
    if not rec.channels:
        print(f"error: {rec.summary}", file=sys.stderr)
        return 1
    plan = {_channel(text, known, "--plan"): share
            for text, share in (_pair(x, "--plan", _share) for x in args.plan)}
    what_if = rec.what_if(plan) if plan else None
    decision_id = None
    if args.record:
        decision_id = decisions.record_decision(
            con, rec, plan or None, period_start=args.period_start, note=args.note
        )
    scored = decisions.score_decisions(con)
    if args.format == "json":
        print(render_json(rec, what_if, scored, decision_id))
    else:
        print(render_markdown(rec, what_if, scored, decision_id))
    return 0


def _settings(args: argparse.Namespace, known: list[str]):
    from funnel.allocation.recommend import Settings

    if args.weeks < 1:
        raise UsageError("--weeks must be 1 or more")
    if args.max_growth is not None and args.max_growth < 1:
        raise UsageError("--max-growth must be 1 or more")
    if args.min_leads < 0:
        raise UsageError("--min-leads must be 0 or more")
    return Settings(
        hourly_rate=args.hourly_rate,
        budget_money=args.budget,
        budget_hours=args.hours,
        fixed_costs={_channel(k, known, "--fixed-cost"): v
                     for k, v in (_pair(x, "--fixed-cost", _non_negative)
                                  for x in args.fixed_cost)},
        locked=frozenset(_channel(x, known, "--lock") for x in args.lock),
        caps={_channel(k, known, "--cap"): v
              for k, v in (_pair(x, "--cap", _share) for x in args.cap)},
        min_share=args.min_share,
        max_change=args.max_change,
        max_growth=args.max_growth,
        min_leads=args.min_leads,
        objective=args.objective,
        forecast_weeks=args.weeks,
        seed=args.seed,
    )


def _pair(text: str, flag: str, convert) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"{flag} {text!r}: write it as {flag} CHANNEL=VALUE")
    try:
        return key.strip(), convert(value)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"{flag} {text!r}: {exc}") from None


def _channel(text: str, known: list[str], flag: str) -> str:
    """A channel as typed ('Cold call', 'cold-call', 'cold_call') -> its slug in the data."""
    from funnel.synonyms import default_channel_map, slug

    key = slug(text)
    key = key if key in known else default_channel_map().get(key, key)
    if key not in known:
        raise UsageError(f"{flag} {text!r}: no such channel; channels: {', '.join(known)}")
    return key


# --- rendering -------------------------------------------------------------------------------


def render_json(rec, what_if=None, scored=None, decision_id: int | None = None) -> str:
    """``{"summary": {...}, "allocation": [...], "what_if": {...}|null, "decisions": [...],
    "decision_id": int|null}``."""
    from funnel.allocation import decisions

    out: dict[str, Any] = {
        "summary": rec.summary_record(),
        "allocation": rec.to_records(),
        "what_if": _what_if_record(what_if),
        "decisions": [],
        "decision_id": decision_id,
    }
    if scored is not None and len(scored):
        summary = decisions.decision_summary(scored)
        out["decisions"] = [
            {**_clean(row), "channels_scored": [
                _clean(r) for r in scored[scored["decision_id"] == row["decision_id"]][
                    ["channel", "forecast_wins", "forecast_low", "forecast_high", "actual_leads",
                     "actual_wins", "status", "scored_from", "followed"]
                ].to_dict("records")
            ]}
            for row in summary.to_dict("records")
        ]
    return json.dumps(out, indent=2, default=str)


def _what_if_record(what_if) -> dict[str, Any] | None:
    if what_if is None:
        return None
    return {
        "shares": what_if.shares,
        "expected_wins": what_if.expected_wins,
        "expected_wins_low": what_if.expected_wins_low,
        "expected_wins_high": what_if.expected_wins_high,
        "extra_wins": what_if.extra_wins,
        "extra_wins_low": what_if.extra_wins_low,
        "extra_wins_high": what_if.extra_wins_high,
        "extra_value": what_if.extra_value,
        "sentence": what_if.sentence,
        "channels": [_clean(r) for r in what_if.channels.to_dict("records")],
    }


def _clean(row: dict) -> dict:
    """A DataFrame record made JSON-safe: numpy scalars as Python, NaN/NaT as None, dates ISO."""
    return {key: _json_safe(value) for key, value in row.items()}


def _json_safe(value: Any) -> Any:
    import math

    import pandas as pd

    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, dt.datetime):
        midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
        return value.date().isoformat() if midnight else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def render_markdown(rec, what_if=None, scored=None, decision_id: int | None = None) -> str:
    """The recommendation as a meeting note: headline, table, reasons, caveats, past decisions.

    Channel labels (an owner's own channel keeps the file's words) and every sentence that
    names one are plain text (:func:`_cell`, :func:`funnel.safe_text.md_text`): nothing from a
    file links, loads or styles anything where the note is pasted."""
    s = rec.settings
    cur = s.currency
    as_of = f" (data as of {fmt.date(rec.as_of)})" if rec.as_of else ""
    lines = [f"# Where next week's money and hours go{as_of}", ""]
    lines.append(
        f"Budget a week: {fmt.money(rec.pool_money, currency=cur)} and {rec.pool_hours:.1f} "
        f"hours ({fmt.money(rec.pool, currency=cur)} in all, hours at "
        f"{fmt.money(s.hourly_rate, currency=cur)}). Forecasts count the eventual wins of "
        f"{s.forecast_weeks} weeks of leads; each range holds the "
        f"outcome {round(10 * s.interval)} times in 10."
    )
    lines += ["", f"**{_cell(rec.summary)}**", ""]
    header = ["Channel", "Now a week", "Recommended a week", "Share",
              f"Extra wins ({s.forecast_weeks} weeks of leads, likely range)"]
    rows = [[_cell(c.label), fmt.money_and_hours(c.current_money, c.current_hours, cur, short=True),
             fmt.money_and_hours(c.recommended_money, c.recommended_hours, cur, short=True),
             f"{fmt.pct(c.current_share)} → {fmt.pct(c.recommended_share)}",
             fmt.more_or_fewer(c.expected_extra_wins, c.expected_extra_wins_low,
                               c.expected_extra_wins_high, noun="")]
            for c in sorted(rec.channels, key=lambda c: -c.recommended_share)]
    lines += fmt.md_table(header, rows)
    lines += ["", "## Why, and what would change it", ""]
    order = {"gain": 0, "cut": 1, "hold": 2, "too_few_leads": 3, "locked": 4}
    for c in sorted(rec.channels, key=lambda c: (order.get(c.status, 9), -c.current_share)):
        lines.append(f"- **{_cell(c.label)}**: {_cell(c.reason)} *What would change this:* "
                     f"{_cell(c.what_would_change)}")
    if what_if is not None:
        lines += ["", "## Your plan", "", _cell(what_if.sentence), ""]
        for row in what_if.channels.sort_values("share", ascending=False).itertuples():
            span = fmt.about_count_range(row.expected_wins_low, row.expected_wins_high)
            cost = fmt.money_and_hours(row.money, row.hours, cur, short=True)
            lines.append(f"- {_cell(row.label)}: {fmt.pct(row.share)} ({cost} a week), about "
                         f"{fmt.about_count(row.expected_wins)} wins expected ({span})")
    fitted = [c for c in rec.channels if c.response_curve.fitted]
    lines += ["", "## Response curves", ""]
    if fitted:
        lines += [f"- {_cell(c.label)}: {_cell(c.response_curve.note)}" for c in fitted]
    others = [fmt.in_sentence(c.label) for c in rec.channels if not c.response_curve.fitted]
    if others:
        lines.append(f"- {_cell(', '.join(others))}: the data does not allow a response curve "
                     "(too few weeks, spend that hardly varied, or leads that did not follow "
                     "spend), so a constant cost per lead is assumed.")
    if rec.excluded or rec.notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {_cell(e.label)} is not in the plan: {_cell(e.reason)}."
                  for e in rec.excluded]
        lines += [f"- {_cell(n[0].upper() + n[1:])}." for n in rec.notes]
    if decision_id is not None:
        lines += ["", f"Recorded as decision {decision_id} in the decision log."]
    if scored is not None and len(scored):
        from funnel.allocation import decisions

        lines += ["", "## Past decisions", ""]
        for row in decisions.decision_summary(scored).itertuples():
            lines.append(f"- {_cell(row.sentence)}")
            for r in scored[(scored["decision_id"] == row.decision_id) & scored["is_scored"]
                            ].itertuples():
                lines.append(f"  - {_cell(r.sentence)}")
    lines += ["", "How this is worked out, and its limits: docs/ALLOCATION.md (each number comes "
              f"from {s.draws:,} simulated futures, the same ones every run)."]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text for the Markdown note, shown as typed (one line; ``|`` kept out of the tables)."""
    return md_text(text)
