"""What is coming: the wins the open pipeline should bring in the next 4 weeks and the month.

Deals move on at the pace the store has seen them move. From every dated stay at an open stage
(``queries/metrics/forecast_moves.sql``: snapshots a while apart, a stage history, won and lost
dates), each stage gets its **weekly rates**: of the deals there, the share won, lost, and moved
to each other stage per week (moves / days spent there x 7; a channel's own rates when it has
``MIN_MOVES`` moves out of the stage, else all channels'). A deal's chance of being won within
the horizon is then read off that chain of stages (a continuous-time Markov chain: the chance
of reaching 'won' from its stage within the horizon's days).

Where the files show no dated moves between stages (one export seen once), the chance comes from
the days since a deal came in instead: of the past leads still open that many days after they
came in, the share won within the horizon's days more (Aalen-Johansen, a loss being the other
way out and an open lead counted until the day last seen open; the channel's own with
``MIN_WINS`` wins, else all channels').

The range comes from seeded draws: each rate (or chance) is drawn from its posterior on the
counts behind it and each deal won or not, so both small numbers and luck widen it. It is a
forecast made at the store's as-of date (the latest upload), not today.
Definitions in plain words: ``docs/METRICS.md`` ("What is coming").
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from funnel import format as fmt
from funnel.metrics import stats
from funnel.metrics.filters import filter_params
from funnel.store import connection as store

FORECAST_WEEKS = 4
RANGE = 0.8  # the range holds 8 outcomes in 10
MIN_MOVES = 10  # moves out of a stage before a channel's own rates for it are used
MIN_WINS = 10  # wins before a channel's own days-to-win are used (no stage moves seen)
DRAWS = 1000
ALL_CHANNELS = "All channels"
OPEN_STAGES = ("new", "contacted", "qualified", "proposal")
STATES = (*OPEN_STAGES, "won", "lost")

BASIS_WORDS = {
    "channel": "this channel's moves out of this stage",
    "all channels": "all channels' moves out of this stage (this channel has too few)",
    "none": "no deal was seen leaving this stage",
    "days": "the days since deals came in (no dated moves between stages in the files)",
}


@dataclass(frozen=True)
class Horizon:
    """A forecast's window: the days after ``start`` up to ``end``, both in words."""

    key: str  # "weeks" or "month"
    words: str  # "the next 4 weeks", "the rest of December", "January"
    start: dt.date  # the as-of date (not in the window)
    end: dt.date  # the last day in the window

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def horizons(as_of: dt.date) -> list[Horizon]:
    """The next 4 weeks after ``as_of``, and the rest of its month (the whole next month when
    ``as_of`` is its month's last day)."""
    weeks = Horizon("weeks", f"the next {FORECAST_WEEKS} weeks", as_of,
                    as_of + dt.timedelta(weeks=FORECAST_WEEKS))
    last = calendar.monthrange(as_of.year, as_of.month)[1]
    if as_of.day < last:
        month = Horizon("month", f"the rest of {as_of:%B}", as_of, as_of.replace(day=last))
    else:
        first = as_of + dt.timedelta(days=1)
        end = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        month = Horizon("month", f"{first:%B}", as_of, end)
    return [weeks, month]


def forecast(
    con, start=None, end=None, channels=None, owners=None, seed: int = stats.DEFAULT_SEED,
    draws: int = DRAWS,
) -> dict:
    """The wins the selection's open deals should bring, per horizon and channel.

    Returns ``{"as_of", "horizons" (list of Horizon), "range" (0.8), "method" ('stages' or
    'days'), "totals" (DataFrame: horizon, horizon_words, horizon_end, channel (None: all
    channels), channel_label, open_deals, expected_wins, wins_low, wins_high, expected_value,
    value_low, value_high), "stages" (DataFrame per channel x open stage with open deals:
    channel, channel_label, stage, stage_label, position, open_deals, open_value, days_seen
    (days deals spent there), won_weekly, lost_weekly, moved_weekly (the weekly rates),
    chance, chance_low, chance_high (of a deal there being won within 4 weeks, with the
    range), basis, basis_words), "notes" (sentences on what the data lacks)}``.
    The history is every lead of the selected owners, whatever its date or channel filter.
    """
    params = filter_params(start, end, channels, owners)
    value = store.fetch_one(con, "metrics/as_of_date")[0]
    as_of = None if value is None else pd.Timestamp(value).date()
    owners_only = {"owners": params["owners"]}
    return build(
        as_of,
        store.fetch_df(con, "metrics/forecast_open_deals", params),
        store.fetch_df(con, "metrics/forecast_moves", owners_only),
        store.fetch_df(con, "metrics/forecast_outcomes", owners_only),
        store.fetch_df(con, "metrics/forecast_labels"),
        seed=seed, draws=draws,
    )


