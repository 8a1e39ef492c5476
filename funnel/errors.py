"""Errors a person meets, each naming the file and, where it applies, the row and column."""


class IngestError(Exception):
    """A file that cannot be used at all (CLI exit code 1)."""

    def __init__(self, file_name: str, message: str):
        super().__init__(f"{file_name}: {message}")
        self.file_name = file_name
        self.message = message


class UsageError(Exception):
    """A command line that asks for something impossible (CLI exit code 2)."""
