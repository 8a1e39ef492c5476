"""The Upload page's work: keep an uploaded file, detect its CRM and mapping, turn the edited
mapping table into ingest options, ingest, and read back history, rejects and unmapped values.

No Streamlit widgets here; reads take a cursor, writes take the writer cursor of app_state.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from funnel import format as fmt
from funnel.app import state as app_state
from funnel.ingest import saved_mappings
from funnel.ingest import synonym_edits as synonym_store
from funnel.ingest.core import IngestOptions, IngestResult
from funnel.ingest.mapping import FIELD_LABELS, FIELDS
from funnel.ingest.preview import HIDDEN_FIELDS, FilePreview, dry_run
from funnel.ingest.upload import ingest_file, preview
from funnel.safe_text import md_text, neutralise
from funnel.store import connection as store
from funnel.store import temp_uploads
from funnel.synonyms import STAGE_ORDER

FILE_TYPES = ["csv", "xlsx", "tsv", "txt"]
NO_COLUMN = "(not in this file)"
EDITOR_ROW_PX = 37  # st.data_editor's row height: the mapping table shows every field
PAGE_ROWS = 100  # rejected rows or warned cells shown at once (an upload keeps up to 10,000)

FIELD_COL = "Field"
COLUMN_COL = "Column in your file"
FIXED_COL = "Fixed value for every row"
KEEP_OWN = "Keep as its own channel"
KIND_CHOICES = {"Inbound": "inbound", "Outbound": "outbound", "Not classed": "unknown"}


@dataclass(frozen=True)
class Detected:
    """What preview found in a file, before anything is written."""

    source_label: str
    columns: dict[str, str]  # field -> header
    headers: list[str]


@contextlib.contextmanager
def temp_copies() -> Iterator[Callable[[bytes, str], tuple[str, Path]]]:
    """For one script run of the Upload page: ``keep(data, name)`` writes an uploaded file into
    this process's private temp folder (funnel.store.temp_uploads) and gives (sha256, path);
    every copy is deleted when the block ends, however it ends: loaded, refused, an unexpected
    error, or the tab closed mid-load (Streamlit stops the run by raising inside it). The one
    raw copy Funnel keeps is the owner-only ``<db>.uploads/<sha256>`` (docs/SECURITY.md)."""
    with contextlib.ExitStack() as stack:
        yield lambda data, name: stack.enter_context(temp_uploads.kept(data, name))


@st.cache_data(show_spinner=False, max_entries=64)
def _detected(sha: str, name: str, _path: Path, _db: str) -> Detected:
    with app_state.reader() as cur:
        return detect(cur, _path, name)


def detect_kept(sha: str, path: Path, name: str) -> Detected:
    """:func:`detect` for a kept file, cached by its bytes' sha256 and name (the temp copy's
    path changes from run to run)."""
    return _detected(sha, name, path, str(app_state.db_path()))


def detect(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> Detected:
    """The CRM and column mapping Funnel would use (raises IngestError for an unusable file)."""
    mapping, headers = preview(con, path, IngestOptions(), file_name=name)
    return Detected(mapping.source_label, dict(mapping.columns), list(headers))


def mapping_table(
    detected: Detected, saved: saved_mappings.SavedMapping | None = None
) -> pd.DataFrame:
    """One row per field: what it means, the file's column feeding it, a fixed value; from the
    owner's saved mapping for this export shape where there is one, else from detection."""
    columns = {**detected.columns, **(saved.mapping if saved else {})}
    fixed = saved.constants if saved else {}
    return pd.DataFrame(
        {
            FIELD_COL: [FIELD_LABELS[f] for f in FIELDS],
            COLUMN_COL: [columns.get(f) or NO_COLUMN for f in FIELDS],
            FIXED_COL: [fixed.get(f, "") for f in FIELDS],
        },
        index=pd.Index(FIELDS, name="field"),
    )


def saved_mapping(
    con: duckdb.DuckDBPyConnection, detected: Detected
) -> saved_mappings.SavedMapping | None:
    """The mapping the owner last loaded a file with these headers with, if any."""
    return saved_mappings.find(con, detected.headers)


