"""``python -m funnel map``: see and change the channel and stage synonyms (issue 14).

``map channel "Web Research=organic_search"`` maps a raw value (stored leads move at once),
``map --list`` shows every raw value in the store with what it maps to, who decided and how
many leads, ``map --undo channel "Web Research"`` puts back what the last change replaced.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from funnel.cli.common import DB_HELP, open_store
from funnel.errors import UsageError

DECIDED = {"default": "Funnel's default", "user": "you", "none": "no one yet"}


def add_map_parser(sub) -> None:
    cmd = sub.add_parser("map", help="see, change or undo channel and stage synonyms")
    cmd.add_argument("kind", nargs="?", choices=["channel", "stage"],
                     help="which synonyms: channel or stage")
    cmd.add_argument("pair", nargs="?", metavar="RAW=TARGET",
                     help='e.g. "Web Research=organic_search" or "Initial Offer=qualified"; '
                     "with --undo, the raw value alone")
    cmd.add_argument("--list", action="store_true",
                     help="every raw value in the store, what it maps to, who decided, leads")
    cmd.add_argument("--undo", action="store_true",
                     help="undo the last change of the raw value's synonym")
    cmd.add_argument("--new-kind", dest="channel_kind", default="unknown",
                     choices=["inbound", "outbound", "unknown"],
                     help="for a new channel: inbound, outbound or unknown (default)")
    cmd.add_argument("--json", action="store_true", help="--list as JSON lines")
    cmd.add_argument("--db", type=Path, help=DB_HELP)


def run_map(args: argparse.Namespace) -> int:
    from funnel.ingest import synonym_edits as synonyms

    if not args.list and not (args.kind and args.pair):
        raise UsageError('give --list, or channel|stage "RAW=TARGET" (or --undo and RAW)')
    con = open_store(args.db)
    try:
        if args.list:
            return _list(synonyms.synonym_table(con), args.json)
        if args.undo:
            undone = synonyms.undo(con, args.kind, args.pair)
            if undone is None:
                print(f"nothing to undo for the {args.kind} value {args.pair!r}")
                return 0
            target = undone["target"] or "nothing (its own channel, or New)"
            print(f"{args.kind} {args.pair!r} maps to {target} again; "
                  f"{undone['leads']:,} stored leads moved back")
            return 0
        raw, sep, target = args.pair.partition("=")
        if not sep or not raw.strip() or not target.strip():
            raise UsageError(f'write it as {args.kind} "RAW=TARGET", e.g. "Web Research='
                             'organic_search"')
        try:
            if args.kind == "channel":
                moved = synonyms.save_channel_synonym(con, raw.strip(), target.strip(),
                                                      args.channel_kind)
            else:
                moved = synonyms.save_stage_synonym(con, raw.strip(), target.strip().lower())
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        print(f"{args.kind} {raw.strip()!r} now maps to {target.strip()}; {moved:,} stored leads "
              "moved (undo: --undo)")
        return 0
    finally:
        con.close()


def _list(table, as_json: bool) -> int:
    for row in table.itertuples(index=False):
        record = {"kind": row.kind, "raw_value": row.raw_value, "maps_to": row.target,
                  "decided_by": row.decided_by, "leads": int(row.leads)}
        if as_json:
            print(json.dumps(record))
        else:
            print(f"{row.kind:<8} {row.raw_value!r} -> {row.target_label or row.target} "
                  f"({DECIDED.get(row.decided_by, row.decided_by)}; {int(row.leads):,} leads)")
    if not len(table) and not as_json:
        print("no channel or stage values stored yet: ingest a file first")
    return 0
