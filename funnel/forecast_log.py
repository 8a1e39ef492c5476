"""Forecasts kept to be scored later, as decisions are: what the pipeline forecast said at an
as-of date, against the wins that came (``queries/forecasts``). Only a forecast of every lead
(no filter) is kept: a filtered one could not be scored against the store as it grows."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from funnel.metrics import forecast as forecast_metric
from funnel.store import connection as store


def keep(con, result: dict | None = None, now: dt.datetime | None = None) -> int:
    """Keep the forecast of every open deal (``result``: ``forecast.forecast(con)``, made here
    when not given); returns its number. Raises ValueError when there is nothing to keep."""
    if result is None:
        result = forecast_metric.forecast(con)
    totals = result["totals"]
    if totals.empty:
        raise ValueError("there is no forecast to keep: "
                         + (" ".join(result["notes"]) or "no open deals"))
    made_at = (now or dt.datetime.now()).replace(microsecond=0)
    with store.transaction(con):
        forecast_id = int(store.fetch_one(con, "forecasts/next_forecast_id")[0])
        for row in totals.itertuples(index=False):
            store.run(con, "forecasts/insert_forecast", {
                "forecast_id": forecast_id, "made_at": made_at, "as_of": result["as_of"],
                "horizon": row.horizon_words, "horizon_end": row.horizon_end,
                "channel": None if pd.isna(row.channel) else row.channel,
                "open_deals": int(row.open_deals), "expected_wins": float(row.expected_wins),
                "wins_low": float(row.wins_low), "wins_high": float(row.wins_high),
                "expected_value": float(row.expected_value),
            })
        store.bump_revision(con)
    return forecast_id


def scored(con) -> pd.DataFrame:
    """Every kept forecast row against the wins that came. Columns: forecast_id, made_at,
    as_of, horizon (words), horizon_end, channel (None: all), channel_label, open_deals,
    expected_wins, wins_low, wins_high, expected_value, actual_wins (so far), due, verdict
    ('inside the range', 'above the range', 'below the range'; None until due)."""
    return store.fetch_df(con, "forecasts/scored_forecasts")
