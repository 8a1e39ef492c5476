"""Ingest a CRM export into the store: stage, map, type, merge, in one transaction (SPEC 3).

Every row read is loaded, rejected with a reason (``rejected_rows``), or counted as a duplicate.
Only a row's identity rejects it; any other cell that cannot be read loads the row with that
field unknown and is kept as a cell warning (``cell_warnings``). A file from which no row can be
loaded changes nothing and raises :class:`IngestError` saying what would make it usable.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from funnel.errors import Fix, IngestError
from funnel.ingest import dates, files, staging
from funnel.ingest import staged_sql as ingest_sql
from funnel.ingest.mapping import (
    DATE_FIELDS,
    FIELD_LABELS,
    FIELDS,
    GENERIC,
    YES_NO_FIELDS,
    ColumnStats,
    Mapping,
    detect_source,
    map_columns,
    named_personal,
    profile_label,
    stat_candidates,
)
from funnel.store import connection as store
from funnel.store import currency as money
from funnel.store import pii

# rejected rows and cell warnings an upload keeps (all are counted): a file of 2 million broken
# rows must not make the Upload page rebuild a 2-million-row table on every view (issue 16)
KEEP_ROWS = 10_000
PHONE_PATTERN = r"\+?[0-9(][0-9 ().\-]{5,}[0-9]"
STAGE_FIELDS = ("stage", "status", "is_closed")  # fields that say where a lead stands


@dataclass
class IngestOptions:
    """What a person can say about a file: explicit mapping, constants, as-of date, and how to
    read a yes/no outcome's "no" (lost, the default, or still open)."""

    mapping: dict[str, str] = field(default_factory=dict)  # field -> column (--map)
    constants: dict[str, str] = field(default_factory=dict)  # field -> value (--set)
    as_of: dt.date | None = None
    no_means_open: bool = False  # --no-means-open

    def fingerprint(self) -> str:
        payload = {
            "map": dict(sorted(self.mapping.items())),
            "set": dict(sorted(self.constants.items())),
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }
        if self.no_means_open:  # only when given: earlier uploads keep their fingerprint
            payload["no_means_open"] = True
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass
class IngestResult:
    """What happened to one file: the four counts, the cell warnings, the detected source and
    mapping, and notes a person should read (NUL bytes dropped, money in other currencies)."""

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
    warnings: int = 0
    warnings_sample: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    replaced: bool = False  # the same file's earlier upload (other options) was replaced
    yes_no_outcome: bool = False  # the outcome is a yes/no column alone
    no_means_open: bool = False

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class Prepared:
    """A file staged and typed (temp table ``typed_rows``), ready to be written."""

    mapping: Mapping
    headers: list[str]
    families: dict[str, str]
    as_of: dt.date | None  # None: neither the options nor the file give one
    as_of_given: bool
    upload_day: dt.date
    nul_bytes: int
    has_stage: bool
    no_means_lost: bool
    rowid_base: int
    # how its cells were typed (``_typing_params``: per date field its formats and whether it
    # holds Excel serials; whether money is written 1.234,56): the preview reads samples alike
    reading: dict = field(default_factory=dict)


