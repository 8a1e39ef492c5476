"""Which pair "Worth discussing" and the Sales head to head compare (issue 15, item 4): the
owner's pinned pair (kept in the store), else referral against cold call, else the two biggest
channels with a real difference; and the finding's sentence never loses its ratio."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from funnel.app import findings
from funnel.metrics import pairs, stats
from funnel.store import connection as store
from funnel.store import pinned

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def conversion(rows: list[tuple[str, int, int]]) -> pd.DataFrame:
    """Rows (channel, leads, won) as ``metrics.conversion_by_channel`` gives them."""
    return pd.DataFrame(rows, columns=["channel", "leads", "won"]).assign(
        conversion_rate=lambda d: d["won"] / d["leads"])


DEMO_LIKE = conversion([("cold_call", 410, 19), ("paid_search", 168, 17), ("referral", 168, 40),
                        ("web", 137, 16), ("social", 119, 10)])


def test_pinned_pair_first_in_the_owners_order():
    assert pairs.finding_pair(DEMO_LIKE, ("social", "web")) == ("social", "web")
    assert findings.default_pair(list(DEMO_LIKE["channel"]), ("social", "web")) == (
        "social", "web")


def test_referral_against_cold_call_when_nothing_is_pinned_or_the_pin_is_gone():
    assert pairs.finding_pair(DEMO_LIKE) == ("referral", "cold_call")
    # a pinned channel with no leads in this selection: the default applies
    assert pairs.finding_pair(DEMO_LIKE, ("yelp", "web")) == ("referral", "cold_call")
    assert findings.default_pair(["cold_call", "web", "referral"]) == ("referral", "cold_call")


def test_else_the_two_biggest_channels_with_a_real_difference():
    # a 100 leads 10 won (10%), b 90 leads 9 won (10%): no difference; c 80 leads 40 won (50%)
    # against a: P(c better) is ~1, so (c, a): the biggest pair that differs, better first
    df = conversion([("a", 100, 10), ("b", 90, 9), ("c", 80, 40), ("unknown", 500, 400)])
    assert pairs.finding_pair(df) == ("c", "a")
    # nothing differs: no finding (not the most extreme pair whatever its size)
    flat = conversion([("a", 100, 10), ("b", 90, 9), ("d", 60, 6)])
    assert pairs.finding_pair(flat) is None
    # small channels (under 30 leads) only count when fewer than two have 30
    small = conversion([("a", 20, 2), ("b", 15, 12)])
    assert pairs.finding_pair(small) == ("b", "a")


def test_action_sentence_keeps_its_ratio():
    # The Zoho case: website 12% against organic search 9%; the old sentence dropped the
    # ratio under 1.5x ("close at better than"). 120/1000 over 90/1000 = 1.33 -> "1.3 times".
    result = stats.head_to_head(120, 1000, 90, 1000, "Website", "Organic search")
    assert result["p_a_better"] >= 0.95
    text = findings.action_sentence(result)
    assert text.startswith("Website leads close at 1.3 times the rate of organic search leads "
                           "(12% against 9%)")
    assert "better than" not in text
    # the better channel second (a pinned pair may put it there): still said the right way
    flipped = stats.head_to_head(90, 1000, 120, 1000, "Organic search", "Website")
    assert findings.action_sentence(flipped).startswith("Website leads close at 1.3 times")
    # no win at all on one side: the rate in words, no division by zero
    none = stats.head_to_head(20, 100, 0, 100, "Website", "Organic search")
    assert findings.action_sentence(none).startswith(
        "Website leads close at 20%, while no organic search lead has closed yet")
    # no real difference: nothing to suggest
    assert findings.action_sentence(stats.head_to_head(10, 100, 9, 90, "A", "B")) == ""


def test_pinned_pair_is_kept_in_the_store(demo_db):
    con = store.connect(str(demo_db))
    try:
        assert pinned.pinned_pair(con) is None
        before = store.revision(con)
        pinned.pin_pair(con, "web", "social")
        assert pinned.pinned_pair(con) == ("web", "social")
        assert store.revision(con) > before  # the pages' cached choice is read again
        with pytest.raises(ValueError):
            pinned.pin_pair(con, "web", "web")
        pinned.unpin_pair(con)
        assert pinned.pinned_pair(con) is None
    finally:
        con.close()


@pytest.mark.usefixtures("fresh_caches")
def test_pin_on_the_sales_page_changes_worth_discussing(demo_db):
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    finding = " ".join(m.value for m in at.markdown)
    assert "Referral converts" in finding  # the default pair
    at.switch_page("app_pages/sales.py")
    at.run()
    at.selectbox(key="h2h_a").set_value("web").run()
    at.selectbox(key="h2h_b").set_value("social").run()
    at.button(key="h2h_pin").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [b.label for b in at.button if b.key == "h2h_unpin"] == ["Unpin this pair"]
    at.switch_page("app_pages/overview.py")
    at.run()
    finding = " ".join(m.value for m in at.markdown)
    assert "Website converts" in finding and "vs social" in finding
    con = store.connect(str(demo_db))
    try:
        assert pinned.pinned_pair(con) == ("web", "social")
    finally:
        con.close()
