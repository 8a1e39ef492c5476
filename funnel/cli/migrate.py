"""``python -m funnel migrate --from STORE --to STORE``: a store copied into a new one, a DuckDB
file to a lake (``ducklake:...``) and back, or through a Parquet folder between duckdb 2.x and
the lake's 1.4.x (funnel.backup.migrate does the work)."""

from __future__ import annotations

import argparse
import sys


def add_migrate_parser(sub) -> None:
    """Add ``migrate`` to ``funnel.cli``'s subparsers."""
    mig = sub.add_parser(
        "migrate", help="copy a store into a new one: a file, a lake (ducklake:...) or a folder")
    mig.add_argument("--from", dest="source", required=True, metavar="STORE",
                     help="the store: a file, a lake address or a folder migrate wrote")
    mig.add_argument("--to", dest="target", required=True, metavar="STORE",
                     help="the new store: a file, a lake address, or a folder (ending in /)")


def run_migrate(args: argparse.Namespace) -> int:
    """0 copied and counted; 1 not done (the message says why)."""
    from funnel.backup.archive import BackupError
    from funnel.backup.migrate import migrate_store

    try:
        counts = migrate_store(args.source, args.target)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"migrated {args.source} to {args.target}, counts checked: {counts.get('uploads', 0):,} "
          f"uploads, {counts.get('leads', 0):,} leads, {counts.get('lead_events', 0):,} events, "
          f"{sum(counts.values()):,} rows in {len(counts)} tables")
    return 0
