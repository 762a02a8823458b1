"""`kpi demo`, the main job, end to end: generate → load → build + tests → KPI summary."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC

import pytest
from rich.console import Console
from rich.table import Table

from conftest import run_kpi
from kpiwh import output


def _value(stdout: str, label: str) -> str:
    m = re.search(re.escape(label) + r"\s*[│|]\s*([^│|\n]+?)\s*[│|]", stdout)
    assert m, f"{label!r} not in output:\n{stdout}"
    return m.group(1)


@pytest.mark.slow
def test_demo_prints_kpis_that_match_the_warehouse(built_warehouse):
    out = built_warehouse.demo.stdout
    assert "dbt build: OK" in out
    customers = int(_value(out, "customers (profiles + bookers)").replace(",", ""))
    revenue = _value(out, "revenue (completed payments)")
    with built_warehouse.connect() as conn:
        assert customers == conn.execute("select count(*) from marts.customer_analytics").fetchone()[0] > 0
        raw_revenue = conn.execute(
            "select sum(amount_cents) from raw.payments where status = 'COMPLETED' and customer_id is not null"
        ).fetchone()[0]
    assert revenue == f"{raw_revenue / 100:,.2f}"


@pytest.mark.slow
def test_second_demo_on_the_same_database_loads_nothing_and_succeeds(built_warehouse):
    r2 = run_kpi("demo", "--tenants", "6", "--days", "30", env={"KPI_PGDATABASE": built_warehouse.dbname})
    assert r2.returncode == 0, r2.stderr[-3000:]
    assert "(0 new, 0 updated)" in r2.stderr


def _kpi_not_a_terminal(*args: str, dbname: str, columns: int = 60) -> subprocess.CompletedProcess:
    """Run the CLI with stdout and stderr piped (not a terminal) and a narrow COLUMNS."""
    env = {**os.environ, "KPI_PGDATABASE": dbname, "COLUMNS": str(columns), "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run(
        [sys.executable, "-m", "kpiwh.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=os.environ["KPI_PROJECT_DIR"],
        timeout=300,
    )


@pytest.mark.slow
def test_status_of_a_fully_built_warehouse_is_healthy(built_warehouse):
    # every day of the data set (30 days) is in every daily mart: healthy even when no wait is allowed
    r = run_kpi(
        "status",
        "--days",
        "30",
        "--max-wait-hours",
        "0",
        "--format",
        "json",
        env={"KPI_PGDATABASE": built_warehouse.dbname},
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    data = json.loads(r.stdout)
    assert data["healthy"] is True and data["problems"] == []
    with built_warehouse.connect() as conn:
        last_event_day = conn.execute(
            "select max(occurred_at at time zone 'UTC')::date from raw.events_raw"
        ).fetchone()[0]
    assert data["coverage"]["end"] == last_event_day.isoformat()  # the data's latest day, not today
    marts = data["coverage"]["marts"]
    assert len(marts) >= 11 and all(m["built"] and m["overdue"] == [] for m in marts)
    assert data["unprocessed"]["staging"] == [] and data["unprocessed"]["marts"] == {}


@pytest.mark.slow
def test_narrow_output_that_is_not_a_terminal_prints_every_id_whole(built_warehouse):
    db = built_warehouse.dbname
    status = _kpi_not_a_terminal("status", dbname=db)
    assert status.returncode == 0, status.stderr[-2000:]
    alerts = _kpi_not_a_terminal("alerts", dbname=db)
    assert alerts.returncode == 0, alerts.stderr[-2000:]
    with built_warehouse.connect() as conn:
        ids = conn.execute("select rule_id, subject, first_seen_at from marts.fct_alerts").fetchall()
    assert ids, "the demo data set raises alerts"
    for out in (status.stdout, alerts.stdout):
        assert "…" not in out
    lines = alerts.stdout.splitlines()
    for rule_id, subject, first_seen in ids:
        # each alert's ids on one line of the table, whole
        seen = first_seen.astimezone(UTC)
        assert any(f" {rule_id} " in x and f" {subject} " in x and f" {seen} " in x for x in lines), rule_id
    for model in ("fct_appointments_by_location_daily", "metrics_daily_payments", "fct_partner_metrics_daily"):
        assert any(f" {model} " in x for x in status.stdout.splitlines()), model
    # --format json parses, and holds the same alerts
    js = _kpi_not_a_terminal("alerts", "--format", "json", dbname=db)
    assert js.returncode == 0
    assert sorted((a["rule_id"], a["subject"]) for a in json.loads(js.stdout)) == sorted((r, s) for r, s, _ in ids)


@pytest.mark.slow
def test_build_summary_names_each_warned_test_with_its_failing_rows(built_warehouse):
    lines = built_warehouse.demo.stdout.splitlines()
    with built_warehouse.connect() as conn:
        warned = conn.execute(
            "select n.unique_id, n.failures from ops.etl_job_run_nodes n join ops.etl_job_runs r using (invocation_id) "
            "where r.invoked_via = 'kpi demo' and n.status = 'warn' and r.started_at = "
            "(select min(started_at) from ops.etl_job_runs where invoked_via = 'kpi demo')"
        ).fetchall()
        invalid = conn.execute(
            "select count(*) from staging.stg_platform__events where is_country_code_invalid"
        ).fetchone()[0]
    assert warned, "the demo data set holds invalid country codes: one test warns"
    for unique_id, failures in warned:
        name = unique_id.split(".")[2]
        row = [x for x in lines if f" {name} " in x]
        assert len(row) == 1, f"{name} not named in the summary:\n{built_warehouse.demo.stdout[:4000]}"
        assert re.search(rf"warn\s*│\s*test\s*│\s*{re.escape(name)}\s*│\s*{failures:,}\s*│", row[0]), row[0]
    # the warned test counts the staged events whose country code is invalid (hand count)
    names = {u.split(".")[2]: f for u, f in warned}
    assert names.get("expression_is_true_stg_platform__events_not_is_country_code_invalid") == invalid > 0


@pytest.mark.slow
def test_demo_not_on_a_terminal_reports_progress_and_a_runnable_hint(built_warehouse):
    err = built_warehouse.demo.stderr
    # stderr is a pipe: plain progress lines every few seconds, not a silent bar
    progress = re.findall(r"^dbt build: (\d+)/(\d+) nodes done, last \S+ \S+ \((\d+)s\)$", err, re.M)
    assert progress, err[-3000:]
    assert all(int(done) <= int(total) for done, total, _ in progress)
    hint = built_warehouse.demo.stdout.strip().splitlines()[-1]
    m = re.search(r'explore with: psql "\$\((\S+) db url\)"', hint)
    assert m, hint
    kpi = m.group(1)
    # the command in the hint runs as written: `kpi` on PATH, or the venv's own kpi by its path
    assert shutil.which(kpi, path=os.environ.get("PATH")) if kpi == "kpi" else os.access(kpi, os.X_OK), kpi


def test_print_table_fits_a_narrow_terminal_and_keeps_whole_rows_elsewhere():
    ids = ["invite_rate_below_target_weekly", "par_0001_workshop_with_a_long_name"]

    def table() -> Table:
        t = Table(title="alerts")
        output.id_column(t, "rule_id", ids[:1])
        output.id_column(t, "subject", ids[1:])
        output.text_column(t, "message")
        t.add_row(*ids, "The invite rate fell below its target of 30% over the last 7 days")
        return t

    # a terminal wide enough for the ids: they stay on one line, the message wraps, the table fits
    wide = Console(file=io.StringIO(), force_terminal=True, width=100, color_system=None)
    output.print_table(wide, table())
    text = wide.file.getvalue()
    assert all(f" {i} " in text for i in ids) and "…" not in text
    assert max(len(x) for x in text.splitlines()) <= 100
    # a terminal narrower than the ids: everything folds, nothing is cut, the table still fits
    narrow = Console(file=io.StringIO(), force_terminal=True, width=50, color_system=None)
    output.print_table(narrow, table())
    text = narrow.file.getvalue()
    assert "…" not in text and max(len(x) for x in text.splitlines()) <= 50
    first_column = "".join(x.split("│")[1].strip() for x in text.splitlines() if x.startswith("│"))
    assert first_column == ids[0]  # the id, folded over lines, whole
    # not a terminal (a pipe, a log) at 40 columns: one line per row, every value whole
    pipe = Console(file=io.StringIO(), force_terminal=False, width=40, color_system=None)
    output.print_table(pipe, table())
    rows = [x for x in pipe.file.getvalue().splitlines() if ids[0] in x]
    assert len(rows) == 1 and ids[1] in rows[0] and "over the last 7 days" in rows[0]
