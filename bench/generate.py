"""Seeded generator of Pipedrive-style benchmark exports: 10k, 100k or 1M deals.

Each size is five weekly "Deals" snapshots (every file a superset of the one before, stages
only moving forward) and a weekly channel-spend file, written to ``bench/.data/<size>/`` and
reused when already there (a manifest records the seed and the generator version).

The business behind the numbers is the demo's (``funnel.demo.generate``: channel mix, raw channel
labels, win/loss odds, days to win or lose, deal values, lost reasons, fake people), scaled to a
multi-location company with more owners. Deals are simulated with numpy in one pass; DuckDB
assembles the text and writes each snapshot with ``COPY``, so 1M deals take seconds.

    python bench/generate.py [--sizes 10k,100k,1m] [--seed 7] [--out bench/.data] [--force]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/generate.py` puts bench/, not the project, first
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "bench" / ".data"
DEFAULT_SEED = 7
VERSION = 3  # bump when the output changes: cached files of another version are rewritten
SIZES = {"2k": 2_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
SNAPSHOTS = 5
LAST_AS_OF = dt.date(2026, 11, 22)  # a Sunday: the last weekly export
HISTORY_WEEKS = 12  # deals are created over the 12 weeks ending on LAST_AS_OF
AS_OF_DATES = [LAST_AS_OF - dt.timedelta(weeks=SNAPSHOTS - 1 - k) for k in range(SNAPSHOTS)]
FIRST_DAY = dt.datetime.combine(LAST_AS_OF + dt.timedelta(days=1), dt.time()) - dt.timedelta(
    weeks=HISTORY_WEEKS
)  # a Monday
EVENT_SHARE = 0.04  # trade-show leads, on top of the demo's channel shares
# Pipedrive stage index -> canonical stage position (new 1 .. proposal 4); won 5, lost 6
CANONICAL = np.array([1, 2, 3, 4, 4])


@dataclass(frozen=True)
class SizeFiles:
    """The files of one generated size."""

    name: str
    leads: int
    directory: Path
    snapshots: list[tuple[Path, dt.date]]
    spend: Path
    manifest: dict

    @property
    def last_snapshot(self) -> Path:
        return self.snapshots[-1][0]


def parse_size(text: str) -> int:
    """'10k' -> 10000, '1m' -> 1000000, '2500' -> 2500."""
    t = text.strip().lower()
    if t in SIZES:
        return SIZES[t]
    factor = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t.rstrip("km")) * factor)


def size_name(n: int) -> str:
    for name, count in SIZES.items():
        if count == n:
            return name
    return str(n)


# ---------------------------------------------------------------------------- simulation


def _demo():
    from funnel.demo import generate as demo_data

    return demo_data


def _pick(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(w), size=size, p=w / w.sum())


def owner_names(n_leads: int) -> list[str]:
    """More owners for a bigger business: 6 at 10k deals, 20 at 100k, 62 at 1M."""
    demo = _demo()
    count = max(4, round(math.sqrt(n_leads) / 16))
    firsts, lasts = demo.FIRST_NAMES, demo.LAST_NAMES
    names = [f"{firsts[(7 * i) % len(firsts)]} {lasts[(11 * i + 3) % len(lasts)]}"
             for i in range(count)]
    return list(dict.fromkeys(names))


def simulate(n: int, seed: int) -> pd.DataFrame:
    """One row per deal, in creation order: channel label, times (days after FIRST_DAY) of each
    Pipedrive stage reached, won/lost times, value and the indices of its fake people."""
    demo = _demo()
    rng = np.random.default_rng([seed, n])
    profiles = {name: p for name, p in demo.CHANNELS.items() if p.share > 0 or name == "event"}
    names = list(profiles)
    shares = np.array([profiles[c].share or EVENT_SHARE for c in names])
    channel = _pick(rng, shares, n)

    # created: a mild upward trend over the weeks, weekdays busier, office hours
    weeks = np.arange(HISTORY_WEEKS)
    week_w = (1 + 0.25 * weeks / (HISTORY_WEEKS - 1)) * rng.lognormal(0.0, 0.08, HISTORY_WEEKS)
    week = _pick(rng, week_w, n)
    day = _pick(rng, [1.2, 1.1, 1.1, 1.0, 0.9, 0.3, 0.2], n)
    created = np.sort(week * 7 + day + rng.uniform(7.5, 19.0, n) / 24)

    labels: list[str] = []
    label = np.empty(n, dtype=np.int32)
    win = np.empty(n)
    lose = np.empty(n)
    days_win = np.empty(n)
    days_lose = np.empty(n)
    base_value = np.empty(n)
    lost_stage_p = np.empty((n, 5))
    outbound = np.zeros(n, dtype=bool)
    for ci, name in enumerate(names):
        p = profiles[name]
        mask = channel == ci
        k = int(mask.sum())
        label[mask] = len(labels) + _pick(rng, list(p.labels.values()), k)
        labels += list(p.labels)
        win[mask], lose[mask] = p.win, p.lose
        days_win[mask], days_lose[mask] = p.days_to_win, p.days_to_lose
        base_value[mask] = p.value
        lost_stage_p[mask] = p.lost_stages
        outbound[mask] = name in demo.OUTBOUND

    roll = rng.random(n)
    outcome = np.where(roll < win, 0, np.where(roll < win + lose, 1, 2))  # won, lost, open
    # furthest Pipedrive stage (0 Lead In .. 4 Negotiations Started) before closing or stalling
    furthest = np.where(rng.random(n) < 0.25, 3, 4)
    cum = np.cumsum(lost_stage_p, axis=1)
    lost_furthest = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 4)
    stale = _pick(rng, demo.OPEN_STALE_STAGES, n)
    furthest = np.select([outcome == 0, outcome == 1], [furthest, lost_furthest], stale)

    close_days = np.where(
        outcome == 0,
        rng.lognormal(np.log(days_win), 0.4),
        rng.lognormal(np.log(days_lose), 0.6),
    )
    fractions = np.sort(rng.uniform(0.05, 0.9, (n, 4)), axis=1) * close_days[:, None]
    stale_steps = np.cumsum(rng.exponential(6.0, (n, 4)), axis=1)
    steps = np.where((outcome == 2)[:, None], stale_steps, fractions)
    moves = created[:, None] + steps
    moves = np.floor(moves) + rng.uniform(8.0, 18.5, moves.shape) / 24  # office hours
    moves = np.maximum.accumulate(np.maximum(moves, created[:, None] + 1 / 1440), axis=1)
    moves[np.arange(4)[None, :] >= furthest[:, None]] = np.nan
    closed = np.floor(created + close_days) + rng.uniform(8.0, 18.5, n) / 24
    last_move = np.fmax.reduce(np.column_stack([created, moves]), axis=1)
    closed = np.maximum(closed, last_move + 1 / 1440)

    value = rng.lognormal(np.log(base_value), 0.45)
    lost_reason = np.where(
        outbound,
        _pick(rng, demo.LOST_REASON_WEIGHTS["cold"], n),
        _pick(rng, demo.LOST_REASON_WEIGHTS["warm"], n),
    )
    owners = owner_names(n)
    owner_w = 1 / (np.arange(len(owners)) + 3.0)
    table = pd.DataFrame(
        {
            "deal_id": np.arange(100_001, 100_001 + n, dtype=np.int64),
            "label": label,
            "created": created,
            "stage_1": moves[:, 0],
            "stage_2": moves[:, 1],
            "stage_3": moves[:, 2],
            "stage_4": moves[:, 3],
            "won_at": np.where(outcome == 0, closed, np.nan),
            "lost_at": np.where(outcome == 1, closed, np.nan),
            "value": np.maximum(300, 50 * np.round(value / 50)).astype(np.int64),
            "value_from_stage": np.where(rng.random(n) < 0.65, 0, 2),
            "owner": _pick(rng, owner_w, n),
            "lost_reason": lost_reason,
            # the fake people: indices into demo_data's lists, and rolls for optional cells
            "first": rng.integers(len(demo.FIRST_NAMES), size=n),
            "last": rng.integers(len(demo.LAST_NAMES), size=n),
            "email_shape": rng.integers(4, size=n),
            "has_email": rng.random(n) < 0.9,
            "email_dotorg": rng.random(n) >= 0.7,
            "has_phone": (channel == names.index("cold_call")) | (rng.random(n) < 0.8),
            "area": rng.integers(len(demo.AREA_CODES), size=n),
            "line": rng.integers(100, size=n),
            "phone_shape": rng.integers(3, size=n),
            "has_org": rng.random(n) < 0.7,
            "org_roll": rng.random(n),
            "org_a": rng.integers(len(demo.LAST_NAMES), size=n),
            "org_b": rng.integers(len(demo.LAST_NAMES), size=n),
            "place": rng.integers(len(demo.PLACES), size=n),
            "trade": rng.integers(len(demo.TRADES), size=n),
            "suffix": rng.integers(len(demo.ORG_SUFFIXES), size=n),
            "service": rng.integers(len(demo.SERVICES), size=n),
        }
    )
    table.attrs["labels"] = labels
    table.attrs["owners"] = owners
    return table


def stage_matrix(table: pd.DataFrame) -> np.ndarray:
    """Canonical stage position (1 new .. 4 proposal, 5 won, 6 lost; 0 not yet created) of
    every deal at every snapshot: shape (deals, snapshots)."""
    out = np.zeros((len(table), SNAPSHOTS), dtype=np.int8)
    moves = table[["stage_1", "stage_2", "stage_3", "stage_4"]].to_numpy()
    for k, cutoff in enumerate(_cutoffs()):
        reached = (moves <= cutoff).sum(axis=1)
        stage = CANONICAL[reached]
        stage = np.where(table["won_at"].to_numpy() <= cutoff, 5, stage)
        stage = np.where(table["lost_at"].to_numpy() <= cutoff, 6, stage)
        out[:, k] = np.where(table["created"].to_numpy() <= cutoff, stage, 0)
    return out


def expected_events(stages: np.ndarray) -> int:
    """The stage events ingesting the snapshots in order writes (funnel's insert_events): a new
    deal enters 'new', plus its stage if further; a known deal whose stage changed, that stage."""
    seen = stages > 0
    first = seen & ~np.concatenate([np.zeros((len(stages), 1), bool), seen[:, :-1]], axis=1)
    changed = seen & ~first & (stages != np.roll(stages, 1, axis=1))
    return int(first.sum() + (first & (stages != 1)).sum() + changed.sum())


def _cutoffs() -> list[float]:
    """Each snapshot's end of day, in days after FIRST_DAY."""
    return [
        (dt.datetime.combine(d, dt.time(23, 59, 59)) - FIRST_DAY).total_seconds() / 86400
        for d in AS_OF_DATES
    ]


# ---------------------------------------------------------------------------- writing


def _lookup(con: duckdb.DuckDBPyConnection, name: str, values: list[str]) -> None:
    frame = pd.DataFrame({"i": np.arange(len(values), dtype=np.int64), "v": values})
    con.register(f"{name}_src", frame)
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT i, v FROM {name}_src")
    con.unregister(f"{name}_src")


_DEALS_SQL = """
CREATE TEMP TABLE deals AS
WITH t AS (
    SELECT
        s.*,
        fn.v AS first_name, ln.v AS last_name, fa.v AS first_ascii, la.v AS last_ascii,
        CASE WHEN s.has_org THEN
            CASE WHEN s.org_roll < 0.04 THEN oa.v || ', ' || ob.v || ' & Co.'
                 WHEN s.org_roll < 0.55 THEN pl.v || ' ' || tr.v || sf.v
                 ELSE oa.v || ' ' || tr.v || sf.v END
        END AS org
    FROM sim s
    JOIN first_names fn ON fn.i = s."first"
    JOIN first_ascii fa ON fa.i = s."first"
    JOIN last_names ln ON ln.i = s."last"
    JOIN last_ascii la ON la.i = s."last"
    JOIN last_names oa ON oa.i = s.org_a
    JOIN last_names ob ON ob.i = s.org_b
    JOIN places pl ON pl.i = s.place
    JOIN trades tr ON tr.i = s.trade
    JOIN suffixes sf ON sf.i = s.suffix
)
SELECT
    t.deal_id, t.created, t.stage_1, t.stage_2, t.stage_3, t.stage_4, t.won_at, t.lost_at,
    t.value, t.value_from_stage,
    coalesce(t.org, t.first_name || ' ' || t.last_name) || ' - ' || sv.v AS title,
    ow.v AS owner, lb.v AS label, lr.v AS lost_reason,
    t.first_name || ' ' || t.last_name AS person,
    CASE WHEN t.has_email THEN
        CASE t.email_shape
            WHEN 0 THEN t.first_ascii || '.' || t.last_ascii
            WHEN 1 THEN t.first_ascii[1] || t.last_ascii
            WHEN 2 THEN t.first_ascii || t.last_ascii[1]
            ELSE t.first_ascii || '_' || t.last_ascii
        END || (t.deal_id % 9973)::VARCHAR
        || CASE WHEN t.email_dotorg THEN '@example.org' ELSE '@example.com' END
    END AS email,
    CASE WHEN t.has_phone THEN
        CASE t.phone_shape
            WHEN 0 THEN '(' || ac.v || ') 555-01' || lpad(t.line::VARCHAR, 2, '0')
            WHEN 1 THEN ac.v || '-555-01' || lpad(t.line::VARCHAR, 2, '0')
            ELSE '+1 ' || ac.v || ' 555 01' || lpad(t.line::VARCHAR, 2, '0')
        END
    END AS phone,
    t.org
FROM t
JOIN services sv ON sv.i = t.service
JOIN owners ow ON ow.i = t.owner
JOIN labels lb ON lb.i = t.label
JOIN lost_reasons lr ON lr.i = t.lost_reason
JOIN area_codes ac ON ac.i = t.area
ORDER BY t.deal_id
"""

# One snapshot: the deals created by $cutoff, each in the state it was in then. Stage times are
# days after FIRST_DAY (NULL: never reached); `ts` turns them into Pipedrive's text.
_SNAPSHOT_SQL = """
COPY (
    WITH state AS (
        SELECT
            d.*,
            coalesce(d.stage_1 <= {cutoff}, false)::INT
                + coalesce(d.stage_2 <= {cutoff}, false)::INT
                + coalesce(d.stage_3 <= {cutoff}, false)::INT
                + coalesce(d.stage_4 <= {cutoff}, false)::INT AS stage_index,
            coalesce(d.won_at <= {cutoff}, false) AS is_won,
            coalesce(d.lost_at <= {cutoff}, false) AS is_lost
        FROM deals d
        WHERE d.created <= {cutoff}
    )
    SELECT
        s.deal_id::VARCHAR AS "Deal - ID",
        s.title AS "Deal - Title",
        CASE WHEN s.is_won OR s.stage_index >= s.value_from_stage THEN s.value::VARCHAR END
            AS "Deal - Value",
        'USD' AS "Deal - Currency",
        CASE WHEN s.is_won THEN 'won' WHEN s.is_lost THEN 'lost' ELSE 'open' END
            AS "Deal - Status",
        ['Lead In', 'Contact Made', 'Demo Scheduled', 'Proposal Made',
         'Negotiations Started'][s.stage_index + 1] AS "Deal - Stage",
        'Sales' AS "Deal - Pipeline",
        strftime(ts(s.created), '%Y-%m-%d %H:%M:%S') AS "Deal - Deal created",
        CASE WHEN s.is_won THEN strftime(ts(s.won_at), '%Y-%m-%d %H:%M:%S') END
            AS "Deal - Won time",
        CASE WHEN s.is_lost THEN strftime(ts(s.lost_at), '%Y-%m-%d %H:%M:%S') END
            AS "Deal - Lost time",
        CASE WHEN s.is_lost THEN nullif(s.lost_reason, '') END AS "Deal - Lost reason",
        s.owner AS "Deal - Owner",
        nullif(s.label, '') AS "Deal - Source channel",
        s.person AS "Person - Name",
        s.email AS "Person - Email",
        s.phone AS "Person - Phone",
        s.org AS "Organization - Name"
    FROM state s
    ORDER BY s.deal_id
) TO '{path}' (FORMAT CSV, HEADER, DELIMITER ',', QUOTE '"')
"""


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def write_snapshots(table: pd.DataFrame, out_dir: Path) -> list[tuple[Path, dt.date]]:
    """Write the five snapshot CSVs with DuckDB; return (path, as-of date) pairs."""
    demo = _demo()
    con = duckdb.connect(config={"preserve_insertion_order": True})
    try:
        con.register("sim_src", table)
        con.execute("CREATE TEMP TABLE sim AS SELECT * FROM sim_src")
        con.unregister("sim_src")
        lists = {
            "first_names": demo.FIRST_NAMES,
            "first_ascii": [demo.ascii_lower(x) for x in demo.FIRST_NAMES],
            "last_names": demo.LAST_NAMES,
            "last_ascii": [demo.ascii_lower(x) for x in demo.LAST_NAMES],
            "places": demo.PLACES,
            "trades": demo.TRADES,
            "suffixes": demo.ORG_SUFFIXES,
            "services": demo.SERVICES,
            "owners": table.attrs["owners"],
            "labels": table.attrs["labels"],
            "lost_reasons": demo.LOST_REASONS,
            "area_codes": demo.AREA_CODES,
        }
        for name, values in lists.items():
            _lookup(con, name, list(values))
        first = FIRST_DAY.strftime("%Y-%m-%d %H:%M:%S")
        con.execute(
            f"CREATE MACRO ts(d) AS TIMESTAMP '{first}' "
            "+ to_seconds(CAST(round(d * 86400) AS BIGINT))"
        )
        con.execute(_DEALS_SQL)
        paths = []
        for as_of, cutoff in zip(AS_OF_DATES, _cutoffs(), strict=True):
            path = out_dir / f"pipedrive_deals_{as_of.isoformat()}.csv"
            tmp = path.with_suffix(".csv.tmp")
            con.execute(_SNAPSHOT_SQL.format(cutoff=repr(float(cutoff)), path=_sql_path(tmp)))
            os.replace(tmp, path)
            paths.append((path, as_of))
        return paths
    finally:
        con.close()


def write_spend(n: int, seed: int, out_dir: Path) -> Path:
    """Weekly money and hours per channel, the demo's amounts scaled to this many deals."""
    demo = _demo()
    rng = np.random.default_rng([seed, n, 1])
    scale = n / HISTORY_WEEKS / 94.0  # the demo brings ~94 deals a week
    rows = []
    for week in range(HISTORY_WEEKS):
        monday = (FIRST_DAY + dt.timedelta(weeks=week)).date().isoformat()
        for channel, (money, hours) in demo.SPEND_BASE.items():
            extra_money, extra_hours = demo.lumpy_money(rng, channel, week % 16)
            spent = (money * rng.lognormal(0.0, 0.15) + extra_money) * scale
            worked = round((hours * rng.lognormal(0.0, 0.15) + extra_hours) * scale * 4) / 4
            rows.append((channel, monday, f"{spent:.2f}", f"{worked:.2f}"))
    frame = pd.DataFrame(rows, columns=["Channel", "Week starting", "Money spent", "Hours spent"])
    path = out_dir / "channel_spend.csv"
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def generate(n: int, out_root: Path = DEFAULT_OUT, seed: int = DEFAULT_SEED,
             force: bool = False, log=None) -> SizeFiles:
    """The files of one size, generated unless a matching set is already in ``out_root``."""
    name = size_name(n)
    out_dir = Path(out_root) / name
    manifest_path = out_dir / "manifest.json"
    wanted = {"version": VERSION, "seed": seed, "leads": n}
    if not force and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files_there = all((out_dir / f).is_file() for f in manifest.get("files", []))
        if files_there and all(manifest.get(k) == v for k, v in wanted.items()):
            return _size_files(name, n, out_dir, manifest)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    table = simulate(n, seed)
    stages = stage_matrix(table)
    snapshots = write_snapshots(table, out_dir)
    spend = write_spend(n, seed, out_dir)
    final = stages[:, -1]
    manifest = {
        **wanted,
        "as_of_dates": [d.isoformat() for d in AS_OF_DATES],
        "files": [p.name for p, _ in snapshots] + [spend.name],
        "rows_per_snapshot": [int((stages[:, k] > 0).sum()) for k in range(SNAPSHOTS)],
        "expected_events": expected_events(stages),
        "final_won": int((final == 5).sum()),
        "final_lost": int((final == 6).sum()),
        "bytes_last_snapshot": snapshots[-1][0].stat().st_size,
        "seconds_to_generate": round(time.perf_counter() - started, 2),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if log:
        log(f"generated {name}: {n:,} deals, {manifest['expected_events']:,} events expected, "
            f"{manifest['seconds_to_generate']} s")
    return _size_files(name, n, out_dir, manifest)


def _size_files(name: str, n: int, out_dir: Path, manifest: dict) -> SizeFiles:
    snapshots = [
        (out_dir / f"pipedrive_deals_{d}.csv", dt.date.fromisoformat(d))
        for d in manifest["as_of_dates"]
    ]
    return SizeFiles(name, n, out_dir, snapshots, out_dir / "channel_spend.csv", manifest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1m")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true", help="rewrite even if cached")
    args = parser.parse_args(argv)
    for text in args.sizes.split(","):
        files = generate(parse_size(text), args.out, args.seed, args.force, log=print)
        m = files.manifest
        print(f"{files.name}: {files.directory} ({m['bytes_last_snapshot'] / 1e6:.1f} MB last "
              f"snapshot, {m['expected_events']:,} events expected)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
