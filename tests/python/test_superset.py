"""Apache Superset for real: `kpi bi up` installs it (its own venv), imports dashboards/ and serves;
every chart's query runs through Superset's API over the session's ``built_warehouse`` as the
read-only login; two client logins see only their own tenant's rows; `kpi bi down` stops it.

Marked ``superset`` (deselect with ``-m 'not superset'``): the first run downloads ~240 MB
and installs ~0.8 GB. ``KPI_BI_HOME`` set in the environment reuses that installation
between runs; otherwise it goes to the session's temporary folder.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest
import requests
from psycopg import sql

from conftest import run_kpi
from kpiwh import bi

pytestmark = [pytest.mark.superset, pytest.mark.slow]

PREFIX = "sst_"  # logins and Superset users this module creates (dropped after)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Superset:
    """A running Superset: its base URL, the env the CLI ran with, API sessions per user."""

    def __init__(self, url: str, env: dict[str, str], home: Path):
        self.url, self.env, self.home = url, env, home

    def session(self, user: str, password: str) -> requests.Session:
        """An API session logged in as ``user`` (JWT)."""
        s = requests.Session()
        r = s.post(
            self.url + "api/v1/security/login",
            json={"username": user, "password": password, "provider": "db", "refresh": True},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        s.headers["Authorization"] = "Bearer " + r.json()["access_token"]
        return s

    def admin(self) -> requests.Session:
        """An API session as the admin, password read from its file."""
        return self.session(bi.ADMIN_USER, (self.home / "admin_password").read_text().strip())


@pytest.fixture(scope="module")
def superset(built_warehouse, tmp_path_factory):
    home = Path(os.environ.get("KPI_BI_HOME") or tmp_path_factory.mktemp("bi") / "superset")
    env = {"KPI_PGDATABASE": built_warehouse.dbname, "KPI_BI_HOME": str(home)}
    port = _free_port()
    r = run_kpi("bi", "up", "--port", str(port), env=env, timeout=1500)
    assert r.returncode == 0, f"kpi bi up failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    yield Superset(f"http://127.0.0.1:{port}/", env, home)
    run_kpi("bi", "down", env=env)
    with built_warehouse.connect() as c:
        c.execute("delete from ops.tenant_access where role_name like %s", (PREFIX + "%",))
        for (role,) in c.execute("select rolname from pg_roles where rolname like %s", (PREFIX + "%",)).fetchall():
            c.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))
    (home / "warehouse_logins.json").unlink(missing_ok=True)


def chart_query(params: dict) -> dict:
    """The query a chart's form data asks for (its columns, metrics, orderings, simple filters)."""
    if params.get("query_mode") == "raw":
        q = {
            "columns": params["all_columns"],
            "metrics": None,
            "orderby": [json.loads(o) for o in params.get("order_by_cols", [])],
        }
    else:
        cols = ([params["x_axis"]] if params.get("x_axis") else []) + list(params.get("groupby") or [])
        q = {"columns": cols, "metrics": params.get("metrics") or [params["metric"]]}
    q["filters"] = [
        {"col": f["subject"], "op": f["operator"], "val": f["comparator"]}
        for f in params.get("adhoc_filters", [])
        if f["operator"] != "TEMPORAL_RANGE"
    ]
    q["row_limit"] = 1000
    return q


def data(s: requests.Session, base: str, dataset_id: int, query: dict) -> requests.Response:
    """POST /api/v1/chart/data: run ``query`` on a dataset as the session's user."""
    body = {
        "datasource": {"id": dataset_id, "type": "table"},
        "queries": [query],
        "result_format": "json",
        "result_type": "full",
    }
    return s.post(base + "api/v1/chart/data", json=body, timeout=120)


def datasets_by_table(s: requests.Session, base: str) -> dict[str, int]:
    r = s.get(base + "api/v1/dataset/", params={"q": "(page_size:100)"}, timeout=60)
    return {d["table_name"]: d["id"] for d in r.json()["result"]}


