"""``python -m funnel ingest FILE...``: load CRM exports; per file the four counts, the cell
warnings, the mapping, and what would make an unusable file usable, as options."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from funnel import format as fmt
from funnel.cli.common import iso_date, open_store, pairs
from funnel.errors import IngestError, UsageError


def add_ingest_parser(sub) -> None:
    ing = sub.add_parser("ingest", help="load CRM exports (CSV/XLSX) into the store")
    ing.add_argument("files", nargs="+", type=Path, metavar="FILE")
    ing.add_argument(
        "--db", type=Path, help="store file (default $FUNNEL_DB or data/funnel.duckdb)"
    )
    ing.add_argument(
        "--as-of", type=iso_date, help="snapshot date of the export (default: its latest date)"
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



def run_ingest(args: argparse.Namespace) -> int:
    from funnel.ingest.core import IngestOptions
    from funnel.ingest.mapping import FIELDS
    from funnel.ingest.upload import ingest_file
    from funnel.store import connection as store

    options = IngestOptions(
        mapping=pairs(args.map, "--map"), constants=pairs(args.set, "--set"), as_of=args.as_of,
        no_means_open=args.no_means_open,
    )
    for flag, given in (("--map", options.mapping), ("--set", options.constants)):
        unknown = sorted(set(given) - set(FIELDS))
        if unknown:
            raise UsageError(
                f"{flag} names unknown field(s) {', '.join(unknown)}; "
                f"fields are: {', '.join(FIELDS)}"
            )
    con = open_store(args.db)
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
        "  columns: " + (", ".join(f"{_field(f)} <- {c!r}" for f, c in r.mapping.items())
                         or "none"),
    ]
    if r.date_formats:
        lines.append(
            "  dates read as: " + ", ".join(f"{_field(f)}: {fam}"
                                            for f, fam in r.date_formats.items())
        )
    if r.yes_no_outcome:
        lines.append("  outcome: a yes/no column alone: 'no' read as "
                     + ("still open" if r.no_means_open else
                        "lost (--no-means-open reads it as still open)"))
    for u in r.unmapped:
        what = (f"counted as stage '{fmt.stage_label('new')}'" if u["kind"] == "stage" else
                f"kept as '{fmt.channel_label(u['stored_as'])}'")
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


def _field(name: str) -> str:
    """A canonical field in words ('Date the lead came in'), as the Upload page names it."""
    from funnel.ingest.mapping import FIELD_LABELS

    return FIELD_LABELS.get(name, fmt.humanize(name))
