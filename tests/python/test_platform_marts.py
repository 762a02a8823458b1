"""Platform marts (seed 004) on the hand-made `platform_small` fixture.

* a build compares metrics_daily_payments / _calls / _engagement with
  hand-computed CSVs (tests/data/platform_small/expected, derivation in the
  fixture's README.md);
* idempotence: `kpi backfill` over every fixture day after the build, then
  again, gives byte-identical rows (each row's text form, ordered) for every
  daily and weekly platform mart — equal to the build's rows;
* late events. A microbatch incremental run's batches are relative to *today*,
  so for the fixture's historical days a late event is picked up by
  `kpi backfill` of its day (and NOT by a plain incremental run, shown too);
  the "within the lookback" case uses events dated yesterday (generated from
  date.today() in the test), where a plain incremental run picks it up. The
  incremental runs call dbt through kpiwh.runner (see _incremental_dbt_build:
  `kpi build` widens its window while other products' daily tables are missing).
"""

from __future__ import annotations

import csv
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from conftest import FIXTURES, admin_conn, assert_relation_equals_csv, run_kpi, write_csv

FIX = FIXTURES / "platform_small"
EXP = FIX / "expected"
LATE_EVENT_ID = "00000000-0000-4000-8000-000000000024"  # p6's success: occurred 2025-03-03, received 2025-03-05
DAILY = ["metrics_daily_payments", "metrics_daily_calls", "metrics_daily_engagement",
         "metrics_daily_fulfillment", "metrics_daily_content"]
WEEKLY = ["metrics_weekly_payments", "metrics_weekly_calls", "metrics_weekly_fulfillment", "metrics_weekly_content"]
SELECT_ALL = " ".join(f"+{m}+" for m in DAILY)
# the alert engine reads metrics_daily_payments too; its other inputs are not built here
NO_ALERTS = ["--exclude", "tag:alerts+"]


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"


def _incremental_dbt_build(select: str) -> None:
    """A scheduled incremental run: plain `dbt build` (through kpiwh.runner), no event-time window.

    `kpi build` itself widens the run to every day of the data while ANY
    microbatch model of the project is still missing (runner.microbatch_window),
    which is the case in these databases where only the platform marts exist;
    the lookback behaviour is therefore exercised with dbt's own incremental run.
    """
    code = ("import sys; from kpiwh import runner; "
            "s = runner.invoke(sys.argv[1:], progress=False, raise_on_failure=False); "
            "sys.exit(0 if s.success else 1)")
    r = subprocess.run([sys.executable, "-c", code, "build", "--select", select, *NO_ALERTS],
                       capture_output=True, text=True,
                       timeout=600, cwd=FIX.parents[2])
    _ok(r)


def _rows_as_text(conn, relation: str) -> list[str]:
    """Every row of ``relation`` in its text form, sorted: equal lists = byte-identical tables."""
    return [r[0] for r in conn.execute(f"select t::text from {relation} as t order by 1").fetchall()]


def _snapshot(conn) -> dict[str, list[str]]:
    return {m: _rows_as_text(conn, f"marts.{m}") for m in DAILY + WEEKLY}


@pytest.fixture(scope="module")
def built_db(pg_server):
    """One database for the module: the whole fixture loaded and the platform marts built."""
    name = "t_" + uuid.uuid4().hex[:12]
    with admin_conn(pg_server) as c:
        c.execute(f'create database "{name}"')
    mp = pytest.MonkeyPatch()
    mp.setenv("KPI_PGDATABASE", name)
    _ok(run_kpi("load", str(FIX)))
    _ok(run_kpi("build", "--select", SELECT_ALL, *NO_ALERTS))
    with psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=name, autocommit=True) as conn:
        yield conn
    mp.undo()
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{name}" with (force)')


@pytest.mark.slow
def test_build_matches_hand_computed_marts(built_db):
    for m in ("metrics_daily_payments", "metrics_daily_calls", "metrics_daily_engagement"):
        assert_relation_equals_csv(built_db, f"marts.{m}", EXP / f"{m}.csv")


