"""``python -m funnel report``: marketing, sales and allocation numbers for a period, as JSON
(SPEC 5), Markdown or HTML."""

from __future__ import annotations

import argparse
from pathlib import Path

from funnel.cli.common import iso_date, open_store
from funnel.errors import UsageError


def add_report_parser(sub) -> None:
    rep = sub.add_parser("report", help="marketing, sales and allocation numbers for a period")
    rep.add_argument("--db", type=Path)
    rep.add_argument("--start", type=iso_date)
    rep.add_argument("--end", type=iso_date)
    rep.add_argument("--format", choices=["json", "md", "html"], default="json")
    rep.add_argument("--compare", metavar="A,B", help="head-to-head of two channels (slugs)")
    rep.add_argument("--by", choices=["owner"],
                     help="add conversion and win rate by owner, and by owner x channel")


def run_report(args: argparse.Namespace) -> int:
    from funnel import report

    compare = None
    if args.compare:
        parts = [p.strip() for p in args.compare.split(",")]
        if len(parts) != 2 or not all(parts):
            raise UsageError("--compare takes two channels: --compare referral,cold_call")
        compare = (parts[0], parts[1])
    if args.start and args.end and args.start > args.end:
        raise UsageError("--start is after --end")
    con = open_store(args.db)
    data = report.build_report(con, start=args.start, end=args.end, compare=compare,
                               by=args.by)
    if args.format == "json":
        print(report.render_json(data))
    elif args.format == "md":
        print(report.render_markdown(data))
    else:
        print(report.render_html(data))
    con.close()
    return 0
