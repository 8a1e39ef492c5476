"""The bundled demo data: deterministic, equal to its generator's output, and telling its story."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

from funnel.demo import generate as demo_data
from funnel.synonyms import default_channel_map, slug

COMMITTED = Path(__file__).resolve().parents[1] / "data" / "demo"
PIPEDRIVE_HEADER = (
    "Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Status,Deal - Stage,"
    "Deal - Pipeline,Deal - Deal created,Deal - Won time,Deal - Lost time,Deal - Lost reason,"
    "Deal - Owner,Deal - Source channel,Person - Name,Person - Email,Person - Phone,"
    "Organization - Name"
)
SNAPSHOTS = [
    "pipedrive_deals_2026-11-08.csv",
    "pipedrive_deals_2026-11-15.csv",
    "pipedrive_deals_2026-11-22.csv",
]
STAGE_RANK = {
    "Lead In": 0, "Contact Made": 1, "Demo Scheduled": 2, "Proposal Made": 3,
    "Negotiations Started": 4,
}


def read(path: Path) -> pd.DataFrame:
    """A CSV as text cells, empty cells as empty strings (as a person sees them)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def file_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    demo_data.generate(out)
    return out


@pytest.fixture(scope="module")
def snapshots(fresh: Path) -> list[pd.DataFrame]:
    return [read(fresh / name) for name in SNAPSHOTS]


def pairs(snapshots: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Each snapshot joined to the next one on the deal id (suffixes _then and _now)."""
    return [
        then.merge(now, on="Deal - ID", suffixes=("_then", "_now"), validate="one_to_one")
        for then, now in pairwise(snapshots)
    ]


def test_writes_the_five_files(fresh: Path) -> None:
    assert sorted(file_bytes(fresh)) == sorted([*SNAPSHOTS, "channel_spend.csv", "README.md"])
    assert sum(len(data) for data in file_bytes(fresh).values()) < 1_500_000


def test_same_seed_gives_the_same_bytes(fresh: Path, tmp_path: Path) -> None:
    written = demo_data.generate(tmp_path)
    assert sorted(p.name for p in written) == sorted(file_bytes(fresh))
    assert file_bytes(tmp_path) == file_bytes(fresh)


def test_another_seed_gives_other_deals(fresh: Path, tmp_path: Path) -> None:
    demo_data.generate(tmp_path, seed=8)
    assert (tmp_path / SNAPSHOTS[-1]).read_bytes() != (fresh / SNAPSHOTS[-1]).read_bytes()


@pytest.mark.parametrize("name", [*SNAPSHOTS, "channel_spend.csv", "README.md"])
def test_committed_file_equals_a_fresh_generation(fresh: Path, name: str) -> None:
    assert (COMMITTED / name).read_bytes() == (fresh / name).read_bytes(), (
        f"data/demo/{name} is stale: run `python -m funnel.demo.generate data/demo`"
    )


def test_headers_are_exactly_the_export_headers(fresh: Path) -> None:
    for name in SNAPSHOTS:
        assert (fresh / name).read_text(encoding="utf-8").split("\n", 1)[0] == PIPEDRIVE_HEADER
    spend_header = (fresh / "channel_spend.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    assert spend_header == "Channel,Week starting,Money spent,Hours spent"


def test_ids_are_stable_and_each_later_snapshot_is_a_superset(
    snapshots: list[pd.DataFrame],
) -> None:
    for snap in snapshots:
        assert snap["Deal - ID"].str.fullmatch(r"\d+").all()
        assert snap["Deal - ID"].is_unique
    for then, now in pairwise(snapshots):
        assert set(then["Deal - ID"]) < set(now["Deal - ID"])
    for both in pairs(snapshots):
        for column in ["Deal - Deal created", "Deal - Source channel", "Person - Name"]:
            assert (both[f"{column}_then"] == both[f"{column}_now"]).all(), column


def test_stages_never_go_backward_and_closed_deals_stay_closed(
    snapshots: list[pd.DataFrame],
) -> None:
    for both in pairs(snapshots):
        then_rank = both["Deal - Stage_then"].map(STAGE_RANK)
        now_rank = both["Deal - Stage_now"].map(STAGE_RANK)
        assert (now_rank >= then_rank).all()
        closed = both["Deal - Status_then"] != "open"
        assert (both["Deal - Status_then"] == both["Deal - Status_now"])[closed].all()
        assert (then_rank == now_rank)[closed].all()  # won/lost deals keep their last stage
        # the week in between moved some deals forward and closed others
        assert (now_rank > then_rank).any()
        assert ((both["Deal - Status_now"] != "open") & ~closed).any()


def test_close_times_match_the_status(snapshots: list[pd.DataFrame]) -> None:
    for snap in snapshots:
        status = snap["Deal - Status"]
        has_won_time, has_lost_time = snap["Deal - Won time"] != "", snap["Deal - Lost time"] != ""
        assert set(status) == {"open", "won", "lost"}
        assert set(snap["Deal - Stage"]) == set(STAGE_RANK)
        assert (has_won_time == (status == "won")).all()
        assert (has_lost_time == (status == "lost")).all()
        assert ((snap["Deal - Lost reason"] == "") | (status == "lost")).all()
        won = snap[status == "won"]
        assert (won["Deal - Won time"] > won["Deal - Deal created"]).all()
        assert won["Deal - Value"].str.fullmatch(r"\d+").all()


def test_channel_labels_map_except_one_unmapped_label(snapshots: list[pd.DataFrame]) -> None:
    labels = snapshots[-1]["Deal - Source channel"]
    unmapped = labels[~labels.map(slug).isin(default_channel_map())]
    assert set(unmapped) == {"", "Yelp"}
    assert 0.02 <= (labels == "Yelp").mean() <= 0.035
    assert 0.005 <= (labels == "").mean() <= 0.015


def test_referral_converts_at_least_3x_cold_call(snapshots: list[pd.DataFrame]) -> None:
    last = snapshots[-1]
    channel = last["Deal - Source channel"].map(slug).map(default_channel_map())
    # mature cohort: created at least 6 weeks before the end of 2026-11-22
    mature = pd.to_datetime(last["Deal - Deal created"]) < pd.Timestamp("2026-10-12")
    won = last["Deal - Status"] == "won"
    conversion = won[mature].groupby(channel[mature]).mean()
    assert conversion["referral"] >= 3 * conversion["cold_call"]


def test_spend_covers_every_channel_every_monday(fresh: Path) -> None:
    spend = read(fresh / "channel_spend.csv")
    mondays = pd.to_datetime(spend["Week starting"])
    assert (mondays.dt.day_of_week == 0).all()
    assert spend.groupby("Channel").size().eq(16).all() and spend["Channel"].nunique() == 10
    money = spend.assign(money=spend["Money spent"].astype(float))
    event_weeks_with_money = (money[money["Channel"] == "Events"]["money"] > 0).sum()
    assert 2 <= event_weeks_with_money <= 3
