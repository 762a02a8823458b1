"""The Superset dashboards kept in dashboards/ (Superset's export format) against the built marts.

Fast, no Superset: every dataset names a mart of the session's ``built_warehouse`` and columns
it has, with a compatible type; every column and metric a chart uses is one its dataset
declares; every dataset metric is valid SQL over its mart; the bundle holds the five
dashboards the products need. A mart column a chart uses that is renamed, dropped or changes
kind fails here, not in a browser. The `kpi bi` commands' usage errors are checked too.
Superset itself runs in test_superset.py.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
import yaml
from psycopg import sql

from conftest import ROOT, run_kpi
from kpiwh import bi

DASH = ROOT / "dashboards"
SLUGS = {
    "dashboard_loyalty_pilot",
    "dashboard_partner_onboarding",
    "dashboard_bookings",
    "dashboard_escrow_pilot",
    "dashboard_platform",
}

#: Superset column type (PostgreSQL's, as Superset records it) -> kind; the mart's must be the same kind
KINDS = {
    "TEXT": "string",
    "CHARACTER VARYING": "string",
    "BIGINT": "number",
    "INTEGER": "number",
    "SMALLINT": "number",
    "NUMERIC": "number",
    "DOUBLE PRECISION": "number",
    "REAL": "number",
    "DATE": "temporal",
    "TIMESTAMP WITH TIME ZONE": "temporal",
    "TIMESTAMP WITHOUT TIME ZONE": "temporal",
    "BOOLEAN": "boolean",
    "JSONB": "json",
}


def kind(type_name: str) -> str:
    """Kind of a column type name (``NUMERIC(28, 6)`` is a number)."""
    return KINDS[re.sub(r"\(.*\)$", "", type_name.upper()).strip()]


def load(folder: str) -> dict[str, dict]:
    """Every YAML file of ``dashboards/<folder>``, by path relative to dashboards/."""
    return {
        str(f.relative_to(DASH)): yaml.safe_load(f.read_text(encoding="utf-8"))
        for f in sorted((DASH / folder).rglob("*.yaml"))
    }


DATASETS = load("datasets")
CHARTS = load("charts")
DASHBOARDS = load("dashboards")
DATASET_BY_UUID = {d["uuid"]: d for d in DATASETS.values()}


def chart_columns(params: dict) -> set[str]:
    """Dataset columns a chart's params name: axes, group-bys, raw columns, orderings, filters."""
    cols: set[str] = set()
    for key in ("x_axis", "granularity_sqla"):
        if isinstance(params.get(key), str):
            cols.add(params[key])
    for key in ("groupby", "columns", "all_columns"):
        cols.update(c for c in params.get(key) or [] if isinstance(c, str))
    cols.update(json.loads(o)[0] for o in params.get("order_by_cols") or [])
    cols.update(f["subject"] for f in params.get("adhoc_filters") or [] if f.get("expressionType") == "SIMPLE")
    cols.update(f["column"] for f in params.get("conditional_formatting") or [])
    return cols


def chart_metrics(params: dict) -> set[str]:
    """Saved-metric names a chart's params use (metric, metrics, sort metric, x-axis sort)."""
    names = [params.get("metric"), params.get("timeseries_limit_metric"), *(params.get("metrics") or [])]
    return {m for m in names if isinstance(m, str)}


def test_bundle_holds_the_five_product_dashboards_and_every_reference_resolves():
    meta = yaml.safe_load((DASH / "metadata.yaml").read_text())
    assert meta["version"] == "1.0.0" and meta["type"] == "Dashboard"
    database = yaml.safe_load((DASH / bi.DATABASE_FILE).read_text())
    assert {d["slug"] for d in DASHBOARDS.values()} == SLUGS
    assert {Path(f).stem for f in DASHBOARDS} == SLUGS  # one file per dashboard, named by its slug
    chart_uuids = {c["uuid"]: name for name, c in CHARTS.items()}
    placed: set[str] = set()
    for name, d in DASHBOARDS.items():
        charts = [v["meta"]["uuid"] for v in d["position"].values() if isinstance(v, dict) and v.get("type") == "CHART"]
        assert len(charts) >= 5, f"{name}: {len(charts)} charts"
        assert set(charts) <= set(chart_uuids), f"{name} places a chart with no file in charts/"
        placed.update(charts)
    assert placed == set(chart_uuids), f"charts on no dashboard: {[chart_uuids[u] for u in set(chart_uuids) - placed]}"
    for name, c in CHARTS.items():
        assert c["dataset_uuid"] in DATASET_BY_UUID, f"{name}: unknown dataset"
    for name, d in DATASETS.items():
        assert d["database_uuid"] == database["uuid"], name
        assert d["schema"] == "marts" and d["sql"] is None, f"{name}: a physical dataset over a mart"
    uuids = [x["uuid"] for x in (*DATASETS.values(), *CHARTS.values(), *DASHBOARDS.values(), database)]
    assert len(uuids) == len(set(uuids))


def test_every_chart_uses_only_what_its_dataset_declares():
    problems = []
    for name, c in CHARTS.items():
        ds = DATASET_BY_UUID[c["dataset_uuid"]]
        columns = {col["column_name"] for col in ds["columns"]}
        metrics = {m["metric_name"] for m in ds["metrics"]}
        params = c["params"]
        assert params["viz_type"] == c["viz_type"], name
        problems += [f"{name}: column {x} not in {ds['table_name']}" for x in chart_columns(params) - columns]
        problems += [f"{name}: metric {x} not in {ds['table_name']}" for x in chart_metrics(params) - metrics]
        if params.get("query_mode") != "raw" and c["viz_type"] != "table":
            assert chart_metrics(params), f"{name}: no metric"
    assert not problems, "\n".join(problems)


