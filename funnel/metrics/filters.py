"""The filters every metric takes, as the bound parameters of its query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

DateLike = dt.date | str | None
Names = Sequence[str] | None


def filter_params(
    start: DateLike = None, end: DateLike = None, channels: Names = None, owners: Names = None
) -> dict[str, Any]:
    """The bound parameters every metric query takes."""
    return {
        "start": _iso_date(start),
        "end": _iso_date(end),
        "channels": None if channels is None else [str(c) for c in channels],
        "owners": None if owners is None else [str(o) for o in owners],
    }


def _iso_date(value: DateLike) -> str | None:
    if isinstance(value, dt.datetime):  # also pandas.Timestamp: the day is what filters
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, dt.date) else value