def saved_words(saved: saved_mappings.SavedMapping) -> str:
    """'Using your saved mapping from 7 Dec 2026 ...' (Markdown: the file name as typed)."""
    when = fmt.date(saved.saved_at) if saved.saved_at else "an earlier upload"
    return (f"Using your saved mapping from {when} (the one you loaded "
            f"{md_text(saved.file_name)} with): files with these same columns start from it.")


def remember_mapping(
    con: duckdb.DuckDBPyConnection, detected: Detected, options: IngestOptions, name: str
) -> None:
    """Keep the mapping a file was loaded with for the next file of its shape, when it says
    anything detection does not."""
    if saved_mappings.worth_saving(options):
        saved_mappings.save(con, detected.headers, detected.source_label, options, name)


def forget_mapping(con: duckdb.DuckDBPyConnection, detected: Detected) -> None:
    """The owner's reset: files with these headers are detected from scratch again."""
    saved_mappings.forget(con, detected.headers)


def column_choices(detected: Detected) -> list[str]:
    """The options of the mapping table's column picker."""
    return [NO_COLUMN, *detected.headers]


def options_from_table(
    edited: pd.DataFrame, detected: Detected, as_of: dt.date | None = None,
    no_means_open: bool = False,
) -> tuple[IngestOptions, list[str]]:
    """Ingest options from the edited mapping table, and notes for the person.

    Only the columns that differ from the detection become explicit mappings, so a file
    loaded unchanged here and on the command line is recognised as the same ingest.
    """
    mapping: dict[str, str] = {}
    constants: dict[str, str] = {}
    notes: list[str] = []
    for fld, row in edited.iterrows():
        column = row.get(COLUMN_COL)
        column = None if fmt.is_missing(column) or column in ("", NO_COLUMN) else str(column)
        fixed = row.get(FIXED_COL)
        fixed = "" if fmt.is_missing(fixed) else str(fixed).strip()
        detected_column = detected.columns.get(str(fld))
        if column and column != detected_column:
            mapping[str(fld)] = column
        elif column is None and detected_column:
            mapping[str(fld)] = ""  # the person un-mapped a detected column: do not read it
        if fixed:
            constants[str(fld)] = fixed
    return IngestOptions(mapping=mapping, constants=constants, as_of=as_of,
                         no_means_open=no_means_open), notes


def yes_no_outcome(edited: pd.DataFrame) -> bool:
    """True when the mapping's only outcome is a yes/no column (no stage, status or closed
    flag): the page then asks what a "no" means."""
    def given(fld: str) -> bool:
        column = edited.loc[fld, COLUMN_COL] if fld in edited.index else None
        fixed = edited.loc[fld, FIXED_COL] if fld in edited.index else None
        has_column = not fmt.is_missing(column) and column not in ("", NO_COLUMN)
        return has_column or not (fmt.is_missing(fixed) or not str(fixed).strip())

    return given("converted") and not any(given(f) for f in ("stage", "status", "is_closed"))


def fix_words(fixes) -> str:
    """What would make a file usable, in the words of this page (its mapping table's boxes):
    the command line words the same fixes as options. Markdown: the file's column names (and
    anything else read from it) as plain text."""
    needed, better = [], []
    for fix in fixes:
        label = FIELD_LABELS.get(fix.field, fix.field)
        why, example = md_text(fix.why), md_text(fix.example)
        if fix.action == "set":
            text = (f"type {why} (e.g. {example}) in the **{FIXED_COL}** box of "
                    f"**{label}**")
        elif fix.field == "id":
            text = f"set **{label}** to **{NO_COLUMN}** ({why})"
        elif fix.columns:
            text = (f"pick {why} as **{label}** in **{COLUMN_COL}** (one of: "
                    + ", ".join(f"'{md_text(c)}'" for c in fix.columns) + ")")
        else:
            text = f"pick {why} as **{label}** in **{COLUMN_COL}**"
        (needed if fix.needed else better).append(text)
    parts = []
    if needed:
        parts.append("To load it, " + " and ".join(needed) + ", then load it.")
    if better:
        parts.append("For true figures, also " + "; ".join(better) + ".")
    return " ".join(parts)


