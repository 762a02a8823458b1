"""Issue 14, part 3: lifecycle, stickiness, sessions, paths and DAU/WAU/MAU per tenant and domain.

On the hand-made ``product_activity_small`` fixture (derivations in its README.md), in one
database built once for the module:

* the fixture without its two late events is loaded and built; then the late events
  (received 40 days after they occurred) are loaded and a plain ``kpi build`` runs: the
  rows of their days *and* of the days they change (the next day's dormant users, a user's
  next active day six days later turning from new into resurrecting) are updated;
* every activity mart then equals the rows computed by hand below (the state a clean
  build of all the events gives; a ``--full-refresh`` at the end gives the same rows);
* the invariants are dbt tests of the build (lifecycle sums, stickiness sums, bounce rate
  in [0, 1], lifecycle active users = DAU);
* a bad ``product_analytics.paths`` / ``sessions`` entry fails the parse with one line
  naming the entry.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from conftest import FIXTURES, admin_conn, run_kpi, write_csv

pytestmark = pytest.mark.slow  # one module database: two loads and builds, then a --full-refresh

FIX = FIXTURES / "product_activity_small"
LATE = {"00000000-0000-4000-8000-000000000220", "00000000-0000-4000-8000-000000000221"}
MARTS = [
    "metrics_daily_active_users",
    "metrics_daily_lifecycle",
    "metrics_weekly_lifecycle",
    "metrics_stickiness",
    "metrics_daily_sessions",
    "fct_path_next_events_daily",
    "rpt_path_top_next_events",
]
SELECT = ["--select", " ".join(f"+{m}" for m in MARTS)]
DBNAME = "t_pa_activity"
D1, D2, D3, D4 = date(2025, 3, 3), date(2025, 3, 4), date(2025, 3, 5), date(2025, 3, 10)


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    return r


def _copy(dst: Path, keep) -> Path:
    """The fixture's tenants and the events ``keep`` selects."""
    dst.mkdir(parents=True)
    (dst / "tenants.jsonl").write_bytes((FIX / "tenants.jsonl").read_bytes())
    with (FIX / "events_raw.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    write_csv(dst / "events_raw.csv", rows[0], [r for r in rows[1:] if keep(r)])
    return dst


def _rows(conn: psycopg.Connection, sql: str) -> list[tuple]:
    """Rows of a query, decimals as floats (the marts round to 2 or 4 decimals)."""
    return [tuple(float(v) if isinstance(v, Decimal) else v for v in r) for r in conn.execute(sql).fetchall()]


@pytest.fixture(scope="module")
def warehouse(pg_server, tmp_path_factory):
    """(connection, rows before the late events): the fixture built, then its late events loaded and built."""
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{DBNAME}" with (force)')
        c.execute(f'create database "{DBNAME}"')
    env = {"KPI_PGDATABASE": DBNAME}
    tmp = tmp_path_factory.mktemp("pa_activity")
    _ok(run_kpi("load", str(_copy(tmp / "early", lambda r: r[0] not in LATE)), env=env))
    _ok(run_kpi("build", *SELECT, env=env))
    with psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=DBNAME, autocommit=True) as c:
        before = {
            "dau": _rows(
                c,
                "select metric_date, dau, wau, mau from marts.metrics_daily_active_users "
                "where tenant_id = 'all' and event_domain = 'all' order by 1",
            ),
            "lifecycle": _rows(c, LIFECYCLE_SQL.format("metrics_daily_lifecycle", "metric_date", "'all'")),
            "weekly": _rows(c, LIFECYCLE_SQL.format("metrics_weekly_lifecycle", "week_start", "'all'")),
            "sessions": _rows(c, SESSIONS_SQL.format(day="2025-03-03", tenant="all", domain="all")),
        }
    _ok(run_kpi("load", str(_copy(tmp / "late", lambda r: r[0] in LATE)), env=env))
    _ok(run_kpi("build", *SELECT, env=env))
    with psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=DBNAME, autocommit=True) as c:
        yield c, before
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{DBNAME}" with (force)')


LIFECYCLE_SQL = (
    "select {1}, active_users, new_users, returning_users, resurrecting_users, dormant_users "
    "from marts.{0} where tenant_id = {2} and event_domain = 'all' order by 1"
)
SESSIONS_SQL = (
    "select sessions, sessions_with_session_id, session_events, bounced_sessions, bounce_rate, "
    "avg_session_duration_seconds, median_session_duration_seconds, avg_events_per_session "
    "from marts.metrics_daily_sessions where metric_date = '{day}' and tenant_id = '{tenant}' "
    "and event_domain = '{domain}'"
)


