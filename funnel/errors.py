"""Errors a person meets, each naming the file and, where it applies, the row and column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fix:
    """One thing a person can do so a file loads: give a field a fixed value (``set``) or name
    the column that holds it (``map``). Each surface words it its own way: a ``--set``/``--map``
    on the command line, a box of the mapping table on the Upload page."""

    field: str  # a canonical field (funnel.ingest.mapping.FIELDS)
    action: str  # "set" or "map"
    why: str  # what it is for, in words ("the day these leads came in")
    example: str = ""  # a value to --set ("2024-01-01")
    columns: tuple[str, ...] = ()  # for "map": the file's columns that could hold it
    needed: bool = True  # False: the file loads without it, but its figures would be poorer


class IngestError(Exception):
    """A file that cannot be used at all (CLI exit code 1). ``fixes`` say what would make it
    usable, for the surface to word."""

    def __init__(self, file_name: str, message: str, fixes: tuple[Fix, ...] = ()):
        super().__init__(f"{file_name}: {message}")
        self.file_name = file_name
        self.message = message
        self.fixes = tuple(fixes)


class UsageError(Exception):
    """A command line that asks for something impossible (CLI exit code 2)."""
