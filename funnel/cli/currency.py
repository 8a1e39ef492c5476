"""``python -m funnel currency [CODE]``: the currency money figures add up in."""

from __future__ import annotations

import argparse
from pathlib import Path

from funnel.cli.common import open_store
from funnel.errors import UsageError


def add_currency_parser(sub) -> None:
    cur = sub.add_parser("currency", help="show or set the currency money figures add up in")
    cur.add_argument("code", nargs="?", metavar="CODE", help="e.g. USD, EUR (ISO 4217)")
    cur.add_argument("--db", type=Path)



def run_currency(args: argparse.Namespace) -> int:
    from funnel.store import currency as money

    con = open_store(args.db)
    try:
        if args.code:
            code = money.set_store_currency(con, args.code)
            print(f"money figures now add up {code}; deals in other currencies are left out")
        else:
            code = money.store_currency(con)
            print(code or "no currency yet: the first file that names one sets it")
        return 0
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        con.close()
