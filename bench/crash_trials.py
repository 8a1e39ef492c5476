"""Crash trials (issue 8): SIGKILL an ingest at random moments; the store must survive each.

    python bench/crash_trials.py [--trials 20] [--rows 200000] [--seed 8]

A store holding one earlier upload is the starting point of every trial. Each trial copies it,
starts ``python -m funnel ingest BIG.csv`` on the copy (a generated export of ``--rows`` leads,
two of which re-state leads of the earlier upload, so the ingest deletes and re-inserts stored
rows), and kills it with SIGKILL after a random delay between 0 and the time a whole ingest
takes. Then:

- the store opens;
- it holds the state before the upload or the whole upload (counts of uploads, leads, events and
  rejected rows, and every lead's fields, equal to one or the other), never something between;
- every kept raw upload (``<db>.uploads/<sha256>``) holds the bytes its name says;
- running the same ingest again completes, and the store then equals a clean ingest's.

Prints one line per trial and ``crash trials: kills K x intact stores I``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from funnel.ingest.upload import ingest_file  # noqa: E402

from funnel.ingest.core import IngestOptions  # noqa: E402
from funnel.store import connection as store  # noqa: E402
from funnel.store import raw_uploads  # noqa: E402

EARLIER = (
    "id,Email,Lead Source,Created Date,Stage,Amount\n"
    "1,first@example.com,Web,2026-01-05,Contacted,\n"
    "2,second@example.com,Referral,2026-01-06,New,\n"
    "3,,Web,2026-02-31,New,\n"  # a rejected row
)
TABLES = ("uploads", "leads", "lead_events", "rejected_rows")
LEAD_FIELDS = ("lead_key, crm_id, channel, channel_raw, created_at, stage, stage_raw, won_at, "
               "lost_at, value, owner, email_hash, phone_hash")


def make_csv(path: Path, rows: int, seed: int = 8) -> Path:
    """An export of ``rows`` leads; the last two re-state leads 1 and 2 with new stages."""
    rng = random.Random(seed)
    sources = ["Referral", "Cold call", "Web", "Trade show", "Google Ads", "Newsletter"]
    stages = ["New", "Contacted", "Qualified", "Proposal", "Closed Won", "Closed Lost"]
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("id,Email,Lead Source,Created Date,Stage,Amount,Owner\n")
        for i in range(rows - 2):
            out.write(
                f"B{i},user{i}@example.com,{rng.choice(sources)},"
                f"2025-{1 + i % 12:02d}-{1 + i % 28:02d},{rng.choice(stages)},{i % 5000},"
                f"owner{i % 7}\n"
            )
        out.write("1,,Web,2026-01-05,Proposal,100,owner1\n2,,Referral,2026-01-06,Qualified,200,"
                  "owner2\n")
    return path


@dataclass(frozen=True)
class State:
    counts: tuple[int, ...]
    leads: str  # sha256 of every lead's fields, in lead_key order

    @classmethod
    def of(cls, db: Path) -> State:
        con = store.connect(db)
        try:
            counts = tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)
            digest = hashlib.sha256()
            cur = con.execute(f"SELECT {LEAD_FIELDS} FROM leads ORDER BY lead_key")
            while batch := cur.fetchmany(50_000):
                digest.update(repr(batch).encode())
            return cls(counts, digest.hexdigest())
        finally:
            con.close()


def copy_store(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".key"):
        shutil.copy2(f"{src}{suffix}", f"{dst}{suffix}")
    if raw_uploads.folder(src).is_dir():
        shutil.copytree(raw_uploads.folder(src), raw_uploads.folder(dst))
    return dst


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FUNNEL_PII_KEY", "FUNNEL_DB")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                     else "")
    return env


def ingest_command(db: Path, csv: Path) -> list[str]:
    return [sys.executable, "-m", "funnel", "ingest", str(csv), "--db", str(db), "--json"]


@dataclass
class Setup:
    workdir: Path
    csv: Path
    template: Path
    before: State
    after: State
    full_seconds: float


def prepare(workdir: Path, rows: int, seed: int) -> Setup:
    """The starting store, the big file, and the state a clean ingest of it gives (timed)."""
    csv = make_csv(workdir / "big.csv", rows, seed)
    template = workdir / "template" / "store.duckdb"
    template.parent.mkdir(parents=True)
    con = store.connect(template)
    earlier = workdir / "earlier.csv"
    earlier.write_text(EARLIER, encoding="utf-8")
    ingest_file(con, earlier, IngestOptions(), db_path=template)
    con.close()
    before = State.of(template)
    timings = []
    for run in range(2):  # the faster of two clean runs (the first one warms the caches)
        clean = copy_store(template, workdir / f"clean{run}" / "store.duckdb")
        started = time.monotonic()
        subprocess.run(ingest_command(clean, csv), cwd=ROOT, env=child_env(), check=True,
                       stdout=subprocess.DEVNULL)
        timings.append(time.monotonic() - started)
    return Setup(workdir, csv, template, before, State.of(clean), min(timings))


@dataclass
class Trial:
    delay: float
    killed: bool
    state: str  # "before", "after" or "BETWEEN"
    raw_ok: bool
    rerun_ok: bool
    note: str = ""

    @property
    def intact(self) -> bool:
        return self.state in ("before", "after") and self.raw_ok and self.rerun_ok


def run_trial(setup: Setup, index: int, delay: float) -> Trial:
    """Kill an ingest after ``delay`` seconds, then check the store and re-run the ingest."""
    db = copy_store(setup.template, setup.workdir / f"trial{index:02d}" / "store.duckdb")
    proc = subprocess.Popen(ingest_command(db, setup.csv), cwd=ROOT, env=child_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=300)
    note = ""
    try:
        now = State.of(db)  # the store opens (DuckDB replays or drops its write-ahead log)
    except Exception as exc:  # noqa: BLE001 - a store that does not open is the failure counted
        return Trial(delay, killed, "BETWEEN", False, False, f"does not open: {exc}")
    if now == setup.before:
        state = "before"
    elif now == setup.after:
        state = "after"
    else:
        state, note = "BETWEEN", f"counts {now.counts}"
    raw_ok = all(
        hashlib.sha256(p.read_bytes()).hexdigest() == p.name
        for p in raw_uploads.folder(db).iterdir()
        if raw_uploads.SHA256.fullmatch(p.name)
    )
    rerun = subprocess.run(ingest_command(db, setup.csv), cwd=ROOT, env=child_env(),
                           capture_output=True, text=True, timeout=600)
    rerun_ok = rerun.returncode == 0 and State.of(db) == setup.after
    if not rerun_ok:
        note += f" re-run exit {rerun.returncode}: {rerun.stderr.strip()[-300:]}"
    shutil.rmtree(db.parent, ignore_errors=True)
    return Trial(delay, killed, state, raw_ok, rerun_ok, note.strip())


def run_trials(setup: Setup, trials: int, seed: int, echo=print) -> list[Trial]:
    """``trials`` kills at delays drawn uniformly over a whole ingest's duration (an ingest that
    finished before its kill does not count as one: another trial is drawn)."""
    rng = random.Random(seed)
    out: list[Trial] = []
    i = 0
    while sum(t.killed for t in out) < trials and i < 2 * trials:
        delay = rng.uniform(0.0, setup.full_seconds)
        trial = run_trial(setup, i, delay)
        out.append(trial)
        i += 1
        echo(
            f"trial {i:2d}: kill after {delay:5.2f} s"
            f"{'' if trial.killed else ' (the ingest had finished)'} -> store {trial.state}, "
            f"raw bytes {'ok' if trial.raw_ok else 'DAMAGED'}, "
            f"re-run {'ok' if trial.rerun_ok else 'FAILED'}"
            f"{' - ' + trial.note if trial.note else ''}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="funnel-crash-") as tmp:
        setup = prepare(Path(tmp), args.rows, args.seed)
        print(f"{args.rows:,}-row ingest takes {setup.full_seconds:.2f} s from process start; "
              f"before: {setup.before.counts}, after: {setup.after.counts} "
              f"({', '.join(TABLES)})")
        trials = run_trials(setup, args.trials, args.seed)
    kills = sum(t.killed for t in trials)
    intact = sum(t.intact for t in trials if t.killed)
    states = {s: sum(t.state == s for t in trials if t.killed) for s in ("before", "after")}
    finished = len(trials) - kills
    late = f"; {finished} ingests finished before their kill, not counted" if finished else ""
    print(f"crash trials: kills {kills} x intact stores {intact} "
          f"({states['before']} as before, {states['after']} with the whole upload{late})")
    return 0 if intact == kills and all(t.intact for t in trials) else 1


if __name__ == "__main__":
    sys.exit(main())
