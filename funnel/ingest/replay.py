"""Take an upload out of the store, or ingest one again with other options (SPEC 3, issue 12).

Each upload changed the store in the light of every upload before it (a snapshot dates a stage
change against the one before; a lead keeps its earliest created date), so taking one out, or
reading it another way, is done the one way that is sure to be right: every upload is ingested
again from its kept raw bytes, in order, with its own options and upload day, leaving the one
removed out and the one replaced with its new options. All of it is one transaction: readers
see the store before or after, and a file that can no longer be used changes nothing.
Synonyms, spend and decisions are the owner's: they stay as they are.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import duckdb

from funnel.errors import IngestError
from funnel.ingest import files, xlsx
from funnel.ingest.core import IngestOptions, prepare, upload_records, write
from funnel.ingest.mapping import FIELDS
from funnel.store import connection as store
from funnel.store import raw_uploads


def remove_upload(con: duckdb.DuckDBPyConnection, upload_id: int, db: Path) -> dict:
    """Take upload ``upload_id`` out: the store ends as if it had never been ingested. Returns
    the removed upload's record."""
    records = upload_records(con)
    removed = next((r for r in records if r["upload_id"] == upload_id), None)
    if removed is None:
        raise IngestError(f"upload {upload_id}", "there is no such upload in the list of "
                          "uploads.")
    _replay(con, db, records, skip=upload_id)
    return removed


def replace_upload(
    con: duckdb.DuckDBPyConnection, upload_id: int, options: IngestOptions, db: Path, name: str
) -> int:
    """Ingest upload ``upload_id``'s file again with ``options`` in its place: the store ends as
    if it had been ingested with them only. Raises IngestError (store unchanged) when the file
    cannot be used with them. Returns the upload's id (it keeps its place and number)."""
    _replay(con, db, upload_records(con), replace=(upload_id, options, name))
    return upload_id


def _replay(
    con, db: Path, records: list[dict], skip: int | None = None,
    replace: tuple[int, IngestOptions, str] | None = None,
) -> None:
    root = store.uploads_folder(con) or raw_uploads.folder(db)
    missing = [r for r in records if not (root / r["sha256"]).is_file()]
    if missing:
        names = ", ".join(f"upload {r['upload_id']} ({r['file_name']})" for r in missing[:3])
        raise IngestError(
            names,
            "has no kept copy of its bytes (Funnel was set to keep none, or the file was "
            "loaded before it kept them), so the uploads cannot be read again in order. Load "
            "every file again into a new store instead.",
        )
    try:
        with store.transaction(con):
            store.run(con, "replay/clear_uploads")
            for rec in records:
                if rec["upload_id"] == skip:
                    continue
                replaced = replace is not None and rec["upload_id"] == replace[0]
                path = root / rec["sha256"]
                facts = files.scan_file(path, rec["file_name"])
                # each upload keeps its own upload day: a date is judged against the day its
                # file came in, whenever it is read again
                day = _upload_day(rec)
                if replaced:
                    options, name = replace[1], replace[2]
                    fingerprint, at = options.fingerprint(), None
                else:
                    options, name = _recorded_options(rec), rec["file_name"]
                    fingerprint, at = rec["options_hash"], dt.datetime.fromisoformat(
                        rec["ingested_at"])
                try:
                    prepared = prepare(con, path, facts, name, options, db, day)
                    write(con, prepared, name, rec["sha256"], fingerprint, options, db,
                          upload_id=rec["upload_id"], ingested_at=at, must_load=replaced)
                finally:
                    with contextlib.suppress(duckdb.Error):
                        files.drop_staging(con)
                    xlsx.forget(con, rec["sha256"])
    finally:
        with contextlib.suppress(duckdb.Error):
            files.drop_staging(con)
    kept = upload_records(con)
    with contextlib.suppress(OSError):
        raw_uploads.write_manifest(root, kept)
    if skip is not None:  # the removed upload's bytes, unless another upload has the same
        gone = {r["sha256"] for r in records if r["upload_id"] == skip}
        for sha in gone - {r["sha256"] for r in kept}:
            raw_uploads.discard(root / sha)
    with contextlib.suppress(duckdb.Error):
        con.execute("CHECKPOINT")


def _recorded_options(rec: dict) -> IngestOptions:
    """The options an upload was ingested with, as recorded: its mapping field by field (a field
    it did not map stays unmapped), its --set constants, and how it read a "no"."""
    settings = rec.get("settings") or {}
    mapping = rec.get("mapping") or {}
    as_of = rec.get("as_of") if settings.get("as_of_given") else None
    return IngestOptions(
        mapping={f: mapping.get(f, "") for f in FIELDS},
        constants=dict(settings.get("set") or {}),
        as_of=dt.date.fromisoformat(as_of) if as_of else None,
        no_means_open=bool(settings.get("no_means_open")),
    )


def _upload_day(rec: dict) -> dt.date:
    day = (rec.get("settings") or {}).get("upload_day")
    return dt.date.fromisoformat(day) if day else dt.date.fromisoformat(rec["ingested_at"][:10])
