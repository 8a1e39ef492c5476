"""The ingest statements whose shape depends on a file's header.

Column names from a file are identifiers, which DuckDB cannot bind as parameters: they pass
through :func:`funnel.store.connection.quote_ident` here and nowhere else; every value is still
bound.
"""

from __future__ import annotations

from funnel.store.connection import quote_ident

# staged column -> canonical field that feeds it
STAGED_COLUMNS = {
    "id": "id",
    "channel_raw": "channel",
    "created_raw": "created_at",
    "stage_raw": "stage",
    "status_raw": "status",
    "converted_raw": "converted",
    "is_closed_raw": "is_closed",
    "won_raw": "won_at",
    "lost_raw": "lost_at",
    "closed_raw": "closed_at",
    "value_raw": "value",
    "currency_raw": "currency",
    "owner": "owner",
    "lost_reason": "lost_reason",
    "email_raw": "email",
    "phone_raw": "phone",
}


def staged_table(columns: dict[str, str], contiguous: bool = False) -> str:
    """CREATE the temp table ``staged``: each mapped column trimmed, a cell that is empty or says
    "no value" (``N/A``, ``-``, ``null``: the ``funnel_cell`` macro) -> the --set value.

    Each cell is trimmed once, in an inner query: the macro reads its argument three times, and
    a trim written into it would run three times a cell.
    ``contiguous``: no row of the file was broken or empty, so the n-th staged record is
    spreadsheet row ``$first_row + n`` and the join with ``row_map`` is not needed (0.4 s of CPU
    at 1M rows).
    Bound parameters: ``$set_<field>`` for every field (NULL when not set), ``$rowid_base``
    (the first rowid of raw_rows) and, when contiguous, ``$first_row`` (the first data row).
    """
    if contiguous:
        inner = ["r.rowid - $rowid_base + $first_row AS row_number"]
        source = " FROM raw_rows r"
    else:
        inner = ["m.row_number"]
        source = " FROM raw_rows r JOIN row_map m ON m.ordinal = r.rowid - $rowid_base"
    select = ["t.row_number"]
    for staged, fld in STAGED_COLUMNS.items():
        default = f"CAST($set_{fld} AS VARCHAR)"
        if fld in columns:
            inner.append(f"trim(r.{quote_ident(columns[fld])}) AS {staged}")
            select.append(f"coalesce(funnel_cell(t.{staged}), {default}) AS {staged}")
        else:
            select.append(f"{default} AS {staged}")
    return ("CREATE TEMP TABLE staged AS SELECT " + ", ".join(select)
            + " FROM (SELECT " + ", ".join(inner) + source + ") t")


# the rows an upload rejects besides typed_rows' own: merged's orphans, or a stage history's
REJECTED_ROWS = {
    "merged": "SELECT row_number FROM merged WHERE is_orphan",
    "history_rows": "SELECT row_number FROM history_rows WHERE reject_reason IS NOT NULL",
}


def redacted_rows_table(personal_columns: list[str], source: str = "merged") -> str:
    """CREATE temp table ``raw_redacted``: each rejected row as JSON, personal cells redacted
    and any e-mail address typed into another cell masked.

    Only the first ``$keep_rows`` (by row number) of the rows of ``typed_rows`` with a reject
    reason and the rejected rows of ``source`` (a key of REJECTED_ROWS) are rendered: those an
    upload keeps. Bound parameters: ``$rowid_base``, ``$keep_rows``.
    """
    replace = ", ".join(
        f"CASE WHEN {quote_ident(h)} IS NULL THEN NULL ELSE '[redacted]' END AS {quote_ident(h)}"
        for h in personal_columns
    )
    star = f"* REPLACE ({replace})" if replace else "*"
    return (
        "CREATE OR REPLACE TEMP TABLE raw_redacted AS "
        "WITH wanted AS (SELECT row_number FROM ("
        "SELECT row_number FROM typed_rows WHERE reject_reason IS NOT NULL "
        f"UNION ALL {REJECTED_ROWS[source]}) ORDER BY row_number LIMIT $keep_rows) "
        "SELECT m.row_number, regexp_replace(json_merge_patch(to_json(r), "
        "'{\"__ordinal\": null}')::VARCHAR, '[^\\s\"'',;|<>]+@[^\\s\"'',;|<>]+\\.[a-zA-Z]+', "
        "'[redacted]', 'g') AS raw_row "
        f"FROM (SELECT rowid - $rowid_base AS __ordinal, {star} FROM raw_rows) r "
        "JOIN row_map m ON m.ordinal = r.__ordinal "
        "WHERE m.row_number IN (SELECT row_number FROM wanted)"
    )


def column_stats(headers: list[str]) -> str:
    """SELECT, over the staged ``raw_rows``, what each of ``headers`` holds (one row with six
    numbers per header, in order): rows, filled cells, distinct values (approximate), and the
    filled cells that read as yes/no, as an e-mail address and as a phone number
    (funnel.ingest.mapping.ColumnStats). Bound parameters: ``$phone_pattern``."""
    parts = ["count(*)"]
    for header in headers:
        cell = f"funnel_cell(trim({quote_ident(header)}))"
        parts += [
            f"count({cell})",
            f"approx_count_distinct({cell})",
            f"count(*) FILTER (WHERE funnel_yes_no({cell}) IS NOT NULL)",
            f"count(*) FILTER (WHERE regexp_full_match({cell}, '[^@\\s]+@[^@\\s]+[.][A-Za-z]+'))",
            f"count(*) FILTER (WHERE regexp_full_match({cell}, $phone_pattern)"
            f" AND regexp_matches({cell}, '[ ().+-]'))",
        ]
    return "SELECT " + ", ".join(parts) + " FROM raw_rows"


def spend_staged_table(columns: dict[str, str], fields: list[str]) -> str:
    """CREATE temp table ``spend_staged`` from a staged spend file's ``raw_rows``: for each of
    ``fields``, its column (``columns``: field -> header) trimmed, empty -> NULL. Bound
    parameters: ``$rowid_base``."""

    def col(fld: str) -> str:
        if fld not in columns:
            return f"CAST(NULL AS VARCHAR) AS {fld}"
        return f"nullif(trim(r.{quote_ident(columns[fld])}), '') AS {fld}"

    selected = ", ".join(col(f) for f in fields)
    return (
        "CREATE OR REPLACE TEMP TABLE spend_staged AS SELECT m.row_number, "
        + selected
        + " FROM raw_rows r JOIN row_map m ON m.ordinal = r.rowid - $rowid_base"
    )


def column_samples(header: str) -> str:
    """SELECT the commonest filled cells of one column of the staged ``raw_rows`` (a cell saying
    "no value" is empty), most frequent first: the preview's sample values. Bound parameters:
    ``$limit``."""
    cell = f"funnel_cell(trim({quote_ident(header)}))"
    return (f"SELECT v, count(*) AS n FROM (SELECT {cell} AS v FROM raw_rows) "
            "WHERE v IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT $limit")
