"""Command line: ``python -m funnel ingest|uploads|currency|report|allocate|weekly|demo|backup|
restore|rebuild`` (SPEC 5).

Exit codes: 0 success (rejected rows are reported, not fatal); 1 a file or input that cannot be
used at all; 2 usage. Heavy modules are imported inside the commands that need them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from funnel.errors import IngestError, UsageError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD") from None


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} {item!r}: write it as {flag} field=VALUE")
        out[key.strip()] = value
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m funnel", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="load CRM exports (CSV/XLSX) into the store")
    ing.add_argument("files", nargs="+", type=Path, metavar="FILE")
    ing.add_argument(
        "--db", type=Path, help="store file (default $FUNNEL_DB or data/funnel.duckdb)"
    )
    ing.add_argument(
        "--as-of", type=_date, help="snapshot date of the export (default: its latest date)"
    )
    ing.add_argument(
        "--map",
        action="append",
        metavar="FIELD=COLUMN",
        help="read FIELD from COLUMN (repeatable); fields: id, channel, created_at, "
        "stage, status, converted, is_closed, won_at, lost_at, closed_at, value, currency, "
        "owner, email, phone, name",
    )
    ing.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="constant for FIELD where the file has no column or the cell is empty",
    )
    ing.add_argument(
        "--no-means-open",
        action="store_true",
        help="in a file whose only outcome is a yes/no column, read 'no' as still open "
        "(default: lost)",
    )
    ing.add_argument("--json", action="store_true", help="one JSON object per file")

    ups = sub.add_parser("uploads", help="list the uploads, or take one out of the store")
    ups.add_argument("action", nargs="?", choices=["list", "remove"], default="list")
    ups.add_argument("upload_id", nargs="?", type=int, metavar="N",
                     help="the upload to remove (its number in the list)")
    ups.add_argument("--db", type=Path)
    ups.add_argument("--json", action="store_true")

    cur = sub.add_parser("currency", help="show or set the currency money figures add up in")
    cur.add_argument("code", nargs="?", metavar="CODE", help="e.g. USD, EUR (ISO 4217)")
    cur.add_argument("--db", type=Path)

    rep = sub.add_parser("report", help="marketing, sales and allocation numbers for a period")
    rep.add_argument("--db", type=Path)
    rep.add_argument("--start", type=_date)
    rep.add_argument("--end", type=_date)
    rep.add_argument("--format", choices=["json", "md", "html"], default="json")
    rep.add_argument("--compare", metavar="A,B", help="head-to-head of two channels (slugs)")

    from funnel.allocation_cli import add_allocate_parser
    from funnel.backup import add_backup_parsers
    from funnel.weekly_cli import add_weekly_parser

    add_allocate_parser(sub)
    add_weekly_parser(sub)
    add_backup_parsers(sub)

    demo = sub.add_parser("demo", help="build the demo store from the bundled files in data/demo")
    demo.add_argument("--db", type=Path)
    demo.add_argument("--force", action="store_true", help="rebuild even if the store exists")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "ingest":
            return _ingest(args)
        if args.command == "report":
            return _report(args)
        if args.command == "uploads":
            return _uploads(args)
        if args.command == "currency":
            return _currency(args)
        if args.command == "demo":
            return _demo(args)
        if args.command == "allocate":
            from funnel.allocation_cli import run_allocate

            return run_allocate(args)
        if args.command == "weekly":
            from funnel.weekly_cli import run_weekly

            return run_weekly(args)
        if args.command in ("backup", "restore", "rebuild"):
            from funnel.backup import run_command

            return run_command(args)
    except UsageError as exc:
        parser.error(str(exc))
    except IngestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 2


def _open(db: Path | None):
    from funnel import store

    try:
        return store.connect(db)
    except store.StoreBusyError as exc:
        raise IngestError(str(db or store.default_db_path()), str(exc)) from exc


def _ingest(args) -> int:
    from funnel import store
    from funnel.ingest import IngestOptions, ingest_file
    from funnel.mapping import FIELDS

    options = IngestOptions(
        mapping=_pairs(args.map, "--map"), constants=_pairs(args.set, "--set"), as_of=args.as_of,
        no_means_open=args.no_means_open,
    )
    for flag, given in (("--map", options.mapping), ("--set", options.constants)):
        unknown = sorted(set(given) - set(FIELDS))
        if unknown:
            raise UsageError(
                f"{flag} names unknown field(s) {', '.join(unknown)}; "
                f"fields are: {', '.join(FIELDS)}"
            )
    con = _open(args.db)
    failed = False
    for path in args.files:
        try:
            result = ingest_file(
                con, path, options, db_path=args.db or store.default_db_path(), file_name=str(path)
            )
        except IngestError as exc:
            failed = True
            if args.json:
                print(json.dumps({"file": str(path), "error": exc.message,
                                  "fix": fix_text(exc.fixes)}))
            else:
                print(f"error: {exc}{_with_fixes(exc.fixes)}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(result.as_json(), default=str))
        else:
            print(_describe(result))
    con.close()
    return 1 if failed else 0


def _describe(r) -> str:
    if r.already_ingested:
        head = (
            f"{r.file}: already ingested with these options (upload {r.upload_id}); "
            "nothing changed."
        )
        return head
    replaced = (f" (upload {r.upload_id} of the same file, read again with these options)"
                if r.replaced else "")
    lines = [
        f"{r.file}: {r.source_label}, as of "
        f"{r.as_of or 'no date in the file (--as-of gives one)'}{replaced}",
        f"  read {r.read:,} = loaded {r.loaded:,} + rejected {r.rejected:,} "
        f"+ duplicate {r.duplicate:,}"
        + (f"; {r.warnings:,} cells read as unknown (warnings below)" if r.warnings else ""),
        "  columns: " + (", ".join(f"{f} <- {c!r}" for f, c in r.mapping.items()) or "none"),
    ]
    if r.date_formats:
        lines.append(
            "  dates read as: " + ", ".join(f"{f} {fam}" for f, fam in r.date_formats.items())
        )
    if r.yes_no_outcome:
        lines.append("  outcome: a yes/no column alone: 'no' read as "
                     + ("still open" if r.no_means_open else
                        "lost (--no-means-open reads it as still open)"))
    for u in r.unmapped:
        what = "counted as stage 'new'" if u["kind"] == "stage" else f"kept as '{u['stored_as']}'"
        lines.append(
            f"  unmapped {u['kind']} value {u['raw_value']!r} ({u['leads']:,} leads, "
            f"{what} until you map it)"
        )
    for note in r.notes:
        lines.append(f"  note: {note}")
    for rej in r.rejects_sample[:10]:
        lines.append(f"  row {rej['row_number']}: {rej['reason']}")
    if r.rejected > 10:
        lines.append(f"  ... and {r.rejected - 10:,} more rejected rows (see the Upload page)")
    for w in r.warnings_sample[:10]:
        lines.append(f"  warning, row {w['row_number']}: {w['column_name']} {w['value']!r} "
                     f"{w['reason']}; read as unknown")
    if r.warnings > 10:
        lines.append(f"  ... and {r.warnings - 10:,} more cell warnings (see the Upload page)")
    return "\n".join(lines)


def fix_text(fixes) -> str:
    """What would make a file usable, as command-line options (the Upload page words the same
    fixes as its boxes)."""
    needed = [_fix_option(f) for f in fixes if f.needed]
    better = [_fix_option(f) for f in fixes if not f.needed]
    parts = []
    if needed:
        parts.append("To load it, add " + " and ".join(needed) + ".")
    if better:
        parts.append("For true figures, also " + "; ".join(better) + ".")
    return " ".join(parts)


def _fix_option(fix) -> str:
    if fix.action == "set":
        value = "YYYY-MM-DD" if fix.field.endswith("_at") else (fix.example or "VALUE")
        return f"--set {fix.field}={value} ({fix.why})"
    if fix.field == "id":
        return f"--map id= ({fix.why})"
    if fix.columns:
        listed = ", ".join(fix.columns)
        return (f"--map {fix.field}=COLUMN for {fix.why} (its yes/no columns: {listed})"
                if fix.field == "converted" else
                f"--map {fix.field}=COLUMN for {fix.why} (one of: {listed})")
    alt = f" or --set {fix.field}={fix.example}" if fix.example else ""
    return f"--map {fix.field}=COLUMN{alt} for {fix.why}"


def _with_fixes(fixes) -> str:
    text = fix_text(fixes)
    return f"\n  {text}" if text else ""


def _uploads(args) -> int:
    from funnel import replay, store
    from funnel.ingest import upload_records

    con = _open(args.db)
    try:
        if args.action == "remove":
            if args.upload_id is None:
                raise UsageError("uploads remove N: say which upload (its number in the list)")
            db = args.db or store.default_db_path()
            removed = replay.remove_upload(con, args.upload_id, Path(db))
            print(f"removed upload {removed['upload_id']} ({removed['file_name']}); the other "
                  "uploads were read again in order.")
            return 0
        records = upload_records(con)
        if args.json:
            print(json.dumps(records, default=str))
            return 0
        if not records:
            print("no uploads yet")
        for rec in records:
            print(f"{rec['upload_id']:>4}  {rec['file_name']}  as of {rec['as_of']}  "
                  f"read {rec['rows_read']:,} = loaded {rec['rows_loaded']:,} + rejected "
                  f"{rec['rows_rejected']:,} + duplicate {rec['rows_duplicate']:,}  "
                  f"(uploaded {rec['ingested_at'][:16]})")
        return 0
    finally:
        con.close()


def _currency(args) -> int:
    from funnel import money

    con = _open(args.db)
    try:
        if args.code:
            code = money.set_store_currency(con, args.code)
            print(f"money figures now add up {code}; deals in other currencies are left out")
        else:
            code = money.store_currency(con)
            print(code or "no currency yet: the first file that names one sets it")
        return 0
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        con.close()


def _report(args) -> int:
    from funnel import report

    compare = None
    if args.compare:
        parts = [p.strip() for p in args.compare.split(",")]
        if len(parts) != 2 or not all(parts):
            raise UsageError("--compare takes two channels: --compare referral,cold_call")
        compare = (parts[0], parts[1])
    if args.start and args.end and args.start > args.end:
        raise UsageError("--start is after --end")
    con = _open(args.db)
    data = report.build_report(con, start=args.start, end=args.end, compare=compare)
    if args.format == "json":
        print(report.render_json(data))
    elif args.format == "md":
        print(report.render_markdown(data))
    else:
        print(report.render_html(data))
    con.close()
    return 0


def _demo(args) -> int:
    from funnel import demo

    path = demo.build_demo_store(args.db, force=args.force)
    print(f"demo store ready: {path}")
    return 0
