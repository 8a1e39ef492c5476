"""How a number of days reads on a page: no false precision ("7.0 days", "≥ 0.0 days")."""
from __future__ import annotations

import pytest

from funnel import format as fmt


@pytest.mark.parametrize(("value", "text"), [
    (0.0, "0 days"),        # a lead first seen in the latest file: not "0.0 days"
    (0.04, "0 days"),       # 0.04 rounds to 0.0 at one decimal
    (1.0, "1 day"),
    (3.5, "3.5 days"),      # one decimal under 10 days
    (7.0, "7 days"),        # whole: no ".0"
    (9.96, "10 days"),      # 9.96 -> 10.0 at one decimal -> "10"
    (17.94, "18 days"),     # none from 10 days
    (None, fmt.MISSING),
])
def test_days_reads_without_false_precision(value, text):
    assert fmt.days(value) == text
