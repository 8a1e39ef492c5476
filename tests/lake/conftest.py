"""The lake suite (issue 19): Funnel on DuckLake, Parquet files plus a catalog in a throwaway
Postgres cluster (or in a catalog file), on duckdb 1.4.x with requirements-lake.txt.

It runs in its own environment (``bash .ci/lake``, which ``.ci/run`` calls after the main
suite): on duckdb 2.x (the main suite) every test here skips, saying so. In the lake
environment a missing extension or PostgreSQL skips only outside CI: ``CI=true`` (or
``FUNNEL_REQUIRE_LAKE=1``) makes it a failure.

The cluster: ``initdb`` into a temp folder, started on a free loopback port (TCP on 127.0.0.1
only, its socket in that folder), trust authentication (nothing but this machine reaches it),
stopped and deleted when the session ends. As root it runs as the ``postgres`` account (or
``nobody``): PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = os.environ.get("CI") == "true" or os.environ.get("FUNNEL_REQUIRE_LAKE") == "1"
PG_USER = "funnel"  # the cluster's superuser, named at initdb


def _lake_python_problem() -> str | None:
    """Why this Python cannot open a lake store, or None."""
    from funnel.store import lake

    try:
        lake.extension_directory()
    except lake.LakeUnavailableError as exc:
        return str(exc)
    return None


def pytest_configure(config):
    config.addinivalue_line("markers", "lake_unavailable(reason): this Python has no DuckLake")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    mine = [i for i in items if Path(str(i.fspath)).parent == here]
    if not mine:
        return
    if not duckdb.__version__.startswith("1.4."):
        reason = (f"the lake suite runs on duckdb 1.4.x (this is {duckdb.__version__}): "
                  "bash .ci/lake runs it (.ci/run does, after the main suite)")
        for item in mine:
            item.add_marker(pytest.mark.skip(reason=reason))
        return
    problem = _lake_python_problem()
    if problem:
        for item in mine:
            item.add_marker(pytest.mark.lake_unavailable(problem))


@pytest.fixture(autouse=True)
def _lake_available(request):
    marker = request.node.get_closest_marker("lake_unavailable")
    if marker:
        unavailable(marker.args[0])


def unavailable(reason: str) -> None:
    """Skip outside CI, fail in it."""
    if REQUIRED:
        pytest.fail(f"{reason} (CI=true: the lake suite must run)")
    pytest.skip(reason)


def postgres_bin() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<ver>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").is_file():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1:``port``."""

    def __init__(self, bin_dir: Path, folder: Path, port: int, as_user: list[str]):
        self.bin_dir, self.folder, self.port, self.as_user = bin_dir, folder, port, as_user
        self._names = itertools.count(1)

    def server(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        """Run initdb/pg_ctl as the account that owns the cluster."""
        return subprocess.run([*self.as_user, str(self.bin_dir / tool), *args],
                              capture_output=True, text=True, timeout=120)

    def new_database(self) -> str:
        """A new empty database; its libpq conninfo."""
        name = f"lake{next(self._names)}"
        done = subprocess.run(
            [str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
             "-U", PG_USER, name], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return f"dbname={name} host=127.0.0.1 port={self.port} user={PG_USER}"


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL cluster for the session (initdb, start; stop and delete at the end)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        unavailable("PostgreSQL's initdb not found (Debian: apt-get install postgresql; "
                    ".ci/run installs it as root)")
    folder = Path(tempfile.mkdtemp(prefix="funnel-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres will not run as root
        account = "postgres"
        try:
            pwd.getpwnam(account)
        except KeyError:
            account = "nobody"
        os.chown(folder, pwd.getpwnam(account).pw_uid, -1)
        as_user = ["runuser", "-u", account, "--"]
    cluster = Cluster(bin_dir, folder, _free_port(), as_user)
    data = folder / "data"
    made = cluster.server("initdb", "-D", str(data), "-U", PG_USER, "--auth=trust",
                          "-E", "UTF8", "--no-sync")
    if made.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"initdb failed: {made.stderr}")
    options = (f"-p {cluster.port} -c listen_addresses=127.0.0.1 "
               f"-c unix_socket_directories={folder} -c fsync=off -c max_connections=200")
    started = cluster.server("pg_ctl", "-D", str(data), "-o", options,
                             "-l", str(folder / "server.log"), "-w", "-t", "60", "start")
    if started.returncode != 0:
        log = (folder / "server.log").read_text(errors="replace") if (
            folder / "server.log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {started.stderr} {log}")
    try:
        yield cluster
    finally:
        cluster.server("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def pg_lake(postgres, tmp_path) -> str:
    """The address of a new, empty lake whose catalog is a new Postgres database."""
    return f"ducklake:postgres:{postgres.new_database()} data_path={tmp_path / 'lake'}"


@pytest.fixture()
def file_lake(tmp_path) -> str:
    """The address of a new, empty lake whose catalog is a DuckDB file."""
    return f"ducklake:{tmp_path / 'catalog.ducklake'}"


@pytest.fixture(params=["postgres", "catalog_file"])
def any_lake(request) -> str:
    return request.getfixturevalue("pg_lake" if request.param == "postgres" else "file_lake")


def funnel_cli(*args: str, env: dict | None = None, timeout: int = 300):
    """``python -m funnel ARGS`` in this Python, from the project folder."""
    run_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    run_env.pop("FUNNEL_DB", None)
    return subprocess.run([sys.executable, "-m", "funnel", *args], cwd=ROOT, env=run_env,
                          capture_output=True, text=True, timeout=timeout)
