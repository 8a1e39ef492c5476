"""Ingest a CRM export into the store: stage, map, type, merge, in one transaction (SPEC 3).

Every row read is loaded, rejected with a reason (``rejected_rows``), or counted as a duplicate.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from funnel import dates, ingest_sql, pii, raw_uploads, readers, store
from funnel.errors import IngestError
from funnel.mapping import DATE_FIELDS, FIELDS, Mapping, map_columns


@dataclass
class IngestOptions:
    """What a person can say about a file: explicit mapping, constants, as-of date."""

    mapping: dict[str, str] = field(default_factory=dict)  # field -> column (--map)
    constants: dict[str, str] = field(default_factory=dict)  # field -> value (--set)
    as_of: dt.date | None = None

    def fingerprint(self) -> str:
        payload = {
            "map": dict(sorted(self.mapping.items())),
            "set": dict(sorted(self.constants.items())),
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass
class IngestResult:
    """What happened to one file: the four counts, the detected source and mapping."""

    file: str
    source: str
    source_label: str
    read: int
    loaded: int
    rejected: int
    duplicate: int
    already_ingested: bool
    upload_id: int | None
    as_of: str | None
    mapping: dict[str, str]
    date_formats: dict[str, str]
    unmapped: list[dict]
    rejects_sample: list[dict]

    def as_json(self) -> dict:
        return asdict(self)


def preview(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: IngestOptions | None = None,
    file_name: str | None = None,
) -> tuple[Mapping, list[str]]:
    """Detect the source and mapping of a file without writing anything (for the upload page)."""
    options = options or IngestOptions()
    name = file_name or path.name
    readers.check_upload_size(path, name)
    try:
        staged = readers.stage_file(con, path, None, name)
    finally:
        readers.drop_staging(con)  # only the header was wanted: free the staged rows now
    mapping = map_columns(staged.headers, options.mapping)
    return mapping, staged.headers


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    options: IngestOptions | None = None,
    db_path: Path | None = None,
    file_name: str | None = None,
) -> IngestResult:
    """Ingest one CSV/XLSX file into the store behind ``con``; raises IngestError if unusable."""
    options = options or IngestOptions()
    name = file_name or path.name
    _check_fields(name, options)
    _check_constants(con, name, options)
    readers.check_upload_size(path, name)
    facts = readers.scan_file(path, name)  # hashed in pieces: the file is never held whole
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
        return _already_ingested(con, name, int(earlier[0]))

    # The bytes are kept before the transaction commits (a rebuild needs every committed
    # upload's bytes) and removed again if this ingest fails.
    kept, kept_now = None, False
    if raw_uploads.keep_enabled():
        kept, kept_now = _keep(raw_root, path, facts, name)
    try:
        upload_id = _stage_and_write(con, kept or path, facts, name, fingerprint, options, db)
    except BaseException:
        if kept_now:
            raw_uploads.discard(kept)
        raise
    if kept is not None:
        with contextlib.suppress(OSError):  # committed; a rebuild can still read `uploads`
            raw_uploads.record(raw_root, upload_records(con, upload_id)[0])
    _checkpoint(con)
    return _result(con, name, None, {}, upload_id, already=False)


def _keep(raw_root: Path, path: Path, facts: readers.FileFacts, name: str):
    """Copy the file into the raw-uploads folder as ``<sha256>``: (path, written now)."""
    kept, kept_now = raw_uploads.keep(raw_root, path, facts.sha256)
    if kept_now and kept.stat().st_size != facts.size:
        raw_uploads.discard(kept)
        raise IngestError(
            name, "changed while it was being read; wait until it is fully written and upload "
            "it again."
        )
    return kept, kept_now


def _stage_and_write(
    con, path: Path, facts: readers.FileFacts, name: str, fingerprint: str,
    options: IngestOptions, db: Path,
) -> int:
    """Stage, map and type the file, then write it in one transaction; the new upload_id. The
    temp tables it stages hold the whole file: they are dropped as soon as it is done."""
    try:
        return _stage_type_write(con, path, facts, name, fingerprint, options, db)
    finally:
        with contextlib.suppress(duckdb.Error):
            readers.drop_staging(con)


def _stage_type_write(
    con, path: Path, facts: readers.FileFacts, name: str, fingerprint: str,
    options: IngestOptions, db: Path,
) -> int:
    sha = facts.sha256
    staged = readers.stage_file(con, path, None, name, facts=facts)
    mapping = map_columns(staged.headers, options.mapping)
    _check_mapping(name, mapping, staged.headers)
    pads = pii.hmac_pads(pii.load_key(db))

    rowid_base = store.fetch_one(con, "ingest/raw_rowid_base")[0] or 0
    params = {**_set_params(options), "rowid_base": rowid_base}
    if staged.contiguous:
        params["first_row"] = staged.first_row
    con.execute(ingest_sql.staged_table(mapping.columns, staged.contiguous), params)
    present = [f for f in DATE_FIELDS if f in mapping.columns or f in options.constants]
    families = dates.choose_families(con, present)
    store.run(con, "ingest/typed_rows", _typing_params(con, mapping, options, families))
    # before the transaction: a temp table dropped inside one holds its memory until COMMIT
    store.run(con, "ingest/drop_staged")
    as_of = options.as_of or _file_as_of(con)

    con.execute("BEGIN TRANSACTION")
    try:
        upload_id = _write(
            con, name, sha, fingerprint, mapping, options, families, as_of, pads, rowid_base
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return upload_id


UPLOAD_RECORD = (
    "upload_id", "file_name", "sha256", "options_hash", "source", "as_of", "ingested_at",
    "rows_read", "rows_loaded", "rows_rejected", "rows_duplicate", "mapping", "settings",
)


def upload_records(con, upload_id: int | None = None) -> list[dict]:
    """Uploads as recorded in ``uploads`` (file, sha256, options hash, mapping, settings,
    counts), oldest first: what the raw-uploads manifest keeps and a rebuild replays."""
    out = []
    for row in store.fetch_all(con, "backup/upload_records", {"upload_id": upload_id}):
        rec = dict(zip(UPLOAD_RECORD, row, strict=True))
        rec["mapping"] = json.loads(rec["mapping"])
        rec["settings"] = json.loads(rec["settings"])
        rec["as_of"] = rec["as_of"].isoformat() if rec["as_of"] else None
        rec["ingested_at"] = rec["ingested_at"].isoformat(sep=" ")
        out.append(rec)
    return out


def id_namespace(source: str) -> str:
    """The CRM family whose ids a file's ids are: a Zoho deals file keyed by the lead id updates
    Zoho leads, but a Pipedrive deal 4563 is never Zoho lead 4563."""
    family = source.split("_", 1)[0]
    return family if family in ("hubspot", "salesforce", "pipedrive", "zoho") else "file"


def _checkpoint(con) -> None:
    """Fold the write-ahead log into the file; skipped while other sessions are reading (DuckDB
    refuses then, and checkpoints on its own later: the upload is already committed)."""
    with contextlib.suppress(duckdb.Error):
        con.execute("CHECKPOINT")


def _write(
    con,
    name,
    sha,
    fingerprint,
    mapping: Mapping,
    options: IngestOptions,
    families: dict[str, str],
    as_of: dt.date,
    pads: dict[str, bytes],
    rowid_base: int,
) -> int:
    settings = {
        "set": options.constants,
        "as_of": as_of.isoformat(),
        "as_of_given": options.as_of is not None,
        "date_formats": families,
    }
    upload_id = int(
        store.fetch_one(
            con,
            "ingest/insert_upload",
            {
                "file_name": name,
                "sha256": sha,
                "options_hash": fingerprint,
                "source": mapping.source,
                "as_of": as_of,
                "mapping": json.dumps(mapping.columns),
                "settings": json.dumps(settings),
            },
        )[0]
    )
    as_of_ts = dt.datetime.combine(as_of, dt.time())
    store.run(
        con,
        "ingest/incoming",
        {"file_tag": sha[:16], "id_namespace": id_namespace(mapping.source), **pads},
    )
    store.run(
        con,
        "ingest/merged",
        {
            "as_of": as_of_ts,
            "has_stage": any(
                f in mapping.columns or f in options.constants
                for f in ("stage", "status", "converted")
            ),
        },
    )
    store.run(con, "ingest/delete_replaced_leads")
    store.run(con, "ingest/insert_leads", {"upload_id": upload_id})
    store.run(con, "ingest/insert_events", {"upload_id": upload_id})
    con.execute(
        ingest_sql.redacted_rows_table(mapping.personal_columns), {"rowid_base": rowid_base}
    )
    store.run(
        con,
        "ingest/insert_rejects",
        {
            "upload_id": upload_id,
            "created_at_col": _column_label(mapping, options, "created_at"),
            "has_created": "created_at" in mapping.columns or "created_at" in options.constants,
            "has_personal": bool(mapping.personal_columns),
        },
    )
    store.run(con, "ingest/update_upload_counts", {"upload_id": upload_id})
    store.bump_revision(con)
    return upload_id


def _check_fields(name: str, options: IngestOptions) -> None:
    for kind, given in (("--map", options.mapping), ("--set", options.constants)):
        unknown = sorted(set(given) - set(FIELDS))
        if unknown:
            raise IngestError(
                name,
                f"{kind} names unknown field(s) {', '.join(unknown)}; "
                f"fields are: {', '.join(FIELDS)}",
            )


def _check_constants(con, name: str, options: IngestOptions) -> None:
    """A --set date or yes/no that cannot be read fails the upload at once, naming the --set
    (rather than every row whose empty cell it fills)."""
    formats = [f for family in dates.ORDER for f in dates.formats_of(family)]
    for fld, value in sorted(options.constants.items()):
        kind = "date" if fld in DATE_FIELDS else "yes/no" if fld == "converted" else None
        if kind is None or value is None:
            continue
        is_date, is_yes_no = store.fetch_one(
            con, "ingest/set_value_check", {"value": value, "formats": formats})
        if not (is_date if kind == "date" else is_yes_no):
            raise IngestError(name, f"--set {fld}={value!r} is not a {kind}; give a {kind} "
                              "such as " + ("2026-11-02" if kind == "date" else "yes or no") + ".")


def _check_mapping(name: str, mapping: Mapping, headers: list[str]) -> None:
    missing = {f: c for f, c in mapping.columns.items() if c not in headers}
    if missing:
        field_name, column = next(iter(missing.items()))
        raise IngestError(
            name,
            f"--map {field_name}={column}: the file has no column '{column}'. "
            f"Its columns are: {', '.join(headers)}",
        )


def _set_params(options: IngestOptions) -> dict[str, str | None]:
    return {f"set_{f}": options.constants.get(f) for f in ingest_sql.STAGED_COLUMNS.values()}


def _column_label(mapping: Mapping, options: IngestOptions, fld: str) -> str:
    if fld in mapping.columns:
        return mapping.columns[fld]
    if fld in options.constants:
        return f"{fld} (--set)"
    return fld


def _typing_params(con, mapping: Mapping, options: IngestOptions, families: dict[str, str]) -> dict:
    params: dict = {}
    orders = dates.formats_in_use_order(con, families)
    for fld in DATE_FIELDS:
        family = families.get(fld, "iso")
        params[f"{fld}_formats"] = orders.get(fld) or dates.formats_of(family)
        params[f"{fld}_excel"] = family == dates.EXCEL
    for fld in (*DATE_FIELDS, "value", "converted"):
        params[f"{fld}_col"] = _column_label(mapping, options, fld)
    comma, point = store.fetch_one(con, "ingest/value_format_votes")
    params["value_decimal_comma"] = bool(comma > point)
    return params


def _records(con, name: str, params: dict, columns: tuple[str, ...]) -> list[dict]:
    """The rows of a query as dicts (plain Python values: no pandas on the CLI's path)."""
    return [dict(zip(columns, row, strict=True)) for row in store.fetch_all(con, name, params)]


def _file_as_of(con) -> dt.date:
    row = store.fetch_one(con, "ingest/file_as_of")
    return row[0] if row and row[0] else dt.date.today()


def _already_ingested(con, name: str, upload_id: int) -> IngestResult:
    return _result(con, name, None, {}, upload_id, already=True)


def _result(
    con, name: str, mapping: Mapping | None, families: dict[str, str], upload_id: int, already: bool
) -> IngestResult:
    row = store.fetch_one(con, "ingest/upload_summary", {"upload_id": upload_id})
    (_, _, source, as_of, read, loaded, rejected, duplicate, mapping_json, settings_json) = row
    settings = json.loads(settings_json)
    unmapped = _records(con, "ingest/unmapped_values", {"upload_id": upload_id},
                        ("kind", "raw_value", "stored_as", "leads"))
    rejects = _records(con, "ingest/rejected_sample", {"upload_id": upload_id, "limit": 20},
                       ("row_number", "column_name", "reason"))
    from funnel.mapping import GENERIC, PROFILES

    labels = {p.name: p.label for p in [*PROFILES, GENERIC]}
    return IngestResult(
        file=name,
        source=source,
        source_label=labels.get(source, source),
        read=int(read),
        loaded=int(loaded),
        rejected=int(rejected),
        duplicate=int(duplicate),
        already_ingested=already,
        upload_id=upload_id,
        as_of=as_of.isoformat() if as_of else None,
        mapping=json.loads(mapping_json),
        date_formats=settings.get("date_formats", families),
        unmapped=unmapped,
        rejects_sample=rejects,
    )
