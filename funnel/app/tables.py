"""Metric results as tables a person reads: worded headers, channel names, rates in percent.

Pure pandas over ``funnel.metrics`` results; the pages hand these to ``st.dataframe``.
"""

from __future__ import annotations

import pandas as pd

from funnel import charts
from funnel import format as fmt
from funnel.metrics import costs


def _channel_names(df: pd.DataFrame) -> list[str]:
    labels = df["label"] if "label" in df else [None] * len(df)
    return [fmt.channel_label(c, lab) for c, lab in zip(df["channel"], labels, strict=True)]


def conversion_table(df: pd.DataFrame) -> pd.DataFrame:
    """``metrics.conversion_by_channel`` for reading: one row per channel, best first."""
    data = df.sort_values(["conversion_rate", "leads"], ascending=[False, False])
    return pd.DataFrame(
        {
            "Channel": _channel_names(data),
            "Leads": data["leads"].to_numpy(),
            "Won": data["won"].to_numpy(),
            "Lost": data["lost"].to_numpy(),
            "Still open": data["open"].to_numpy(),
            "Conversion": [fmt.pct_with_range(r, lo, hi) for r, lo, hi in
                           zip(data["conversion_rate"], data["ci_low"], data["ci_high"],
                               strict=True)],
            "Win rate (won of closed)": [fmt.pct(v) for v in data["win_rate"]],
            "Median days to win": [fmt.days(v) for v in data["median_days_to_win"]],
            "Value won": [fmt.money(v) for v in data["won_value"]],
            "Value per lead": [fmt.money(v) for v in data["value_per_lead"]],
        }
    )


def volume_table(df: pd.DataFrame) -> pd.DataFrame:
    """``metrics.lead_volume_vs_previous`` for reading."""
    return pd.DataFrame(
        {
            "Channel": _channel_names(df),
            "How it reaches people": [fmt.kind_label(k) for k in df["kind"]],
            "Leads this period": df["leads"].to_numpy(),
            "Previous period": df["previous_leads"].to_numpy(),
            "Change": [fmt.signed_count(v) for v in df["change"]],
            "Change %": [fmt.signed_pct(v) if fmt.finite(v) else "new" for v in df["change_pct"]],
        }
    )


def spend_table(df: pd.DataFrame) -> pd.DataFrame:
    """``metrics.spend_by_channel`` (marketing side: spend, hours, cost per lead)."""
    return pd.DataFrame(
        {
            "Channel": _channel_names(df),
            "Leads": df["leads"].to_numpy(),
            "Money spent": [fmt.money(v) for v in df["spend"]],
            "Hours spent": [fmt.count(v) for v in df["hours"]],
            costs.money_only_name(): [fmt.money(v) for v in df["cost_per_lead"]],
            costs.with_hours_name(costs.DEFAULT_HOURLY_RATE, fmt.current_mark()): [
                fmt.money(v) for v in df["cost_per_lead_with_hours"]],
            "Hours per lead": [f"{v:.2f}" if fmt.finite(v) else fmt.MISSING
                               for v in df["hours_per_lead"]],
        }
    )


def open_table(df: pd.DataFrame) -> pd.DataFrame:
    """``metrics.open_by_temperature`` with the next action for each temperature."""
    return pd.DataFrame(
        {
            "Temperature": [fmt.TEMPERATURE_LABELS.get(t, fmt.humanize(t))
                            for t in df["temperature"]],
            "Stages": [", ".join(fmt.stage_label(s) for s in stages) for stages in df["stages"]],
            "Open leads": df["open_leads"].to_numpy(),
            "Open value": [fmt.money(v) for v in df["open_value"]],
            "Median age": [fmt.days(v) for v in df["median_age_days"]],
            "Next action": df["next_action"].to_numpy(),
        }
    )


def has_spend(df: pd.DataFrame) -> bool:
    """True when any channel has money or hours recorded."""
    if df.empty:
        return False
    spent = pd.to_numeric(df["spend"], errors="coerce").fillna(0)
    hours = pd.to_numeric(df["hours"], errors="coerce").fillna(0)
    return bool((spent > 0).any() or (hours > 0).any())


def with_spend(df: pd.DataFrame) -> pd.DataFrame:
    """The channels of ``metrics.spend_by_channel`` that have a cost per lead."""
    return df[pd.to_numeric(df["cost_per_lead"], errors="coerce").notna()].sort_values(
        "cost_per_lead", ascending=False
    )


def leads_table(leads: pd.DataFrame) -> pd.DataFrame:
    """``metrics.leads_behind`` (without ``total``) as a person reads it: worded headers, no
    personal data."""
    return pd.DataFrame({
        "CRM id": leads["crm_id"].fillna("not in the data").to_numpy(),
        "Channel": leads["channel"].to_numpy(),
        "Stage": leads["stage"].to_numpy(),
        "Owner": leads["owner"].fillna(charts.NO_OWNER).to_numpy(),
        "Came in": [fmt.date(d) for d in leads["created"]],
        "Value": [fmt.money(v) if fmt.finite(v) else fmt.MISSING for v in leads["value"]],
        "Currency": leads["currency"].fillna("").to_numpy(),
    })


