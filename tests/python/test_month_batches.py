"""First builds of long histories run in month batches; the rows equal a day-by-day build.

`kpi build` switches a first/full build whose event-time window spans more
than 62 days to ``microbatch_batch_size: month`` (kpiwh.runner.month_batch_vars);
scheduled runs and backfills keep day batches. The integration test builds the
same generated data both ways in two databases and compares every daily
platform mart row for row.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from conftest import admin_conn, run_kpi
from kpiwh import runner

MARTS = ["metrics_daily_engagement", "metrics_daily_payments", "metrics_daily_content"]
SELECT = " ".join(f"+{m}" for m in MARTS)


def test_month_batches_only_for_long_windows_and_never_over_the_users_choice():
    assert runner.month_batch_vars(("2025-01-01", "2025-03-04"), None) is None  # 62 days
    assert json.loads(runner.month_batch_vars(("2025-01-01", "2025-03-05"), None)) == {
        "microbatch_batch_size": "month"}
    merged = json.loads(runner.month_batch_vars(("2025-01-01", "2026-01-01"), "{as_of: '2026-01-01'}"))
    assert merged == {"as_of": "2026-01-01", "microbatch_batch_size": "month"}
    assert runner.month_batch_vars(("2025-01-01", "2026-01-01"), '{"microbatch_batch_size": "day"}') is None


def test_with_vars_replaces_or_appends():
    assert runner.with_vars(["build", "--vars", "{a: 1}", "-s", "x"], '{"b": 2}') == [
        "build", "--vars", '{"b": 2}', "-s", "x"]
    assert runner.with_vars(["build"], '{"b": 2}') == ["build", "--vars", '{"b": 2}']


def _rows(dbname: str, server) -> dict[str, list[tuple]]:
    with psycopg.connect(host=str(server.socket_dir), user="postgres", dbname=dbname, autocommit=True) as c:
        return {m: c.execute(f"select t::text from marts.{m} t order by 1").fetchall() for m in MARTS}


@pytest.mark.slow
def test_month_batched_build_equals_day_batched_build(pg_server, tmp_path):
    """Same data, two databases: month batches (as a long first build gets) vs day batches."""
    data = tmp_path / "data"
    r = run_kpi("generate", "--out", str(data), "--tenants", "5", "--days", "20", "--scale", "0.3",
                "--start", "2025-01-20")  # crosses a month boundary
    assert r.returncode == 0, r.stderr[-2000:]
    names = ["t_month_batches", "t_day_batches"]
    with admin_conn(pg_server) as c:
        for n in names:
            c.execute(f'drop database if exists "{n}" with (force)')
            c.execute(f'create database "{n}"')
    try:
        for n, size in zip(names, ("month", "day")):
            env = {"KPI_PGDATABASE": n}
            r = run_kpi("load", str(data), env=env)
            assert r.returncode == 0, r.stderr[-2000:]
            r = run_kpi("build", "--select", SELECT, "--exclude", "resource_type:test",
                        "--vars", f"{{microbatch_batch_size: {size}}}", env=env)
            assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        month, day = (_rows(n, pg_server) for n in names)
        for m in MARTS:
            assert len(day[m]) >= 19, f"{m}: only {len(day[m])} days built"
            assert month[m] == day[m], f"{m} differs between month and day batches"
    finally:
        with admin_conn(pg_server) as c:
            for n in names:
                c.execute(f'drop database if exists "{n}" with (force)')
