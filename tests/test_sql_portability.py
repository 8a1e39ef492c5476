"""Every query in queries/ stays portable: SQLGlot transpiles it from DuckDB to Postgres and Spark
without error, and the result parses back in that dialect (issue 7, docs/SCALING.md).

Which files are queries is decided by parsing: a statement that is a SELECT (or a UNION etc.)
is checked; DDL and DML (CREATE, INSERT, UPDATE, DELETE, DROP) are not, since they are the
store's own housekeeping and would be rewritten for another engine anyway. ``$name`` parameters
need no substitution: SQLGlot's DuckDB dialect reads them as named placeholders.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

QUERIES = Path(__file__).resolve().parent.parent / "queries"
TARGETS = ["postgres", "spark"]
SQL_FILES = sorted(QUERIES.rglob("*.sql"))


def _statements(path: Path) -> list[exp.Expression]:
    return [s for s in sqlglot.parse(path.read_text(encoding="utf-8"), read="duckdb") if s]


def _query_files() -> list[Path]:
    out = []
    for path in SQL_FILES:
        try:
            statements = _statements(path)
        except sqlglot.errors.ParseError:
            out.append(path)  # fails below with the parser's message
            continue
        if any(isinstance(s, exp.Query) for s in statements):
            out.append(path)
    return out


QUERY_FILES = _query_files()


def _rel(path: Path) -> str:
    return path.relative_to(QUERIES).as_posix()


def test_the_queries_are_found():
    assert len(SQL_FILES) > 20
    assert len(QUERY_FILES) > 10, "no SELECT found: has queries/ moved?"


@pytest.mark.parametrize("path", SQL_FILES, ids=_rel)
def test_every_file_parses_as_duckdb(path):
    _statements(path)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("path", QUERY_FILES, ids=_rel)
def test_query_transpiles(path, target):
    statements = _statements(path)
    if all(isinstance(s, exp.Query) for s in statements):
        texts = [path.read_text(encoding="utf-8")]
    else:  # a file mixing a query with DDL/DML: check its queries only
        texts = [s.sql(dialect="duckdb") for s in statements if isinstance(s, exp.Query)]
    for text in texts:
        out = sqlglot.transpile(
            text,
            read="duckdb",
            write=target,
            error_level=sqlglot.ErrorLevel.RAISE,
            unsupported_level=sqlglot.ErrorLevel.RAISE,
        )
        assert out and all(sql.strip() for sql in out)
        for sql in out:
            sqlglot.parse_one(sql, read=target)  # what was written reads back in that dialect