def prepare(
    con, path: Path, facts: files.FileFacts, name: str, options: IngestOptions, db: Path,
    upload_day: dt.date,
) -> Prepared:
    """Stage, map and type a file into temp table ``typed_rows`` (nothing is written to the
    store). ``upload_day``: the day it was uploaded (a date after it is unknown). The as-of
    date is the options', else the file's latest created, won or lost date, never after the
    upload day; a file with no date has none (it dates no stage change and leaves the store's
    as-of date as it was)."""
    staged = staging.stage_file(con, path, None, name, facts=facts)
    mapping = map_file(con, staged.headers, options)
    _check_mapping(name, mapping, staged.headers)
    rowid_base = store.fetch_one(con, "ingest/raw_rowid_base")[0] or 0
    params = {**_set_params(options), "rowid_base": rowid_base}
    if staged.contiguous:
        params["first_row"] = staged.first_row
    con.execute(ingest_sql.staged_table(mapping.columns, staged.contiguous), params)
    present = [f for f in DATE_FIELDS if f in mapping.columns or f in options.constants]
    families = dates.choose_families(con, present)
    typing = _typing_params(con, mapping, options, families, upload_day)
    store.run(con, "ingest/typed_rows", typing)
    # before the transaction: a temp table dropped inside one holds its memory until COMMIT
    store.run(con, "ingest/drop_staged")
    given = {**mapping.columns, **options.constants}
    has_stage = any(f in given for f in STAGE_FIELDS)
    no_means_lost = "converted" in given and not has_stage and not options.no_means_open
    file_as_of = store.fetch_one(con, "ingest/file_as_of",
                                 {"no_means_lost": no_means_lost, "upload_day": upload_day})[0]
    return Prepared(
        mapping=mapping,
        headers=staged.headers,
        families=families,
        as_of=options.as_of or file_as_of,
        as_of_given=options.as_of is not None,
        upload_day=upload_day,
        nul_bytes=staged.nul_bytes,
        has_stage=has_stage,
        no_means_lost=no_means_lost,
        rowid_base=rowid_base,
        reading={k: v for k, v in typing.items() if k.endswith(("_formats", "_excel", "_comma"))},
    )


def map_file(con, headers: list[str], options: IngestOptions) -> Mapping:
    """The mapping of a staged file: a file no known CRM made is mapped by its header, checked
    against what its columns hold."""
    if detect_source(headers) is not GENERIC:
        return map_columns(headers, options.mapping)
    return map_columns(headers, options.mapping, staged_stats(con, stat_candidates(headers)))


def staged_stats(con, headers: list[str]) -> dict[str, ColumnStats]:
    """What each of ``headers`` of the staged file (``raw_rows``) holds."""
    if not headers:
        return {}
    row = con.execute(ingest_sql.column_stats(headers), {"phone_pattern": PHONE_PATTERN}
                      ).fetchone()
    rows = int(row[0])
    return {
        header: ColumnStats(rows, *(int(n) for n in row[1 + 5 * i : 6 + 5 * i]))
        for i, header in enumerate(headers)
    }


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


def checkpoint(con) -> None:
    """Fold the write-ahead log into the file; skipped while other sessions are reading (DuckDB
    refuses then, and checkpoints on its own later: the upload is already committed)."""
    with contextlib.suppress(duckdb.Error):
        con.execute("CHECKPOINT")


def write(
    con,
    prepared: Prepared,
    name: str,
    sha: str,
    fingerprint: str,
    options: IngestOptions,
    db: Path,
    *,
    upload_id: int | None = None,
    ingested_at: dt.datetime | None = None,
    must_load: bool = False,
) -> int:
    """Write a prepared file to the store (the caller holds the transaction); its upload_id.
    ``upload_id``/``ingested_at``: those the upload had (a replay keeps them). ``must_load``:
    a file from which no row loads raises IngestError (a replay keeps it, rows rejected)."""
    mapping = prepared.mapping
    settings = {
        "set": options.constants,
        "as_of": prepared.as_of.isoformat() if prepared.as_of else None,
        "as_of_given": prepared.as_of_given,
        "date_formats": prepared.families,
        "upload_day": prepared.upload_day.isoformat(),
        "nul_bytes": prepared.nul_bytes,
    }
    if options.no_means_open:
        settings["no_means_open"] = True
    upload_id = int(
        store.fetch_one(
            con,
            "ingest/insert_upload",
            {
                "upload_id": upload_id,
                "file_name": name,
                "sha256": sha,
                "options_hash": fingerprint,
                "source": mapping.source,
                "as_of": prepared.as_of,
                "ingested_at": ingested_at,
                "mapping": json.dumps(mapping.columns),
                "settings": json.dumps(settings),
            },
        )[0]
    )
    try:
        pads = pii.hmac_pads(pii.load_key(db))
    except pii.KeyFileError as exc:
        raise IngestError(name, str(exc)) from exc
    store.run(
        con,
        "ingest/incoming",
        {"file_tag": sha[:16], "id_namespace": id_namespace(mapping.source), **pads},
    )
    if mapping.kind == "history":
        _write_history(con, prepared, upload_id)
        store.run(con, "history/update_history_counts", {"upload_id": upload_id})
    else:
        _write_leads(con, prepared, options, upload_id)
        store.run(con, "ingest/update_upload_counts", {"upload_id": upload_id})
    # the stays of the leads this upload gave events to, from all their events (schema/008)
    store.run(con, "ingest/forget_spells", {"upload_id": upload_id})
    store.run(con, "ingest/insert_spells", {"upload_id": upload_id})
    if must_load:
        refuse_if_unusable(con, prepared, options, name, upload_id)
    store.bump_revision(con)
    return upload_id


