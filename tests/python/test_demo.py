"""`kpi demo`, the main job, end to end: generate → load → build + tests → KPI summary."""

from __future__ import annotations

import re

import pytest

from conftest import run_kpi


def _value(stdout: str, label: str) -> str:
    m = re.search(re.escape(label) + r"\s*[│|]\s*([^│|\n]+?)\s*[│|]", stdout)
    assert m, f"{label!r} not in output:\n{stdout}"
    return m.group(1)


@pytest.mark.slow
def test_demo_prints_kpis_that_match_the_warehouse(conn):
    r = run_kpi("demo", "--tenants", "6", "--days", "30")
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout
    assert "dbt build: OK" in out
    customers = int(_value(out, "customers (profiles + bookers)").replace(",", ""))
    revenue = _value(out, "revenue (completed payments)")
    assert customers == conn.execute("select count(*) from marts.customer_analytics").fetchone()[0] > 0
    raw_revenue = conn.execute(
        "select sum(amount_cents) from raw.payments where status = 'COMPLETED' and customer_id is not null"
    ).fetchone()[0]
    assert revenue == f"{raw_revenue / 100:,.2f}"
    # a second demo on the same database loads nothing new and still succeeds
    r2 = run_kpi("demo", "--tenants", "6", "--days", "30")
    assert r2.returncode == 0, r2.stderr[-3000:]
    assert "(0 new, 0 updated)" in r2.stderr
