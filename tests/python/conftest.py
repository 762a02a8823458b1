"""Shared fixtures: one real embedded PostgreSQL for the session, a fresh database per test.

Every test that touches the database gets its own database (``fresh_db``), so
tests never see each other's rows; the CLI and dbt find it through
``KPI_PGDATABASE``.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "data"  # raw-data fixtures (tests/fixtures is dbt's unit-test fixture folder)

os.environ["KPI_PROJECT_DIR"] = str(ROOT)
os.environ.pop("KPI_TARGET", None)
os.environ.pop("DBT_PROFILES_DIR", None)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """Start an embedded PostgreSQL in a temporary data folder for the whole session."""
    from kpiwh import db

    pgdata = tmp_path_factory.mktemp("pg") / "data"
    os.environ["KPI_PGDATA"] = str(pgdata)
    st = db.start(pgdata)
    yield st
    db.stop(pgdata)


def admin_conn(server) -> psycopg.Connection:
    """Autocommit connection to the maintenance database of ``server``."""
    return psycopg.connect(host=str(server.socket_dir), user="postgres", dbname="postgres", autocommit=True)


@pytest.fixture
def fresh_db(pg_server, monkeypatch):
    """Create an empty database for one test, point KPI_PGDATABASE at it, drop it after."""
    name = "t_" + uuid.uuid4().hex[:12]
    with admin_conn(pg_server) as c:
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
        capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=timeout,
    )


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