def test_before_the_late_events(warehouse):
    _conn, before = warehouse
    # all tenants, all domains: u1 u2 u3 on D1; u1 u3 on D2; u2 on D3; u5 (first seen) on D4
    assert before["dau"] == [(D1, 3, 3, 3), (D2, 2, 3, 3), (D3, 1, 3, 3), (D4, 1, 4, 4)]
    # (day, active, new, returning, resurrecting, dormant): u2 resurrects on D3, u5 is new on D4
    assert before["lifecycle"] == [
        (D1, 3, 3, 0, 0, 0),
        (D2, 2, 0, 2, 0, 1),  # u2 dormant
        (D3, 1, 0, 0, 1, 2),  # u2 resurrecting; u1, u3 dormant
        (date(2025, 3, 6), 0, 0, 0, 0, 1),  # u2 dormant
        (D4, 1, 1, 0, 0, 0),  # u5 new
        (date(2025, 3, 11), 0, 0, 0, 0, 1),
    ]
    assert before["weekly"] == [(D1, 3, 3, 0, 0, 0), (D4, 1, 1, 0, 0, 3), (date(2025, 3, 17), 0, 0, 0, 0, 1)]
    # D1: u1 09:00-09:20 (3 events) and 10:30 (bounce), u2's session s1 (2 events, 40 min), u3 (bounce)
    assert before["sessions"] == [(4, 1, 7, 2, 0.5, 900.0, 600.0, 1.75)]


def test_dau_wau_mau_per_tenant_and_domain(warehouse):
    conn, _ = warehouse
    got = _rows(
        conn,
        "select tenant_id, event_domain, metric_date, dau, wau, mau, stickiness "
        "from marts.metrics_daily_active_users order by 1, 2, 3",
    )
    # user-days: u1 pa_a D1 (orders, payments), D2 (orders); u2 pa_a content D1, D2 (late), D3;
    # u3 pa_b orders D1, D2; u5 pa_b content D1 (late), D4. WAU window D4: 03-04 .. 03-10.
    want = [
        ("all", "all", D1, 4, 4, 4), ("all", "all", D2, 3, 4, 4), ("all", "all", D3, 1, 4, 4),
        ("all", "all", D4, 1, 4, 4),
        ("all", "content", D1, 2, 2, 2), ("all", "content", D2, 1, 2, 2), ("all", "content", D3, 1, 2, 2),
        ("all", "content", D4, 1, 2, 2),
        ("all", "orders", D1, 2, 2, 2), ("all", "orders", D2, 2, 2, 2),
        ("all", "payments", D1, 1, 1, 1),
        ("pa_a", "all", D1, 2, 2, 2), ("pa_a", "all", D2, 2, 2, 2), ("pa_a", "all", D3, 1, 2, 2),
        ("pa_a", "content", D1, 1, 1, 1), ("pa_a", "content", D2, 1, 1, 1), ("pa_a", "content", D3, 1, 1, 1),
        ("pa_a", "orders", D1, 1, 1, 1), ("pa_a", "orders", D2, 1, 1, 1),
        ("pa_a", "payments", D1, 1, 1, 1),
        ("pa_b", "all", D1, 2, 2, 2), ("pa_b", "all", D2, 1, 2, 2), ("pa_b", "all", D4, 1, 2, 2),
        ("pa_b", "content", D1, 1, 1, 1), ("pa_b", "content", D4, 1, 1, 1),
        ("pa_b", "orders", D1, 1, 1, 1), ("pa_b", "orders", D2, 1, 1, 1),
    ]  # fmt: skip
    assert [r[:6] for r in got] == want
    assert all(r[6] == round(r[3] / r[5], 4) for r in got)