TOTAL_COLUMNS = ["horizon", "horizon_words", "horizon_end", "channel", "channel_label",
                 "open_deals", "expected_wins", "wins_low", "wins_high", "expected_value",
                 "value_low", "value_high"]
STAGE_COLUMNS = ["channel", "channel_label", "stage", "stage_label", "position", "open_deals",
                 "open_value", "days_seen", "won_weekly", "lost_weekly", "moved_weekly",
                 "chance", "chance_low", "chance_high", "basis", "basis_words"]


def build(
    as_of: dt.date | None, open_deals: pd.DataFrame, moves: pd.DataFrame,
    outcomes: pd.DataFrame, labels: pd.DataFrame, seed: int = stats.DEFAULT_SEED,
    draws: int = DRAWS,
) -> dict:
    """:func:`forecast` from the query results (apart, for tests with inputs made by hand).

    ``open_deals``: channel, stage, days_open, open_deals, open_value, valued; ``moves``:
    channel, stage, destination (None: the stage's total), moves, exposure_days;
    ``outcomes``: channel, outcome, days, leads; ``labels``: kind, name, label, position.
    """
    words = {kind: dict(zip(rows["name"], rows["label"], strict=True))
             for kind, rows in labels.groupby("kind")}
    channel_words, stage_words = words.get("channel", {}), words.get("stage", {})
    notes: list[str] = []
    result = {"as_of": as_of, "horizons": horizons(as_of) if as_of else [], "range": RANGE,
              "method": "stages", "totals": pd.DataFrame(columns=TOTAL_COLUMNS),
              "stages": pd.DataFrame(columns=STAGE_COLUMNS), "notes": notes}
    if open_deals.empty or as_of is None:
        notes.append("No open deals in this selection: nothing to forecast.")
        return result
    deals = open_deals[open_deals["stage"].isin(OPEN_STAGES)].reset_index(drop=True)
    if (open_deals["valued"] < open_deals["open_deals"]).any():
        notes.append("Open deals without a value count as wins but add no money.")
    rng = np.random.default_rng(seed)
    if int(moves.loc[moves["destination"].notna(), "moves"].sum()) >= MIN_MOVES:
        # a deal's chance rests on its channel and stage alone here: one row for each (a sum
        # of binomials with one chance is one binomial on their sum)
        # (summed in one order whatever order the store returned the rows in: a lake's
        # report equals a file store's to the last digit)
        deals = (deals.sort_values(["channel", "stage", "days_open"], kind="stable")
                 .groupby(["channel", "stage"], sort=True, as_index=False)
                 [["open_deals", "open_value", "valued"]].sum().assign(days_open=0))
        chances, stages = _by_stages(deals, moves, result["horizons"], rng, draws, notes)
    else:
        result["method"] = "days"
        notes.append("The files show each deal's stage without the dates it moved, so the "
                     "forecast reads the days since deals came in, not their stages.")
        chances, stages = _by_days(deals, outcomes, result["horizons"], rng, draws, notes)
    if chances is None:
        return result
    # a channel kept as its own has its slug for label: named in words, never by the slug
    stages["channel_label"] = stages["channel"].map(
        lambda c: fmt.channel_label(c, channel_words.get(c)))
    stages["stage_label"] = stages["stage"].map(lambda s: stage_words.get(s) or fmt.stage_label(s))
    stages["basis_words"] = stages["basis"].map(BASIS_WORDS)
    result["stages"] = stages[STAGE_COLUMNS]
    result["totals"] = pd.concat(
        [_totals(h, deals, chances[h.key], channel_words, rng) for h in result["horizons"]],
        ignore_index=True)
    return result


# --- by stages: a chain of weekly rates ------------------------------------------------------


def _pooled(moves: pd.DataFrame) -> pd.DataFrame:
    """All channels' moves and exposure per stage and destination."""
    return moves.groupby(["stage", "destination"], dropna=False)[
        ["moves", "exposure_days"]].sum().reset_index()