@st.cache_data(show_spinner=False, max_entries=64)
def _previewed(sha: str, name: str, fingerprint: str, revision: int, _path: Path,
               _options: IngestOptions, _db: str) -> FilePreview:
    with app_state.writer() as cur:  # written in a transaction that is rolled back
        return dry_run(cur, _path, _options, name, Path(_db))


def preview_kept(sha: str, path: Path, name: str, options: IngestOptions) -> FilePreview:
    """What loading a kept file with ``options`` would do (funnel.ingest.preview.dry_run),
    cached by its bytes, name, options and the store's revision."""
    return _previewed(sha, name, options.fingerprint(), app_state.revision(), path, options,
                      str(app_state.db_path()))


def readings_table(prev: FilePreview) -> pd.DataFrame:
    """One row per column the load reads: the field, the column, and its commonest cells with
    what each is read as (``yes → won``)."""
    rows = []
    for fld in FIELDS:
        column = prev.columns.get(fld)
        if column is None:
            continue
        samples = prev.samples.get(fld, [])
        if fld in HIDDEN_FIELDS:
            read = f"not shown ({HIDDEN_FIELDS[fld]})"
        elif not samples:
            read = "every cell is empty"
        else:
            read = "  ·  ".join(f"{s.value} → {s.read_as}" for s in samples)
        rows.append({FIELD_COL: FIELD_LABELS[fld], COLUMN_COL: column,
                     "Sample values → read as": read})
    return pd.DataFrame(rows, columns=[FIELD_COL, COLUMN_COL, "Sample values → read as"])


def reason_lines(reasons, what: str) -> list[str]:
    """Markdown bullets for the commonest reasons rows are rejected (``what`` "rows") or cells
    read as unknown ("cells"): the count, the first row, the reason as the file's words."""
    return [f"- **{fmt.count(r.count)} {what if r.count != 1 else what[:-1]}**"
            + (f" in '{md_text(r.column)}'" if r.column and what == "cells" else "")
            + f" (first in row {r.example_row}): {md_text(r.reason)}" for r in reasons]


def ingest(
    con: duckdb.DuckDBPyConnection, path: Path, options: IngestOptions, name: str, db: Path
) -> IngestResult:
    """Ingest one kept file (one transaction); raises IngestError for an unusable file."""
    return ingest_file(con, path, options, db_path=db, file_name=name)


def result_summary(result: IngestResult) -> dict:
    """The parts of an IngestResult the page shows, JSON-safe for st.session_state."""
    return {
        "file": result.file,
        "source": result.source_label,
        "read": result.read,
        "loaded": result.loaded,
        "rejected": result.rejected,
        "duplicate": result.duplicate,
        "already_ingested": result.already_ingested,
        "upload_id": result.upload_id,
        "as_of": result.as_of,
        "mapping": {FIELD_LABELS.get(k, k): v for k, v in result.mapping.items()},
        "unmapped": len(result.unmapped),
        "warnings": result.warnings,
        "notes": list(result.notes),
        "replaced": result.replaced,
        "outcome": _outcome_words(result),
    }


def _outcome_words(result: IngestResult) -> str | None:
    if not result.yes_no_outcome:
        return None
    column = result.mapping.get("converted", "the yes/no column")
    return (f"'{column}' is the only outcome in this file: a 'no' was read as "
            + ("still open." if result.no_means_open else "lost."))


def error_summary(name: str, exc) -> dict:
    """An IngestError as the page shows it: the message and the fix, in this page's words."""
    return {"file": name, "error": exc.message, "fix": fix_words(exc.fixes)}


# --- reading back ----------------------------------------------------------------------------


