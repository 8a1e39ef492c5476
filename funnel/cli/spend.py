"""``python -m funnel spend FILE``: load a spend file (channel, week or month, money and/or
hours) for the allocation, rows of one channel and period added up and said so."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from funnel.cli.common import DB_HELP, open_store, pairs
from funnel.errors import UsageError

SPEND_FIELDS = ("channel", "period_start", "period_end", "money", "hours")


def add_spend_parser(sub) -> None:
    cmd = sub.add_parser("spend", help="load a spend file: money and/or hours per channel and "
                         "week or month")
    cmd.add_argument("files", nargs="+", type=Path, metavar="FILE")
    cmd.add_argument("--map", action="append", metavar="FIELD=COLUMN",
                     help="the column for FIELD (channel, period_start, period_end, money, "
                     "hours); FIELD= leaves it out")
    cmd.add_argument("--dry-run", action="store_true",
                     help="say what loading would do, change nothing")
    cmd.add_argument("--json", action="store_true", help="one JSON object per file")
    cmd.add_argument("--db", type=Path, help=DB_HELP)


def run_spend(args: argparse.Namespace) -> int:
    from funnel.ingest import spend

    columns = pairs(args.map, "--map")
    unknown = sorted(set(columns) - set(SPEND_FIELDS))
    if unknown:
        raise UsageError(f"--map names unknown field(s) {', '.join(unknown)}; fields are: "
                         + ", ".join(SPEND_FIELDS))
    con = open_store(args.db)
    try:
        for path in args.files:
            result = spend.ingest_spend(con, path, path.name, columns, dry_run=args.dry_run)
            if args.json:
                print(json.dumps({
                    "file": result.file, "read": result.read, "loaded": result.loaded,
                    "rejected": len(result.rejected), "periods": result.periods,
                    "combined": result.combined, "replaced": result.replaced,
                    "money": result.money, "hours": result.hours, "columns": result.columns,
                    "dry_run": args.dry_run,
                }))
                continue
            print(f"{result.file}: " + spend.combined_words(result)
                  + (" (dry run: nothing stored)" if args.dry_run else ""))
            print("  columns used: " + ", ".join(f"{k} <- {v!r}"
                                                 for k, v in result.columns.items()))
            print(f"  money {result.money:,.2f}, hours {result.hours:,.1f} in all")
            for row in result.rejected[:20]:
                print(f"  row {row['row_number']}: {row['reason']}")
        return 0
    finally:
        con.close()
