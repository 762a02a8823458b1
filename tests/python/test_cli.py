"""The CLI as a scheduler sees it: instant --help, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import FIXTURES, ROOT, run_kpi, write_csv


def test_help_does_not_import_dbt():
    code = (
        "import sys; from typer.testing import CliRunner; from kpiwh.main import app; "
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
        "assert not [m for m in sys.modules if m == 'dbt' or m.startswith('dbt.')], 'dbt imported'; "
        "assert 'psycopg' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize(
    "cmd",
    [
        ["db", "--help"],
        ["init", "--help"],
        ["load", "--help"],
        ["generate", "--help"],
        ["build", "--help"],
        ["backfill", "--help"],
        ["refresh", "customers", "--help"],
        ["demo", "--help"],
        ["partitions", "ensure", "--help"],
    ],
)
def test_every_command_has_help(cmd):
    r = run_kpi(*cmd)
    assert r.returncode == 0 and "Usage" in r.stdout


def test_backfill_help_says_end_is_exclusive():
    assert "EXCLUSIVE" in run_kpi("backfill", "--help").stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["backfill", "--start", "2025-02-30", "--end", "2025-03-05"],
            "error: --start: '2025-02-30' is not a date (YYYY-MM-DD)",
        ),
        (
            ["backfill", "--start", "2025-03-05", "--end", "2025-03-05"],
            "error: --end 2025-03-05 must be after --start 2025-03-05 (the end day is exclusive)",
        ),
        (
            ["generate", "--out", "/tmp/x", "--start", "yesterday"],
            "error: --start: 'yesterday' is not a date (YYYY-MM-DD)",
        ),
        (["refresh", "customers", "--mode", "sometimes"], "error: --mode: 'sometimes' is not recent or full"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message):
    r = run_kpi(*args)
    assert r.returncode == 2
    assert r.stderr.strip() == message


def test_generate_into_an_unwritable_place_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_kpi("generate", "--out", str(blocker / "sub"), "--tenants", "5", "--days", "3")
    assert r.returncode == 2
    assert r.stderr.strip().startswith(f"error: --out {blocker / 'sub'}: ")
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_build_exits_1_naming_the_failed_test_and_2_for_a_selector_matching_nothing(conn, tmp_path):
    d = tmp_path / "d"
    write_csv(
        d / "bookings.csv",
        ["booking_id", "organization_id", "customer_id", "start_at", "status"],
        [
            ["b1", "org_1", "c1", "2025-03-01T10:00:00+00:00", "ACCEPTED"],
            ["b2", "org_1", "c2", "2025-03-02T10:00:00+00:00", "MAYBE"],
        ],
    )
    assert run_kpi("load", str(d)).returncode == 0
    r = run_kpi("build", "--select", "stg_bookings__bookings")
    assert r.returncode == 1
    # an unknown status breaks the model's contract (a check constraint): named, row values not shown
    assert "FAILED" in r.stderr and "constraint stg_bookings__bookings__status_values violated" in r.stderr
    assert "MAYBE" not in r.stderr
    assert "dbt build: FAILED" in r.stdout

    r = run_kpi("build", "--select", "no_such_model_anywhere")
    assert r.returncode == 2
    assert r.stderr.strip() == "error: --select no_such_model_anywhere matched no node"


# --------------------------------------------------------------------------- more malformed arguments
@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["backfill", "--start", "2025-13-01", "--end", "2025-03-05"],
            "error: --start: '2025-13-01' is not a date (YYYY-MM-DD)",
        ),
        (
            ["backfill", "--start", "2025-03-05", "--end", "2025-03-01"],
            "error: --end 2025-03-01 must be after --start 2025-03-05 (the end day is exclusive)",
        ),
        (
            ["report", "weekly", "--tenant", "mer_001", "--week", "2025-W60"],
            "error: --week: '2025-W60' does not exist (ISO year 2025 has no week 60)",
        ),
    ],
)
def test_malformed_dates_exit_2_before_touching_the_database(args, message):
    r = run_kpi(*args, env={"KPI_PGDATA": "/nonexistent/kpi-pg"})  # a database use would fail differently
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.strip() == message


def test_unknown_tenant_on_a_database_with_nothing_loaded_is_exit_2(fresh_db):
    r = run_kpi("report", "weekly", "--tenant", "nope", "--week", "2025-W03")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.strip() == (
        "error: --tenant: unknown tenant 'nope' (no tenants loaded yet: `kpi load` creates raw.tenants)"
    )


# --------------------------------------------------------------------------- indirect selection
@pytest.mark.slow
def test_build_of_a_daily_mart_does_not_run_tests_of_its_unbuilt_weekly_rollup(conn):
    """`kpi build --select +metrics_daily_calls` builds the daily mart and its parents only. The weekly
    rollup's "weekly = sum of daily" test has the daily mart as one parent: dbt's default (eager) indirect
    selection would run it against a weekly table that does not exist (exit 1); the CLI's `buildable`
    runs only tests whose parents are all selected."""
    assert run_kpi("load", str(FIXTURES / "platform_small")).returncode == 0
    r = run_kpi("build", "--select", "+metrics_daily_calls", "--exclude", "tag:alerts+")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert conn.execute("select to_regclass('marts.metrics_weekly_calls')").fetchone() == (None,)
    assert conn.execute("select sum(calls_attempted) from marts.metrics_daily_calls").fetchone()[0] > 0

    # the guard: the same build with dbt's eager default fails on the unbuilt weekly table
    r = run_kpi(
        "build", "--select", "+metrics_daily_calls", "--exclude", "tag:alerts+", env={"DBT_INDIRECT_SELECTION": "eager"}
    )
    assert r.returncode == 1
    assert "weekly_equals_sum_of_daily" in r.stderr, r.stderr[-2000:]
