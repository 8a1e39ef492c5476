"""Values as JSON writes and reads them back the same: no NaN or infinity, dates as
YYYY-MM-DD, numpy scalars and arrays as plain Python. Imports nothing of Funnel."""

from __future__ import annotations

import math
from typing import Any


def json_float(x: Any) -> float | None:
    """A float json.dumps accepts: None for NaN/inf, 0.0 for rounding dust."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return 0.0 if abs(x) < 1e-12 else x


def json_ready(value: Any) -> Any:
    """``value`` as json.dumps accepts it and reads it back the same: dicts, lists and tuples
    gone through; None for NaN, infinity, NaT and pandas' NA; a date (or a datetime at midnight) as
    YYYY-MM-DD, another datetime in ISO form; numpy scalars and arrays as plain Python."""
    import datetime as dt

    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if value is None or type(value).__name__ in ("NaTType", "NAType"):  # pandas' missing
        return None
    if isinstance(value, dt.datetime):  # also pandas.Timestamp
        midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
        return value.date().isoformat() if midnight else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy scalars and arrays
        return json_ready(value.tolist())
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