def upload_history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every upload, newest first, with worded headers."""
    df = store.fetch_df(con, "uploads/upload_history")
    return pd.DataFrame(
        {
            "Upload": df["upload_id"],
            "File": df["file_name"],
            "From": df["source"].map(_source_label),
            "As of": [fmt.date(v) for v in df["as_of"]],
            "Uploaded": [fmt.date_time(v) for v in df["ingested_at"]],
            "Rows read": df["rows_read"],
            "Loaded": df["rows_loaded"],
            "Rejected": df["rows_rejected"],
            "Duplicate": df["rows_duplicate"],
            "Cells read as unknown": df["rows_warned"],
        }
    )


def _source_label(source: str) -> str:
    from funnel.ingest.mapping import GENERIC, PROFILES

    labels = {p.name: p.label for p in [*PROFILES, GENERIC]}
    return labels.get(source, fmt.humanize(source))


def kept_counts(con: duckdb.DuckDBPyConnection, upload_id: int) -> tuple[int, int]:
    """(rejected rows, warned cells) an upload kept: all of them up to 10,000 of each."""
    rejected, warned = store.fetch_one(con, "uploads/kept_row_counts", {"upload_id": upload_id})
    return int(rejected), int(warned)


def pages(rows: int, per_page: int = PAGE_ROWS) -> int:
    """How many pages ``rows`` rows make (at least 1)."""
    return max(1, math.ceil(rows / per_page))


def _page_params(upload_id: int, page: int | None, per_page: int) -> dict:
    if page is None:
        return {"upload_id": upload_id, "limit": None, "offset": 0}
    return {"upload_id": upload_id, "limit": per_page, "offset": (max(1, page) - 1) * per_page}


def rejected_rows(
    con: duckdb.DuckDBPyConnection, upload_id: int, page: int | None = None,
    per_page: int = PAGE_ROWS,
) -> pd.DataFrame:
    """An upload's rejected rows (one page of ``per_page``, or all it kept when ``page`` is
    None): spreadsheet row, reason, then the row's cells as in the file (personal cells arrive
    already redacted)."""
    df = store.fetch_df(con, "uploads/rejected_rows", _page_params(upload_id, page, per_page))
    cells = pd.DataFrame([_cells(v) for v in df["raw_row"]], index=df.index)
    head = pd.DataFrame({"Row in file": df["row_number"], "Why it was rejected": df["reason"]})
    return pd.concat([head, cells], axis=1)


def _cells(raw: object) -> dict:
    if fmt.is_missing(raw):
        return {}
    try:
        value = json.loads(str(raw))
    except ValueError:
        return {"Row": str(raw)}
    return value if isinstance(value, dict) else {"Row": str(raw)}


def cell_warnings(
    con: duckdb.DuckDBPyConnection, upload_id: int, page: int | None = None,
    per_page: int = PAGE_ROWS,
) -> pd.DataFrame:
    """An upload's cell warnings (one page, or all it kept when ``page`` is None): the cells
    read as unknown while their row loaded."""
    df = store.fetch_df(con, "uploads/cell_warnings", _page_params(upload_id, page, per_page))
    return pd.DataFrame({
        "Row in file": df["row_number"],
        "Column": df["column_name"],
        "Value in the file": df["value"],
        "Why it was read as unknown": df["reason"],
    })


def remove_upload(con: duckdb.DuckDBPyConnection, upload_id: int, db: Path) -> dict:
    """Take an upload out of the store (the others are read again in order)."""
    from funnel.ingest import replay

    return replay.remove_upload(con, upload_id, db)


def rows_download(upload_id: int, which: str) -> Callable[[], bytes]:
    """The CSV of every rejected row (``which`` "rejected") or warned cell ("warnings") an
    upload kept, made only when the person clicks the download (not on every rerun)."""
    read = rejected_rows if which == "rejected" else cell_warnings

    def make() -> bytes:
        with app_state.reader() as cur:
            return rejected_csv(read(cur, upload_id))

    return make


def rejected_csv(rows: pd.DataFrame) -> bytes:
    """Rejected rows as CSV bytes (UTF-8 with BOM for Excel), formula-like cells neutralised."""
    safe = rows.rename(columns=lambda c: neutralise(str(c)))
    safe = safe.apply(lambda col: col.map(neutralise))
    return safe.to_csv(index=False).encode("utf-8-sig")


# --- unmapped values -------------------------------------------------------------------------


def unmapped(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(channel values, stage values) no synonym maps yet, as editable tables."""
    df = synonym_store.unmapped_values(con)
    chans = df[df["kind"] == "channel"]
    stages = df[df["kind"] == "stage"]
    channel_table = pd.DataFrame(
        {
            "Value in your file": chans["raw_value"].to_numpy(),
            "Leads": chans["leads"].to_numpy(),
            "Shown as": [fmt.channel_label(s) for s in chans["stored_as"]],
            "Map to channel": [None] * len(chans),
            "Kind (for a new channel)": ["Not classed"] * len(chans),
        }
    )
    stage_table = pd.DataFrame(
        {
            "Value in your file": stages["raw_value"].to_numpy(),
            "Leads": stages["leads"].to_numpy(),
            "Counted as": [fmt.stage_label(s) for s in stages["stored_as"]],
            "Map to stage": [None] * len(stages),
        }
    )
    return channel_table, stage_table