def _write_leads(con, prepared: Prepared, options: IngestOptions, upload_id: int) -> None:
    mapping = prepared.mapping
    currency = _store_currency(con)
    store.run(
        con,
        "ingest/merged",
        {
            "as_of": dt.datetime.combine(prepared.as_of, dt.time()) if prepared.as_of else None,
            "upload_day": prepared.upload_day,
            "has_stage": prepared.has_stage,
            "no_means_lost": prepared.no_means_lost,
            "store_currency": currency,
        },
    )
    store.run(con, "ingest/delete_replaced_leads")
    store.run(con, "ingest/insert_leads", {"upload_id": upload_id})
    store.run(con, "ingest/own_channels")
    store.run(con, "ingest/insert_events", {"upload_id": upload_id})
    con.execute(
        ingest_sql.redacted_rows_table(mapping.personal_columns),
        {"rowid_base": prepared.rowid_base, "keep_rows": KEEP_ROWS},
    )
    store.run(
        con,
        "ingest/insert_rejects",
        {
            "upload_id": upload_id,
            "created_at_col": _column_label(mapping, options, "created_at"),
            "has_created": "created_at" in mapping.columns or "created_at" in options.constants,
            "has_personal": bool(mapping.personal_columns),
            "keep_rows": KEEP_ROWS,
        },
    )
    if store.fetch_one(con, "ingest/has_warnings")[0]:
        store.run(con, "ingest/insert_warnings",
                  {# a personal column mapped to a date or amount by mistake stays redacted too
                   "personal_columns": [*mapping.personal_columns,
                                        *filter(named_personal, mapping.columns.values())],
                   **_column_labels(mapping, options)})
        store.run(con, "ingest/keep_warnings", {"upload_id": upload_id, "keep_rows": KEEP_ROWS})
    else:
        store.run(con, "ingest/no_warned_cells")


def _write_history(con, prepared: Prepared, upload_id: int) -> None:
    """A stage history (Salesforce OpportunityHistory): each row a dated stage change of a deal
    already in the store; it adds events and moves the deal's progress on, never its stage."""
    mapping = prepared.mapping
    store.run(con, "history/history_rows")
    store.run(con, "history/insert_history_events", {"upload_id": upload_id})
    store.run(con, "history/history_progress")
    con.execute(
        ingest_sql.redacted_rows_table(mapping.personal_columns, source="history_rows"),
        {"rowid_base": prepared.rowid_base, "keep_rows": KEEP_ROWS},
    )
    store.run(con, "history/insert_history_rejects", {
        "keep_rows": KEEP_ROWS,
        "upload_id": upload_id,
        "id_col": mapping.columns.get("id", "id"),
        "date_col": mapping.columns.get("created_at", "date"),
    })


def _store_currency(con) -> str | None:
    """The currency money sums are in: the owner's choice, else the most common one of the
    first file that names currencies (set now, inside this upload's transaction)."""
    chosen = money.store_currency(con)
    if chosen:
        return chosen
    found = store.fetch_one(con, "ingest/file_currency")
    if not found or not found[0]:
        return None
    store.run(con, "settings/set_setting", {"key": "currency", "value": found[0]})
    store.run(con, "settings/set_setting", {"key": "currency_chosen_by", "value": "first file"})
    return found[0]


