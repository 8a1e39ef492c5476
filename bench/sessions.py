"""Many dashboard sessions at once while one of them uploads a big file (issue 8, item 1).

A real ``streamlit run app.py`` on a free loopback port serves a demo store. Headless Chromium
(Debian's, through the playwright package) opens ``--sessions`` browser contexts, each its own
dashboard session, that keep browsing Overview, Marketing, Sales, Weekly pack and Allocation
through the sidebar, while the first one uploads a ``--rows`` Pipedrive export through the
Upload page. Meanwhile ``python -m funnel ingest`` is started on the same store file.

What is counted:

- errors: a traceback, "Error", an exception or error box, or lock text on any page; a page
  that does not settle; server log lines with "Traceback" or "lock"; a failed upload;
- before/after: every page view must show exactly what that page showed before the upload
  (seen during a warm-up) or what it shows after it (seen by a fresh session at the end),
  never something else (half an upload, or one chart before and another after);
- the CLI ingest: it must fail at once (exit 1, saying the store is open elsewhere and what to
  do) or succeed; afterwards the store opens and holds exactly the demo's leads plus the
  file's, and the same ingest succeeds once the dashboard is closed.

    python bench/sessions.py [--sessions 10] [--rows 100000] [--timeout 480]

Prints "sessions x errors", the before/after check and the CLI result; exit 1 when any fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "tests"):  # `python bench/sessions.py` puts bench/ first
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from app_helpers import (  # noqa: E402  (tests/app_helpers: the server and Chromium setup)
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_LATEST,
    NAV,
    PAGES,
    streamlit_server,
)

BROWSE = ["overview", "marketing", "sales", "weekly", "allocation"]
SETTLE_TIMEOUT_S = 180.0
ID_OFFSET = 1_000_000  # the upload's deal IDs: new leads, none shared with the demo's
CLI_ID_OFFSET = 50_000_000
CLI_ROWS = 1_000
BAD_WORDS = ("Traceback", "Error", "Exception")
LOCK_TEXT = re.compile(r"\block(ed)?\b|open for writing|connection is busy", re.IGNORECASE)
LOG_BAD = re.compile(r"Traceback|\block", re.IGNORECASE)
# Marketing's inbound-vs-outbound labels: "Inbound936 leads · 63%" (the kinds add up to all).
KIND_TOTAL = re.compile(r"^(?:Inbound|Outbound|Not classed)([\d,]+) leads · ")
# The page, settled: the script not running (stApp's data-test-script-state; the status widget
# alone misses a run blocked on the store lock), something drawn, unchanged over a few polls.
STATE_JS = (
    "() => [document.querySelector('[data-testid=stApp]')?.dataset.testScriptState,"
    " document.querySelector('[data-testid=stMain]')?.scrollHeight,"
    " document.querySelectorAll('.js-plotly-plot .main-svg').length,"
    " document.querySelectorAll('[data-testid=stStatusWidget],"
    " [data-testid=stSkeleton]').length,"
    " document.querySelector('[data-testid=stMainBlockContainer]')?.innerText.length || 0]"
)


@dataclass
class Visit:
    """One page view by one session."""

    session: int
    page: str
    started: float  # seconds since the browsers opened
    seconds: float
    signature: str | None = None  # what the page shows (its text and its charts' text)
    lead_total: int | None = None  # Marketing's inbound + outbound + not classed
    problems: list[str] = field(default_factory=list)


@dataclass
class CliRun:
    """``python -m funnel ingest`` on the store."""

    returncode: int | None
    seconds: float
    output: str


@dataclass
class Result:
    """Everything the run measured."""

    sessions: int
    rows: int
    visits: list[Visit] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    store_before: int = 0
    store_after: int | None = None
    upload_started: float | None = None
    upload_seconds: float | None = None
    cli_while_running: CliRun | None = None
    cli_after: CliRun | None = None

    def phase(self, visit: Visit) -> str:
        """'before', 'after' or 'neither' for one page view."""
        if visit.signature is None:
            return "neither"
        if visit.signature == self.before.get(visit.page):
            return "before"
        return "after" if visit.signature == self.after.get(visit.page) else "neither"

    def phases(self) -> Counter:
        return Counter(self.phase(v) for v in self.visits if v.signature is not None)

    def went_back(self) -> list[Visit]:
        """Views showing the old data after the same session had seen the new."""
        seen_after: set[int] = set()
        back = []
        for v in sorted(self.visits, key=lambda v: v.started + v.seconds):
            phase = self.phase(v)
            if phase == "after":
                seen_after.add(v.session)
            elif phase == "before" and v.session in seen_after:
                back.append(v)
        return back

    def totals_seen(self) -> set[int]:
        return {v.lead_total for v in self.visits if v.lead_total is not None}

    def cli_ok(self) -> bool:
        run = self.cli_while_running
        if run is None:
            return False
        if run.returncode == 0:
            return True
        return (run.returncode == 1 and "open for writing in another process" in run.output
                and "Upload page" in run.output)

    def all_errors(self) -> list[str]:
        errors = list(self.errors)
        for v in self.visits:
            errors += [f"session {v.session} {v.page}: {p}" for p in v.problems]
            if v.signature is not None and self.phase(v) == "neither":
                errors.append(f"session {v.session} {v.page} at {v.started:.0f}s: neither the "
                              "before nor the after page (half an upload, or a mixed page)")
        errors += [f"session {v.session} {v.page}: old data after new" for v in self.went_back()]
        return errors

    def ok(self) -> bool:
        expected_after = self.store_before + self.rows
        return (not self.all_errors() and self.cli_ok() and self.store_after == expected_after
                and self.totals_seen() <= {self.store_before, expected_after}
                and self.cli_after is not None and self.cli_after.returncode == 0)

    def report(self) -> str:
        """The lines the script prints."""
        errors = self.all_errors()
        counts = self.phases()
        views = sum(counts.values())
        waits = [v.seconds for v in self.visits]
        expected_after = self.store_before + self.rows
        lines = [f"sessions x errors: {self.sessions} x {len(errors)}"]
        lines += [f"  {e}" for e in errors[:20]]
        if len(errors) > 20:
            lines.append(f"  ... and {len(errors) - 20} more")
        saw = sorted(self.totals_seen())
        lines.append(
            f"before/after: {views} page views: {counts['before']} before, {counts['after']} "
            f"after, {counts['neither']} neither (half or mixed); {len(self.went_back())} went "
            f"back to old data; lead totals on screen {', '.join(f'{t:,}' for t in saw)} "
            f"(store: {self.store_before:,} before, "
            f"{self.store_after if self.store_after is None else format(self.store_after, ',')}"
            f" after, expected {expected_after:,})"
        )
        if self.upload_seconds is not None:
            lines.append(f"upload: {self.rows:,} rows through the Upload page in "
                         f"{self.upload_seconds:.1f} s; longest page view "
                         f"{max(waits, default=0):.1f} s, median "
                         f"{sorted(waits)[len(waits) // 2] if waits else 0:.1f} s")
        run = self.cli_while_running
        if run is not None:
            message = " ".join(run.output.split())[:300]
            verdict = "as expected" if self.cli_ok() else "NOT as expected"
            lines.append(f"cli ingest while the dashboard ran: exit {run.returncode} after "
                         f"{run.seconds:.1f} s ({verdict}): {message}")
        if self.cli_after is not None:
            intact = "yes" if self.store_after == expected_after else "NO"
            again = self.cli_after
            lines.append(f"store intact afterwards: {intact} ({self.store_after or 0:,} leads); "
                         f"same ingest after the dashboard closed: exit {again.returncode} in "
                         f"{again.seconds:.1f} s")
        lines.append("result: " + ("PASS" if self.ok() else "FAIL"))
        return "\n".join(lines)


# --- files and the store ---------------------------------------------------------------------


# The demo's last snapshot repeated with new deal IDs (only the ID column changes).
REPEAT_DEALS_SQL = """
COPY (
    SELECT d.* REPLACE (($offset + r.range * 10000 + d."Deal - ID"::BIGINT)::VARCHAR
                        AS "Deal - ID")
    FROM read_csv($source, all_varchar = true) AS d CROSS JOIN range($copies) AS r
    ORDER BY r.range, d."Deal - ID"::BIGINT
    LIMIT $rows
) TO '{path}' (HEADER)
"""


def write_deals(path: Path, rows: int, id_offset: int) -> Path:
    """A Pipedrive deals export of ``rows`` rows: the demo's last snapshot repeated with new
    deal IDs (``id_offset`` + copy * 10,000 + demo ID), written by DuckDB."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        # COPY ... TO takes no parameter for the target: the path is ours, quotes doubled.
        con.execute(REPEAT_DEALS_SQL.format(path=str(path).replace("'", "''")), {
            "offset": id_offset, "source": str(DEMO_LATEST), "copies": rows // 1_000 + 1,
            "rows": rows,
        })
    finally:
        con.close()
    return path