def channel_targets(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Label -> channel slug of every known channel, plus 'keep as its own channel'."""
    choices = synonym_store.channel_choices(con)
    out = {fmt.channel_label(c, lab): c for c, lab in zip(choices["channel"], choices["label"],
                                                           strict=True)}
    return {**dict(sorted(out.items())), KEEP_OWN: ""}


def stage_targets() -> dict[str, str]:
    """Label -> canonical stage."""
    return {fmt.stage_label(s): s for s in STAGE_ORDER}


def save_mappings(
    con: duckdb.DuckDBPyConnection,
    channels: pd.DataFrame,
    stages: pd.DataFrame,
    channel_map: dict[str, str],
) -> int:
    """Save every row given a target as a synonym (applied to stored leads); returns how many
    mappings were saved."""
    saved = 0
    for row in channels.itertuples(index=False):
        target = row[3]
        if fmt.is_missing(target) or not target:
            continue
        raw = str(row[0])
        kind = KIND_CHOICES.get(str(row[4]), "unknown")
        channel = channel_map.get(str(target)) or raw
        synonym_store.save_channel_synonym(con, raw, channel, kind)
        saved += 1
    stage_map = stage_targets()
    for row in stages.itertuples(index=False):
        target = row[3]
        if fmt.is_missing(target) or not target:
            continue
        synonym_store.save_stage_synonym(con, str(row[0]), stage_map[str(target)])
        saved += 1
    return saved


# --- every synonym, seen and changed -----------------------------------------------------------

DECIDED_BY = {"default": "Funnel (default)", "user": "You", "none": "No one yet"}
KIND_WORDS = {"channel": "Channel", "stage": "Stage"}


def synonyms_view(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every raw channel and stage value in the store, worded: what it maps to, who decided,
    how many leads carry it. The index is 'Kind · value', the key the change form uses."""
    df = synonym_store.synonym_table(con)
    shown = pd.DataFrame({
        "Kind": df["kind"].map(KIND_WORDS).to_numpy(),
        "Value in your files": df["raw_value"].to_numpy(),
        "Counted as": [fmt.channel_label(t, lab) if k == "channel" else fmt.stage_label(t)
                       for k, t, lab in zip(df["kind"], df["target"], df["target_label"],
                                            strict=True)],
        "Decided by": df["decided_by"].map(DECIDED_BY).to_numpy(),
        "Leads": df["leads"].astype("int64").to_numpy(),
    })
    shown.index = pd.Index([f"{KIND_WORDS[k]} · {v}" for k, v in zip(df["kind"],
                                                                     df["raw_value"],
                                                                     strict=True)])
    return shown


def change_synonym(
    con: duckdb.DuckDBPyConnection, choice: str, target_label: str, channel_map: dict[str, str],
) -> int:
    """Map the value of ``choice`` ('Channel · Web Research') to the channel or stage labelled
    ``target_label``; the stored leads move at once. Returns how many moved."""
    kind, raw = _parse_choice(choice)
    if kind == "channel":
        return synonym_store.save_channel_synonym(
            con, raw, channel_map.get(target_label) or raw)
    return synonym_store.save_stage_synonym(con, raw, stage_targets()[target_label])


def undo_synonym(con: duckdb.DuckDBPyConnection, choice: str) -> dict | None:
    """Undo the last change of the synonym of ``choice``; None when there is none."""
    kind, raw = _parse_choice(choice)
    return synonym_store.undo(con, kind, raw)


def _parse_choice(choice: str) -> tuple[str, str]:
    word, _, raw = choice.partition(" · ")
    kinds = {v: k for k, v in KIND_WORDS.items()}
    return kinds[word], raw