def poorer_without(con, prepared: Prepared, given) -> list[Fix]:
    """What a file loads without but its figures are poorer for (``given``: the fields its
    mapping and constants fill): no outcome (stage, status, converted, won or lost date), no
    channel column. The same advice in the preview and in a refusal."""
    fixes = []
    if not any(f in given for f in (*STAGE_FIELDS, "converted", "won_at", "lost_at")):
        flags = [h for h, s in staged_stats(con, prepared.headers).items() if s.is_flag]
        fixes.append(Fix("converted", "map", "the column that says whether a lead was won",
                         columns=tuple(flags), needed=False))
    if "channel" not in given:
        fixes.append(Fix("channel", "map", "the column that says where each lead came from",
                         example="cold_call", needed=False))
    return fixes


def refuse_if_unusable(
    con, prepared: Prepared, options: IngestOptions, name: str, upload_id: int
) -> None:
    """No row of the file loads: raise an IngestError saying what would make it usable (the
    caller's transaction then leaves the store as it was)."""
    read, loaded = store.fetch_one(con, "ingest/upload_loaded", {"upload_id": upload_id})
    if loaded:
        return
    mapping = prepared.mapping
    given = {**mapping.columns, **options.constants}
    fixes: list[Fix] = []
    if mapping.kind == "history":
        raise IngestError(
            name,
            f"none of its {read:,} stage changes names a deal that is in the store. Upload the "
            "opportunities export (Opportunity) first, then this stage history.",
        )
    top = store.fetch_all(con, "ingest/top_reject_reasons", {"upload_id": upload_id, "limit": 3})
    if "created_at" not in given or any(c == mapping.columns.get("created_at") for c, *_ in top):
        fixes.append(Fix("created_at", "set", "the day these leads came in", "2024-01-01"))
    if "id" in mapping.columns and any(c == mapping.columns["id"] for c, *_ in top):
        fixes.append(Fix("id", "map", "rows without an id are read as leads of their own"))
    fixes += poorer_without(con, prepared, given)
    found = ("none of its columns" if not mapping.columns else
             "columns for " + ", ".join(mapping.columns.values()))
    reasons = "; ".join(f"{n:,} row{'s' * (n != 1)} like row {row}: {reason}"
                        for _, reason, n, row in top)
    raise IngestError(
        name,
        f"no row can be loaded ({read:,} rows read; Funnel recognised {found}). {reasons}.",
        tuple(fixes),
    )


def check_fields(name: str, options: IngestOptions) -> None:
    for kind, given in (("--map", options.mapping), ("--set", options.constants)):
        unknown = sorted(set(given) - set(FIELDS))
        if unknown:
            raise IngestError(
                name,
                f"{kind} names unknown field(s) {', '.join(unknown)}; "
                f"fields are: {', '.join(FIELDS)}",
            )


def check_constants(con, name: str, options: IngestOptions) -> None:
    """A --set date or yes/no that cannot be read fails the upload at once, naming the --set
    (rather than every row whose empty cell it fills)."""
    formats = [f for family in dates.ORDER for f in dates.formats_of(family)]
    for fld, value in sorted(options.constants.items()):
        kind = "date" if fld in DATE_FIELDS else "yes/no" if fld in YES_NO_FIELDS else None
        if kind is None or value is None:
            continue
        is_date, is_yes_no = store.fetch_one(
            con, "ingest/set_value_check", {"value": value, "formats": formats})
        if not (is_date if kind == "date" else is_yes_no):
            example = "2026-11-02" if kind == "date" else "yes"
            raise IngestError(
                name,
                f"the fixed value {value!r} given for {FIELD_LABELS[fld]} is not a {kind}.",
                (Fix(fld, "set", f"a {kind} such as {example}", example),),
            )


def _check_mapping(name: str, mapping: Mapping, headers: list[str]) -> None:
    missing = {f: c for f, c in mapping.columns.items() if c not in headers}
    if missing:
        field_name, column = next(iter(missing.items()))
        raise IngestError(
            name,
            f"the file has no column '{column}' (chosen for "
            f"{FIELD_LABELS.get(field_name, field_name)}). Its columns are: {', '.join(headers)}",
        )