def _rates(moves: pd.DataFrame, channel: str | None,
           pooled: pd.DataFrame | None = None) -> tuple[dict, dict, dict]:
    """(moves[stage][destination], exposure days[stage], basis[stage]) for a channel: its own
    where it has ``MIN_MOVES`` moves out of the stage, else all channels' (``pooled``)."""
    pooled = _pooled(moves) if pooled is None else pooled
    own = moves[moves["channel"] == channel]
    counts, exposure, basis = {}, {}, {}
    for stage in OPEN_STAGES:
        mine = own[own["stage"] == stage]
        total = mine[mine["destination"].isna()]
        if channel is not None and not total.empty and total["moves"].iloc[0] >= MIN_MOVES:
            source, basis[stage] = mine, "channel"
        else:
            source = pooled[pooled["stage"] == stage]
            total = source[source["destination"].isna()]
            basis[stage] = "all channels" if (not total.empty
                                              and total["moves"].iloc[0] > 0) else "none"
        total = source[source["destination"].isna()]
        exposure[stage] = float(total["exposure_days"].iloc[0]) if not total.empty else 0.0
        counts[stage] = {d: int(m) for d, m in zip(source["destination"], source["moves"],
                                                   strict=True)
                         if isinstance(d, str) and d in STATES and d != stage}
    return counts, exposure, basis


def _generator(counts: dict, exposure: dict, rng=None, draws: int = 0) -> np.ndarray:
    """The chain's rate matrix (per day): moves / days spent at the stage; with ``rng``,
    ``draws`` of them, each rate drawn from its Gamma posterior (shape moves, scale 1 / days:
    centred on moves / days; a move never seen stays 0). Won and lost keep their deals."""
    index = {s: i for i, s in enumerate(STATES)}
    shape = (max(draws, 1), len(STATES), len(STATES))
    q = np.zeros(shape)
    for stage in OPEN_STAGES:
        days = exposure.get(stage, 0.0)
        if days <= 0:
            continue
        for dest, n in counts.get(stage, {}).items():
            if n > 0:
                q[:, index[stage], index[dest]] = (rng.gamma(n, 1.0 / days, size=shape[0])
                                                   if rng is not None else n / days)
        q[:, index[stage], index[stage]] = -q[:, index[stage]].sum(axis=1)
    return q if rng is not None else q[0]


STEPS_PER_DAY = 16


def _won_within(q: np.ndarray, days: int) -> np.ndarray:
    """The chance of reaching 'won' within ``days`` from each open stage (``q``: one rate
    matrix, or a stack of them): exp(q x days) as (I + q / 16) to the power 16 x days, which
    agrees with it to far below a deal (rates are a few per cent a day) and runs on a whole
    stack of draws at once."""
    step = np.eye(len(STATES)) + q / STEPS_PER_DAY
    return np.linalg.matrix_power(step, STEPS_PER_DAY * days)[..., : len(OPEN_STAGES),
                                                               STATES.index("won")]


def _by_stages(deals, moves, spans, rng, draws, notes) -> tuple[dict, pd.DataFrame]:
    """Per horizon, each deal row's chance (and its draws); the stages table."""
    chances = {h.key: {"mean": np.zeros(len(deals)), "draws": np.zeros((draws, len(deals)))}
               for h in spans}
    rows = []
    pooled = _pooled(moves)
    for channel, idx in deals.groupby("channel", sort=False).groups.items():
        idx = np.asarray(idx)
        counts, exposure, basis = _rates(moves, channel, pooled)
        at = deals.loc[idx, "stage"].map(OPEN_STAGES.index).to_numpy()
        q_mean = _generator(counts, exposure)
        q_draws = _generator(counts, exposure, rng, draws)
        known = np.array([basis[s] != "none" for s in OPEN_STAGES])
        weeks = None
        for h in spans:
            mean = _won_within(q_mean, h.days) * known
            drawn = _won_within(q_draws, h.days) * known
            chances[h.key]["mean"][idx] = mean[at]
            chances[h.key]["draws"][:, idx] = drawn[:, at]
            if h.key == "weeks":
                weeks = (mean, drawn)
        present = deals.loc[idx].groupby("stage")[["open_deals", "open_value"]].sum()
        for stage in OPEN_STAGES:
            if stage not in present.index:
                continue
            i, days = OPEN_STAGES.index(stage), exposure[stage]
            out = counts[stage]
            low, high = np.quantile(weeks[1][:, i], [(1 - RANGE) / 2, 1 - (1 - RANGE) / 2])
            rows.append({
                "channel": channel, "stage": stage, "position": i + 1,
                "open_deals": int(present.loc[stage, "open_deals"]),
                "open_value": float(present.loc[stage, "open_value"]),
                "days_seen": days,
                "won_weekly": 7 * out.get("won", 0) / days if days else None,
                "lost_weekly": 7 * out.get("lost", 0) / days if days else None,
                "moved_weekly": (7 * sum(n for d, n in out.items() if d not in ("won", "lost"))
                                 / days if days else None),
                "chance": float(weeks[0][i]),
                "chance_low": float(low),
                "chance_high": float(high),
                "basis": basis[stage],
            })
    stages = pd.DataFrame(rows)
    stuck = int(stages.loc[stages["basis"] == "none", "open_deals"].sum()) if rows else 0
    if stuck:
        notes.append(f"{stuck:,} open deals are at stages no deal was seen leaving: they count "
                     "for no win.")
    return chances, stages


