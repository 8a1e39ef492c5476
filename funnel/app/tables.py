"""Metric results as tables a person reads: worded headers, channel names, rates in percent.

Pure pandas over ``funnel.metrics`` results; the pages hand these to ``st.dataframe``.
"""

from __future__ import annotations

import pandas as pd

from funnel import format as fmt


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
            "Cost per lead": [fmt.money(v) for v in df["cost_per_lead"]],
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
