"""Job-run log (ops.etl_job_runs / etl_job_run_nodes), `kpi status` and the build lock (seed 004 runbook).

One private database for the module, on the platform_small fixture (days
2025-02-25, 2025-03-03 .. 2025-03-05), driven through the real CLI in this
order (each step's outcome is kept and asserted by the tests below):

1. `kpi build` of the seeds, stg_platform__events, int_payment_attempts_paired,
   metrics_daily_payments (daily mart) and stg_core__tenants — succeeds;
   `kpi status` exits 0.
2. an event trigger makes every CREATE VIEW fail with a message holding a
   quote; `kpi build --select stg_core__tenants` fails; `kpi status` exits 1
   and shows the message.
3. a check constraint on staging.stg_platform__events rejects 2025-03-04;
   `kpi backfill` of 03-03 .. 03-05 on it fails, recorded with its window, and
   the staged days stay intact (the model's one statement rolled back).
4. the lock: a real `kpi build` A is held inside the build by a table lock;
   a second `kpi build` B is refused at once naming A; a third with --wait
   queues and runs after A (their recorded runs do not overlap).
5. 2025-03-04 is deleted from metrics_daily_payments and raw.tenants is
   made 3 days old; `kpi status --freshness --format json` runs `dbt source
   freshness` (recorded by the hook), lists 03-04 among the missing days —
   pending: its events were loaded minutes ago, within --max-wait-hours 24 —
   and exits 1 for the stale source only (the last build succeeded); with
   --max-wait-hours 0 the day is overdue and named in the verdict.
6. one event is loaded (2 hours ago) and not built: `kpi status` exits 1 for
   it with --max-wait-hours 1, not with 3.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from types import SimpleNamespace

import psycopg
import pytest

from conftest import FIXTURES, ROOT, admin_conn, run_kpi
from kpiwh import status as status_mod

pytestmark = pytest.mark.slow

FIX = FIXTURES / "platform_small"
BUILD_SELECT = [
    "iso_country_codes",
    "pii_metadata_keys",
    "stg_platform__events",
    "int_payment_attempts_paired",
    "metrics_daily_payments",
    "stg_core__tenants",
]
# only the tests whose every parent is built (the payments mart's weekly-sum test reads the weekly mart)
CAUTIOUS = {"DBT_INDIRECT_SELECTION": "cautious"}
QUOTED_MESSAGE = "ops test: it's forbidden to create views"


def _ok(r, code: int = 0):
    assert r.returncode == code, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    return r


def _selects(models: list[str]) -> list[str]:
    return [a for m in models for a in ("--select", m)]


def _popen(*args: str, env: dict) -> subprocess.Popen:
    full_env = {**os.environ, **env, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.Popen(
        [sys.executable, "-m", "kpiwh.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        cwd=ROOT,
    )


def _wait_until(conn, query: str, params=(), timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if conn.execute(query, params).fetchone()[0]:
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for: {query}")


LOCK_HELD_BY = (
    "select count(*) > 0 from pg_locks l join pg_stat_activity a using (pid) "
    "where l.locktype = 'advisory' and l.classid = 7041129 and l.objid = 1 and l.granted "
    "and a.application_name like %s"
)
LOCK_WAITERS = (
    "select count(*) > 0 from pg_locks where locktype = 'advisory' and classid = 7041129 and objid = 1 and not granted"
)


@pytest.fixture(scope="module")
def ops_run(pg_server):
    """Run the five steps above in a private database; yield what each produced."""
    name = "t_ops_" + uuid.uuid4().hex[:8]
    with admin_conn(pg_server) as c:
        c.execute(f'create database "{name}"')
    env = {"KPI_PGDATABASE": name, **CAUTIOUS}
    res = SimpleNamespace(db=name, env=env)
    conn = psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=name, autocommit=True)
    try:
        _ok(run_kpi("load", str(FIX), env=env))
        # data tests of these models are not the point here (test_platform_marts runs them): skip them
        res.build_ok = _ok(
            run_kpi(
                "build",
                *_selects(BUILD_SELECT),
                "--format",
                "json",
                env={**env, "DBT_EXCLUDE_RESOURCE_TYPES": "test unit_test"},
            )
        )
        res.status_ok = run_kpi("status", "--format", "json", env=env)

        # 2. a model error whose message holds a quote
        conn.execute(
            "create function ops_test_block_views() returns event_trigger language plpgsql as $$ "
            f"begin raise exception '{QUOTED_MESSAGE.replace(chr(39), chr(39) * 2)}'; end $$"
        )
        conn.execute(
            "create event trigger ops_test_block_views on ddl_command_start when tag in ('CREATE VIEW') "
            "execute function ops_test_block_views()"
        )
        res.build_error = _ok(run_kpi("build", "--select", "stg_core__tenants", env=env), 1)
        conn.execute("drop event trigger ops_test_block_views")
        res.status_error = run_kpi("status", "--days", "3650", env=env)
        res.status_error_json = run_kpi("status", "--days", "3650", "--format", "json", env=env)

        # 3. a failed backfill: re-staging 2025-03-04 violates a constraint
        conn.execute(
            'alter table staging.stg_platform__events add constraint "ops test: no 03-04" '
            "check (event_date <> date '2025-03-04') not valid"
        )
        res.backfill = _ok(
            run_kpi(
                "backfill", "--start", "2025-03-03", "--end", "2025-03-06", "--select", "stg_platform__events", env=env
            ),
            1,
        )
        conn.execute('alter table staging.stg_platform__events drop constraint "ops test: no 03-04"')

        # retention (seed 004: job runs kept 1 year): the next run's hook deletes the 400-day-old run only
        for iid, age in (("old-400d", 400), ("old-300d", 300)):
            conn.execute(
                "insert into ops.etl_job_runs (invocation_id, command, started_at, status, nodes_total, "
                "nodes_ok, nodes_error, nodes_skipped, nodes_warn) "
                "values (%s, 'build', now() - make_interval(days => %s), 'success', 1, 1, 0, 0, 0)",
                (iid, age),
            )
            conn.execute(
                "insert into ops.etl_job_run_nodes (invocation_id, unique_id, resource_type, status) "
                "values (%s, 'model.x.y', 'model', 'success')",
                (iid,),
            )

        # 4. the lock: A holds it while blocked on a table lock the test holds
        blocker = psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=name)
        try:
            blocker.execute("lock table staging.stg_core__tenants in access exclusive mode")
            a = _popen("build", "--select", "stg_core__tenants", env=env)
            _wait_until(conn, LOCK_HELD_BY, (f"kpi-lock kpi build pid {a.pid} %",))
            res.lock_refused = run_kpi("build", "--select", "stg_core__tenants", env=env)
            res.lock_a_pid = a.pid
            b2 = _popen("build", "--select", "stg_core__tenants", "--wait", env=env)
            _wait_until(conn, LOCK_WAITERS)
            assert a.poll() is None, "A finished while it should be blocked"
        finally:
            blocker.rollback()  # releases the table lock: A goes on, then B2
            blocker.close()
        res.lock_a = SimpleNamespace(returncode=a.wait(300), stdout=a.stdout.read(), stderr=a.stderr.read())
        res.lock_b2 = SimpleNamespace(returncode=b2.wait(300), stdout=b2.stdout.read(), stderr=b2.stderr.read())
        a.stdout.close(), a.stderr.close(), b2.stdout.close(), b2.stderr.close()

        # 5. coverage after deleting a day of the daily mart
        conn.execute("delete from marts.metrics_daily_payments where metric_date = date '2025-03-04'")
        # and freshness: tenants loaded 3 days ago (error_after 48 h); events just loaded; the rest empty
        conn.execute("update raw.tenants set _loaded_at = now() - interval '3 days'")
        res.status_final = run_kpi("status", "--days", "7", "--format", "json", "--freshness", env=env)
        res.status_overdue = run_kpi("status", "--days", "7", "--max-wait-hours", "0", env=env)
        res.runs = conn.execute(
            "select invocation_id, command, status, started_at, finished_at, nodes_total, "
            "nodes_ok, nodes_error, nodes_skipped, invoked_via, selector, event_time_start "
            "from ops.etl_job_runs where invocation_id not like 'old-%' "
            "order by started_at"
        ).fetchall()
        res.old_runs = conn.execute(
            "select r.invocation_id, count(n.unique_id) from ops.etl_job_runs r "
            "left join ops.etl_job_run_nodes n using (invocation_id) "
            "where r.invocation_id like 'old-%' group by 1"
        ).fetchall()
        res.old_nodes = conn.execute(
            "select count(*) from ops.etl_job_run_nodes where invocation_id like 'old-%'"
        ).fetchone()[0]

        # 6. an event of 2025-03-05 loaded 2 hours ago that no build has processed yet (what was
        # loaded and staged before is made a day older, so that it was staged before this load)
        conn.execute("update raw.events_raw set _loaded_at = _loaded_at - interval '1 day'")
        conn.execute("update staging.stg_platform__events set _loaded_at = _loaded_at - interval '1 day'")
        conn.execute(
            "create temp table late_event as select * from raw.events_raw "
            "where occurred_at >= '2025-03-05' order by event_id limit 1"
        )
        conn.execute("update late_event set event_id = gen_random_uuid(), _loaded_at = now() - interval '2 hours'")
        conn.execute("insert into raw.events_raw select * from late_event")
        res.status_waiting = run_kpi("status", "--format", "json", "--max-wait-hours", "1", env=env)
        res.status_waiting_ok = run_kpi("status", "--format", "json", "--max-wait-hours", "3", env=env)
        yield res, conn
    finally:
        conn.close()
        with admin_conn(pg_server) as c:
            c.execute(f'drop database if exists "{name}" with (force)')


def _nodes(conn, invocation_id: str) -> dict[str, tuple]:
    rows = conn.execute(
        "select unique_id, resource_type, status, rows_affected, batches_succeeded, batches_failed, "
        "message, execution_seconds from ops.etl_job_run_nodes where invocation_id = %s",
        (invocation_id,),
    ).fetchall()
    return {r[0].split(".", 2)[-1]: r[1:] for r in rows}


def test_successful_build_is_recorded_with_nodes_and_row_counts(ops_run):
    res, conn = ops_run
    summary = json.loads(res.build_ok.stdout)  # --format json: stdout holds only the JSON
    assert summary["success"] is True and summary["problems"] == []
    assert summary["counts"]["model"] == {"success": 4} and summary["counts"]["seed"] == {"success": 2}
    run = res.runs[0]
    assert run[1:3] == ("build", "success")
    assert run[5] == run[6] and run[7] == 0 and run[8] == 0  # every node ok
    assert run[9] == "kpi build"
    assert run[10] == " ".join(BUILD_SELECT)
    assert run[11] is None  # no backfill window: a build takes what was loaded
    assert run[3] <= run[4]
    nodes = _nodes(conn, run[0])
    # seeds: their CSV row counts; a table model: its row count; tests: pass
    iso_rows = sum(1 for _ in (ROOT / "seeds" / "iso_country_codes.csv").open()) - 1
    assert nodes["iso_country_codes"][:3] == ("seed", "success", iso_rows)
    paired = conn.execute("select count(*) from intermediate.int_payment_attempts_paired").fetchone()[0]
    assert nodes["int_payment_attempts_paired"][:3] == ("model", "success", paired)
    # one statement per model, no batches
    staged = conn.execute("select count(*) from staging.stg_platform__events").fetchone()[0]
    assert nodes["stg_platform__events"][:3] == ("model", "success", staged)
    assert nodes["stg_platform__events"][3:5] == (None, None)
    assert nodes["metrics_daily_payments"][3:5] == (None, None)
    assert {v[0] for v in nodes.values()} == {"seed", "model"}  # tests excluded in this step
    assert len(nodes) == run[5] == 6
    assert all(v[6] >= 0 for v in nodes.values())
    assert "operation" not in {v[0] for v in nodes.values()}  # the hook itself is not a node


def test_status_healthy_after_success(ops_run):
    res, _ = ops_run
    assert res.status_ok.returncode == 0, res.status_ok.stderr
    data = json.loads(res.status_ok.stdout)
    assert data["healthy"] is True and data["problems"] == []
    assert [r["status"] for r in data["runs"]] == ["success"]


def test_failed_model_is_recorded_with_its_message(ops_run):
    res, conn = ops_run
    assert "stg_core__tenants" in res.build_error.stderr
    run = res.runs[1]
    assert run[1:3] == ("build", "error")
    assert run[7] == 1  # one node in error
    nodes = _nodes(conn, run[0])
    resource, status, rows, _, _, message, _ = nodes["stg_core__tenants"]
    assert (resource, status) == ("model", "error")
    assert QUOTED_MESSAGE in message  # the quote survived the hook's SQL literal


def test_status_reports_the_failure_and_exits_1(ops_run):
    res, _ = ops_run
    assert res.status_error.returncode == 1
    assert "UNHEALTHY: last run (build" in res.status_error.stdout
    line = next(x for x in res.status_error.stdout.splitlines() if "stg_core__tenants: error:" in x)
    assert QUOTED_MESSAGE in line
    data = json.loads(res.status_error_json.stdout)
    assert res.status_error_json.returncode == 1
    assert data["healthy"] is False
    assert data["runs"][0]["status"] == "error"
    failed = [f for f in data["failures"] if f["unique_id"] == "model.kpi_warehouse.stg_core__tenants"]
    assert failed and QUOTED_MESSAGE in failed[0]["message"]


def test_failed_backfill_is_recorded_with_its_window_and_leaves_the_days_intact(ops_run):
    res, conn = ops_run
    assert "stg_platform__events" in res.backfill.stderr
    run = res.runs[2]
    assert run[1:3] == ("build", "error")
    assert run[9] == "kpi backfill"
    assert run[11] == "2025-03-03"  # the backfill window, [start, end)
    node = _nodes(conn, run[0])["stg_platform__events"]
    assert node[1] == "error" and "ops test: no 03-04" in node[5]
    days = {d for (d,) in conn.execute("select distinct event_date from staging.stg_platform__events")}
    assert {d.isoformat() for d in days} >= {"2025-03-03", "2025-03-04", "2025-03-05"}  # rolled back intact


def test_lock_refuses_a_second_build_and_waits_with_wait(ops_run):
    res, _ = ops_run
    r = res.lock_refused
    assert r.returncode == 1
    line = r.stderr.strip().splitlines()[-1]
    assert f"locked by kpi build pid {res.lock_a_pid} since " in line
    assert "--wait" in line
    assert res.lock_a.returncode == 0, res.lock_a.stderr[-2000:]
    assert res.lock_b2.returncode == 0, res.lock_b2.stderr[-2000:]
    assert "waiting for the build lock held by kpi build" in res.lock_b2.stderr
    # the refused build ran nothing; A and B2 ran one after the other, never interleaved
    a_run, b2_run = res.runs[3], res.runs[4]
    assert [r[1] for r in res.runs] == ["build"] * 5 + ["freshness"]
    assert a_run[1:3] == ("build", "success") and b2_run[1:3] == ("build", "success")
    assert b2_run[3] >= a_run[4], "the waiting build started before the first one finished"
    # tests are recorded too: stg_core__tenants' data tests passed in both builds
    _, conn = ops_run
    for run in (a_run, b2_run):
        nodes = _nodes(conn, run[0])
        tests = [v for v in nodes.values() if v[0] == "test"]
        assert tests and all(v[1] == "pass" for v in tests)
        assert nodes["stg_core__tenants"][:2] == ("model", "success")


def test_coverage_lists_the_deleted_day(ops_run):
    res, _ = ops_run
    data = json.loads(res.status_final.stdout)
    # the last build succeeded and 03-04's events were loaded minutes ago (within the 24 h default):
    # the stale source is the only problem
    assert res.status_final.returncode == 1
    assert data["problems"] == ["source core.tenants is stale: freshness error"]
    cov = data["coverage"]
    # the latest day with raw data (the fixture's last day), not today
    assert cov["end"] == "2025-03-05" and cov["days"] == 7 and data["max_wait_hours"] == 24
    marts = {m["model"]: m for m in cov["marts"]}
    pay = marts["metrics_daily_payments"]
    # window 2025-02-27 .. 2025-03-05: the fixture has no payments before 03-03, and 03-04 was deleted
    assert pay["built"] is True
    assert pay["missing"] == ["2025-02-27", "2025-02-28", "2025-03-01", "2025-03-02", "2025-03-04"]
    # only 03-04 has payment events; the days without any are quiet days, not gaps
    assert pay["pending"] == ["2025-03-04"] and pay["overdue"] == []
    assert marts["metrics_daily_calls"]["built"] is False
    # the failures of steps 2 and 3 are still listed (window of 7 days)
    assert {f["unique_id"].split(".")[-1] for f in data["failures"]} >= {"stg_core__tenants", "stg_platform__events"}


def test_status_on_an_empty_database(fresh_db):
    r = run_kpi("status", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["runs"] == [] and data["healthy"] is True
    assert data["freshness"]["checked_at"] is None
    r = run_kpi("status", "--format", "yaml")
    assert r.returncode == 2 and "--format" in r.stderr


def test_freshness_is_recorded_and_reported(ops_run):
    res, conn = ops_run
    data = json.loads(res.status_final.stdout)
    fresh = {f["source"].split(".", 2)[-1]: f for f in data["freshness"]["sources"]}
    assert fresh["platform.events_raw"]["status"] == "pass"
    assert fresh["core.tenants"]["status"] == "error"
    assert abs(fresh["core.tenants"]["age_seconds"] - 3 * 86400) < 3600
    # an empty raw table is "empty" (no rows), not stale
    assert fresh["bookings.bookings"]["status"] == "empty"
    assert fresh["bookings.bookings"]["max_loaded_at"] is None
    assert data["freshness"]["checked_at"] == data["runs"][0]["started_at"]
    assert data["runs"][0]["command"] == "freshness" and data["runs"][0]["invoked_via"] == "kpi status"
    assert (
        len(fresh)
        == conn.execute(
            "select count(*) from ops.etl_job_run_nodes where invocation_id = %s", (res.runs[-1][0],)
        ).fetchone()[0]
    )


def test_runs_older_than_a_year_are_deleted_by_the_hook(ops_run):
    res, _ = ops_run
    assert res.old_runs == [("old-300d", 1)]
    assert res.old_nodes == 1


def test_a_missing_day_with_data_loaded_longer_ago_than_the_wait_exits_1_naming_mart_and_day(ops_run):
    res, conn = ops_run
    r = res.status_overdue
    assert r.returncode == 1, r.stdout[-2000:]
    verdict = r.stdout.strip().splitlines()[-1]
    assert verdict.startswith("UNHEALTHY: ")
    assert "metrics_daily_payments misses 1 day(s) that have raw data loaded more than 0 h ago: 2025-03-04" in verdict
    assert "2025-03-04 OVERDUE" in r.stdout  # the coverage table marks it
    # the other days without a row had no payment event: not named
    assert "2025-03-02 OVERDUE" not in r.stdout and "2025-02-27 OVERDUE" not in r.stdout
    # status only reads: the rows before and after are those of the mart minus the deleted day
    assert (
        conn.execute(
            "select count(*) from marts.metrics_daily_payments where metric_date = date '2025-03-04'"
        ).fetchone()[0]
        == 0
    )
    assert conn.execute("select count(distinct metric_date) from marts.metrics_daily_payments").fetchone()[0] == 2


def test_loaded_events_waiting_longer_than_the_wait_exit_1(ops_run):
    res, _ = ops_run
    data = json.loads(res.status_waiting.stdout)
    assert res.status_waiting.returncode == 1
    assert data["unprocessed"]["staging"] == ["2025-03-05"]
    waiting = [p for p in data["problems"] if p.startswith("loaded data has waited")]
    assert len(waiting) == 1 and "over 1 h" in waiting[0] and "1 day(s) 2025-03-05" in waiting[0]
    assert waiting[0].startswith("loaded data has waited 2.0 h")
    # within 3 hours the wait is no problem (the stale source still is, and 03-04, deleted from the
    # mart in step 5, is now overdue: its staged events were made a day old above)
    ok = json.loads(res.status_waiting_ok.stdout)
    assert ok["problems"] == [
        "source core.tenants is stale: freshness error",
        "metrics_daily_payments misses 1 day(s) that have raw data loaded more than 3 h ago: 2025-03-04",
    ]
    assert ok["unprocessed"]["oldest_loaded_at"] == data["unprocessed"]["oldest_loaded_at"] is not None


def test_bookings_loaded_but_not_staged_are_waiting(conn):
    """Raw bookings / payments loaded after the newest row their staging holds wait for the next build."""
    r = run_kpi("init")
    assert r.returncode == 0, r.stderr
    conn.execute("create schema if not exists staging")
    conn.execute("create table staging.stg_bookings__bookings (booking_id text, _loaded_at timestamptz)")
    conn.execute(
        "insert into raw.bookings (booking_id, organization_id, start_at, status, _loaded_at) values "
        "('b1', 'o1', '2025-03-01 10:00+00', 'ACCEPTED', '2025-03-05 10:00+00'), "
        "('b2', 'o1', '2025-03-02 23:30+00', 'ACCEPTED', '2025-03-05 12:00+00')"
    )
    conn.execute("insert into staging.stg_bookings__bookings values ('b1', '2025-03-05 10:00+00')")  # b1 staged
    waiting = status_mod.unprocessed(conn, [])
    assert waiting["staging"] == ["2025-03-02"]
    assert waiting["oldest_loaded_at"].isoformat().startswith("2025-03-05T12:00:00")
    conn.execute("insert into staging.stg_bookings__bookings values ('b2', '2025-03-05 12:00+00')")  # now staged
    assert status_mod.unprocessed(conn, []) == {"staging": [], "marts": {}, "oldest_loaded_at": None}
