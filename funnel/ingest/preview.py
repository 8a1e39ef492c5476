"""What loading a file would do, found out before it is loaded (the Upload page's preview).

The file is staged, mapped, typed and written exactly as :func:`funnel.ingest.upload.ingest_file`
would, inside a transaction that is then rolled back: the counts (rows that load, are rejected,
are duplicates; cells read as unknown), the reasons and the problems that stop the file loading
are those the load itself will give, not an estimate. Beside each mapped column, a few of its
commonest cells and what they are read as (``yes -> won``, ``12/03/21 -> 12 Mar 2021``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from funnel.errors import Fix, IngestError
from funnel.ingest import dates, files, staged_sql
from funnel.ingest.core import (
    IngestOptions,
    Prepared,
    check_constants,
    check_fields,
    poorer_without,
    prepare,
    refuse_if_unusable,
    write,
)
from funnel.ingest.mapping import DATE_FIELDS, FIELDS
from funnel.store import connection as store

SAMPLES = 5  # sample cells shown per mapped column
TOP_REASONS = 3  # reasons shown for rejected rows and for cells read as unknown
PREVIEW_UPLOAD_ID = -1  # the upload a dry run writes (rolled back): no id is used up
# fields whose cells are personal: their samples are never shown
HIDDEN_FIELDS = {"email": "kept only as a hash", "phone": "kept only as a hash",
                 "name": "never stored"}


@dataclass(frozen=True)
class Sample:
    """One cell of a mapped column and what Funnel reads it as."""

    value: str
    read_as: str
    rows: int  # how many rows hold it


@dataclass(frozen=True)
class Reason:
    """Why rows were rejected, or cells read as unknown: one reason, its column, how many rows
    or cells, and the first row it happens on."""

    column: str
    reason: str
    count: int
    example_row: int


@dataclass
class FilePreview:
    """What loading one file with given options would do (nothing was written)."""

    file: str
    columns: dict[str, str] = field(default_factory=dict)  # field -> column the load reads
    samples: dict[str, list[Sample]] = field(default_factory=dict)  # field -> its cells
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    duplicate: int = 0
    warnings: int = 0
    reject_reasons: list[Reason] = field(default_factory=list)
    warning_reasons: list[Reason] = field(default_factory=list)
    problem: str | None = None  # why the file cannot be loaded as it is (None: it can)
    fixes: tuple[Fix, ...] = ()  # what would make it loadable, or its figures truer
    already_ingested: bool = False  # the same bytes and options are loaded: nothing changes
    replaces: bool = False  # the same bytes were loaded with other options: they are replaced
    as_of: str | None = None
    yes_no_outcome: bool = False

    @property
    def usable(self) -> bool:
        return self.problem is None


def dry_run(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: IngestOptions | None = None,
    file_name: str | None = None,
    db_path: Path | None = None,
    upload_day: dt.date | None = None,
) -> FilePreview:
    """Load ``path`` with ``options`` inside a transaction that is rolled back, and say what
    happened: the store is left as it was. ``con`` must be able to write (a writer's cursor)."""
    options = options or IngestOptions()
    name = file_name or path.name
    db = Path(db_path or store.default_db_path())
    upload_day = upload_day or dt.date.today()
    out = FilePreview(file=name)
    try:
        check_fields(name, options)
        check_constants(con, name, options)
        files.check_upload_size(path, name)
        facts = files.scan_file(path, name)
    except IngestError as exc:
        out.problem, out.fixes = exc.message, exc.fixes
        return out
    earlier = store.fetch_one(con, "ingest/find_upload",
                              {"sha256": facts.sha256, "options_hash": options.fingerprint()})
    out.replaces = bool(store.fetch_one(con, "ingest/find_same_bytes",
                                        {"sha256": facts.sha256})) and not earlier
    try:
        prepared = prepare(con, path, facts, name, options, db, upload_day)
        out.columns = dict(prepared.mapping.columns)
        out.as_of = prepared.as_of.isoformat() if prepared.as_of else None
        given = {**prepared.mapping.columns, **options.constants}
        out.yes_no_outcome = "converted" in given and not prepared.has_stage
        out.samples = _samples(con, prepared)
        if earlier:
            out.already_ingested = True
            _counts(con, out, int(earlier[0]))
            return out
        with _rolled_back(con):
            write(con, prepared, name, facts.sha256, options.fingerprint(), options, db,
                  upload_id=PREVIEW_UPLOAD_ID)
            _counts(con, out, PREVIEW_UPLOAD_ID)
            try:
                refuse_if_unusable(con, prepared, options, name, PREVIEW_UPLOAD_ID)
            except IngestError as exc:
                out.problem, out.fixes = exc.message, exc.fixes
            else:
                out.fixes = _advice(con, prepared, options)
    except IngestError as exc:
        out.problem, out.fixes = exc.message, exc.fixes
    finally:
        with contextlib.suppress(duckdb.Error):
            files.drop_staging(con)
    return out


@contextlib.contextmanager
def _rolled_back(con: duckdb.DuckDBPyConnection):
    """A transaction that is always rolled back: what is written in it is read, then undone."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    finally:
        con.execute("ROLLBACK")


def _counts(con, out: FilePreview, upload_id: int) -> None:
    row = store.fetch_one(con, "ingest/upload_summary", {"upload_id": upload_id})
    out.read, out.loaded, out.rejected, out.duplicate = (int(v) for v in row[4:8])
    out.warnings = int(row[10] or 0)
    params = {"upload_id": upload_id, "limit": TOP_REASONS}
    out.reject_reasons = [Reason(c or "", r, int(n), int(e)) for c, r, n, e in
                          store.fetch_all(con, "ingest/top_reject_reasons", params)]
    out.warning_reasons = [Reason(c or "", r, int(n), int(e)) for c, r, n, e in
                           store.fetch_all(con, "ingest/top_warning_reasons", params)]


def _advice(con, prepared: Prepared, options: IngestOptions) -> tuple[Fix, ...]:
    """What the file loads without but its figures would be poorer for: no channel column, no
    outcome (stage, status, converted, won or lost date)."""
    if prepared.mapping.kind == "history":
        return ()
    return tuple(poorer_without(con, prepared, {**prepared.mapping.columns, **options.constants}))


def _samples(con, prepared: Prepared) -> dict[str, list[Sample]]:
    """field -> the commonest cells of its column and what each is read as."""
    out: dict[str, list[Sample]] = {}
    for fld in FIELDS:
        column = prepared.mapping.columns.get(fld)
        if column is None:
            continue
        if fld in HIDDEN_FIELDS:
            out[fld] = []
            continue
        cells = con.execute(staged_sql.column_samples(column), {"limit": SAMPLES}).fetchall()
        if not cells:
            out[fld] = []
            continue
        date_field = fld if fld in DATE_FIELDS else "created_at"
        reading = prepared.reading
        readings = store.fetch_all(con, "ingest/sample_readings", {
            "cells": [str(v) for v, _ in cells],
            "formats": reading.get(f"{date_field}_formats") or dates.formats_of("iso"),
            "excel": bool(reading.get(f"{date_field}_excel")),
            "decimal_comma": bool(reading.get("value_decimal_comma")),
        })
        by_value = {str(r[0]): r for r in readings}
        out[fld] = [Sample(str(v), _read_as(fld, by_value[str(v)], prepared), int(n))
                    for v, n in cells]
    return out


UNKNOWN = "unknown (the row loads without it)"


def _read_as(fld: str, reading: tuple, prepared: Prepared) -> str:
    """The words for what one cell of field ``fld`` is read as."""
    value, as_date, yes_no, amount, stage_label, channel_label, channel_is_own = reading
    if fld in DATE_FIELDS:
        if as_date is None:
            return ("not a date: the row is rejected" if fld == "created_at"
                    else f"not a date: {UNKNOWN}")
        return f"{as_date.day} {as_date:%b %Y}"
    if fld == "converted":
        if yes_no is None:
            return f"neither yes nor no: {UNKNOWN}"
        if yes_no:
            return "won"
        if prepared.has_stage:
            return "not won: the stage says where it is"
        return "lost" if prepared.no_means_lost else "still open"
    if fld == "is_closed":
        return {True: "closed", False: "open", None: f"neither yes nor no: {UNKNOWN}"}[yes_no]
    if fld == "value":
        return f"{amount:,.2f}" if amount is not None else f"not an amount: {UNKNOWN}"
    if fld == "stage":
        return stage_label or "New (a stage Funnel does not know yet: map it after loading)"
    if fld == "channel":
        if channel_is_own:
            return f"{channel_label} (a channel of its own: map it after loading)"
        return str(channel_label)
    return "as written"

