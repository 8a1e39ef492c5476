"""The two ingest statements whose shape depends on a file's header.

Column names from a file are identifiers, which DuckDB cannot bind as parameters: they pass
through :func:`funnel.store.quote_ident` here and nowhere else; every value is still bound.
"""

from __future__ import annotations

from funnel.store import quote_ident

# staged column -> canonical field that feeds it
STAGED_COLUMNS = {
    "id": "id",
    "channel_raw": "channel",
    "created_raw": "created_at",
    "stage_raw": "stage",
    "status_raw": "status",
    "converted_raw": "converted",
    "won_raw": "won_at",
    "lost_raw": "lost_at",
    "closed_raw": "closed_at",
    "value_raw": "value",
    "owner": "owner",
    "email_raw": "email",
    "phone_raw": "phone",
}


def staged_table(columns: dict[str, str], contiguous: bool = False) -> str:
    """CREATE the temp table ``staged``: each mapped column trimmed, empty -> the --set value.

    ``contiguous``: no row of the file was broken or empty, so the n-th staged record is
    spreadsheet row ``$first_row + n`` and the join with ``row_map`` is not needed (0.4 s of CPU
    at 1M rows).
    Bound parameters: ``$set_<field>`` for every field (NULL when not set), ``$rowid_base``
    (the first rowid of raw_rows) and, when contiguous, ``$first_row`` (the first data row).
    """
    if contiguous:
        select = ["r.rowid - $rowid_base + $first_row AS row_number"]
        source = " FROM raw_rows r"
    else:
        select = ["m.row_number"]
        source = " FROM raw_rows r JOIN row_map m ON m.ordinal = r.rowid - $rowid_base"
    for staged, fld in STAGED_COLUMNS.items():
        default = f"CAST($set_{fld} AS VARCHAR)"
        if fld in columns:
            cell = f"nullif(trim(r.{quote_ident(columns[fld])}), '')"
            select.append(f"coalesce({cell}, {default}) AS {staged}")
        else:
            select.append(f"{default} AS {staged}")
    return "CREATE TEMP TABLE staged AS SELECT " + ", ".join(select) + source


def redacted_rows_table(personal_columns: list[str]) -> str:
    """CREATE temp table ``raw_redacted``: each rejected row as JSON, personal cells redacted
    and any e-mail address typed into another cell masked.

    Only the rows of ``typed_rows`` with a reject reason and the orphans of ``merged`` are
    rendered. Bound parameters: ``$rowid_base``.
    """
    replace = ", ".join(
        f"CASE WHEN {quote_ident(h)} IS NULL THEN NULL ELSE '[redacted]' END AS {quote_ident(h)}"
        for h in personal_columns
    )
    star = f"* REPLACE ({replace})" if replace else "*"
    return (
        "CREATE OR REPLACE TEMP TABLE raw_redacted AS "
        "WITH wanted AS (SELECT row_number FROM typed_rows WHERE reject_reason IS NOT NULL "
        "UNION ALL SELECT row_number FROM merged WHERE is_orphan) "
        "SELECT m.row_number, regexp_replace(json_merge_patch(to_json(r), "
        "'{\"__ordinal\": null}')::VARCHAR, '[^\\s\"'',;|<>]+@[^\\s\"'',;|<>]+\\.[a-zA-Z]+', "
        "'[redacted]', 'g') AS raw_row "
        f"FROM (SELECT rowid - $rowid_base AS __ordinal, {star} FROM raw_rows) r "
        "JOIN row_map m ON m.ordinal = r.__ordinal "
        "WHERE m.row_number IN (SELECT row_number FROM wanted)"
    )