def owner_table(df: pd.DataFrame) -> pd.DataFrame:
    """``metrics.conversion_by_owner`` for reading: each owner's all-channels row, then its
    channels; rows with too few leads to judge say so."""
    return pd.DataFrame({
        "Owner": df["owner"].fillna(charts.NO_OWNER).to_numpy(),
        "Channel": [charts.ALL_CHANNELS if fmt.is_missing(c) else fmt.channel_label(c, lab)
                    for c, lab in zip(df["channel"], df["channel_label"], strict=True)],
        "Leads": df["leads"].to_numpy(),
        "Won": df["won"].to_numpy(),
        "Lost": df["lost"].to_numpy(),
        "Still open": df["open"].to_numpy(),
        "Conversion": [fmt.pct_with_range(r, lo, hi) for r, lo, hi in
                       zip(df["conversion_rate"], df["ci_low"], df["ci_high"], strict=True)],
        "Win rate (won of closed)": [fmt.pct_with_range(r, lo, hi) for r, lo, hi in
                                     zip(df["win_rate"], df["win_ci_low"], df["win_ci_high"],
                                         strict=True)],
        "Judged": ["too few leads to judge" if few else "" for few in df["too_few"]],
    })


def lost_reasons_table(df: pd.DataFrame) -> pd.DataFrame:
    """``metrics.lost_reasons`` as reasons (rows, most common first) by the stage the deals
    were lost at (columns, funnel order), counts of lost deals, with a total."""
    if df.empty:
        return pd.DataFrame()
    data = df.assign(
        Reason=df["reason"].where(df["reason"].notna(), charts.NO_REASON),
        Stage=df["lost_at_label"].where(df["lost_at_label"].notna(), "Stage not in the data"),
        order=df["lost_at_position"].fillna(99))
    stages = data.drop_duplicates("Stage").sort_values("order")["Stage"].tolist()
    reasons = data.drop_duplicates("reason_rank").sort_values("reason_rank")["Reason"].tolist()
    grid = data.pivot_table(index="Reason", columns="Stage", values="lost_leads",
                            aggfunc="sum", fill_value=0).reindex(index=reasons,
                                                                 columns=stages)
    grid["Lost deals"] = grid.sum(axis=1)
    return grid.reset_index()


def stage_time_table(df: pd.DataFrame) -> pd.DataFrame:
    """``stage_time.time_in_stage`` for reading: per channel (all channels first) and stage,
    the median days at the stage with its interval, what it rests on, and the days to the
    next step for the leads that took it."""
    return pd.DataFrame({
        "Channel": df["channel_label"].to_numpy(),
        "Stage": df["stage_label"].to_numpy(),
        "Half the stays over within": [
            fmt.median_stay(m, timed)
            + (f" ({fmt.days(lo)} to {fmt.days(hi)})" if fmt.finite(m) and fmt.finite(hi) else "")
            for m, lo, hi, timed in zip(df["median_days"], df["median_ci_low"],
                                        df["median_ci_high"], df["left"] + df["still_there"],
                                        strict=True)],
        "Stays timed": df["left"].to_numpy(),
        "Still there": df["still_there"].to_numpy(),
        "Not timed in the data": df["not_in_data"].to_numpy(),
        "To the next step (median)": [fmt.days(v) if fmt.finite(v) else fmt.MISSING
                                      for v in df["median_days_to_next_step"]],
    })


def forecast_stage_table(df: pd.DataFrame) -> pd.DataFrame:
    """``forecast.forecast(...)["stages"]`` for reading: per channel and stage, the open deals,
    how deals there have moved per week, and the chance one is won within 4 weeks."""
    def weekly(v) -> str:
        return fmt.pct(v) if fmt.finite(v) else fmt.MISSING

    return pd.DataFrame({
        "Channel": df["channel_label"].to_numpy(),
        "Stage": df["stage_label"].to_numpy(),
        "Open deals": df["open_deals"].to_numpy(),
        "Open value": [fmt.money(v) for v in df["open_value"]],
        "Won a week": [weekly(v) for v in df["won_weekly"]],
        "Lost a week": [weekly(v) for v in df["lost_weekly"]],
        "Moved on a week": [weekly(v) for v in df["moved_weekly"]],
        "Won within 4 weeks": [fmt.pct_with_range(c, lo, hi) if fmt.finite(lo)
                               else fmt.pct(c)
                               for c, lo, hi in zip(df["chance"], df["chance_low"],
                                                    df["chance_high"], strict=True)],
        "Learnt from": df["basis_words"].to_numpy(),
    })
