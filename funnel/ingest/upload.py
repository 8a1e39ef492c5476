"""One upload, start to end: a file checked, hashed and kept, then ingested (funnel.ingest.core)
in one transaction, or found already ingested, or, read again with other options, put in the
place of its earlier upload (funnel.ingest.replay). The entry point of every surface: the CLI,
the Upload page, the demo, a rebuild.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import time
from pathlib import Path

import duckdb

from funnel.errors import IngestError
from funnel.ingest import files, replay, staging, xlsx
from funnel.ingest.core import (
    IngestOptions,
    IngestResult,
    check_constants,
    check_fields,
    checkpoint,
    ingest_result,
    map_file,
    prepare,
    upload_records,
    write,
)
from funnel.ingest.mapping import Mapping
from funnel.store import connection as store
from funnel.store import raw_uploads

CONFLICT_ATTEMPTS = 8  # a lake store's writers: how often an upload is tried before giving up
log = logging.getLogger("funnel.ingest")


def preview(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: IngestOptions | None = None,
    file_name: str | None = None,
) -> tuple[Mapping, list[str]]:
    """Detect the source and mapping of a file without writing anything (for the upload page)."""
    options = options or IngestOptions()
    name = file_name or path.name
    files.check_upload_size(path, name)
    try:
        staged = staging.stage_file(con, path, None, name)
        mapping = map_file(con, staged.headers, options)
    finally:
        files.drop_staging(con)  # only the header was wanted: free the staged rows now
    return mapping, staged.headers


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: IngestOptions | None = None,
    db_path: Path | None = None,
    file_name: str | None = None,
    must_load: bool = True,
) -> IngestResult:
    """Ingest one CSV/XLSX file into the store behind ``con``; raises IngestError if unusable
    (``must_load`` False: a file from which no row loads is kept as an upload of rejected rows,
    as a rebuild replays one that was).

    The same bytes with the same options change nothing (``already_ingested``); with other
    options they replace what that file said before (SPEC 3: the store ends as if the file had
    been ingested with the new options only)."""
    options = options or IngestOptions()
    name = file_name or path.name
    check_fields(name, options)
    check_constants(con, name, options)
    files.check_upload_size(path, name)
    facts = files.scan_file(path, name)  # hashed in pieces: the file is never held whole
    try:
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return _ingest_scanned(con, path, facts, options, db_path, name, must_load)
            except store.StoreConflictError:
                # a lake store: another writer committed first and nothing of this upload was
                # written; read the store again (the file may be in it now) and write again
                if attempt == CONFLICT_ATTEMPTS:
                    raise
                log.warning("%s: another upload committed first; trying again (%d of %d)",
                            name, attempt + 1, CONFLICT_ATTEMPTS)
                time.sleep(random.uniform(0.05, 0.3) * attempt)
        raise AssertionError("unreachable")
    finally:
        xlsx.forget(con, facts.sha256)  # a workbook's text, kept since its preview


def _ingest_scanned(
    con, path: Path, facts: files.FileFacts, options: IngestOptions, db_path: Path | None,
    name: str, must_load: bool,
) -> IngestResult:
    sha = facts.sha256
    db = Path(db_path or store.default_db_path())
    raw_root = store.uploads_folder(con) or raw_uploads.folder(db)
    fingerprint = options.fingerprint()
    earlier = store.fetch_one(
        con, "ingest/find_upload", {"sha256": sha, "options_hash": fingerprint}
    )
    if earlier:
        if raw_uploads.keep_enabled():  # an upload from before raw bytes were kept
            _keep(raw_root, path, facts, name)
        return ingest_result(con, name, int(earlier[0]), already=True)
    same_bytes = store.fetch_one(con, "ingest/find_same_bytes", {"sha256": sha})
    if same_bytes:
        if raw_uploads.keep_enabled():
            _keep(raw_root, path, facts, name)
        upload_id = replay.replace_upload(con, int(same_bytes[0]), options, db, name)
        result = ingest_result(con, name, upload_id, already=False)
        result.replaced = True
        return result

    # The bytes are kept before the transaction commits (a rebuild needs every committed
    # upload's bytes) and removed again if this ingest fails.
    kept, kept_now = None, False
    if raw_uploads.keep_enabled():
        kept, kept_now = _keep(raw_root, path, facts, name)
    try:
        upload_id = _ingest_new(con, kept or path, facts, name, fingerprint, options, db,
                                must_load)
    except BaseException:
        if kept_now:
            raw_uploads.discard(kept)
        raise
    if kept is not None:
        with contextlib.suppress(OSError):  # committed; a rebuild can still read `uploads`
            raw_uploads.record(raw_root, upload_records(con, upload_id)[0])
    checkpoint(con)
    return ingest_result(con, name, upload_id, already=False)


def _keep(raw_root: Path, path: Path, facts: files.FileFacts, name: str):
    """Copy the file into the raw-uploads folder as ``<sha256>``: (path, written now)."""
    kept, kept_now = raw_uploads.keep(raw_root, path, facts.sha256)
    if kept_now and kept.stat().st_size != facts.size:
        raw_uploads.discard(kept)
        raise IngestError(
            name, "changed while it was being read; wait until it is fully written and upload "
            "it again."
        )
    return kept, kept_now


def _ingest_new(
    con, path: Path, facts: files.FileFacts, name: str, fingerprint: str,
    options: IngestOptions, db: Path, must_load: bool = True,
) -> int:
    """Stage and type the file, then write it in one transaction; the new upload_id. The temp
    tables it stages hold the whole file: they are dropped as soon as it is done."""
    try:
        prepared = prepare(con, path, facts, name, options, db, dt.date.today())
        with store.transaction(con):
            return write(con, prepared, name, facts.sha256, fingerprint, options, db,
                         must_load=must_load)
    finally:
        with contextlib.suppress(duckdb.Error):
            files.drop_staging(con)
