"""Money is written in the store's currency on every page and export (SPEC 3, "Currency"): a
store of euros never reads "$1,234", the mark no file gave. The store is built through the real
ingest from the follow-up tests' two Pipedrive snapshots with their currency column set to EUR;
the expected amounts are worked out by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from app_helpers import ROOT
from pipedrive_snapshots import FIRST, FIRST_DAY, SECOND, SECOND_DAY, csv_text
from streamlit.testing.v1 import AppTest

from funnel import format as fmt
from funnel.ingest.core import IngestOptions
from funnel.ingest.upload import ingest_file
from funnel.store import connection as store

pytestmark = pytest.mark.usefixtures("fresh_caches")


@pytest.fixture(scope="module")
def euro_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("euros") / "funnel.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("FUNNEL_PII_KEY", raising=False)
        con = store.connect(path)
        try:
            for i, (rows, day) in enumerate(((FIRST, FIRST_DAY), (SECOND, SECOND_DAY))):
                csv = path.parent / f"deals_{i}.csv"
                csv.write_text(csv_text([r.replace(",USD", ",EUR") for r in rows]),
                               encoding="utf-8")
                assert ingest_file(con, csv, IngestOptions(as_of=day), db_path=path).rejected == 0
        finally:
            con.close()
    return path


def open_page(db: Path, monkeypatch, page: str) -> AppTest:
    """``page`` of the dashboard on the store ``db``, run through app.py (which sets the mark)."""
    monkeypatch.setenv("FUNNEL_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_mark_of_each_currency():
    assert [fmt.currency_mark(c) for c in ("USD", "eur", "GBP", "CHF", None, "")] == [
        "$", "€", "£", "CHF ", "$", "$"]
    assert fmt.money(1234.6) == "$1,235"  # no store: the default mark
    with fmt.in_currency("EUR"):
        assert fmt.money(1234.6) == "€1,235"
        assert fmt.money_and_hours(25, 2.7) == "2.7 hours + €25"
        with fmt.in_currency("CHF"):
            assert fmt.money(-3.5) == "−CHF 3.50"
        assert fmt.money_short(1200) == "€1.2k"
    assert fmt.money(1234.6) == "$1,235"  # the block's mark does not outlive it


def test_the_weekly_page_and_pack_write_euros(euro_store, monkeypatch):
    # the week of 9-15 March: deals 2 (200) and 8 (800) won in it -> won value 1,000 euros
    pack = subprocess.run(  # first: the page below keeps the store open
        [sys.executable, "-m", "funnel", "weekly", "--db", str(euro_store), "--format", "md"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "€1,000" in pack and "$" not in pack

    at = open_page(euro_store, monkeypatch, "app_pages/weekly.py")
    values = {m.label: m.value for m in at.metric}
    assert values["Won value"] == "€1,000"
    shown = " ".join([*(m.value for m in at.metric), *(c.value for c in at.caption),
                      *(m.value for m in at.markdown)])
    assert "$" not in shown


def test_the_sales_chart_writes_euros(euro_store, monkeypatch):
    at = open_page(euro_store, monkeypatch, "app_pages/sales.py")
    texts = []
    for chart in at.get("plotly_chart"):
        texts.append(chart.proto.spec)
    spec = " ".join(texts)
    # value per lead: referral 1,000 won over 4 leads = 250 a lead (deals 1, 2, 3, 8)
    assert "€250 per lead" in spec
    assert "$" not in spec.replace("$schema", "")
