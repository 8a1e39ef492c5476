"""``python -m funnel forecast``: the wins the open pipeline should bring in the next 4 weeks and
the month, per channel; ``--keep`` keeps it to be scored later, and every kept one is scored."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from funnel.cli.common import DB_HELP, open_store
from funnel.errors import UsageError


def add_forecast_parser(sub) -> None:
    cmd = sub.add_parser("forecast", help="what the open pipeline should win in the next 4 weeks "
                                          "and the month; keep it to score it later")
    cmd.add_argument("--db", type=Path, help=DB_HELP)
    cmd.add_argument("--keep", action="store_true",
                     help="keep this forecast (every open deal) to score it once its weeks pass")
    cmd.add_argument("--format", choices=("text", "json"), default="text")


def run_forecast(args: argparse.Namespace) -> int:
    from funnel import forecast_log, jsonsafe
    from funnel.metrics import forecast
    from funnel.store.currency import store_currency

    con = open_store(args.db)
    try:
        result = forecast.forecast(con)
        kept = None
        if args.keep:
            try:
                kept = forecast_log.keep(con, result)
            except ValueError as exc:
                raise UsageError(str(exc)) from exc
        scores = forecast_log.scored(con)
        currency = store_currency(con)
    finally:
        con.close()
    if args.format == "json":
        print(json.dumps(jsonsafe.json_ready(as_json(result, scores, kept)), indent=2))
        return 0
    from funnel import format as fmt

    with fmt.in_currency(currency):  # money in the store's mark
        totals = result["totals"]
        print(f"As of {fmt.date(result['as_of'])} (the latest upload):")
        for note in result["notes"]:
            print(f"  {note}")
        for _, row in totals[totals["channel"].isna()].iterrows():
            print("  " + forecast.sentence(row))
        weeks = totals[(totals["horizon"] == "weeks") & totals["channel"].notna()]
        if not weeks.empty:
            print(f"Per channel, {weeks['horizon_words'].iloc[0]}:")
            width = max(len(str(label)) for label in weeks["channel_label"])
            for _, row in weeks.sort_values("expected_wins", ascending=False).iterrows():
                wins = (f"{fmt.count(row['expected_wins'])} wins "
                        f"({fmt.count(row['wins_low'])} to {fmt.count(row['wins_high'])})")
                worth = (f"  worth {fmt.money(row['expected_value'])}"
                         if row["expected_value"] else "")
                print(f"  {row['channel_label']:<{width}}  {wins:<20}{worth}")
        if kept is not None:
            print(f"kept as forecast {kept}: it is scored once the data passes its weeks")
        if not scores.empty:
            print("Kept forecasts:")
            for _, row in scores[scores["channel"].isna()].iterrows():
                print("  " + forecast.score_sentence(row))
        return 0


def as_json(result: dict, scores, kept: int | None) -> dict:
    """The forecast, its stages and the kept forecasts' scores, as JSON-ready values."""
    return {
        "as_of": result["as_of"],
        "method": result["method"],
        "range": result["range"],
        "horizons": [{"key": h.key, "words": h.words, "end": h.end}
                     for h in result["horizons"]],
        "totals": result["totals"].to_dict("records"),
        "stages": result["stages"].to_dict("records"),
        "notes": result["notes"],
        "kept": kept,
        "kept_forecasts": scores.to_dict("records"),
    }