def test_lifecycle_daily_and_weekly_after_the_late_events(warehouse):
    conn, _ = warehouse
    # u2's late D2 event: returning on D2 and D3 (no longer resurrecting), not dormant on D2;
    # u5's late D1 event: new on D1, dormant on D2, and D4 (six days later) turns resurrecting
    assert _rows(conn, LIFECYCLE_SQL.format("metrics_daily_lifecycle", "metric_date", "'all'")) == [
        (D1, 4, 4, 0, 0, 0),
        (D2, 3, 0, 3, 0, 1),  # u5 dormant
        (D3, 1, 0, 1, 0, 2),  # u2 returning; u1, u3 dormant
        (date(2025, 3, 6), 0, 0, 0, 0, 1),  # u2 dormant
        (D4, 1, 0, 0, 1, 0),  # u5 resurrecting
        (date(2025, 3, 11), 0, 0, 0, 0, 1),  # u5 dormant
    ]
    assert _rows(conn, LIFECYCLE_SQL.format("metrics_daily_lifecycle", "metric_date", "'pa_b'")) == [
        (D1, 2, 2, 0, 0, 0),
        (D2, 1, 0, 1, 0, 1),
        (D3, 0, 0, 0, 0, 1),
        (D4, 1, 0, 0, 1, 0),
        (date(2025, 3, 11), 0, 0, 0, 0, 1),
    ]
    # a per-domain scope: content (u2 D1 D2 D3, u5 D1 D4)
    assert _rows(
        conn,
        "select metric_date, active_users, new_users, returning_users, resurrecting_users, dormant_users "
        "from marts.metrics_daily_lifecycle where tenant_id = 'all' and event_domain = 'content' order by 1",
    ) == [
        (D1, 2, 2, 0, 0, 0),
        (D2, 1, 0, 1, 0, 1),
        (D3, 1, 0, 1, 0, 0),
        (date(2025, 3, 6), 0, 0, 0, 0, 1),
        (D4, 1, 0, 0, 1, 0),
        (date(2025, 3, 11), 0, 0, 0, 0, 1),
    ]
    # weeks 03-03 and 03-10: u5 returns the week after its late first week
    assert _rows(conn, LIFECYCLE_SQL.format("metrics_weekly_lifecycle", "week_start", "'all'")) == [
        (D1, 4, 4, 0, 0, 0),
        (D4, 1, 0, 1, 0, 3),
        (date(2025, 3, 17), 0, 0, 0, 0, 1),
    ]


def test_stickiness_by_week_and_month(warehouse):
    conn, _ = warehouse
    got = _rows(
        conn,
        "select period_grain, period_start, active_days, users from marts.metrics_stickiness "
        "where tenant_id = 'all' and event_domain = 'all' order by 1, 2, 3",
    )
    # week 03-03: u5 1 day, u1 u3 2 days, u2 3 days; week 03-10: u5 1 day; March: u1 u3 u5 2, u2 3
    assert got == [
        ("month", date(2025, 3, 1), 2, 3),
        ("month", date(2025, 3, 1), 3, 1),
        ("week", D1, 1, 1),
        ("week", D1, 2, 2),
        ("week", D1, 3, 1),
        ("week", D4, 1, 1),
    ]
    assert _rows(
        conn,
        "select period_grain, active_days, users from marts.metrics_stickiness "
        "where tenant_id = 'pa_a' and event_domain = 'content' order by 1, 2",
    ) == [("month", 3, 1), ("week", 3, 1)]


def test_sessions_inactivity_session_id_and_bounces(warehouse):
    conn, _ = warehouse
    # (sessions, with session_id, events, bounced, bounce_rate, avg s, median s, events/session)
    want = {
        # u1: 09:00-09:20 (3 events, 1200 s) + 10:30 (70 min later: a bounce); u2: s1 (40 min apart,
        # one session by its session_id, 2400 s); u3: a bounce; u5 (late): a bounce
        ("2025-03-03", "all", "all"): (5, 1, 8, 3, 0.6, 720.0, 0.0, 1.6),
        ("2025-03-03", "pa_a", "all"): (3, 1, 6, 1, 0.3333, 1200.0, 1200.0, 2.0),
        ("2025-03-03", "pa_b", "all"): (2, 0, 2, 2, 1.0, 0.0, 0.0, 1.0),
        # the orders scope alone: u1's two orders 90 min apart are two bounces
        ("2025-03-03", "all", "orders"): (3, 0, 3, 3, 1.0, 0.0, 0.0, 1.0),
        ("2025-03-03", "pa_a", "payments"): (1, 0, 2, 0, 0.0, 600.0, 600.0, 2.0),
        ("2025-03-03", "all", "content"): (2, 1, 3, 1, 0.5, 1200.0, 1200.0, 1.5),
        # D2: u1 bounce, u3 09:00-09:05 (300 s), u2 (late) bounce
        ("2025-03-04", "all", "all"): (3, 0, 4, 2, 0.6667, 100.0, 0.0, 1.33),
        ("2025-03-04", "all", "orders"): (2, 0, 3, 1, 0.5, 150.0, 150.0, 1.5),
        # D3: u2 only (the event without a user or session belongs to no session)
        ("2025-03-05", "all", "all"): (1, 0, 1, 1, 1.0, 0.0, 0.0, 1.0),
    }
    for (day, tenant, domain), row in want.items():
        got = _rows(conn, SESSIONS_SQL.format(day=day, tenant=tenant, domain=domain))
        assert got == [row], (day, tenant, domain, got)
    per_day = _rows(conn, "select metric_date, count(*) from marts.metrics_daily_sessions group by 1 order by 1")
    # D1: 3 tenant scopes x (all + 3 domains) minus the empty (pa_b, payments)... listed by hand:
    # all/{all,orders,payments,content}, pa_a/{all,orders,payments,content}, pa_b/{all,orders,content}
    assert per_day == [(D1, 11), (D2, 8), (D3, 4), (D4, 4)]


