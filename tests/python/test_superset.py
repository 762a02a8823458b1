"""Apache Superset for real: `kpi bi up` installs it (its own venv), imports dashboards/ and serves;
every chart's query runs through Superset's API over the session's ``built_warehouse`` as the
read-only login; every dashboard opened in headless Chromium as the admin draws every chart
with no error (a screenshot per dashboard); two client logins see only their own tenant's rows;
`kpi bi down` stops it.

Marked ``superset``, deselected by default (``addopts``); run with ``-m superset``: the first run downloads ~240 MB
and installs ~0.8 GB. ``KPI_BI_HOME`` set in the environment reuses that installation
between runs; otherwise it goes to the session's temporary folder.

The browser test drives /usr/bin/chromium (skipped without it) with Playwright for Python,
pinned in ``dashboards/playwright-requirements.txt`` and installed into a venv of its own beside
Superset's folder (``<KPI_BI_HOME>/../playwright``). Its screenshots go to the test's temporary
folder, or to ``KPI_BI_SCREENSHOTS`` (a folder, relative to the repository) when set:
``KPI_BI_SCREENSHOTS=docs/img`` refreshes the ones the docs show.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml
from psycopg import sql

from conftest import ROOT, run_kpi
from kpiwh import bi

pytestmark = [pytest.mark.superset, pytest.mark.slow]

PREFIX = "sst_"  # logins and Superset users this module creates (dropped after)
CHROMIUM = Path("/usr/bin/chromium")
PLAYWRIGHT_REQUIREMENTS = ROOT / "dashboards" / "playwright-requirements.txt"

#: run by the Playwright venv's Python: JSON job on stdin (url, user, password, chromium, outdir,
#: timeout in seconds per dashboard, dashboards: slug -> number of charts); JSON on stdout: per slug,
#: each chart holder's state in the DOM and each chart-data response (chart id, HTTP status, row
#: counts, errors), and whether the dashboard settled before the timeout
RENDER_SCRIPT = r"""
import json
import sys
import time
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import sync_playwright

CHARTS = '''() => Array.from(document.querySelectorAll('[data-test="chart-grid-component"]')).map(el => ({
  id: Number(el.getAttribute('data-test-chart-id')),
  name: el.getAttribute('data-test-chart-name'),
  loading: el.querySelector('[data-test="loading-indicator"], .loading') !== null,
  errors: Array.from(el.querySelectorAll('.ant-alert-error, [data-test="error-tooltip"]'))
    .map(e => e.innerText.trim() || 'error')
    .concat(/Unexpected error|An error occurred/.test(el.innerText) ? [el.innerText.slice(0, 300)] : []),
  empty: /No results were returned/.test(el.innerText),
  drawn: Array.from(el.querySelectorAll('[data-test="slice-container"]')).some(c =>
    !c.querySelector('.ant-alert, .ant-empty')
    && (c.querySelector('svg, canvas, table') !== null || c.innerText.trim() !== '')),
}))'''
WIDTH = 1600


def record(responses, r):
    url = urlparse(r.url)
    if r.request.method != "POST" or not url.path.rstrip("/").endswith(("/api/v1/chart/data", "/explore_json")):
        return
    form_data = json.loads(parse_qs(url.query).get("form_data", ["{}"])[0])
    try:
        body = r.json()
    except Exception as exc:
        body = {"message": f"not JSON: {exc}"}
    results = body.get("result") or []
    responses.append({
        "chart_id": form_data.get("slice_id"),
        "status": r.status,
        "rowcounts": [q.get("rowcount") for q in results],
        "errors": [str(q["error"]) for q in results if q.get("error")]
        + ([str(body.get("message") or body.get("errors") or body)] if r.status != 200 else []),
    })


def fit_viewport(page):
    # the whole dashboard in the viewport: every chart is drawn (none left lazy below the fold)
    page.set_viewport_size({"width": WIDTH, "height": page.evaluate("document.documentElement.scrollHeight")})


def main():
    job = json.load(sys.stdin)
    base, out = job["url"], {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=job["chromium"])
        page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
        page.goto(base + "login/")
        page.fill('[data-test="username-input"]', job["user"])
        page.fill('[data-test="password-input"]', job["password"])
        page.click('[data-test="login-button"]')
        try:
            page.wait_for_url(lambda u: "/login" not in u, timeout=60_000, wait_until="commit")
        except Exception:
            page.screenshot(path=f"{job['outdir']}/login-failed.png")
            sys.exit(f"login as {job['user']} failed at {page.url}: {page.inner_text('body')[:500]}")
        for slug, n_charts in job["dashboards"].items():
            responses = []
            listener = lambda r, responses=responses: record(responses, r)  # noqa: E731
            page.on("response", listener)
            page.set_viewport_size({"width": WIDTH, "height": 1000})
            page.goto(f"{base}superset/dashboard/{slug}/")
            page.wait_for_selector('[data-test="chart-grid-component"]', timeout=120_000)
            fit_viewport(page)
            deadline = time.monotonic() + job["timeout"]
            while True:
                charts = page.evaluate(CHARTS)
                done = (
                    len(charts) >= n_charts
                    and not any(c["loading"] for c in charts)
                    and len({r["chart_id"] for r in responses}) >= len(charts)
                )
                if done or time.monotonic() > deadline:
                    break
                page.wait_for_timeout(500)
            page.wait_for_timeout(1500)  # chart animations end
            fit_viewport(page)
            page.wait_for_timeout(300)
            page.screenshot(path=f"{job['outdir']}/{slug}.png", full_page=True)
            page.remove_listener("response", listener)
            out[slug] = {"charts": page.evaluate(CHARTS), "responses": responses, "timed_out": not done}
        browser.close()
    json.dump(out, sys.stdout)


