"""``python -m funnel demo``: the demo store from the bundled exports in data/demo."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_demo_parser(sub) -> None:
    demo = sub.add_parser("demo", help="build the demo store from the bundled files in data/demo")
    demo.add_argument("--db", type=Path)
    demo.add_argument("--force", action="store_true", help="rebuild even if the store exists")


def run_demo(args: argparse.Namespace) -> int:
    from funnel.demo import store as demo

    path = demo.build_demo_store(args.db, force=args.force)
    print(f"demo store ready: {path}")
    return 0
