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