# --- by days since came in: no stage moves seen ---------------------------------------------


def win_within(days, outcome, counts, ages, horizon_days: int) -> tuple[np.ndarray, np.ndarray]:
    """For leads open ``ages`` days after they came in, the chance of a win within
    ``horizon_days`` more, from past leads (``days`` to 'won' or 'lost', or 'open' until the
    day last seen open; ``counts`` of each): (CIF(a + H) - CIF(a)) / S(a), S the Kaplan-Meier
    chance of being neither won nor lost, CIF the Aalen-Johansen cumulative chance of a win.
    Also how many past leads were still open after ``ages`` days (what a chance rests on).
    NaN where none was."""
    days = np.asarray(days, dtype=np.int64)
    counts = np.asarray(counts, dtype=float)
    outcome = np.asarray(outcome)
    won, ended = outcome == "won", np.isin(outcome, ("won", "lost"))
    times = np.unique(days)
    slot = np.searchsorted(times, days)
    at_risk = np.cumsum(np.bincount(slot, weights=counts, minlength=len(times))[::-1])[::-1]
    d_won = np.bincount(slot[won], weights=counts[won], minlength=len(times))
    d_end = np.bincount(slot[ended], weights=counts[ended], minlength=len(times))
    survival = np.cumprod(1 - d_end / at_risk)
    before = np.concatenate([[1.0], survival[:-1]])
    cif = np.cumsum(before * d_won / at_risk)

    def at(values, t, start):
        i = np.searchsorted(times, t, side="right") - 1
        return np.where(i >= 0, values[np.maximum(i, 0)], start)

    ages = np.asarray(ages, dtype=np.int64)
    still = at(survival, ages, 1.0)
    nxt = np.searchsorted(times, ages, side="right")
    rests_on = np.where(nxt < len(times), at_risk[np.minimum(nxt, len(times) - 1)], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        chance = (at(cif, ages + horizon_days, 0.0) - at(cif, ages, 0.0)) / still
    return np.where((still > 0) & (rests_on > 0), np.clip(chance, 0, 1), np.nan), rests_on


def _by_days(deals, outcomes, spans, rng, draws, notes) -> tuple[dict | None, pd.DataFrame]:
    past = outcomes[outcomes["outcome"] != "undated"]
    if not (past["outcome"] == "won").any():
        notes.append("Not in the data: the files give no date any deal was won, so when the "
                     "open deals will be won cannot be forecast.")
        return None, pd.DataFrame()
    undated = int(outcomes.loc[outcomes["outcome"] == "undated", "leads"].sum())
    if undated:
        notes.append(f"{undated:,} won or lost leads have no date in the files and are not "
                     "learnt from.")
    chances = {h.key: {"mean": np.zeros(len(deals)), "draws": np.zeros((draws, len(deals)))}
               for h in spans}
    basis = np.array(["none"] * len(deals), dtype=object)  # per row, for the first horizon
    for channel, idx in deals.groupby("channel", sort=False).groups.items():
        idx = np.asarray(idx)
        mine = past[past["channel"] == channel]
        source = mine if mine.loc[mine["outcome"] == "won", "leads"].sum() >= MIN_WINS else past
        for h in spans:
            p, m = win_within(source["days"], source["outcome"], source["leads"],
                              deals.loc[idx, "days_open"].to_numpy(), h.days)
            usable = ~np.isnan(p)
            p = np.nan_to_num(p)
            # each chance drawn from a Beta on the leads it rests on (Jeffreys prior), and the
            # expectation that Beta's mean: the range and the expectation agree
            k, rest = p * m, np.maximum(m - p * m, 0)
            chances[h.key]["mean"][idx] = np.where(usable, (k + 0.5) / (m + 1), 0.0)
            chances[h.key]["draws"][:, idx] = np.where(
                usable, rng.beta(k + 0.5, rest + 0.5, size=(draws, len(idx))), 0.0)
            if h is spans[0]:
                basis[idx] = np.where(usable, "days", "none")
    weeks = chances[spans[0].key]
    older = int(deals.loc[basis == "none", "open_deals"].sum())
    if older:
        notes.append(f"{older:,} open deals have been open longer than any past deal that was "
                     "still open then: how they end is not in the data, and they count for no "
                     "win.")
    frame = deals.assign(chance=weeks["mean"] * deals["open_deals"], basis=basis)
    stages = frame.groupby(["channel", "stage"], sort=False).agg(
        open_deals=("open_deals", "sum"), open_value=("open_value", "sum"),
        chance=("chance", "sum"), basis=("basis", "min")).reset_index()
    stages["chance"] = stages["chance"] / stages["open_deals"]
    stages["position"] = stages["stage"].map(OPEN_STAGES.index) + 1
    for col in ("days_seen", "won_weekly", "lost_weekly", "moved_weekly", "chance_low",
                "chance_high"):
        stages[col] = None
    return chances, stages.sort_values(["channel", "position"], kind="stable")


# --- the range -------------------------------------------------------------------------------


def _totals(h: Horizon, deals: pd.DataFrame, chance: dict, channel_words: dict,
            rng) -> pd.DataFrame:
    """Per channel and in all, the expected wins and money and the range holding ``RANGE`` of
    the seeded draws (each deal won or not at its drawn chance)."""
    n = deals["open_deals"].to_numpy(dtype=np.int64)
    wins = rng.binomial(n[None, :], np.clip(chance["draws"], 0.0, 1.0))
    per_deal = deals["open_value"].to_numpy(dtype=float) / n  # a deal without a value: 0
    value = wins * per_deal[None, :]
    expected = n * chance["mean"]
    low_q, high_q = (1 - RANGE) / 2, 1 - (1 - RANGE) / 2
    channel_of = deals["channel"].to_numpy()
    rows = []
    for channel in [None, *dict.fromkeys(channel_of)]:
        mask = np.ones(len(n), bool) if channel is None else channel_of == channel
        total_wins, total_value = wins[:, mask].sum(axis=1), value[:, mask].sum(axis=1)
        rows.append({
            "horizon": h.key, "horizon_words": h.words, "horizon_end": h.end,
            "channel": channel,
            "channel_label": (ALL_CHANNELS if channel is None
                              else fmt.channel_label(channel, channel_words.get(channel))),
            "open_deals": int(n[mask].sum()),
            "expected_wins": float(expected[mask].sum()),
            "wins_low": float(np.quantile(total_wins, low_q)),
            "wins_high": float(np.quantile(total_wins, high_q)),
            "expected_value": float((expected * per_deal)[mask].sum()),
            "value_low": float(np.quantile(total_value, low_q)),
            "value_high": float(np.quantile(total_value, high_q)),
        })
    return pd.DataFrame(rows, columns=TOTAL_COLUMNS)


def sentence(row) -> str:
    """One horizon's forecast in words, from a ``totals`` row: 'The next 4 weeks (to 20 Dec
    2026): about 63 wins from 492 open deals, 8 in 10 chances between 51 and 72, worth about
    $114,806 ($89,788 to $135,080).' (a channel's row starts with the channel's name)."""
    from funnel import format as fmt

    whose = "" if row["channel_label"] == ALL_CHANNELS else f"{row['channel_label']}, "
    wins = row["expected_wins"]
    text = (f"{whose}{row['horizon_words']} (to {fmt.date(row['horizon_end'])}): about "
            f"{fmt.count(wins)} win{'' if round(wins) == 1 else 's'} from "
            f"{fmt.count(row['open_deals'])} open deals, {round(RANGE * 10)} in 10 chances "
            f"between {fmt.count(row['wins_low'])} and {fmt.count(row['wins_high'])}")
    if row["expected_value"] > 0:
        text += (f", worth about {fmt.money(row['expected_value'])} "
                 f"({fmt.money(row['value_low'])} to {fmt.money(row['value_high'])})")
    return text[0].upper() + text[1:] + "."


def score_sentence(row) -> str:
    """A kept forecast against what came: 'Forecast 3 of 7 Nov 2026 for the next 4 weeks (to
    5 Dec 2026): 51 to 72 wins; 60 came: inside the range.' (or '... so far' before it is
    due)."""
    from funnel import format as fmt

    whose = "" if row["channel_label"] == ALL_CHANNELS else f" ({row['channel_label']})"
    head = (f"Forecast {int(row['forecast_id'])} of {fmt.date(row['as_of'])}{whose} for "
            f"{row['horizon']} (to {fmt.date(row['horizon_end'])}): "
            f"{fmt.count(row['wins_low'])} to {fmt.count(row['wins_high'])} wins; ")
    came = int(row["actual_wins"])
    if row["due"]:
        return head + f"{came:,} came: {row['verdict']}."
    return head + f"{came:,} so far (due once the data reaches {fmt.date(row['horizon_end'])})."
