"""First and full builds are set-based and published atomically (write-audit-publish).

On the hand-made ``platform_small`` fixture, with whole-project builds:

* a concurrent reader samples, in ONE statement (one snapshot), the row counts of
  staging, a daily mart and its weekly rollup while ``kpi build --full-refresh``
  runs over changed data: every sample is entirely the old state or entirely
  the new one, and the shadow schema was seen while it built;
* ``kill -9`` of the CLI in the middle of a full refresh leaves the published
  schemas exactly as they were and readable; the next plain build equals a
  clean build of the same data in another database;
* a failing data test in a full refresh exits 1 naming the test and publishes
  nothing (the published rows are unchanged); so does a row that breaks a
  model's contract (a check constraint);
* a plain ``dbt build`` (not the CLI) on a fresh database runs no microbatch
  batch and writes no daily row for a day without data.

The published warehouse is built once per module and cloned per test
(``CREATE DATABASE ... TEMPLATE``): every test starts from the same first build.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from conftest import FIXTURES, FRESH_DB, ROOT, admin_conn, project_view, run_kpi, write_csv

FIX = FIXTURES / "platform_small"
SAMPLE = (
    "select (select count(*) from staging.stg_platform__events), "
    "(select count(*) from marts.metrics_daily_engagement), "
    "(select count(*) from marts.metrics_weekly_content), "
    "(select count(*) from pg_namespace where nspname = 'marts__wap')"
)
DAILY_MARTS = [
    "metrics_daily_payments",
    "metrics_daily_calls",
    "metrics_daily_engagement",
    "metrics_daily_fulfillment",
    "metrics_daily_content",
    "fct_pilot_daily_metrics",
    "fct_customer_activity",
    "fct_reward_usage",
    "fct_partner_metrics_daily",
    "metrics_daily_deals",
    "fct_appointments_by_location_daily",
]


def _ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    return r


def _kpi_popen(*args: str) -> subprocess.Popen:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.Popen(
        [sys.executable, "-m", "kpiwh.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _new_day(dst: Path, first: int = 800) -> Path:
    """Events on 2025-03-06 (a day the fixture lacks): plays, a notification and 3 published horoscopes."""
    header = (FIX / "events_raw.csv").open(encoding="utf-8").readline().strip().split(",")
    rows = []
    for i, (etype, sign) in enumerate(
        [
            ("horoscope_published", "Leo"),
            ("horoscope_published", "Virgo"),
            ("horoscope_played", None),
            ("horoscope_played", None),
        ]
    ):
        t = f"2025-03-06T1{i}:00:00+00:00"
        meta = json.dumps({"zodiac_sign": sign} if sign else {"listen_pct": 70})
        rows.append(
            [
                f"00000000-0000-4000-8000-{first + i:012d}",
                t,
                t,
                "plt_001",
                "",
                "content",
                etype,
                f"u{i + 1}",
                "",
                "horoscope",
                f"h_new{i}",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                meta,
                "1",
            ]
        )
    write_csv(dst / "events_raw.csv", header, rows)
    return dst


def _rows(conn, relation: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            f"select (to_jsonb(t) - 'dbt_loaded_at' - 'staged_at' - '_loaded_at' - 'previous_event_date')::text "
            f"from {relation} as t order by 1"
        )
    ]


def _published_state(conn) -> dict[str, list[str]]:
    return {
        r: _rows(conn, r)
        for r in (
            "staging.stg_platform__events",
            "marts.metrics_daily_engagement",
            "marts.metrics_daily_content",
            "marts.metrics_weekly_content",
        )
    }


TEMPLATE_DB = "t_publish_template"


@pytest.fixture(scope="module")
def published_template(pg_server):
    """platform_small loaded and built by a whole-project first build (published through shadows), once per module.

    Built under the name of ``fresh_db`` (so dbt's partial parse carries over to the tests'
    builds), then renamed into a template database that each test clones (``published``).
    """
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{TEMPLATE_DB}" with (force)')
        c.execute(f'drop database if exists "{FRESH_DB}" with (force)')
        c.execute(f'create database "{FRESH_DB}"')
    env = {"KPI_PGDATABASE": FRESH_DB}
    _ok(run_kpi("load", str(FIX), env=env))
    r = _ok(run_kpi("build", env=env))
    assert "first or full build" in r.stderr and "published" in r.stderr, r.stderr[-2000:]
    with psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=FRESH_DB, autocommit=True) as c:
        assert c.execute("select count(*) from pg_namespace where nspname like '%%\\_\\_wap'").fetchone() == (0,)
    with admin_conn(pg_server) as c:
        c.execute(f'alter database "{FRESH_DB}" rename to "{TEMPLATE_DB}"')
    yield TEMPLATE_DB
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{TEMPLATE_DB}" with (force)')


@pytest.fixture
def published(pg_server, published_template, monkeypatch):
    """A connection to this test's own copy of the built warehouse (``fresh_db``'s name, cloned from the template)."""
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{FRESH_DB}" with (force)')
        c.execute(f'create database "{FRESH_DB}" template "{published_template}"')
    monkeypatch.setenv("KPI_PGDATABASE", FRESH_DB)
    with psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=FRESH_DB, autocommit=True) as c:
        yield c
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{FRESH_DB}" with (force)')


@pytest.mark.slow
def test_full_refresh_becomes_visible_all_at_once(published, tmp_path):
    conn = published
    before = conn.execute(SAMPLE).fetchone()[:3]
    _ok(run_kpi("load", str(_new_day(tmp_path / "new"))))  # raw changes; the marts do not yet
    samples: list[tuple] = []
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        with psycopg.connect(conn.info.dsn, autocommit=True) as rc:
            while not stop.is_set():
                try:
                    samples.append(rc.execute(SAMPLE).fetchone())
                except psycopg.Error as exc:  # a reader must never fail (relation missing, ...)
                    errors.append(str(exc))
                time.sleep(0.05)

    t = threading.Thread(target=reader)
    t.start()
    try:
        _ok(run_kpi("build", "--full-refresh"))
    finally:
        stop.set()
        t.join()
    after = conn.execute(SAMPLE).fetchone()[:3]
    assert after != before and after[0] == before[0] + 4 and after[1] == before[1] + 1, (before, after)
    assert not errors, errors[:3]
    assert any(s[3] == 1 for s in samples), "the shadow schema was never seen: not a shadow build"
    states = {s[:3] for s in samples}
    assert states <= {before, after}, f"a reader saw a half-published state: {sorted(states - {before, after})}"
    assert before in states


@pytest.mark.slow
def test_kill_9_mid_full_refresh_leaves_the_published_marts_and_the_next_build_equals_a_clean_one(
    published, pg_server, tmp_path
):
    conn = published
    old = _published_state(conn)
    new_dir = _new_day(tmp_path / "new")
    _ok(run_kpi("load", str(new_dir)))
    proc = _kpi_popen("build", "--full-refresh")
    try:
        deadline = time.monotonic() + 300
        while conn.execute("select to_regclass('marts__wap.metrics_daily_engagement') is null").fetchone()[0]:
            assert proc.poll() is None, f"the build ended first:\n{proc.communicate()}"
            assert time.monotonic() < deadline, "the shadow mart never appeared"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # the published schemas are untouched and readable
    assert _published_state(conn) == old

    r = _ok(run_kpi("build"))  # a plain scheduled build: incremental on the published state
    assert "first or full build" not in r.stderr, r.stderr[-2000:]
    assert conn.execute("select count(*) from pg_namespace where nspname like '%%\\_\\_wap'").fetchone() == (0,)
    recovered = _published_state(conn)
    assert recovered != old

    clean = "t_" + uuid.uuid4().hex[:12]
    with admin_conn(pg_server) as c:
        c.execute(f'create database "{clean}"')
    try:
        env = {"KPI_PGDATABASE": clean}
        _ok(run_kpi("load", str(FIX), env=env))
        _ok(run_kpi("load", str(new_dir), env=env))
        _ok(run_kpi("build", env=env))
        with psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=clean, autocommit=True) as cc:
            assert _published_state(cc) == recovered
    finally:
        with admin_conn(pg_server) as c:
            c.execute(f'drop database if exists "{clean}" with (force)')


@pytest.mark.slow
def test_row_breaking_a_contract_in_a_full_refresh_publishes_nothing(published, tmp_path):
    conn = published
    old = _published_state(conn)
    # 13 "zodiac signs" published on one day: zodiac_signs_published 13 > 12 and coverage_rate 13/12
    # break their range constraints (metrics_daily_content's contract)
    header = (FIX / "events_raw.csv").open(encoding="utf-8").readline().strip().split(",")
    rows = []
    for i in range(13):
        t = f"2025-03-06T{i:02d}:00:00+00:00"
        rows.append(
            [
                f"00000000-0000-4000-8000-{700 + i:012d}",
                t,
                t,
                "plt_001",
                "",
                "content",
                "horoscope_published",
                "stf_1",
                "",
                "horoscope",
                f"h_x{i}",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                json.dumps({"zodiac_sign": f"sign{i}"}),
                "1",
            ]
        )
    write_csv(tmp_path / "bad" / "events_raw.csv", header, rows)
    _ok(run_kpi("load", str(tmp_path / "bad")))
    r = run_kpi("build", "--full-refresh")
    assert r.returncode == 1, (r.stdout[-2000:], r.stderr[-2000:])
    assert "constraint metrics_daily_content__" in r.stderr and "not published" in r.stderr, r.stderr[-3000:]
    assert _published_state(conn) == old


@pytest.mark.slow
def test_failing_data_test_in_a_full_refresh_publishes_nothing(published, tmp_path):
    """A data test (a dbt test node, not a constraint) that fails in the shadow build: exit 1 naming it, nothing published."""
    conn = published
    old = _published_state(conn)
    _ok(run_kpi("load", str(_new_day(tmp_path / "new"))))
    # a private view of the project whose tests/ holds one more singular test, failing on the shadow's content
    view = project_view(tmp_path)
    (view / "tests").unlink()
    (view / "tests").mkdir()
    for entry in (ROOT / "tests").iterdir():
        (view / "tests" / entry.name).symlink_to(entry)
    extra = view / "tests" / "extra"
    extra.mkdir()
    (extra / "assert_no_published_leo.sql").write_text(
        "-- fails when the new day's 'Leo' horoscope reached the content mart\n"
        "select * from {{ ref('metrics_daily_content') }} where metric_date = '2025-03-06'\n",
        encoding="utf-8",
    )
    r = run_kpi("build", "--full-refresh", env={"KPI_PROJECT_DIR": str(view)})
    assert r.returncode == 1, (r.stdout[-2000:], r.stderr[-2000:])
    assert "assert_no_published_leo" in r.stderr and "not published" in r.stderr, r.stderr[-3000:]
    assert _published_state(conn) == old


@pytest.mark.slow
def test_plain_dbt_build_on_a_fresh_database_runs_no_batch_and_writes_no_empty_day(conn, fresh_db):
    _ok(run_kpi("load", str(FIX)))
    env = {**os.environ}
    for line in _ok(run_kpi("db", "env")).stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value.strip("'")
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            "from dbt.cli.main import cli; cli()",
            "build",
            "--project-dir",
            os.environ["KPI_PROJECT_DIR"],
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        cwd=os.environ["KPI_PROJECT_DIR"],
    )
    assert r.returncode == 0, r.stdout[-4000:]
    assert "batch" not in r.stdout.lower(), [ln for ln in r.stdout.splitlines() if "batch" in ln.lower()][:5]
    assert conn.execute(
        "select count(*) from ops.etl_job_run_nodes where batches_succeeded is not null or batches_failed is not null"
    ).fetchone() == (0,)
    data_days = {
        d for (d,) in conn.execute("select distinct (occurred_at at time zone 'UTC')::date from raw.events_raw")
    }
    assert data_days
    for mart in DAILY_MARTS:
        day_col = conn.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = %s and column_name in ('metric_date', 'activity_date', 'usage_date', 'booking_date')",
            (mart,),
        ).fetchone()[0]
        days = {d for (d,) in conn.execute(f"select distinct {day_col} from marts.{mart}")}
        assert days <= data_days, f"{mart}: rows for days without data: {sorted(days - data_days)[:5]}"
    # the fixture has no partner, bookings or marketplace data: those daily marts are empty
    for mart in ("fct_partner_metrics_daily", "metrics_daily_deals", "fct_appointments_by_location_daily"):
        assert conn.execute(f"select count(*) from marts.{mart}").fetchone() == (0,), mart
