"""Shared fixtures: one real embedded PostgreSQL for the session, a fresh database per test.

Every test that touches the database gets its own database (``fresh_db``), so
tests never see each other's rows; the CLI and dbt find it through
``KPI_PGDATABASE``.

Speed (the suite runs under pytest-xdist, ``-n 2``, see pyproject.toml):

* each pytest process (xdist worker) has its own embedded server and its own
  view of the project (:func:`project_view`: links to the sources, private
  ``target/``, ``logs/`` and ``.kpi/``), so concurrent dbt runs never share
  dbt's partial-parse file, manifest or log;
* ``fresh_db`` always has the same name (dropped and re-created per test), so
  consecutive ``kpi build`` calls of different tests see the same dbt profile
  and reuse dbt's partial parse instead of re-parsing the whole project;
* xdist hands out one test module at a time (module fixtures are built once),
  the modules using the session's ``built_warehouse`` together (one worker
  builds it, once), slowest first (:func:`pytest_xdist_make_scheduler`).
"""

from __future__ import annotations

import csv
import functools
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from kpiwh import db

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "data"  # raw-data fixtures (tests/fixtures is dbt's unit-test fixture folder)

os.environ["KPI_PROJECT_DIR"] = str(ROOT)
os.environ.pop("KPI_TARGET", None)
os.environ.pop("DBT_PROFILES_DIR", None)
for _v in ("DBT_TARGET_PATH", "DBT_LOG_PATH", "DBT_PARTIAL_PARSE_FILE_PATH"):  # the project view decides these
    os.environ.pop(_v, None)

# the modules with a test reading the session's built warehouse are one xdist work unit, so it is built once
BUILT_WAREHOUSE_GROUP = "built_warehouse"
# what project_view does not link: state that must stay private to one pytest process
PRIVATE = {"target", "logs", ".kpi", ".git", ".venv", ".pytest_cache", "build"}
# the slowest modules first (seconds in the last serial CI run), so that the two xdist workers
# do not end with one of them alone on a long module; the built_warehouse modules always lead
SLOW_FIRST = [
    "test_platform_marts",
    "test_bookings_marts",
    "test_partners_alerts",
    "test_marketplace",
    "test_nulls",
    "test_status",
    "test_faults",
    "test_publish",
    "test_lint",
    "test_loyalty",
]


@functools.cache
def _uses_built_warehouse(module_file: str) -> bool:
    """Whether a test module (path relative to the rootdir or absolute) uses the ``built_warehouse`` fixture."""
    path = Path(module_file)
    path = path if path.is_absolute() else ROOT / path
    try:
        return "built_warehouse" in path.read_text(encoding="utf-8")
    except OSError:
        return False


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Order: the built_warehouse modules, then ``SLOW_FIRST``, then the rest (order kept inside a module).

    Under xdist (``--no-loadscope-reorder``) this is the order in which work units are handed out.
    """

    def rank(item) -> int:
        mod = item.module.__name__
        if _uses_built_warehouse(str(item.path)):
            return 0
        return 1 + SLOW_FIRST.index(mod) if mod in SLOW_FIRST else 1 + len(SLOW_FIRST)

    items.sort(key=rank)  # stable


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """xdist work units: one per test module (module fixtures built once), except that every module
    using ``built_warehouse`` is in one unit (one worker builds it, once).

    (xdist's own ``--dist loadgroup`` marks cannot do it with pytest 9: it renames ``item._nodeid``,
    which pytest 9 no longer reads.)
    """
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415  (pytest-xdist: ~0.2 s import, only under -n)

    class ModuleUnits(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return BUILT_WAREHOUSE_GROUP if _uses_built_warehouse(module) else module

    return ModuleUnits(config, log)


def project_view(base: Path) -> Path:
    """A private view of the project under ``base``: symlinks to ROOT's sources, its own state folders.

    dbt writes ``target/`` (manifest, partial-parse file, compiled SQL) and
    ``logs/``, the CLI ``.kpi/`` (profiles, demo data) inside the project: two
    pytest processes running dbt at once must not share them.
    """
    view = base / "project"
    view.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in PRIVATE:
            (view / entry.name).symlink_to(entry)
    return view


@pytest.fixture(scope="session", autouse=True)
def project_dir(tmp_path_factory) -> Path:
    """The project directory the CLI and dbt use in this pytest process (``KPI_PROJECT_DIR``)."""
    view = project_view(tmp_path_factory.getbasetemp())
    os.environ["KPI_PROJECT_DIR"] = str(view)
    return view


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """Start an embedded PostgreSQL in a temporary data folder for the whole session."""
    pgdata = tmp_path_factory.mktemp("pg") / "data"
    os.environ["KPI_PGDATA"] = str(pgdata)
    st = db.start(pgdata)
    yield st
    db.stop(pgdata)


def admin_conn(server) -> psycopg.Connection:
    """Autocommit connection to the maintenance database of ``server``."""
    return psycopg.connect(host=str(server.socket_dir), user="postgres", dbname="postgres", autocommit=True)


FRESH_DB = "t_fresh"


@pytest.fixture
def fresh_db(pg_server, monkeypatch):
    """Create an empty database for one test, point KPI_PGDATABASE at it, drop it after.

    Always the same name (tests of one process run one after the other; the
    database is dropped and created anew for each): dbt's profile, and so its
    partial-parse state, stay the same from one test's build to the next.
    """
    name = FRESH_DB
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{name}" with (force)')
        c.execute(f'create database "{name}"')
    monkeypatch.setenv("KPI_PGDATABASE", name)
    yield name
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def conn(fresh_db, pg_server):
    """Autocommit connection to the test's fresh database."""
    with psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=fresh_db, autocommit=True) as c:
        yield c


