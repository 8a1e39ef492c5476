"""Two weekly Pipedrive deal exports that the follow-up tests (tests/test_follow_up.py,
tests/test_report_follow_up.py) load through the real ingest and work out by hand."""

from __future__ import annotations

import datetime as dt

HEADER = ("Deal - ID,Deal - Status,Deal - Stage,Deal - Deal created,Deal - Won time,"
          "Deal - Lost time,Deal - Lost reason,Deal - Owner,Deal - Source channel,"
          "Deal - Value,Deal - Currency")
# A Pipedrive export of Sunday 8 March 2026: five deals, all open.
FIRST = [
    "1,open,Lead In,2026-03-01 09:00,,,,Ann,Referral,100,USD",
    "2,open,Proposal Made,2026-03-02 10:00,,,,Ann,Referral,200,USD",
    "3,open,Lead In,2026-03-02 10:00,,,,Bob,Referral,300,USD",
    "4,open,Lead In,2026-03-03 10:00,,,,Bob,Cold call,400,USD",
    "6,open,Lead In,2026-03-05 10:00,,,,,Cold call,600,USD",
]
# The same a week later, Sunday 15 March 2026 (the as-of date): what became of them, and three
# deals more. Ann: 1 (open), 2 (won, 200), 7 (lost), 8 (won, 800). Bob: 3, 4, 5 (all lost).
# Deal 6 names no owner. Lost reasons: 3 "Price", 4 "price " (the same reason), 5 "No
# response" (one deal only: "Other"), 7 none.
SECOND = [
    "1,open,Contact Made,2026-03-01 09:00,,,,Ann,Referral,100,USD",
    "2,won,Proposal Made,2026-03-02 10:00,2026-03-10 12:00,,,Ann,Referral,200,USD",
    "3,lost,Lead In,2026-03-02 10:00,,2026-03-12 10:00,Price,Bob,Referral,300,USD",
    "4,lost,Demo Scheduled,2026-03-03 10:00,,2026-03-09 10:00,price ,Bob,Cold call,400,USD",
    "5,lost,Lead In,2026-03-04 10:00,,2026-03-14 10:00,No response,Bob,Cold call,500,USD",
    "6,open,Lead In,2026-03-05 10:00,,,,,Cold call,600,USD",
    "7,lost,Contact Made,2026-03-06 10:00,,2026-03-13 10:00,,Ann,Cold call,700,USD",
    "8,won,Negotiations Started,2026-03-07 10:00,2026-03-14 10:00,,,Ann,Referral,800,USD",
]
FIRST_DAY, SECOND_DAY = dt.date(2026, 3, 8), dt.date(2026, 3, 15)


def csv_text(rows: list[str]) -> str:
    """The export's text: the header, then ``rows``."""
    return HEADER + "\n" + "\n".join(rows) + "\n"
