"""Every query in queries/ stays portable: SQLGlot transpiles it from DuckDB to Postgres and Spark
without error, and the result parses back in that dialect (issue 7, docs/SCALING.md).

Which files are queries is decided by parsing: a statement that is a SELECT (or a UNION etc.)
is checked; DDL and DML (CREATE, INSERT, UPDATE, DELETE, DROP) are not, since they are the
store's own housekeeping and would be rewritten for another engine anyway. ``$name`` parameters
need no substitution: SQLGlot's DuckDB dialect reads them as named placeholders.

A parse alone proves little (SQLGlot reads what it does not know as an opaque command, and a
lone word as a column), so each file must parse to statements of a kind SQLGlot understood,
the kind its name promises; a transpiled query must read back with the same tables,
parameters and output columns; and every query runs on a DuckDB demo store, where SQLGlot's
reading of its output columns must match DuckDB's.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import sqlglot
from app_helpers import copy_store
from sqlglot import exp

from funnel.store import connection as store

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"
TARGETS = ["postgres", "spark"]
SQL_FILES = sorted(QUERIES.rglob("*.sql"))

# What a statement may be. Anything else (exp.Command: SQLGlot gave up and kept the text; a bare
# expression such as a Column) means SQLGlot did not read the statement.
STATEMENT_KINDS = (exp.Query, exp.Create, exp.Insert, exp.Update, exp.Delete, exp.Drop,
                   exp.Alter, exp.Set, exp.Merge)  # MERGE: upserts without a key (DuckLake)
# DuckDB-only housekeeping SQLGlot cannot read as a statement, with the one text allowed.
DUCKDB_ONLY = {"backup/checkpoint": "CHECKPOINT"}
# A file named <prefix>_... holds a statement of this kind ...
# (an upsert is a MERGE: DuckLake has no primary key for INSERT OR REPLACE, issue 19)
NAME_KINDS = {"insert": exp.Insert, "seed": exp.Insert, "upsert": (exp.Insert, exp.Merge),
              "delete": exp.Delete, "drop": exp.Drop, "update": exp.Update}
# ... but for these, whose name says otherwise (each with the kind it holds).
NAMED_OTHERWISE = {
    # makes temp table warned_cells; ingest/keep_warnings inserts the first of them
    "ingest/insert_warnings": exp.Create,
}
# Parameters a query cannot take as NULL, with a value to run it with.
PARAMS = {"backup/table_counts": {"table_name": "leads"}}


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


def _name(path: Path) -> str:
    return _rel(path).removesuffix(".sql")


def _shape(statement: exp.Expression) -> tuple[list[str], list[str], list[str]]:
    """What a transpile must keep: the tables read, the parameters, the output columns."""
    tables = sorted({t.name.lower() for t in statement.find_all(exp.Table)})
    params = sorted({p.name for p in statement.find_all(exp.Placeholder, exp.Parameter)})
    return tables, params, statement.named_selects


def _temp_tables() -> set[str]:
    """The temp tables an ingest stages (made by queries/ files or funnel's SQL builders)."""
    names = set()
    for path in [*SQL_FILES, *(ROOT / "funnel").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"TEMP TABLE (?:IF NOT EXISTS )?(\w+)", text, re.IGNORECASE))
    return names


def test_the_queries_are_found():
    assert len(SQL_FILES) > 20
    assert len(QUERY_FILES) > 10, "no SELECT found: has queries/ moved?"
    assert all((QUERIES / f"{name}.sql").is_file() for name in [*DUCKDB_ONLY, *NAMED_OTHERWISE])


@pytest.mark.parametrize("path", SQL_FILES, ids=_rel)
def test_every_file_parses_to_statements_of_its_kind(path):
    statements = _statements(path)
    name = _name(path)
    assert statements, f"{name} holds no statement"
    if name in DUCKDB_ONLY:
        text = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8")).strip().rstrip(";")
        assert text == DUCKDB_ONLY[name]
        return
    kinds = [type(s).__name__ for s in statements]
    assert all(isinstance(s, STATEMENT_KINDS) for s in statements), kinds
    prefix = path.stem.split("_")[0]
    kind = NAMED_OTHERWISE.get(name, NAME_KINDS.get(prefix))
    if kind is not None:
        assert any(isinstance(s, kind) for s in statements), kinds
    if name.startswith("metrics/"):  # a metric is one SELECT
        assert len(statements) == 1 and isinstance(statements[0], exp.Query), kinds


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
        assert len(out) == 1 and out[0].strip()
        back = sqlglot.parse_one(out[0], read=target)  # it reads back in that dialect ...
        assert isinstance(back, exp.Query)
        # ... as the same query: nothing read, bound or returned was lost on the way
        assert _shape(back) == _shape(sqlglot.parse_one(text, read="duckdb"))


@pytest.fixture(scope="module")
def demo_con(demo_template, tmp_path_factory):
    # a copy: some queries move a sequence on (nextval)
    path = copy_store(demo_template, tmp_path_factory.mktemp("portability") / "demo.duckdb")
    con = store.connect(path)
    yield con
    con.close()


@pytest.mark.parametrize("path", QUERY_FILES, ids=_rel)
def test_query_runs_on_duckdb(path, demo_con):
    """Every query binds and runs on the demo store, its parameters NULL (= no filter), and
    returns the columns SQLGlot read in it. A query over an ingest's staging tables cannot run
    outside an ingest: it must fail for that reason only."""
    statements = [s for s in _statements(path) if isinstance(s, exp.Query)]
    assert len(statements) == 1
    statement = statements[0]
    params = {name: None for name in _shape(statement)[1]} | PARAMS.get(_name(path), {})
    cur = demo_con.cursor()
    try:
        result = cur.execute(path.read_text(encoding="utf-8"), params)
        columns = [d[0] for d in result.description]
        result.fetchall()
    except duckdb.CatalogException as exc:
        missing = re.search(r"Table with name (\w+) does not exist", str(exc))
        assert missing and missing.group(1) in _temp_tables(), str(exc)
        return
    finally:
        cur.close()
    if "*" not in statement.named_selects:
        assert columns == statement.named_selects
