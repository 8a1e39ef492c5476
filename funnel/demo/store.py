"""The bundled demo store: three weekly Pipedrive snapshots and a spend file from ``data/demo``."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from funnel.ingest.core import IngestOptions
from funnel.ingest.spend import ingest_spend
from funnel.ingest.upload import ingest_file
from funnel.store import connection as store

DEMO_DIR = store.ROOT / "data" / "demo"
SNAPSHOT = re.compile(r"_(\d{4}-\d{2}-\d{2})\.csv$")


def snapshot_files(demo_dir: Path = DEMO_DIR) -> list[tuple[Path, dt.date]]:
    """The demo's snapshot exports with their as-of dates, oldest first."""
    out = []
    for path in sorted(demo_dir.glob("pipedrive_deals_*.csv")):
        match = SNAPSHOT.search(path.name)
        if match:
            out.append((path, dt.date.fromisoformat(match.group(1))))
    return out


def load_demo(con, db_path: Path, demo_dir: Path = DEMO_DIR) -> None:
    """Ingest the demo snapshots (in date order) and the spend file into an open store."""
    for path, as_of in snapshot_files(demo_dir):
        ingest_file(con, path, IngestOptions(as_of=as_of), db_path=db_path)
    spend = demo_dir / "channel_spend.csv"
    if spend.exists():
        ingest_spend(con, spend)


def build_demo_store(db: Path | None = None, force: bool = False) -> Path:
    """Create the demo store at ``db`` (default store path) unless it already holds leads."""
    path = Path(db) if db else store.default_db_path()
    if force:
        for suffix in ("", ".wal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    con = store.connect(path)
    try:
        if not store.fetch_one(con, "uploads/lead_count")[0]:
            load_demo(con, path)
    finally:
        con.close()
    return path