main()
"""


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


def dashboard_charts() -> dict[str, list[str]]:
    """Slug -> names of the charts its layout places, for every dashboard in dashboards/dashboards/."""
    out = {}
    for f in sorted((bi.dashboards_dir() / "dashboards").glob("*.yaml")):
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        out[doc["slug"]] = [
            node["meta"]["sliceName"]
            for node in doc["position"].values()
            if isinstance(node, dict) and node.get("type") == "CHART"
        ]
    return out


def chart_tables() -> dict[str, str]:
    """Chart name -> the mart table its dataset reads (dashboards/charts and dashboards/datasets)."""
    tables = {}
    for f in (bi.dashboards_dir() / "datasets").rglob("*.yaml"):
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        tables[doc["uuid"]] = doc["table_name"]
    out = {}
    for f in (bi.dashboards_dir() / "charts").glob("*.yaml"):
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        out[doc["slice_name"]] = tables[doc["dataset_uuid"]]
    return out


def _clean_env() -> dict[str, str]:
    """The environment without this project's Python settings (for another venv's interpreter)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}


@pytest.fixture(scope="module")
def playwright_python(superset) -> Path:
    """Python of a venv holding the pinned Playwright, beside Superset's folder (reinstalled when the pins change)."""
    venv = superset.home.parent / "playwright"
    python, mark = venv / "bin" / "python", venv / "kpi-installed.txt"
    digest = hashlib.sha256(PLAYWRIGHT_REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and mark.exists() and mark.read_text().strip() == digest:
        return python
    steps = [] if python.exists() else [[sys.executable, "-m", "venv", str(venv)]]
    steps.append([str(python), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"])
    steps[-1] += ["-r", str(PLAYWRIGHT_REQUIREMENTS)]
    for cmd in steps:
        r = subprocess.run(cmd, capture_output=True, text=True, env=_clean_env(), check=False, timeout=900)
        assert r.returncode == 0, f"{cmd}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    mark.write_text(digest + "\n")
    return python


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels of a PNG file, from its header; AssertionError when it is not a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install -y chromium)")
def test_every_dashboard_renders_in_headless_chromium(superset, playwright_python, built_warehouse, tmp_path):
    """Each dashboard opened in the browser as the admin: every chart of its layout is on the page,
    its chart-data requests answer 200 with rows, it draws them and shows no error; a chart over a
    mart that holds no rows shows Superset's empty state instead. One full-page PNG per dashboard."""
    layouts = dashboard_charts()
    assert len(layouts) == 5
    shots = Path(os.environ["KPI_BI_SCREENSHOTS"]) if os.environ.get("KPI_BI_SCREENSHOTS") else tmp_path
    shots = shots if shots.is_absolute() else ROOT / shots
    shots.mkdir(parents=True, exist_ok=True)
    timeout = 120
    job = {
        "url": superset.url,
        "user": bi.ADMIN_USER,
        "password": (superset.home / "admin_password").read_text().strip(),
        "chromium": str(CHROMIUM),
        "outdir": str(shots),
        "timeout": timeout,
        "dashboards": {slug: len(names) for slug, names in layouts.items()},
    }
    r = subprocess.run(
        [str(playwright_python), "-c", RENDER_SCRIPT],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=len(layouts) * (timeout + 60),
        check=False,
    )
    assert r.returncode == 0, f"the browser run failed:\n{r.stderr[-3000:]}"
    seen = json.loads(r.stdout)
    tables = chart_tables()
    exists = sql.SQL("select exists (select 1 from {})")
    with built_warehouse.connect() as c:
        empty_marts = {
            t for t in set(tables.values()) if not c.execute(exists.format(sql.Identifier("marts", t))).fetchone()[0]
        }
    problems = []
    for slug, names in layouts.items():
        page = seen[slug]
        if page["timed_out"]:
            problems.append(f"{slug}: still loading after {timeout}s")
        assert sorted(ch["name"] for ch in page["charts"]) == sorted(names), slug
        for ch in page["charts"]:
            where = f"{slug} / {ch['name']}"
            answers = [a for a in page["responses"] if a["chart_id"] == ch["id"]]
            problems += [f"{where}: shows an error: {e}" for e in ch["errors"]]
            problems += [f"{where}: chart data {a['status']}: {a['errors']}" for a in answers if a["errors"]]
            rows = sum(n or 0 for a in answers for n in a["rowcounts"])
            if not answers:
                problems.append(f"{where}: no chart-data request")
            elif tables[ch["name"]] in empty_marts:
                if not ch["empty"]:
                    problems.append(f"{where}: its mart is empty, yet the chart does not say so")
            elif rows == 0 or ch["empty"] or not ch["drawn"]:
                problems.append(f"{where}: draws no data ({rows} rows)")
        width, height = png_size(shots / f"{slug}.png")
        assert width == 1600 and height >= 1000, (slug, width, height)
    assert not problems, "\n".join(problems)


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
