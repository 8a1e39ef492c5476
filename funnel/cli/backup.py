"""``python -m funnel backup|restore|rebuild``: the parsers and the commands (funnel.backup does
the work)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DB_HELP = "store file (default $FUNNEL_DB or data/funnel.duckdb)"


def add_backup_parsers(sub) -> None:
    """Add ``backup``, ``restore`` and ``rebuild`` to ``funnel.cli``'s subparsers."""
    bak = sub.add_parser("backup", help="a consistent copy of the store in one .tar.gz file")
    bak.add_argument("--db", type=Path, help=DB_HELP)
    bak.add_argument("--out", type=Path, required=True, metavar="FILE",
                     help="the backup to write, e.g. funnel-2026-11-23.tar.gz")
    bak.add_argument("--no-key", action="store_true",
                     help="leave the PII key out (keep <db>.key safe elsewhere)")
    bak.add_argument("--with-uploads", action="store_true",
                     help="add the raw uploads (they hold names, e-mails and phones in clear)")
    bak.add_argument("--force", action="store_true", help="replace an existing --out file")

    res = sub.add_parser("restore", help="put a backup back as a store")
    res.add_argument("--from", dest="source", type=Path, required=True, metavar="FILE")
    res.add_argument("--db", type=Path, help=DB_HELP)
    res.add_argument("--force", action="store_true",
                     help="replace an existing store (it is kept as <db>.replaced-<time>)")

    reb = sub.add_parser("rebuild", help="a new store from the raw uploads kept beside an old one")
    reb.add_argument("--from", dest="source", type=Path, required=True, metavar="OLD",
                     help="the old store file (its raw uploads are in OLD.uploads)")
    reb.add_argument("--db", type=Path, required=True, metavar="NEW", help="the new store file")
    reb.add_argument("--skip-missing", action="store_true",
                     help="rebuild even if some uploads' raw bytes were not kept")


def run_command(args: argparse.Namespace) -> int:
    """Run backup / restore / rebuild; 0 done, 1 not done (the message says why)."""
    # the work's modules are imported here, not above: the parser is built on every command
    from funnel.backup.archive import BackupError, refuse_lake
    from funnel.store.connection import default_db_path

    try:
        refuse_lake(args.command, args.db or default_db_path(), getattr(args, "source", None))
        if args.command == "backup":
            return _backup(args)
        if args.command == "restore":
            return _restore(args)
        return _rebuild(args)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _backup(args) -> int:
    from funnel.backup.archive import BackupError, busy
    from funnel.backup.backup import backup_store
    from funnel.store import connection as store

    db = Path(args.db or store.default_db_path())
    if not db.exists():
        raise BackupError(f"{db} does not exist; nothing to back up")
    try:
        con = store.connect(db)
    except store.StoreBusyError as exc:
        raise busy(db) from exc
    try:
        meta = backup_store(con, db, args.out, with_key=not args.no_key,
                            with_uploads=args.with_uploads, force=args.force)
    finally:
        con.close()
    counts = meta["counts"]
    print(f"backup of {db} written to {args.out} ({meta['bytes'] / 1048576:,.1f} MB), checked: "
          f"{counts['uploads']:,} uploads, {counts['leads']:,} leads, "
          f"{counts['lead_events']:,} events")
    if meta["key_included"]:
        print("  it holds the PII key: keep the file as private as the store (mode 0600)")
    elif meta.get("key_note"):
        print(f"  {meta['key_note']}")
    if meta["uploads_included"]:
        print("  it holds the raw uploads: names, e-mails and phones in clear")
    return 0


def _restore(args) -> int:
    from funnel.backup.restore import restore_store
    from funnel.store import connection as store

    db = Path(args.db or store.default_db_path())
    meta = restore_store(args.source, db, force=args.force)
    counts = meta["counts"]
    print(f"restored {args.source} (backup of {meta['created_at']}) to {db}: "
          f"{counts['uploads']:,} uploads, {counts['leads']:,} leads, "
          f"{counts['lead_events']:,} events")
    if meta.get("replaced"):
        print(f"  the store it replaced is kept as {meta['replaced']}")
    if meta.get("warning"):
        print(f"  warning: {meta['warning']}")
    return 0


def _rebuild(args) -> int:
    from funnel.backup.rebuild import rebuild_store

    result = rebuild_store(args.db, args.source, skip_missing=args.skip_missing)
    counts = result["counts"]
    print(f"rebuilt {args.db} from {result['origin']}: {result['uploads']:,} uploads ingested "
          f"again ({result['skipped']:,} skipped), {counts['leads']:,} leads, "
          f"{counts['lead_events']:,} events")
    for line in result["differences"]:
        print(f"  differs: {line}")
    return 1 if result["differences"] else 0
