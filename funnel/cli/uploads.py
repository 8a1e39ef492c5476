"""``python -m funnel uploads [list|remove N]``: the uploads in the store, or one taken out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from funnel.cli.common import open_store
from funnel.errors import UsageError


def add_uploads_parser(sub) -> None:
    ups = sub.add_parser("uploads", help="list the uploads, or take one out of the store")
    ups.add_argument("action", nargs="?", choices=["list", "remove"], default="list")
    ups.add_argument("upload_id", nargs="?", type=int, metavar="N",
                     help="the upload to remove (its number in the list)")
    ups.add_argument("--db", type=Path)
    ups.add_argument("--json", action="store_true")



def run_uploads(args: argparse.Namespace) -> int:
    from funnel.ingest import replay
    from funnel.ingest.core import upload_records
    from funnel.store import connection as store

    con = open_store(args.db)
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
