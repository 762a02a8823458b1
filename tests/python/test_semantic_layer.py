"""The semantic layer (MetricFlow): `kpi metrics query` answers what the marts hold.

* for each product's headline KPIs, a query by day and by ISO week (``metric_time__day``,
  ``metric_time__week``) returns the rows of the corresponding daily and weekly marts
  (or of their sums by ISO week where the product has no weekly mart);
* a rate over a week is the ratio of the week's sums, never the mean of its daily rates
  (checked on a week where the two differ);
* `kpi metrics list` names every metric with its seed and unit; bad names are one line, exit 2;
* a model whose SQL changes a column's type fails its build at the contract, naming the column.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal

import pytest

from conftest import ROOT, project_view, run_kpi
from kpiwh import metrics

RATE_TOLERANCE = 0.5e-4 + 1e-9  # the marts round rates to 4 decimals (half up)


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    return r


def query(warehouse, metrics: list[str], group_by: list[str], *extra: str) -> list[dict]:
    """`kpi metrics query ... --format json` on the built warehouse: its rows."""
    r = _ok(
        run_kpi(
            "metrics",
            "query",
            "--metrics",
            ",".join(metrics),
            "--group-by",
            ",".join(group_by),
            "--format",
            "json",
            *extra,
            env={"KPI_PGDATABASE": warehouse.dbname},
        )
    )
    return json.loads(r.stdout)


def mart(warehouse, sql: str) -> list[dict]:
    """Rows of a SQL query on the built warehouse, as dicts (dates ISO, decimals as float)."""
    with warehouse.connect() as c:
        cur = c.execute(sql)
        names = [d.name for d in cur.description]
        rows = cur.fetchall()

    def norm(v):
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, Decimal):
            return float(v)
        return v

    return [dict(zip(names, map(norm, r))) for r in rows]


def close(a, b, tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= tol


def assert_same_rows(got: list[dict], expected: list[dict], key: list[str], columns: dict[str, tuple[str, float]]):
    """``got`` (MetricFlow's rows) equals ``expected`` (the mart's), matched on ``key``.

    Args:
        columns: metric name -> (mart column, tolerance): 0 for counts, RATE_TOLERANCE for rounded rates.
    """
    by_key = {tuple(r[k] for k in key): r for r in got}
    want = {tuple(r[k] for k in key): r for r in expected}
    assert want, "the mart has no rows: nothing compared"
    assert set(by_key) == set(want), (
        f"keys only in the metrics: {sorted(set(by_key) - set(want), key=str)[:5]}; "
        f"only in the mart: {sorted(set(want) - set(by_key), key=str)[:5]}"
    )
    bad = [
        (k, metric, by_key[k][metric], want[k][col])
        for k in want
        for metric, (col, tol) in columns.items()
        if not close(by_key[k][metric], want[k][col], tol)
    ]
    assert not bad, f"{len(bad)} values differ (key, metric, metrics' value, mart's value), e.g. {bad[:5]}"


# --------------------------------------------------------------------------- loyalty (seed 000)
LOYALTY_DAILY = {
    "loyalty_transactions": ("transactions_total", 0),
    "loyalty_redeem_transactions": ("redeem_transactions", 0),
    "loyalty_scan_errors": ("scan_errors_total", 0),
    "loyalty_redemption_rate": ("redemption_rate", RATE_TOLERANCE),
    "loyalty_error_rate": ("error_rate", RATE_TOLERANCE),
    "loyalty_scan_failure_share": ("scan_failure_share", RATE_TOLERANCE),
}


def test_loyalty_by_day_equals_the_daily_mart(built_warehouse):
    got = query(built_warehouse, list(LOYALTY_DAILY), ["metric_time__day", "tenant", "location"])
    expected = mart(
        built_warehouse,
        "select metric_date as metric_time__day, tenant_id as tenant, location_id as location, * "
        "from marts.fct_pilot_daily_metrics",
    )
    assert_same_rows(got, expected, ["metric_time__day", "tenant", "location"], LOYALTY_DAILY)


def test_loyalty_by_iso_week_equals_the_weekly_report_and_rates_are_ratios_of_sums(built_warehouse):
    weekly = {
        "loyalty_transactions": ("transactions_total", 0),
        "loyalty_scan_errors": ("scan_errors_total", 0),
        "loyalty_active_customers": ("active_customers", 0),
        "loyalty_redemption_rate": ("redemption_rate", RATE_TOLERANCE),
        "loyalty_error_rate": ("error_rate", RATE_TOLERANCE),
    }
    got = query(built_warehouse, list(weekly), ["metric_time__week", "tenant"])
    expected = mart(
        built_warehouse,
        "select week_start as metric_time__week, tenant_id as tenant, * from marts.rpt_weekly_merchant_report",
    )
    assert_same_rows(got, expected, ["metric_time__week", "tenant"], weekly)
    # the week's rate is redeems / issues of the week (capped at 1), not the mean of its daily rates
    days = mart(
        built_warehouse,
        "select date_trunc('week', metric_date)::date as week, tenant_id, sum(redeem_transactions) as redeems, "
        "sum(issue_transactions) as issues, avg(redemption_rate) as mean_of_daily_rates "
        "from marts.fct_pilot_daily_metrics group by 1, 2",
    )
    by_key = {(r["metric_time__week"], r["tenant"]): r["loyalty_redemption_rate"] for r in got}
    differs = 0
    for d in days:
        if not d["issues"]:
            continue
        rate = by_key[(d["week"], d["tenant_id"])]
        assert rate == pytest.approx(min(d["redeems"] / d["issues"], 1.0), abs=1e-9)
        differs += abs(rate - d["mean_of_daily_rates"]) > 1e-3
    assert differs, "no week where the mean of daily rates differs from the ratio of sums: the check proves nothing"


# --------------------------------------------------------------------------- partners (seed 001)
PARTNERS = {
    "partner_signups_started": ("signups_started", 0),
    "partner_applications_approved": ("applications_approved", 0),
    "partner_signup_conversion_rate": ("signup_conversion_rate", RATE_TOLERANCE),
    "partner_invite_acceptance_rate": ("invite_acceptance_rate", RATE_TOLERANCE),
    "partner_mail_success_rate": ("mail_success_rate", RATE_TOLERANCE),
    "partner_avg_approval_time_hours": ("avg_approval_time_hours", 1e-5),
    "partner_partners_active": ("partners_active", 0),
    "partner_applications_pending": ("applications_pending", 0),
}


def test_partners_by_day_and_by_iso_week_equal_the_daily_and_weekly_marts(built_warehouse):
    got = query(built_warehouse, list(PARTNERS), ["metric_time__day"])
    expected = mart(built_warehouse, "select metric_date as metric_time__day, * from marts.fct_partner_metrics_daily")
    assert_same_rows(got, expected, ["metric_time__day"], PARTNERS)

    weekly = {**PARTNERS, "partner_approval_hours_median": ("median_approval_time_hours", 1e-5)}
    got = query(built_warehouse, list(weekly), ["metric_time__week"])
    expected = mart(built_warehouse, "select week_start as metric_time__week, * from marts.fct_partner_metrics_weekly")
    assert_same_rows(got, expected, ["metric_time__week"], weekly)


# --------------------------------------------------------------------------- bookings (seed 002)
BOOKINGS = {
    "bookings_total": ("total_bookings", 0),
    "bookings_no_shows": ("no_shows", 0),
    "bookings_new_customers": ("new_customers", 0),
    "bookings_revenue_cents": ("completed_revenue_cents", 0),
}


def test_bookings_by_day_equal_the_daily_mart_and_by_iso_week_its_weekly_sums(built_warehouse):
    got = query(built_warehouse, list(BOOKINGS), ["metric_time__day", "tenant", "location"])
    expected = mart(
        built_warehouse,
        "select booking_date as metric_time__day, organization_id as tenant, location_id as location, * "
        "from marts.fct_appointments_by_location_daily",
    )
    assert_same_rows(got, expected, ["metric_time__day", "tenant", "location"], BOOKINGS)

    weekly = {
        **BOOKINGS,
        "bookings_no_show_rate": ("no_show_rate", 1e-9),
        "bookings_avg_ticket_cents": ("avg_ticket", 1e-6),
    }
    got = query(built_warehouse, list(weekly), ["metric_time__week", "tenant"])
    expected = mart(
        built_warehouse,
        "select date_trunc('week', booking_date)::date as metric_time__week, organization_id as tenant, "
        "sum(total_bookings) as total_bookings, sum(no_shows) as no_shows, sum(new_customers) as new_customers, "
        "sum(completed_revenue_cents) as completed_revenue_cents, "
        "sum(no_shows)::numeric / nullif(sum(total_bookings), 0) as no_show_rate, "
        "sum(completed_revenue_cents)::numeric / nullif(sum(completed_payments), 0) as avg_ticket "
        "from marts.fct_appointments_by_location_daily group by 1, 2",
    )
    assert_same_rows(got, expected, ["metric_time__week", "tenant"], weekly)


# --------------------------------------------------------------------------- marketplace (seed 003)
def test_marketplace_by_iso_week_equals_the_pilot_kpis_and_by_day_the_daily_summary(built_warehouse):
    got = query(
        built_warehouse,
        ["marketplace_deals_created", "marketplace_settlement_completion_rate", "marketplace_dispute_frequency"],
        ["metric_time__week", "deal__template_version"],
    )
    expected = mart(
        built_warehouse,
        "select period_start as metric_time__week, template_version as deal__template_version, "
        "max(denominator) filter (where kpi = 'settlement_completion_rate') as deals_created, "
        "max(value) filter (where kpi = 'settlement_completion_rate') as settlement_completion_rate, "
        "max(value) filter (where kpi = 'dispute_frequency') as dispute_frequency "
        "from marts.rpt_pilot_kpis where period_type = 'iso_week' group by 1, 2",
    )
    assert_same_rows(
        got,
        expected,
        ["metric_time__week", "deal__template_version"],
        {
            "marketplace_deals_created": ("deals_created", 0),
            "marketplace_settlement_completion_rate": ("settlement_completion_rate", RATE_TOLERANCE),
            "marketplace_dispute_frequency": ("dispute_frequency", RATE_TOLERANCE),
        },
    )
    # evidence completeness of the deals created each week (a join from the disputes to their deals)
    got = query(built_warehouse, ["marketplace_evidence_completeness"], ["deal__created_at__week"])
    expected = mart(
        built_warehouse,
        "select period_start as deal__created_at__week, sum(numerator)::numeric / sum(denominator) as value "
        "from marts.rpt_pilot_kpis where period_type = 'iso_week' and kpi = 'evidence_completeness' "
        "group by 1 having sum(denominator) > 0",
    )
    assert_same_rows(got, expected, ["deal__created_at__week"], {"marketplace_evidence_completeness": ("value", 1e-9)})

    got = query(built_warehouse, ["marketplace_deals_created"], ["metric_time__day"])
    expected = mart(
        built_warehouse,
        "select metric_date as metric_time__day, sum(deals_created) as deals_created from marts.metrics_daily_deals "
        "group by 1 having sum(deals_created) > 0",
    )
    assert_same_rows(got, expected, ["metric_time__day"], {"marketplace_deals_created": ("deals_created", 0)})


# --------------------------------------------------------------------------- platform (seed 004)
PAYMENTS = {
    "platform_payment_attempts": ("attempts", 0),
    "platform_payment_successes": ("successes", 0),
    "platform_payment_revenue_cents": ("revenue_cents", 0),
    "platform_payment_success_rate": ("success_rate", RATE_TOLERANCE),
    "platform_payment_fallback_rate": ("fallback_rate", RATE_TOLERANCE),
    "platform_payment_refund_rate": ("refund_rate", RATE_TOLERANCE),
    "platform_avg_transaction_cents": ("avg_transaction_cents", 0.5),
}


@pytest.mark.parametrize(
    ("grain", "relation", "day"),
    [("day", "metrics_daily_payments", "metric_date"), ("week", "metrics_weekly_payments", "week_start")],
)
def test_platform_payments_equal_the_daily_and_weekly_marts(built_warehouse, grain, relation, day):
    key = [f"metric_time__{grain}", "payments_day__country_code", "payments_day__provider"]
    got = query(built_warehouse, list(PAYMENTS), key)
    expected = mart(
        built_warehouse,
        f"select {day} as metric_time__{grain}, country_code as payments_day__country_code, "
        f"provider as payments_day__provider, * from marts.{relation}",
    )
    assert_same_rows(got, expected, key, PAYMENTS)


def test_platform_calls_by_iso_week_and_engagement_by_day_equal_their_marts(built_warehouse):
    calls = {
        "platform_calls_attempted": ("calls_attempted", 0),
        "platform_call_answer_rate": ("answer_rate", RATE_TOLERANCE),
        "platform_call_completion_rate": ("completion_rate", RATE_TOLERANCE),
        "platform_call_drop_rate": ("drop_rate", RATE_TOLERANCE),
    }
    key = ["metric_time__week", "calls_day__service_code"]
    got = query(built_warehouse, list(calls), key)
    expected = mart(
        built_warehouse,
        "select week_start as metric_time__week, service_code as calls_day__service_code, * "
        "from marts.metrics_weekly_calls",
    )
    assert_same_rows(got, expected, key, calls)

    engagement = {
        "platform_active_users": ("dau", 0),
        "platform_wau": ("wau", 0),
        "platform_mau": ("mau", 0),
        "platform_stickiness": ("stickiness", RATE_TOLERANCE),
    }
    expected = mart(built_warehouse, "select metric_date as metric_time__day, * from marts.metrics_daily_engagement")
    first, last = min(r["metric_time__day"] for r in expected), max(r["metric_time__day"] for r in expected)
    got = query(built_warehouse, list(engagement), ["metric_time__day"], "--start", first, "--end", last)
    assert_same_rows(got, expected, ["metric_time__day"], engagement)


# --------------------------------------------------------------------------- the CLI
def test_metrics_list_names_seed_and_unit_and_bad_names_are_one_line(built_warehouse):
    env = {"KPI_PGDATABASE": built_warehouse.dbname}
    r = _ok(run_kpi("metrics", "list", "--format", "json", env=env))
    listed = json.loads(r.stdout)
    names = {m["name"] for m in listed}
    assert len(listed) > 100
    assert {"loyalty_redemption_rate", "partner_signup_conversion_rate", "bookings_no_show_rate"} <= names
    assert {"marketplace_settlement_completion_rate", "platform_payment_success_rate", "platform_mau"} <= names
    missing = [m["name"] for m in listed if "Seed 00" not in m["description"] or "unit:" not in m["description"]]
    assert not missing, f"descriptions without seed or unit: {missing}"
    types = {m["name"]: m["type"] for m in listed}
    assert types["platform_payment_success_rate"] == "ratio" and types["platform_wau"] == "cumulative"

    r = run_kpi("metrics", "query", "--metrics", "no_such_metric", env=env)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "no_such_metric" in r.stderr and "Traceback" not in r.stderr
    r = run_kpi("metrics", "query", "--metrics", "loyalty_transactions", "--group-by", "tenant__nope", env=env)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = run_kpi(
        "metrics", "query", "--metrics", "loyalty_transactions", "--format", "csv", "--where",
        "{{ Entity('tenant') }} = 'no-such-tenant'", env=env,
    )  # fmt: skip
    # no row matches: one total, null (an empty CSV field)
    assert r.returncode == 0 and r.stdout.splitlines() == ["loyalty_transactions", '""'], r.stdout + r.stderr


# --------------------------------------------------------------------------- contracts
def test_a_mart_whose_sql_changes_a_column_type_fails_at_the_contract_naming_it(fresh_db, conn, tmp_path):
    # a private view of the project whose dim_date.sql returns calendar_year as text (its contract: integer)
    view = project_view(tmp_path)
    (view / "models").unlink()
    shutil.copytree(ROOT / "models", view / "models")
    sql = view / "models" / "marts" / "core" / "dim_date.sql"
    text = sql.read_text(encoding="utf-8")
    assert "    calendar_year,\n" in text
    sql.write_text(
        text.replace("    calendar_year,\n", "    cast(calendar_year as text) as calendar_year,\n"), encoding="utf-8"
    )

    r = run_kpi("build", "--select", "+dim_date", env={"KPI_PROJECT_DIR": str(view)})
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    out = r.stdout + r.stderr
    assert "contract" in out.lower() and "calendar_year" in out, out[-3000:]
    assert conn.execute("select to_regclass('marts.dim_date')").fetchone()[0] is None
    # the time spine it reads was built: the failure is dim_date's own
    assert conn.execute("select count(*) from marts.metricflow_time_spine").fetchone()[0] > 3000


def test_the_semantic_manifest_is_read_on_the_connected_database():
    """A semantic_manifest.json parsed for another database of the server names the connected one."""
    parsed = {
        "semantic_models": [
            {"node_relation": {"alias": "m", "schema_name": "marts", "database": "other", "relation_name": "x"}}
        ],
        "project_configuration": {
            "time_spines": [{"node_relation": {"alias": "s", "schema_name": "marts", "database": "other"}}]
        },
    }
    out = json.loads(metrics._on_database(json.dumps(parsed), "t_built"))
    assert out["semantic_models"][0]["node_relation"] == {
        "alias": "m",
        "schema_name": "marts",
        "database": "t_built",
        "relation_name": '"t_built"."marts"."m"',
    }
    assert out["project_configuration"]["time_spines"][0]["node_relation"]["relation_name"] == '"t_built"."marts"."s"'
