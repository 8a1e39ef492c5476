"""The dashboard's side of the offices test: read the lake over and over, each read one
snapshot, until a stop file appears; write what every read saw as JSON.

    python tests/lake/reader.py ADDRESS STOP_FILE OUT_JSON
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from funnel.metrics import metrics  # noqa: E402
from funnel.store import connection as store  # noqa: E402

# one statement: one snapshot of the lake. Per office, its leads; uploads whose counts do not
# add up (or are not filled in yet: half an upload); leads whose upload is not there.
SNAPSHOT = """
SELECT
    (SELECT coalesce(map(list(office), list(n)), MAP {})
     FROM (SELECT crm_id::BIGINT // 100000 AS office, count(*) AS n FROM leads GROUP BY 1)),
    (SELECT count(*) FROM uploads
     WHERE rows_read = 0 OR rows_read <> rows_loaded + rows_rejected + rows_duplicate),
    (SELECT count(*) FROM leads WHERE last_upload_id NOT IN (SELECT upload_id FROM uploads)),
    (SELECT count(*) FROM uploads)
"""


def main(address: str, stop_file: str, out: str) -> None:
    con = store.connect(address, read_only=True)
    reads = []
    while not Path(stop_file).exists():
        cur = con.cursor()  # one per read, as a dashboard session takes one per query
        offices, bad_uploads, orphans, uploads = cur.execute(SNAPSHOT).fetchone()
        shown = int(metrics.METRICS["leads_by_channel"](cur)["leads"].sum())
        cur.close()
        reads.append({"offices": {str(k): v for k, v in offices.items()},
                      "bad_uploads": bad_uploads, "orphan_leads": orphans, "uploads": uploads,
                      "dashboard_leads": shown})
        time.sleep(0.05)
    Path(out).write_text(json.dumps(reads))


if __name__ == "__main__":
    main(*sys.argv[1:4])
