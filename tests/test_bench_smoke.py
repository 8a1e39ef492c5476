"""The benchmark keeps working: ``python bench/run.py --smoke`` (2k deals) runs to the end and
prints its table. Timings are not asserted here: they are benchmarks, not tests (issue 7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ["what", "measured", "baseline", "ratio", "target", "status"]


def test_bench_smoke_prints_the_table(tmp_path):
    proc = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--data", str(tmp_path / "data")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    header = next((line for line in lines if line.startswith("| what")), None)
    assert header is not None, proc.stdout
    assert [c.strip() for c in header.strip("|").split("|")] == COLUMNS
    rows = [line for line in lines if line.startswith("| ") and line != header]
    statuses = {row.strip("|").split("|")[-1].strip() for row in rows}
    assert statuses <= {"MET", "GAP", "info", "n/a"}, statuses
    what = "\n".join(rows)
    for expected in ("ingest 2k CSV", "peak memory", "report 2k leads", "pandas",
                     "page sales", "Sales page first paint", "time per lead"):
        assert expected in what, f"no '{expected}' line in:\n{proc.stdout}"
    assert any(line.startswith("targets: ") for line in lines)
    assert (tmp_path / "data" / "2k" / "manifest.json").is_file()
