"""The store's currency (SPEC 3): money is added up within one currency only.

The first file that names currencies sets it (the one most of its amounts are in), unless the
owner sets it. Deals in other currencies are kept, with their amount and currency, and left out
of every money figure (``leads.value`` is NULL for them), with a note saying how many.
"""

from __future__ import annotations

import re

import duckdb

from funnel.store import connection as store

CODE = re.compile(r"[A-Z]{3}")


def store_currency(con: duckdb.DuckDBPyConnection) -> str | None:
    """The ISO code money figures are in, or None when no file named a currency."""
    row = store.fetch_one(con, "settings/get_setting", {"key": "currency"})
    return row[0] if row else None


def set_store_currency(con: duckdb.DuckDBPyConnection, code: str) -> str:
    """Make ``code`` the store's currency (the owner's choice, kept by replays and rebuilds)
    and re-count every lead's value in it; returns the code."""
    code = code.strip().upper()
    if not CODE.fullmatch(code):
        raise ValueError(f"{code!r} is not a currency code: give three letters, such as USD")
    with store.transaction(con):
        store.run(con, "settings/set_setting", {"key": "currency", "value": code})
        store.run(con, "settings/set_setting", {"key": "currency_chosen_by", "value": "owner"})
        store.run(con, "settings/apply_currency", {"currency": code})
        store.bump_revision(con)
    return code


def other_currencies(
    con: duckdb.DuckDBPyConnection, upload_id: int | None = None
) -> list[tuple[str, int]]:
    """(currency, deals) of the deals whose amount is in another currency than the store's:
    kept, but left out of money figures (of one upload, or of the whole store)."""
    return [(c, int(n)) for c, n in store.fetch_all(
        con, "settings/other_currency_deals",
        {"currency": store_currency(con), "upload_id": upload_id})]


def other_currency_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A sentence for pages and reports when some deals' money is left out, else None."""
    others = other_currencies(con)
    if not others:
        return None
    listed = ", ".join(f"{n:,} in {c}" for c, n in others)
    total = sum(n for _, n in others)
    return (f"Money figures are in {store_currency(con)}: {total:,} deal"
            f"{'s' * (total != 1)} in other currencies ({listed}) "
            "are counted as leads and wins but left out of money figures.")
