"""What the commands share: reading a date and FIELD=VALUE pairs from the command line, and
opening the store (a store another process writes is a clear error, not a traceback)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from funnel.errors import IngestError, UsageError

DB_HELP = "store file (default $FUNNEL_DB or data/funnel.duckdb)"


def iso_date(text: str) -> dt.date:
    """An argparse type: a YYYY-MM-DD date."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD") from None


def pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    """``--map field=COLUMN`` / ``--set field=VALUE`` given several times, as a dict."""
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} {item!r}: write it as {flag} field=VALUE")
        out[key.strip()] = value
    return out


def open_store(db: Path | None):
    """The store at ``db`` (else the default), opened for writing."""
    from funnel.store import connection as store  # duckdb: not for --help

    try:
        return store.connect(db)
    except store.StoreBusyError as exc:
        raise IngestError(str(db or store.default_db_path()), str(exc)) from exc


def fail(code: int, message: str) -> int:
    """Say ``message`` on standard error as an error; returns the exit code ``code``."""
    print(f"error: {message}", file=sys.stderr)
    return code