def _set_params(options: IngestOptions) -> dict[str, str | None]:
    return {f"set_{f}": options.constants.get(f) for f in ingest_sql.STAGED_COLUMNS.values()}


def _column_label(mapping: Mapping, options: IngestOptions, fld: str) -> str:
    if fld in mapping.columns:
        return mapping.columns[fld]
    if fld in options.constants:
        return f"{FIELD_LABELS[fld]} (fixed value)"
    return fld


def _column_labels(mapping: Mapping, options: IngestOptions) -> dict[str, str]:
    """``<field>_col``: the column each warning or reject names."""
    return {
        f"{fld}_col": _column_label(mapping, options, fld)
        for fld in (*DATE_FIELDS, "value", *YES_NO_FIELDS)
    }


def _typing_params(
    con, mapping: Mapping, options: IngestOptions, families: dict[str, str], upload_day: dt.date
) -> dict:
    params: dict = {"upload_day": upload_day, "id_mapped": "id" in mapping.columns,
                    "id_col": _column_label(mapping, options, "id")}
    orders = dates.formats_in_use_order(con, families)
    for fld in DATE_FIELDS:
        family = families.get(fld, "iso")
        params[f"{fld}_formats"] = orders.get(fld) or dates.formats_of(family)
        params[f"{fld}_excel"] = family == dates.EXCEL
    comma, point = store.fetch_one(con, "ingest/value_format_votes")
    params["value_decimal_comma"] = bool(comma > point)
    return params


def _records(con, name: str, params: dict, columns: tuple[str, ...]) -> list[dict]:
    """The rows of a query as dicts (plain Python values: no pandas on the CLI's path)."""
    return [dict(zip(columns, row, strict=True)) for row in store.fetch_all(con, name, params)]


def ingest_result(con, name: str, upload_id: int, already: bool) -> IngestResult:
    row = store.fetch_one(con, "ingest/upload_summary", {"upload_id": upload_id})
    (_, _, source, as_of, read, loaded, rejected, duplicate, mapping_json, settings_json,
     warned) = row
    settings = json.loads(settings_json)
    mapping = json.loads(mapping_json)
    unmapped = _records(con, "ingest/unmapped_values", {"upload_id": upload_id},
                        ("kind", "raw_value", "stored_as", "leads"))
    rejects = _records(con, "ingest/rejected_sample", {"upload_id": upload_id, "limit": 20},
                       ("row_number", "column_name", "reason"))
    warnings = _records(con, "ingest/warning_sample", {"upload_id": upload_id, "limit": 20},
                        ("row_number", "column_name", "value", "reason"))
    notes = []
    if settings.get("nul_bytes"):
        notes.append(f"{settings['nul_bytes']:,} NUL bytes inside its cells were dropped (a "
                     "rich-text field in some CRM exports holds them).")
    currency = money.store_currency(con)
    others = money.other_currencies(con, upload_id)
    if others:
        listed = ", ".join(f"{n:,} in {code}" for code, n in others)
        notes.append(f"Deals in other currencies than {currency} ({listed}) are kept but left "
                     "out of money figures: Funnel adds up money in one currency only.")
    given = {**mapping, **settings.get("set", {})}
    yes_no = "converted" in given and not any(f in given for f in STAGE_FIELDS)
    return IngestResult(
        file=name,
        source=source,
        source_label=profile_label(source),
        read=int(read),
        loaded=int(loaded),
        rejected=int(rejected),
        duplicate=int(duplicate),
        already_ingested=already,
        upload_id=upload_id,
        as_of=as_of.isoformat() if as_of else None,
        mapping=mapping,
        date_formats=settings.get("date_formats", {}),
        unmapped=unmapped,
        rejects_sample=rejects,
        warnings=int(warned or 0),
        warnings_sample=warnings,
        notes=notes,
        yes_no_outcome=yes_no,
        no_means_open=bool(settings.get("no_means_open")),
    )