def test_every_dataset_column_is_in_the_built_mart_with_a_compatible_type(built_warehouse):
    with built_warehouse.connect() as c:
        rows = c.execute(
            "select table_name, column_name, upper(data_type) from information_schema.columns "
            "where table_schema = 'marts'"
        ).fetchall()
    catalog: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        catalog.setdefault(table, {})[column] = data_type
    problems = []
    for name, ds in DATASETS.items():
        mart = catalog.get(ds["table_name"])
        if mart is None:
            problems.append(f"{name}: no mart marts.{ds['table_name']}")
            continue
        for col in ds["columns"]:
            actual = mart.get(col["column_name"])
            if actual is None:
                problems.append(f"{name}: marts.{ds['table_name']} has no column {col['column_name']}")
            elif kind(actual) != kind(col["type"]):
                problems.append(f"{name}: {col['column_name']} is {actual} in the mart, {col['type']} in the dataset")
            elif col["is_dttm"] != (kind(actual) == "temporal"):
                problems.append(f"{name}: {col['column_name']} is_dttm {col['is_dttm']} but the mart's is {actual}")
        if ds["main_dttm_col"] is not None and ds["main_dttm_col"] not in {x["column_name"] for x in ds["columns"]}:
            problems.append(f"{name}: main_dttm_col {ds['main_dttm_col']} is not a dataset column")
    assert not problems, "\n".join(problems)


def test_every_dataset_metric_runs_over_its_mart_as_the_dataset_columns_allow(built_warehouse):
    """Each saved metric is valid SQL over the mart and names only the dataset's columns (Superset
    offers a metric on its dataset's columns only)."""
    problems = []
    with built_warehouse.connect() as c:
        for name, ds in DATASETS.items():
            declared = {col["column_name"] for col in ds["columns"]}
            mart = sql.Identifier("marts", ds["table_name"])
            for m in ds["metrics"]:
                expr = m["expression"]
                mart_columns = {
                    r[0]
                    for r in c.execute(
                        "select column_name from information_schema.columns where table_schema = 'marts' "
                        "and table_name = %s",
                        (ds["table_name"],),
                    )
                }
                words = set(re.findall(r"[a-z_][a-z0-9_]*", expr.lower()))
                undeclared = (words & mart_columns) - declared
                if undeclared:
                    problems.append(f"{name}: metric {m['metric_name']} uses undeclared {sorted(undeclared)}")
                try:
                    with c.transaction():
                        c.execute(sql.SQL("select {} from {}").format(sql.SQL(expr), mart))
                except Exception as exc:  # the database's own message is the finding
                    problems.append(f"{name}: metric {m['metric_name']} ({expr}): {str(exc).splitlines()[0]}")
    assert not problems, "\n".join(problems)


def test_bundle_writes_the_warehouse_uri_into_the_database_file_only():
    uri = "postgresql+psycopg2://kpi_superset:secret@/postgres?host=/tmp/sock"
    with zipfile.ZipFile(io.BytesIO(bi.bundle(uri))) as zf:
        names = zf.namelist()
        assert all(n.startswith("kpi_dashboards/") for n in names)
        assert "kpi_dashboards/metadata.yaml" in names
        assert len([n for n in names if n.startswith("kpi_dashboards/dashboards/")]) == len(SLUGS)
        db = yaml.safe_load(zf.read(f"kpi_dashboards/{bi.DATABASE_FILE}"))
        assert db["sqlalchemy_uri"] == uri
        assert sum("secret" in zf.read(n).decode() for n in names) == 1


def test_requirements_pin_every_package_and_superset_itself():
    lines = [ln for ln in bi.requirements_file().read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", ln) for ln in lines), lines
    pins = {ln.split("==")[0].lower().replace("_", "-"): ln.split("==")[1] for ln in lines}
    assert pins["apache-superset"] == bi.SUPERSET_VERSION
    assert "psycopg2-binary" in pins


@pytest.fixture
def bi_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "superset"
    monkeypatch.setenv("KPI_BI_HOME", str(home))
    return home


def test_bi_commands_when_superset_is_not_running(bi_home):
    r = run_kpi("bi", "status", "--format", "json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["running"] is False and doc["installed"] is False and doc["url"] is None
    assert doc["admin_user"] == "admin" and doc["admin_password_file"] == str(bi_home / "admin_password")
    r = run_kpi("bi", "url")
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0
    assert "not running" in r.stderr and "kpi bi up" in r.stderr
    r = run_kpi("bi", "down")
    assert r.returncode == 0 and r.stdout.strip() == "not running"


@pytest.mark.parametrize(
    "args",
    [("bi", "status", "--format", "xml"), ("bi", "up", "--port", "0"), ("bi", "up", "--port", "70000"), ("bi", "nope")],
)
def test_bi_usage_errors_are_one_line_exit_2(bi_home, args):
    r = run_kpi(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.strip() and "\n" not in r.stderr.strip() and "Traceback" not in r.stderr
    assert not bi_home.exists() or not (bi_home / "venv").exists()  # nothing installed on bad usage


def test_bi_up_on_a_warehouse_without_marts_fails_before_installing(bi_home, fresh_db):
    r = run_kpi("bi", "up", "--port", "8088")
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert (
        r.stderr.strip().splitlines()[-1]
        == "error: the warehouse has no marts yet: run `kpi demo` or `kpi build` first"
    )
    assert not (bi_home / "venv").exists()
