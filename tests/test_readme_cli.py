"""The README's "Command line" block names every command of ``python -m funnel`` with every one
of its options and their fixed choices, read from the parser itself: an option added to a
command and not to the README fails here."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from funnel.cli.main import COMMANDS, build_parser

README = Path(__file__).resolve().parent.parent / "README.md"


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _usage_lines() -> dict[str, str]:
    """Each command's line in the README's Command line block (with its continuation lines)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "no ```bash block under ## Command line"
    joined = re.sub(r"\\\n\s*", " ", block.group(1))  # a line ending in \ goes on
    lines = {}
    for line in joined.splitlines():
        match = re.match(r"python -m funnel ([\w-]+)", line.strip())
        if match:
            lines[match.group(1)] = lines.get(match.group(1), "") + " " + line
    return lines


COMMAND_PARSERS = _commands()


def test_the_parser_and_the_readme_name_the_same_commands():
    assert set(COMMAND_PARSERS) == set(COMMANDS)  # every command can run
    assert set(_usage_lines()) == set(COMMAND_PARSERS)


@pytest.mark.parametrize("command", sorted(COMMAND_PARSERS))
def test_every_option_of_a_command_is_in_its_readme_line(command):
    line = _usage_lines().get(command, "")
    missing = []
    for action in COMMAND_PARSERS[command]._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        for option in action.option_strings:
            if option.startswith("--") and not re.search(re.escape(option) + r"(?![\w-])", line):
                missing.append(option)
        for choice in action.choices or ():  # --format md|json, uploads list|remove
            if not re.search(r"(?<![\w-])" + re.escape(str(choice)) + r"(?![\w-])", line):
                missing.append(f"{action.dest}={choice}")
    assert not missing, f"README.md's line for `{command}` lacks {missing}"
