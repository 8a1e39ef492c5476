"""Neutralise text cells that a spreadsheet would run as a formula (CSV/formula injection)."""

from __future__ import annotations

# '=', '+', '-', '@' start a formula in Excel, LibreOffice and Google Sheets; a leading tab or
# carriage return is also read as one by some of them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix ``'`` to a string that starts like a formula; return anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