@pytest.mark.slow
def test_backfill_is_idempotent_and_equals_the_build(built_db):
    after_build = _snapshot(built_db)
    assert all(after_build[m] for m in DAILY + WEEKLY)
    _ok(run_kpi("backfill", "--start", "2025-02-25", "--end", "2025-03-06", "--select", SELECT_ALL, *NO_ALERTS))
    first = _snapshot(built_db)
    _ok(run_kpi("backfill", "--start", "2025-02-25", "--end", "2025-03-06", "--select", SELECT_ALL, *NO_ALERTS))
    second = _snapshot(built_db)
    assert first == second, "a second identical backfill changed rows"
    assert first == after_build, "a backfill after the build changed rows"
    assert_relation_equals_csv(built_db, "marts.metrics_daily_payments", EXP / "metrics_daily_payments.csv")


def _without_late_event(dst: Path) -> Path:
    """Copy of the fixture without the late event (an extract taken before it arrived)."""
    dst.mkdir()
    (dst / "tenants.jsonl").write_bytes((FIX / "tenants.jsonl").read_bytes())
    with (FIX / "events_raw.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    kept = [r for r in rows[1:] if r[0] != LATE_EVENT_ID]
    assert len(kept) == len(rows) - 2
    write_csv(dst / "events_raw.csv", rows[0], kept)
    return dst


@pytest.mark.slow
def test_late_event_on_a_historical_day_is_picked_up_by_its_backfill(conn, tmp_path):
    sel = "+metrics_daily_payments+"
    _ok(run_kpi("load", str(_without_late_event(tmp_path / "early"))))
    _ok(run_kpi("build", "--select", sel, *NO_ALERTS))
    assert_relation_equals_csv(conn, "marts.metrics_daily_payments", EXP / "metrics_daily_payments_before_late.csv")

    _ok(run_kpi("load", str(FIX)))  # the late event arrives
    # an incremental run only re-reads the lookback days before *today*: 2025-03-03 is not among them
    _incremental_dbt_build(sel)
    assert_relation_equals_csv(conn, "marts.metrics_daily_payments", EXP / "metrics_daily_payments_before_late.csv")
    # a backfill of the event's day picks it up (staging and the mart are rebuilt for that day)
    _ok(run_kpi("backfill", "--start", "2025-03-03", "--end", "2025-03-04", "--select", sel, *NO_ALERTS))
    assert_relation_equals_csv(conn, "marts.metrics_daily_payments", EXP / "metrics_daily_payments.csv")


@pytest.mark.slow
def test_late_event_within_the_lookback_is_picked_up_by_a_plain_build(conn, tmp_path):
    day = date.today() - timedelta(days=1)
    header = (FIX / "events_raw.csv").open(encoding="utf-8").readline().strip().split(",")

    def ev(n, t, etype, received=None):
        occ = f"{day.isoformat()}T{t}+00:00"
        return [f"00000000-0000-4000-8000-{n:012d}", occ, received or occ, "plt_001", None, "payments", etype,
                "u1", None, "payment", "p1", None, "stripe", None, "SA", 5000, "USD", None,
                '{"is_fallback":false}', 1]

    attempt = ev(1, "10:00:00", "payment_attempted")
    late_success = ev(2, "10:00:05", "payment_succeeded", received=f"{(day + timedelta(days=1)).isoformat()}T00:30:00+00:00")
    early = tmp_path / "early"
    write_csv(early / "events_raw.csv", header, [attempt])
    (early / "tenants.jsonl").write_bytes((FIX / "tenants.jsonl").read_bytes())
    _ok(run_kpi("load", str(early)))
    _ok(run_kpi("build", "--select", "+metrics_daily_payments+", *NO_ALERTS))
    q = "select attempts, successes, revenue_cents from marts.metrics_daily_payments where metric_date = %s"
    assert conn.execute(q, (day,)).fetchall() == [(1, 0, 0)]

    late = tmp_path / "late"
    write_csv(late / "events_raw.csv", header, [late_success])
    _ok(run_kpi("load", str(late)))
    _incremental_dbt_build("+metrics_daily_payments+")  # incremental: today's lookback covers `day`
    assert conn.execute(q, (day,)).fetchall() == [(1, 1, 5000)]
