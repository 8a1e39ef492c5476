"""The XLSX reader's own process (``python -m funnel.ingest.xlsx_reader WORKBOOK OUT_DIR``): the
first worksheet written as CSV text, under an address-space and a CPU-time limit it sets on
itself before the reader is imported.

python-calamine allocates every cell of a sheet's used range and aborts the whole process when
it cannot (a Rust allocation failure is no Python exception): in a process of its own, a
crafted 5 KB workbook takes down only this one, and the dashboard refuses the file
(funnel.ingest.xlsx). Writes ``OUT_DIR/rows.csv`` (the header record, then each non-empty row,
every cell as the text a person sees) and ``OUT_DIR/meta.json`` (the header, the spreadsheet
row of the first data row, the empty rows below the header). Exit 0 done, 3 the workbook
cannot be read (the reason on stderr), 4 out of memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import resource
import sys
from pathlib import Path

READ_ERROR, OUT_OF_MEMORY = 3, 4


def limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    """This process may map at most ``memory_bytes`` and spend ``cpu_seconds`` of CPU."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))


def cell_text(cell) -> str:
    """An XLSX cell as the text a person sees (dates ISO, whole numbers without '.0')."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, (dt.date, dt.time)):
        return cell.isoformat()
    if isinstance(cell, dt.timedelta):
        return str(cell)
    return str(cell)


def convert(workbook: Path, out: Path) -> dict:
    """Write the first sheet of ``workbook`` as ``out/rows.csv``; returns what meta.json holds."""
    from python_calamine import CalamineWorkbook  # after the limits: it is what they bound

    sheet = CalamineWorkbook.from_path(str(workbook)).get_sheet_by_index(0)
    lead = [""] * sheet.start[1] if sheet.start else []  # the empty columns before the range
    headers: list[str] | None = None
    first_row, empty_rows, written = None, [], 0
    fd = os.open(out / "rows.csv", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for index, row in enumerate(sheet.iter_rows()):
            cells = lead + [cell_text(c) for c in row]
            if headers is None:
                if any(cells):
                    headers = [c.strip() for c in cells]
                    first_row = index + 2
                    writer.writerow(headers)
                continue
            if any(cells):  # an empty row, as in a CSV: not a row read
                writer.writerow(cells[: len(headers)] + [""] * (len(headers) - len(cells)))
                written += 1
            else:
                empty_rows.append(index + 1)
    return {"headers": headers, "first_row": first_row, "empty_rows": empty_rows,
            "rows": written}


def main(argv: list[str]) -> int:
    workbook, out, memory_mb, cpu_seconds = Path(argv[0]), Path(argv[1]), int(argv[2]), int(argv[3])
    limit_self(memory_mb << 20, cpu_seconds)
    try:
        meta = convert(workbook, out)
    except MemoryError:
        return OUT_OF_MEMORY
    except Exception as exc:  # noqa: BLE001 - calamine raises its own types for broken files
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(message, file=sys.stderr)
        return READ_ERROR
    fd = os.open(out / "meta.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(meta, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