@dataclass(frozen=True)
class BuiltWarehouse:
    """A fully built warehouse shared by the whole session (see ``built_warehouse``)."""

    dbname: str
    socket_dir: Path
    demo: subprocess.CompletedProcess  # the `kpi demo` run that built it

    def connect(self, **kw) -> psycopg.Connection:
        """Autocommit connection as the superuser (override with ``user=``/``dbname=``)."""
        args = {"host": str(self.socket_dir), "user": "postgres", "dbname": self.dbname, "autocommit": True}
        args.update(kw)
        return psycopg.connect(**args)


@pytest.fixture(scope="session")
def built_warehouse(pg_server) -> BuiltWarehouse:
    """One ``kpi demo --tenants 6 --days 30`` per session: every layer built and tested, in database ``t_built``.

    READ-ONLY for the tests that use it (they run in any order): a test that
    writes creates its own ``fresh_db``. Cluster-wide objects (roles) are
    shared by all databases of the session server.
    """
    name = "t_built"
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{name}" with (force)')
        c.execute(f'create database "{name}"')
    r = run_kpi("demo", "--tenants", "6", "--days", "30", env={"KPI_PGDATABASE": name})
    assert r.returncode == 0, f"kpi demo failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return BuiltWarehouse(dbname=name, socket_dir=Path(pg_server.socket_dir), demo=r)


def run_kpi(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the real ``kpi`` CLI in a subprocess (exit codes and stderr as a user sees them)."""
    full_env = {**os.environ, **(env or {}), "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run(
        [sys.executable, "-m", "kpiwh.main", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=os.environ["KPI_PROJECT_DIR"],
        timeout=timeout,
    )


def customer_analytics_rows(conn: psycopg.Connection) -> list[tuple]:
    """Every ``marts.customer_analytics`` row in key order, every column but ``refreshed_at``.

    ``refreshed_at`` is when a row was last recomputed (a run-time value): two builds that
    must agree on the profile differ in it.
    """
    columns = [
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'customer_analytics' and column_name <> 'refreshed_at' order by ordinal_position"
        )
    ]
    assert len(columns) > 60 and columns[-1] == "as_of", columns
    return conn.execute(
        f"select {', '.join(columns)} from marts.customer_analytics order by organization_id, customer_id"
    ).fetchall()


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    """Write a CSV file (None → empty unquoted field = NULL)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])
    return path


def assert_relation_equals_csv(conn: psycopg.Connection, relation: str, expected_csv: Path) -> None:
    """Assert a table holds exactly the rows of a hand-computed CSV (``except`` both ways).

    The CSV header names the columns compared; its values are cast to the
    relation's own column types. On a difference, the message lists the rows
    missing and the rows unexpected.
    """
    with expected_csv.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    cols = ", ".join(f'"{c}"' for c in header)
    conn.execute("drop table if exists pg_temp.expected")
    conn.execute(f"create temp table expected as select {cols} from {relation} limit 0")
    with conn.cursor().copy(f"copy expected ({cols}) from stdin with (format csv, header true)") as cp:
        cp.write(expected_csv.read_bytes())
    missing = conn.execute(f"select {cols} from expected except all select {cols} from {relation}").fetchall()
    extra = conn.execute(f"select {cols} from {relation} except all select {cols} from expected").fetchall()
    if missing or extra:
        lines = [f"{relation} differs from {expected_csv.name} (columns: {', '.join(header)})"]
        lines += [f"  expected, missing: {r}" for r in missing[:20]]
        lines += [f"  actual, unexpected: {r}" for r in extra[:20]]
        pytest.fail("\n".join(lines))