def lead_total(db: Path) -> int:
    """The store's lead count as Marketing adds it up (``leads_by_channel``, all dates)."""
    from funnel.metrics import metrics
    from funnel.store import connection as store

    con = store.connect(db, read_only=True)
    try:
        return int(metrics.METRICS["leads_by_channel"](con)["leads"].sum())
    finally:
        con.close()


def cli_ingest(db: Path, csv: Path, timeout: float = 120.0) -> CliRun:
    """``python -m funnel ingest --db DB CSV``: its exit code, time and output."""
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "funnel", "ingest", "--db", str(db), str(csv)],
            cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        )
        return CliRun(proc.returncode, time.monotonic() - start, proc.stdout + proc.stderr)
    except subprocess.TimeoutExpired as exc:
        return CliRun(None, time.monotonic() - start, f"no answer after {timeout:.0f} s: {exc}")


def progress(text: str) -> None:
    print(f"[sessions] {text}", file=sys.stderr, flush=True)


def server_log_problems(log: Path) -> list[str]:
    if not log.exists():
        return [f"server log {log} missing"]
    return [f"server log: {line.strip()[:200]}" for line in log.read_text().splitlines()
            if LOG_BAD.search(line)]


# --- one browser session ---------------------------------------------------------------------


async def settle(page, timeout: float = SETTLE_TIMEOUT_S) -> None:
    """Wait until the script finished and the page stopped changing (charts drawn)."""
    await page.wait_for_selector("[data-testid='stMainBlockContainer']",
                                 timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    last, stable = None, 0
    while stable < 4:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the page did not settle within {timeout:.0f} s")
        await page.wait_for_timeout(400)
        state = await page.evaluate(STATE_JS)
        busy = state[0] != "notRunning" or state[3] > 0 or state[4] == 0
        stable = 0 if busy or state != last else stable + 1
        last = state


async def open_page(page, base_url: str, name: str) -> None:
    """Go to a page through the sidebar (same session) or, the first time, by its URL."""
    link_text, title = NAV[name]
    link = page.locator("[data-testid='stSidebarNavLink']", has_text=link_text)
    if page.url.startswith(base_url) and await link.count():
        await link.first.click()
    else:
        await page.goto(f"{base_url}/{PAGES[name]}", wait_until="domcontentloaded")
    await page.locator("h1", has_text=title).first.wait_for(timeout=SETTLE_TIMEOUT_S * 1000)
    await settle(page)


async def problems_on(page) -> list[str]:
    found = []
    text = await page.inner_text("[data-testid='stMain']")
    found += [f"{word!r} on the page" for word in BAD_WORDS if word in text]
    match = LOCK_TEXT.search(text)
    if match:
        found.append(f"lock text on the page: {match.group(0)!r}")
    if await page.locator("[data-testid='stException']").count():
        found.append("an exception box")
    if await page.locator("[data-testid='stAlertContentError']").count():
        found.append("an error box")
    return found


async def signature(page) -> tuple[str, int | None]:
    """What the page shows: its text and its charts' text; and the lead total if drawn."""
    text = await page.inner_text("[data-testid='stMain']")
    charts = await page.eval_on_selector_all(".js-plotly-plot text",
                                             "els => els.map(e => e.textContent)")
    totals = [int(m.group(1).replace(",", "")) for m in map(KIND_TOTAL.match, charts) if m]
    total = sum(totals) if totals else None
    return " ".join(text.split()) + "\n" + "|".join(charts), total


async def view(page, url: str, name: str, session: int, t0: float) -> Visit:
    """Open one page and record what it shows and what went wrong."""
    start = time.monotonic()
    visit = Visit(session, name, start - t0, 0.0)
    try:
        await open_page(page, url, name)
        visit.problems = await problems_on(page)
        visit.signature, visit.lead_total = await signature(page)
    except Exception as exc:  # a page that never settles is an error like any other
        visit.problems.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    visit.seconds = time.monotonic() - start
    return visit


async def upload(page, url: str, csv: Path, result: Result, t0: float) -> None:
    """Session 0: load ``csv`` through the Upload page, as a person would."""
    await open_page(page, url, "upload")
    result.upload_started = time.monotonic() - t0
    start = time.monotonic()
    await page.locator("input[type=file]").first.set_input_files(str(csv))
    await page.get_by_text("Looks like an export from").wait_for(timeout=300_000)
    await settle(page)
    await page.get_by_role("button", name=re.compile("Load this file")).click()
    await page.get_by_text("What was loaded").wait_for(timeout=300_000)
    await settle(page)
    result.upload_seconds = time.monotonic() - start
    text = await page.inner_text("[data-testid='stMain']")
    if f"{result.rows:,}" not in text:
        result.errors.append(f"upload: the Upload page does not show {result.rows:,} rows")
    result.errors += [f"upload page: {p}" for p in await problems_on(page)]


# --- the run ---------------------------------------------------------------------------------


async def _browse(contexts, url: str, result: Result, csv: Path, db: Path, cli_csv: Path,
                  deadline: float) -> None:
    t0 = time.monotonic()
    pages = [await ctx.new_page() for ctx in contexts]

    # Warm-up: every session sees every page once; they must all agree (the "before").
    async def warm(i: int, page) -> list[Visit]:
        await asyncio.sleep(i * 0.5)
        order = BROWSE[i % len(BROWSE):] + BROWSE[:i % len(BROWSE)]
        return [await view(page, url, name, i, t0) for name in order]

    progress(f"{len(pages)} sessions open every page once (the 'before')")
    for visits in await asyncio.gather(*(warm(i, p) for i, p in enumerate(pages))):
        result.visits += visits
    for name in BROWSE:
        seen = {v.signature for v in result.visits if v.page == name and v.signature}
        if len(seen) != 1:
            result.errors.append(f"{name}: {len(seen)} different pages before the upload")
        else:
            result.before[name] = seen.pop()

    upload_done = asyncio.Event()
    rounds_after: dict[int, int] = {}

    async def keep_browsing(i: int, page) -> None:
        n = i
        while time.monotonic() < deadline:
            name = BROWSE[n % len(BROWSE)]
            visit = await view(page, url, name, i, t0)
            result.visits.append(visit)
            n += 1
            if upload_done.is_set() and visit.started > (result.upload_started or 0) + (
                    result.upload_seconds or 0):
                rounds_after[i] = rounds_after.get(i, 0) + 1
                if rounds_after[i] >= len(BROWSE):
                    return

    async def uploader(page) -> None:
        progress(f"session 0 uploads {result.rows:,} rows; the others keep browsing")
        try:
            await upload(page, url, csv, result, t0)
        except Exception as exc:
            result.errors.append(f"upload failed: {type(exc).__name__}: "
                                 f"{str(exc).splitlines()[0][:200]}")
        finally:
            upload_done.set()
        await keep_browsing(0, page)

    async def cli_meanwhile() -> None:
        # Started with the upload: the dashboard holds the file open for writing all along.
        await asyncio.sleep(1.0)
        result.cli_while_running = await asyncio.to_thread(cli_ingest, db, cli_csv)

    await asyncio.gather(uploader(pages[0]), cli_meanwhile(),
                         *(keep_browsing(i, p) for i, p in enumerate(pages) if i))
    if time.monotonic() >= deadline:
        result.errors.append("the run hit its time limit before every session browsed after "
                             "the upload")


async def _run(url: str, result: Result, csv: Path, db: Path, cli_csv: Path,
               timeout: float) -> None:
    from playwright.async_api import async_playwright

    deadline = time.monotonic() + timeout
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            contexts = [await browser.new_context(viewport={"width": 1400, "height": 900})
                        for _ in range(result.sessions)]
            await _browse(contexts, url, result, csv, db, cli_csv, deadline)
            for ctx in contexts:
                await ctx.close()
            # The "after": a fresh session once nothing is writing.
            progress("a fresh session opens every page (the 'after')")
            fresh = await (await browser.new_context(
                viewport={"width": 1400, "height": 900})).new_page()
            t0 = time.monotonic()
            for name in BROWSE:
                visit = await view(fresh, url, name, -1, t0)
                result.errors += [f"fresh session {name}: {p}" for p in visit.problems]
                if visit.signature:
                    result.after[name] = visit.signature
        finally:
            await browser.close()


def run(sessions: int = 10, rows: int = 100_000, timeout: float = 480.0,
        workdir: Path | None = None) -> Result:
    """The whole measurement; the server and the browser are always stopped."""
    from funnel.demo import store as demo

    result = Result(sessions=sessions, rows=rows)
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sessions-")))
        db = demo.build_demo_store(workdir / "funnel.duckdb")
        csv = write_deals(workdir / "pipedrive_deals_2026-11-22.csv", rows, ID_OFFSET)
        cli_csv = write_deals(workdir / "cli" / "pipedrive_deals_2026-11-22.csv", CLI_ROWS,
                              CLI_ID_OFFSET)
        result.store_before = lead_total(db)
        # As deployed: no watching of the source files (an edit made while the bench runs
        # would otherwise reload modules under the sessions' feet).
        stack.enter_context(_env("STREAMLIT_SERVER_FILE_WATCHER_TYPE", "none"))
        with streamlit_server(db) as url:  # stopped (terminate, then kill) on the way out
            log = ROOT / "test-artifacts" / f"streamlit-{url.rsplit(':', 1)[1]}.log"
            asyncio.run(_run(url, result, csv, db, cli_csv, timeout))
        result.errors += server_log_problems(log)
        try:
            result.store_after = lead_total(db)
        except Exception as exc:
            result.errors.append(f"the store does not open after the run: {exc}")
        result.cli_after = cli_ingest(db, cli_csv)
    return result


@contextlib.contextmanager
def _env(name: str, value: str):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=480.0,
                        help="seconds for the browsing part (default 480)")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing (apt-get install chromium; never `playwright install`)")
        return 2
    result = run(args.sessions, args.rows, args.timeout)
    print(result.report())
    return 0 if result.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
