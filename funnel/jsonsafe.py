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
