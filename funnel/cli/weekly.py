"""``python -m funnel weekly``: the weekly review pack as a file (issue 6).

    python -m funnel weekly [--week 2026-W47] [--format html|md|json|csv|pdf] [--out FILE]
                            [--db PATH]

Default week: the last complete ISO week on the store's as-of date. Without ``--out`` the
Markdown, HTML or JSON goes to standard output; CSV needs ``--out DIR`` (one file per table) and PDF
``--out FILE``. Exit codes: 0 written; 1 the store cannot be opened, holds no leads, or the PDF
cannot be printed; 2 usage (a malformed week, a week outside the data, a missing ``--out``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from funnel.cli.common import fail

FORMATS = ("html", "md", "json", "csv", "pdf")


def add_weekly_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``weekly`` command to ``funnel.cli``'s subparsers; returns its parser."""
    parser = subparsers.add_parser(
        "weekly",
        help="the weekly review pack: what moved, is it real, what is hot, what we decided",
        description="The weekly review pack for one ISO week, as HTML, Markdown, CSV or PDF.",
    )
    parser.add_argument("--week", metavar="YYYY-Www",
                        help="ISO week, like 2026-W47 (default: the last complete week)")
    parser.add_argument("--format", choices=FORMATS, default="md",
                        help="html: one self-contained page; md: a summary for notes or chat; "
                             "json: the pack as data; csv: the tables (needs --out DIR); "
                             "pdf: printed by chromium (needs --out FILE)")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="write here (a directory for csv); default: standard output")
    parser.add_argument("--db", type=Path,
                        help="store file (default $FUNNEL_DB or data/funnel.duckdb)")
    parser.set_defaults(handler=run_weekly)
    return parser


def run_weekly(args: argparse.Namespace) -> int:
    """Build the pack and write it; returns the exit code (errors go to standard error)."""
    from funnel import format as fmt
    from funnel.weekly import week as iso_week

    fmt_name = args.format or "md"
    if fmt_name in ("csv", "pdf") and args.out is None:
        target = "a directory" if fmt_name == "csv" else "a file"
        return fail(2, f"--format {fmt_name} needs --out (write it to {target})")
    if args.week is not None:
        try:
            iso_week.Week.parse(args.week)
        except iso_week.WeekError as exc:
            return fail(2, str(exc))
    pack = load_pack(args.db, args.week)
    if isinstance(pack, int):
        return pack
    with fmt.in_currency(pack.currency):  # money in the store's mark, as on the pages
        return _write(pack, fmt_name, args.out)


def load_pack(db: Path | None, week: str | None):
    """The weekly pack of ``week`` (None: the last complete one) from the store at ``db``, or
    the exit code when there is none: 1 the store cannot be opened or holds no leads, 2 a week
    outside the data (the message said on standard error)."""
    from funnel import format as fmt
    from funnel.store import connection as store
    from funnel.store import currency as money
    from funnel.weekly import pack as weekly
    from funnel.weekly import week as iso_week

    try:
        con = store.connect(db)
    except store.StoreBusyError as exc:
        return fail(1, str(exc))
    try:
        with fmt.in_currency(money.store_currency(con)):  # its sentences write money too
            return weekly.weekly_pack(con, week)
    except iso_week.NoDataError as exc:
        return fail(1, str(exc))
    except iso_week.WeekError as exc:
        return fail(2, str(exc))
    finally:
        con.close()


def _write(pack, fmt_name: str, out: Path | None) -> int:
    from funnel.weekly import export as weekly_export

    if fmt_name == "csv":
        paths = weekly_export.write_csvs(pack, out)
        print(f"{pack.week}: wrote {len(paths)} CSV files to {out}", file=sys.stderr)
        return 0
    if fmt_name == "pdf":
        try:
            weekly_export.render_pdf(pack, out)
        except weekly_export.PdfUnavailable as exc:
            return fail(1, str(exc))
        print(f"{pack.week}: wrote {out}", file=sys.stderr)
        return 0
    if fmt_name == "html":
        text = weekly_export.render_html(pack)
    elif fmt_name == "json":
        text = json.dumps(pack.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    else:
        text = weekly_export.render_markdown(pack)
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"{pack.week}: wrote {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command on its own: ``python -m funnel.cli.weekly --week 2026-W47``."""
    parser = argparse.ArgumentParser(prog="python -m funnel")
    add_weekly_parser(parser.add_subparsers(dest="command", required=True))
    return run_weekly(parser.parse_args(["weekly", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