def test_paths_next_events_after_order_created(warehouse):
    conn, _ = warehouse
    # anchors (orders.order_created, by user): 201 u1 -> 202 payments.payment_attempted; 204 u1 -> nothing
    # later that day; 207 u3 -> nothing; 209 u3 (D2) -> 210 orders.order_cancelled
    assert _rows(
        conn,
        "select metric_date, tenant_id, next_event, events from marts.fct_path_next_events_daily "
        "where path_name = 'after_order_created' order by 1, 2, 3",
    ) == [
        (D1, "all", "(none)", 2),
        (D1, "all", "payments.payment_attempted", 1),
        (D1, "pa_a", "(none)", 1),
        (D1, "pa_a", "payments.payment_attempted", 1),
        (D1, "pa_b", "(none)", 1),
        (D2, "all", "orders.order_cancelled", 1),
        (D2, "pa_b", "orders.order_cancelled", 1),
    ]
    assert _rows(
        conn,
        "select tenant_id, next_event_rank, next_event, events, anchor_events, share_rate, after_event "
        "from marts.rpt_path_top_next_events where path_name = 'after_order_created' order by 1, 2",
    ) == [
        ("all", 1, "(none)", 2, 4, 0.5, "orders.order_created"),
        ("all", 2, "orders.order_cancelled", 1, 4, 0.25, "orders.order_created"),
        ("all", 3, "payments.payment_attempted", 1, 4, 0.25, "orders.order_created"),
        ("pa_a", 1, "(none)", 1, 2, 0.5, "orders.order_created"),
        ("pa_a", 2, "payments.payment_attempted", 1, 2, 0.5, "orders.order_created"),
        ("pa_b", 1, "(none)", 1, 2, 0.5, "orders.order_created"),
        ("pa_b", 2, "orders.order_cancelled", 1, 2, 0.5, "orders.order_created"),
    ]


def test_a_full_refresh_gives_the_same_rows_as_the_incremental_runs(warehouse):
    conn, _ = warehouse
    q = "select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from marts.{} as t"
    before = {m: conn.execute(q.format(m)).fetchone()[0] for m in MARTS}
    _ok(run_kpi("build", *SELECT, "--full-refresh", env={"KPI_PGDATABASE": DBNAME}))
    assert {m: conn.execute(q.format(m)).fetchone()[0] for m in MARTS} == before


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"paths": [{"name": "after_checkout", "after": "orders.order_created", "top_n": 0}]},
            "product_analytics.paths[after_checkout].top_n: must be a positive integer",
        ),
        (
            {"paths": [{"name": "p", "after": "orders.order_created", "top_n": 3, "entity": "email"}]},
            "product_analytics.paths[p].entity: must be one of user_id, session_id, entity_id, tenant_id, location_id",
        ),
        (
            {"sessions": {"inactivity_minutes": "soon"}},
            "product_analytics.sessions.inactivity_minutes: must be a positive integer",
        ),
    ],
)
def test_a_bad_declaration_fails_the_parse_naming_the_entry(warehouse, settings, message):
    streams = ["orders", "payments", "calls", "content", "notifications", "moderation", "loyalty", "partners"]
    variables = json.dumps({"product_analytics": {"streams": streams, **settings}})
    r = run_kpi("build", "--select", "metrics_daily_sessions", "--vars", variables, env={"KPI_PGDATABASE": DBNAME})
    # bad input: exit 2, one line on stderr naming the entry (dbt's own log goes to stdout)
    assert r.returncode == 2, (r.stdout[-2000:], r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert lines == [f"error: {message}"], r.stderr
