"""Funnel's command line: python -m funnel COMMAND (SPEC 5), one module per command.

Exit codes: 0 success (rejected rows are reported, not fatal); 1 a file or input that cannot be
used at all; 2 usage. Heavy modules are imported inside the commands that need them.
"""

from __future__ import annotations

import argparse
import sys

from funnel.cli import (
    allocate,
    backup,
    currency,
    demo,
    forecast,
    ingest,
    migrate,
    report,
    send_weekly,
    spend,
    uploads,
    weekly,
)
from funnel.cli import map as synonym_map
from funnel.errors import IngestError, UsageError

# command -> the function that runs it (each module adds its own parser)
COMMANDS = {
    "ingest": ingest.run_ingest,
    "uploads": uploads.run_uploads,
    "currency": currency.run_currency,
    "map": synonym_map.run_map,
    "spend": spend.run_spend,
    "report": report.run_report,
    "allocate": allocate.run_allocate,
    "forecast": forecast.run_forecast,
    "weekly": weekly.run_weekly,
    "send-weekly": send_weekly.run_send_weekly,
    "demo": demo.run_demo,
    "backup": backup.run_command,
    "restore": backup.run_command,
    "rebuild": backup.run_command,
    "migrate": migrate.run_migrate,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m funnel", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ingest.add_ingest_parser(sub)
    uploads.add_uploads_parser(sub)
    currency.add_currency_parser(sub)
    synonym_map.add_map_parser(sub)
    spend.add_spend_parser(sub)
    report.add_report_parser(sub)
    allocate.add_allocate_parser(sub)
    forecast.add_forecast_parser(sub)
    weekly.add_weekly_parser(sub)
    send_weekly.add_send_weekly_parser(sub)
    backup.add_backup_parsers(sub)
    demo.add_demo_parser(sub)
    migrate.add_migrate_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        parser.error(str(exc))
    except IngestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 2
