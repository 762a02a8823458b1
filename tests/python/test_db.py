"""The embedded PostgreSQL: start/stop/status/url, outliving a CLI call, crash recovery."""

from __future__ import annotations

import os
import signal
import time

import psycopg
import pytest

from conftest import run_kpi


@pytest.fixture
def own_pgdata(tmp_path, monkeypatch):
    """A separate data folder so these tests never disturb the session server."""
    pgdata = tmp_path / "pg"
    monkeypatch.setenv("KPI_PGDATA", str(pgdata))
    yield pgdata
    run_kpi("db", "stop", env={"KPI_PGDATA": str(pgdata)})


def _pid(pgdata):
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


def test_start_outlives_the_cli_call_and_stop_always_works(own_pgdata):
    env = {"KPI_PGDATA": str(own_pgdata)}
    r = run_kpi("db", "status", env=env)
    assert r.returncode == 1 and "stopped" in r.stdout

    r = run_kpi("db", "start", env=env)
    assert r.returncode == 0, r.stderr
    # the CLI process has exited: the server must still answer
    url = run_kpi("db", "url", env=env).stdout.strip()
    assert url.startswith("postgresql://postgres@/")
    with psycopg.connect(url) as c:
        assert c.execute("select 1").fetchone() == (1,)
    assert run_kpi("db", "status", env=env).returncode == 0
    assert run_kpi("db", "start", env=env).returncode == 0  # idempotent, same server
    assert "stopped" in run_kpi("db", "stop", env=env).stdout
    r = run_kpi("db", "stop", env=env)
    assert r.returncode == 0 and "not running" in r.stdout
    assert run_kpi("db", "status", env=env).returncode == 1


def test_a_new_data_folder_sorts_text_byte_wise_whatever_the_machine_locale(own_pgdata):
    """initdb gets collation C (byte order = code-point order), LC_ALL or not; ctype stays the machine's."""
    env = {"KPI_PGDATA": str(own_pgdata), "LC_ALL": "C.UTF-8"}
    assert run_kpi("db", "start", env=env).returncode == 0
    url = run_kpi("db", "url", env=env).stdout.strip()
    with psycopg.connect(url) as c:
        assert c.execute(
            "select datcollate, datctype from pg_database where datname = current_database()"
        ).fetchone() == ("C", "C.UTF-8")
        # byte order: upper case before lower case, an accented letter after both
        assert [r[0] for r in c.execute("select x from unnest(array['b', 'é', 'a', 'B']) as t(x) order by x")] == [
            "B",
            "a",
            "b",
            "é",
        ]
        assert c.execute("select upper('é')").fetchone() == ("É",)


def test_initdb_locale_environment_is_restored(monkeypatch):
    from kpiwh import db  # noqa: PLC0415  (the module under test, imported where used)

    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.delenv("LC_COLLATE", raising=False)
    monkeypatch.setenv("LC_CTYPE", "POSIX")
    with db._initdb_collation_c():
        assert "LC_ALL" not in os.environ
        assert os.environ["LC_COLLATE"] == "C"
        assert os.environ["LC_CTYPE"] == "C.UTF-8"  # LC_ALL's value, which overrode LC_CTYPE
    assert os.environ["LC_ALL"] == "C.UTF-8"
    assert "LC_COLLATE" not in os.environ
    assert os.environ["LC_CTYPE"] == "POSIX"


def test_sigkilled_server_is_detected_and_restarted(own_pgdata):
    env = {"KPI_PGDATA": str(own_pgdata)}
    assert run_kpi("db", "start", env=env).returncode == 0
    url = run_kpi("db", "url", env=env).stdout.strip()
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("create table kept (x int)")
        c.execute("insert into kept values (42)")
    os.kill(_pid(own_pgdata), signal.SIGKILL)
    time.sleep(0.3)
    r = run_kpi("db", "status", env=env)
    assert r.returncode == 1 and "stopped" in r.stdout, "a killed server must not be reported running"
    r = run_kpi("db", "start", env=env)
    assert r.returncode == 0, r.stderr
    with psycopg.connect(url) as c:  # crash recovery kept committed data
        assert c.execute("select x from kept").fetchone() == (42,)


def test_db_commands_refuse_to_manage_a_real_server(own_pgdata):
    r = run_kpi("--target", "postgres", "db", "start")
    assert r.returncode == 2
    assert "real server" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_database_down_is_a_one_line_error(tmp_path):
    # a real-server target pointing at nothing listening
    env = {"KPI_TARGET": "postgres", "PGHOST": str(tmp_path), "PGPORT": "5999"}
    r = run_kpi("init", env=env)
    assert r.returncode == 1
    assert r.stderr.startswith("error: cannot connect to the database (postgres)")
    assert len(r.stderr.strip().splitlines()) == 1
