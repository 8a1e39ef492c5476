"""Offices' weekly exports for the lake suite: the demo's Pipedrive snapshots of 15 and 22
November, one copy per office with its own deal IDs (office N: N * 100,000 + the demo ID), a
row with no ID (rejected) and a row given twice (a duplicate) in each file."""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEEKS = [ROOT / "data" / "demo" / f"pipedrive_deals_2026-11-{day}.csv" for day in (15, 22)]
ID = "Deal - ID"
OFFICE_IDS = 100_000


def write_office(folder: Path, office: int) -> list[Path]:
    """Office ``office``'s two weekly exports, oldest first."""
    out = []
    for week in WEEKS:
        with week.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header, rows = reader.fieldnames, list(reader)
        for row in rows:
            row[ID] = str(office * OFFICE_IDS + int(row[ID]))
        rows.append({**rows[0], ID: ""})  # no ID: rejected
        rows.append(dict(rows[1]))  # the same row twice: a duplicate
        path = folder / f"office{office}_{week.name}"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
        out.append(path)
    return out


def lead_counts(paths: list[Path]) -> list[int]:
    """The leads an office has after each of its files: its distinct IDs so far (a lead is
    never dropped by a later snapshot)."""
    seen: set[str] = set()
    counts = []
    for path in paths:
        with path.open(newline="", encoding="utf-8") as f:
            seen |= {row[ID] for row in csv.DictReader(f) if row[ID]}
        counts.append(len(seen))
    return counts
