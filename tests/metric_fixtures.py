"""A hand-made store of a dozen leads whose every metric can be worked out on paper.

SQL in tests is fine: these INSERTs stand in for the ingest until it lands.

Leads (created -> outcome; events seen; value; owner). As-of date (uploads.as_of): 2024-03-31.

key created          outcome                            events seen        value owner
referral (6 leads, inbound)
R1  2024-01-01 09:00 won 2024-01-11 09:00 (10 days)    new..proposal, won  1000  ann
R2  2024-01-03 00:00 won 2024-01-23 12:00 (20.5 days)  new, qualified, won  500  bob
R3  2024-01-10 00:00 lost 2024-02-01 (22 days)         new..qualified, lost   -  ann
R4  2024-01-15 00:00 open at proposal (hot)            new, proposal       2000  bob
R5  2024-02-05 00:00 open at new (cold)                new                    -  -
R6  2024-02-07 00:00 won 2024-03-08 (30 days)          new, won               -  ann
cold_call (5 leads, outbound)
C1  2024-01-02 00:00 lost 2024-01-05 (3 days)          new, lost              -  bob
C2  2024-01-09 00:00 open at contacted (cold)          new, contacted         -  bob
C3  2024-01-16 00:00 open at qualified (warm)          new..qualified       300  ann
C4  2024-01-31 15:00 won 2024-03-01 15:00 (30 days)    new..proposal, won   800  bob
C5  2024-02-12 00:00 lost 2024-02-20 (8 days)          new, contacted, lost   -  ann
tiktok (1 lead: an unmapped raw channel, no row in `channels`, so kind unknown)
T1  2024-03-04 00:00 open at new (cold)                new                    -  carol
("new..proposal" = new, contacted, qualified, proposal.)

channel_spend:
  referral  2024-01-01..2024-01-31  money 310  hours 31
  referral  2024-02-01..2024-02-29  money 290  hours 0
  cold_call 2024-01-01..2024-03-31  money 910  hours 91   (91 days)
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from funnel.store import connection as store
from funnel.synonyms import STAGES

AS_OF = "2024-03-31"

# key, channel, created_at, stage, won_at, lost_at, value, owner, events (stage names)
LEADS = [
    ("R1", "referral", "2024-01-01 09:00", "won", "2024-01-11 09:00", None, 1000.0, "ann",
     ["new", "contacted", "qualified", "proposal", "won"]),
    ("R2", "referral", "2024-01-03 00:00", "won", "2024-01-23 12:00", None, 500.0, "bob",
     ["new", "qualified", "won"]),
    ("R3", "referral", "2024-01-10 00:00", "lost", None, "2024-02-01 00:00", None, "ann",
     ["new", "contacted", "qualified", "lost"]),
    ("R4", "referral", "2024-01-15 00:00", "proposal", None, None, 2000.0, "bob",
     ["new", "proposal"]),
    ("R5", "referral", "2024-02-05 00:00", "new", None, None, None, None, ["new"]),
    ("R6", "referral", "2024-02-07 00:00", "won", "2024-03-08 00:00", None, None, "ann",
     ["new", "won"]),
    ("C1", "cold_call", "2024-01-02 00:00", "lost", None, "2024-01-05 00:00", None, "bob",
     ["new", "lost"]),
    ("C2", "cold_call", "2024-01-09 00:00", "contacted", None, None, None, "bob",
     ["new", "contacted"]),
    ("C3", "cold_call", "2024-01-16 00:00", "qualified", None, None, 300.0, "ann",
     ["new", "contacted", "qualified"]),
    ("C4", "cold_call", "2024-01-31 15:00", "won", "2024-03-01 15:00", None, 800.0, "bob",
     ["new", "contacted", "qualified", "proposal", "won"]),
    ("C5", "cold_call", "2024-02-12 00:00", "lost", None, "2024-02-20 00:00", None, "ann",
     ["new", "contacted", "lost"]),
    ("T1", "tiktok", "2024-03-04 00:00", "new", None, None, None, "carol", ["new"]),
]

SPEND = [
    ("referral", "2024-01-01", "2024-01-31", 310.0, 31.0),
    ("referral", "2024-02-01", "2024-02-29", 290.0, 0.0),
    ("cold_call", "2024-01-01", "2024-03-31", 910.0, 91.0),
]


def insert_leads(con: duckdb.DuckDBPyConnection, leads: list[tuple], upload_id: int = 1) -> None:
    """Insert leads and one event per listed stage (dated at creation, won_at or lost_at), with
    the progress the ingest would keep on each lead: furthest_position (the highest position of
    its events and current stage, 'lost' aside) and hot_since (its first event at 'proposal')."""
    for key, channel, created, stage, won_at, lost_at, value, owner, events in leads:
        dated = [(event, {"won": won_at, "lost": lost_at}.get(event) or created)
                 for event in events]
        furthest = max(STAGES[s][0] for s in [*events, stage, "new"] if s != "lost")
        hot_since = min((at for event, at in dated if STAGES[event][1] == "hot"), default=None)
        con.execute(
            "INSERT INTO leads (lead_key, crm_id, channel, channel_raw, created_at, stage, won_at,"
            " lost_at, value, owner, first_upload_id, last_upload_id, furthest_position,"
            " hot_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [key, key, channel, channel, created, stage, won_at, lost_at, value, owner,
             upload_id, upload_id, furthest, hot_since],
        )
        for event, at in dated:
            con.execute(
                "INSERT INTO lead_events (lead_key, stage, occurred_at, upload_id) "
                "VALUES (?, ?, ?, ?)", [key, event, at, upload_id]
            )
    store.run(con, "spells/refresh_all")  # the stays the ingest keeps from the events


def add_upload(con: duckdb.DuckDBPyConnection, as_of: str | None = AS_OF) -> None:
    con.execute(
        "INSERT INTO uploads (file_name, sha256, options_hash, source, as_of, rows_read,"
        " rows_loaded, rows_rejected, rows_duplicate, mapping, settings)"
        " VALUES ('fixture.csv', 'x', 'y', 'generic', ?, 12, 12, 0, 0, '{}', '{}')",
        [as_of],
    )


def make_store(path: Path, with_upload: bool = True, with_spend: bool = True):
    """The fixture store described in this module's docstring; returns an open connection."""
    con = store.connect(path)
    if with_upload:
        add_upload(con)
    insert_leads(con, LEADS)
    if with_spend:
        for row in SPEND:
            con.execute(
                "INSERT INTO channel_spend (channel, period_start, period_end, money, hours)"
                " VALUES (?, ?, ?, ?, ?)",
                list(row),
            )
    return con

PROGRESS = ["new", "contacted", "qualified", "proposal", "won"]