def test_up_serves_the_five_dashboards_and_status_reports_it(superset):
    r = run_kpi("bi", "status", "--format", "json", env=superset.env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["running"] and doc["url"] == superset.url and doc["version"] == bi.SUPERSET_VERSION
    assert doc["admin_user"] == "admin"
    pw = Path(doc["admin_password_file"])
    assert stat.S_IMODE(pw.stat().st_mode) == 0o600
    assert stat.S_IMODE((superset.home / "warehouse_password").stat().st_mode) == 0o600
    assert run_kpi("bi", "url", env=superset.env).stdout.strip() == superset.url
    s = superset.admin()
    dash = s.get(superset.url + "api/v1/dashboard/", params={"q": "(page_size:100)"}, timeout=60).json()["result"]
    assert {d["slug"] for d in dash} >= {
        "dashboard_loyalty_pilot",
        "dashboard_partner_onboarding",
        "dashboard_bookings",
        "dashboard_escrow_pilot",
        "dashboard_platform",
    }
    for d in dash:  # each dashboard page is served
        page = s.get(superset.url + f"superset/dashboard/{d['slug']}/", timeout=60)
        assert page.status_code == 200, d["slug"]


def test_up_again_is_idempotent(superset):
    before = json.loads(run_kpi("bi", "status", "--format", "json", env=superset.env).stdout)
    r = run_kpi("bi", "up", "--port", superset.url.rsplit(":", 1)[1].strip("/"), env=superset.env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    after = json.loads(run_kpi("bi", "status", "--format", "json", env=superset.env).stdout)
    assert after["pid"] == before["pid"]  # the same server, dashboards re-imported in place
    s = superset.admin()
    charts = s.get(superset.url + "api/v1/chart/", params={"q": "(page_size:100)"}, timeout=60).json()
    assert charts["count"] == len(list((bi.dashboards_dir() / "charts").glob("*.yaml")))


def test_superset_reads_the_warehouse_as_a_read_only_login(superset, built_warehouse):
    with built_warehouse.connect() as c:
        row = c.execute(
            "select rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, pg_has_role(rolname, 'kpi_admin', 'member') "
            "from pg_roles where rolname = %s",
            (bi.WAREHOUSE_LOGIN,),
        ).fetchone()
        assert row == (False, False, False, False, True)
        direct = c.execute(
            "select count(*) from information_schema.role_table_grants where grantee = %s", (bi.WAREHOUSE_LOGIN,)
        ).fetchone()[0]
        assert direct == 0  # only what kpi_admin is granted: SELECT
    s = superset.admin()
    dbs = s.get(superset.url + "api/v1/database/", params={"q": "(page_size:100)"}, timeout=60).json()["result"]
    (kpi_db,) = [d for d in dbs if d["database_name"] == "KPI warehouse"]
    detail = s.get(superset.url + f"api/v1/database/{kpi_db['id']}/connection", timeout=60).json()["result"]
    assert detail["sqlalchemy_uri"].startswith(f"postgresql+psycopg2://{bi.WAREHOUSE_LOGIN}:")


def test_every_chart_query_runs_and_returns_the_marts_rows(superset, built_warehouse):
    s = superset.admin()
    charts = s.get(superset.url + "api/v1/chart/", params={"q": "(page_size:100)"}, timeout=60).json()["result"]
    assert len(charts) >= 40
    tables = {v: k for k, v in datasets_by_table(s, superset.url).items()}
    failures, empty = [], []
    with built_warehouse.connect() as c:
        for ch in charts:
            params = json.loads(s.get(superset.url + f"api/v1/chart/{ch['id']}", timeout=60).json()["result"]["params"])
            ds_id = int(params["datasource"].split("__")[0])
            r = data(s, superset.url, ds_id, chart_query(params))
            if r.status_code != 200:
                failures.append(f"{ch['slice_name']}: {r.status_code} {r.text[:300]}")
                continue
            rows = r.json()["result"][0]["rowcount"]
            has_rows = c.execute(
                sql.SQL("select exists (select 1 from {})").format(sql.Identifier("marts", tables[ds_id]))
            ).fetchone()[0]
            if has_rows and rows == 0:
                empty.append(ch["slice_name"])
    assert not failures, "\n".join(failures)
    assert not empty, f"charts with no rows over a mart that has rows: {empty}"


def test_client_logins_see_only_their_own_tenants_rows(superset, built_warehouse):
    """Two Superset users mapped to two client logins (kpi_client, one tenant each: the loyalty
    merchant and the bookings organization of the demo data): the same tenant-scoped chart queries
    show each only its own tenant's rows; the admin sees every tenant; a mart the client role may
    not read fails; a Superset user with no mapped login reads nothing."""
    scoped = {"fct_pilot_daily_metrics": "tenant_id", "fct_appointments_by_location_daily": "organization_id"}
    with built_warehouse.connect() as c:
        held = {
            table: {
                r[0]
                for r in c.execute(
                    sql.SQL("select distinct {} from {}").format(sql.Identifier(col), sql.Identifier("marts", table))
                )
            }
            for table, col in scoped.items()
        }
        tenants = [min(held["fct_pilot_daily_metrics"]), min(held["fct_appointments_by_location_daily"])]
        logins = {}
        for i, tenant in enumerate(tenants):
            login = f"{PREFIX}client_{i}"
            password = f"pw-{i}-{os.getpid()}"
            c.execute(
                sql.SQL("create role {} login password {} in role kpi_client").format(
                    sql.Identifier(login), sql.Literal(password)
                )
            )
            c.execute("insert into ops.tenant_access (role_name, tenant_id) values (%s, %s)", (login, tenant))
            logins[login] = (tenant, password)
    (superset.home / "warehouse_logins.json").write_text(
        json.dumps({login: {"login": login, "password": pw} for login, (_t, pw) in logins.items()})
    )
    env = bi._env(bi.Paths(superset.home))
    for user in [*logins, f"{PREFIX}unmapped"]:
        subprocess.run(
            [
                str(superset.home / "venv/bin/superset"),
                "fab",
                "create-user",
                "--role",
                "Alpha",
                "--username",
                user,
                "--firstname",
                user,
                "--lastname",
                "test",
                "--email",
                f"{user}@localhost",
                "--password",
                "viewer-pw",
            ],
            env=env,
            cwd=superset.home,
            capture_output=True,
            check=True,
        )
    admin = superset.admin()
    ids = datasets_by_table(admin, superset.url)

    def tenants_seen(s: requests.Session, table: str) -> set[str]:
        col = scoped[table]
        q = {
            "columns": [col],
            "metrics": ["sum_total_bookings" if col == "organization_id" else "sum_transactions_total"],
        }
        r = data(s, superset.url, ids[table], {**q, "row_limit": 1000})
        assert r.status_code == 200, r.text[:500]
        return {row[col] for row in r.json()["result"][0]["data"]}

    for table in scoped:
        assert tenants_seen(admin, table) == held[table]
    for login, (tenant, _pw) in logins.items():
        s = superset.session(login, "viewer-pw")
        for table in scoped:
            assert tenants_seen(s, table) == ({tenant} & held[table]), (login, table)
        denied = data(s, superset.url, ids["customer_analytics"], {"columns": [], "metrics": ["customers"]})
        assert denied.status_code != 200 and "permission denied" in denied.text, denied.text[:300]
    assert {t for t, _ in logins.values()} == set(tenants) and len(set(tenants)) == 2
    unmapped = superset.session(f"{PREFIX}unmapped", "viewer-pw")
    r = data(
        unmapped,
        superset.url,
        ids["fct_pilot_daily_metrics"],
        {"columns": ["tenant_id"], "metrics": ["sum_transactions_total"]},
    )
    assert r.status_code != 200, r.text[:300]


def test_down_stops_the_server(superset):
    r = run_kpi("bi", "down", env=superset.env)
    assert r.returncode == 0 and r.stdout.strip() == "stopped"
    r = run_kpi("bi", "status", "--format", "json", env=superset.env)
    assert r.returncode == 1 and json.loads(r.stdout)["running"] is False
    assert run_kpi("bi", "down", env=superset.env).stdout.strip() == "not running"
