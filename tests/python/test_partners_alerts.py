"""Partner metrics and the alert lifecycle (seed 001) on hand-made raw data.

One database for the module (built once): three partners —
par_a applied 2025-07-01 09:00, approved 2025-07-03 12:00 (51 h), logs in on
07-03 and 07-20, sends invites inv_1 (accepted 07-04) and inv_2 (expired 07-11);
par_b applied 2025-07-02 10:00 after a failed attempt, still pending;
par_c applied 2025-07-01 10:00, rejected 2025-07-02 10:00 (24 h).

Checks: hand-computed daily metrics; a backfill over a date range equals the
full build; the alert lifecycle over four evaluation times (open → still open →
resolved → reopened) with exact expected rows, and a re-run at the same time
changing nothing; `kpi alerts` exit codes and the webhook.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
import uuid

import psycopg
import pytest

from conftest import admin_conn, assert_relation_equals_csv, run_kpi, write_csv
from kpiwh import alerts as alerts_mod
from kpiwh import runner

EVENT_COLUMNS = [
    "event_id",
    "occurred_at",
    "received_at",
    "tenant_id",
    "event_domain",
    "event_type",
    "user_id",
    "entity_type",
    "entity_id",
    "status",
    "metadata",
]
_n = [0]


def _ev(at, tenant, etype, user=None, entity_type=None, entity_id=None, status=None, metadata=None):
    _n[0] += 1
    eid = str(uuid.UUID(int=_n[0]))
    ts = f"2025-{at}:00+00:00"
    return [
        eid,
        ts,
        ts,
        tenant,
        "partners",
        etype,
        user,
        entity_type,
        entity_id,
        status,
        json.dumps(metadata, sort_keys=True) if metadata else None,
    ]


EVENTS = [
    _ev("07-01T08:50", "par_a", "signup_started", "own_a", "partner", "par_a", "started"),
    _ev("07-01T09:00", "par_a", "signup_completed", "own_a", "partner", "par_a", "completed"),
    _ev("07-01T09:55", "par_c", "signup_started", "own_c", "partner", "par_c", "started"),
    _ev("07-01T10:00", "par_c", "signup_completed", "own_c", "partner", "par_c", "completed"),
    _ev("07-02T09:00", "par_b", "signup_started", "own_b", "partner", "par_b", "started"),
    _ev("07-02T09:10", "par_b", "signup_failed", "own_b", "partner", "par_b", "validation_error"),
    _ev("07-02T09:50", "par_b", "signup_started", "own_b", "partner", "par_b", "started"),
    _ev("07-02T10:00", "par_b", "signup_completed", "own_b", "partner", "par_b", "completed"),
    _ev("07-02T10:00", "par_c", "application_rejected", "admin_01", "application", "app_par_c", "rejected"),
    _ev("07-02T10:01", "par_c", "email_sent", "own_c", "email", "em_1", "sent", {"email_type": "rejection"}),
    _ev("07-03T12:00", "par_a", "application_approved", "admin_01", "application", "app_par_a", "approved"),
    _ev("07-03T12:01", "par_a", "email_failed", "own_a", "email", "em_2", "failed", {"email_type": "approval"}),
    _ev("07-03T12:20", "par_a", "email_sent", "own_a", "email", "em_2", "sent", {"email_type": "approval"}),
    _ev("07-03T13:00", "par_a", "dashboard_login", "own_a", "user", "own_a", "success"),
    _ev(
        "07-03T14:00",
        "par_a",
        "invite_sent",
        "own_a",
        "invite",
        "inv_1",
        "sent",
        {"expires_at": "2025-07-10T14:00:00+00:00"},
    ),
    _ev("07-03T14:01", "par_a", "email_sent", "own_a", "email", "em_3", "sent", {"email_type": "invite"}),
    _ev("07-03T15:00", "par_a", "api_request", "own_a", "api", "/v1/jobs", "success"),
    _ev("07-03T15:05", "par_a", "api_request", "own_a", "api", "/v1/jobs", "error"),
    _ev("07-04T09:00", "par_a", "invite_accepted", "mech_1", "invite", "inv_1", "accepted"),
    _ev(
        "07-04T10:00",
        "par_a",
        "invite_sent",
        "own_a",
        "invite",
        "inv_2",
        "sent",
        {"expires_at": "2025-07-11T10:00:00+00:00"},
    ),
    _ev("07-04T11:00", "par_a", "profile_updated", "own_a", "partner", "par_a", "success"),
    _ev("07-11T10:00", "par_a", "invite_expired", None, "invite", "inv_2", "expired"),
    _ev("07-20T09:00", "par_a", "dashboard_login", "own_a", "user", "own_a", "success"),
]
PARTNERS = [
    ["par_a", "active", "2025-07-01T09:00:00+00:00", "2025-07-03T12:00:00+00:00", "2025-07-03T12:00:00+00:00"],
    ["par_b", "pending", "2025-07-02T10:00:00+00:00", None, "2025-07-02T10:00:00+00:00"],
    ["par_c", "rejected", "2025-07-01T10:00:00+00:00", "2025-07-02T10:00:00+00:00", "2025-07-02T10:00:00+00:00"],
]
TENANTS = [
    [p, "partner", f"Garage {p}", "CA", "2025-07-01T08:00:00+00:00", "active", "2025-07-01T08:00:00+00:00"]
    for p in ("par_a", "par_b", "par_c")
]

T1, T2, T3, T4 = (
    "2025-07-17T14:00:00+00:00",
    "2025-07-18T14:00:00+00:00",
    "2025-07-21T09:00:00+00:00",
    "2025-08-04T10:00:00+00:00",
)
ALERT_COLS = [
    "rule_id",
    "subject",
    "episode",
    "severity",
    "status",
    "first_seen_at",
    "last_seen_at",
    "occurrences",
    "resolved_at",
]


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def built(pg_server, tmp_path_factory):
    """A database loaded with the hand-made data and built once (partner models, no alert evaluation)."""
    name = "t_partners_" + uuid.uuid4().hex[:8]
    with admin_conn(pg_server) as c:
        c.execute(f'create database "{name}"')
    old = os.environ.get("KPI_PGDATABASE")
    os.environ["KPI_PGDATABASE"] = name
    data = tmp_path_factory.mktemp("partners_raw")
    write_csv(
        data / "tenants.csv",
        ["tenant_id", "kind", "name", "country_code", "signed_up_at", "status", "updated_at"],
        TENANTS,
    )
    write_csv(data / "partners.csv", ["partner_id", "status", "applied_at", "decided_at", "updated_at"], PARTNERS)
    write_csv(data / "events_raw.csv", EVENT_COLUMNS, EVENTS)
    try:
        _ok(run_kpi("load", str(data)))
        # every parent of the alert models and the weekly rollup; the alerts themselves are
        # evaluated by the tests at explicit times. "Buildable" test selection: the alert inputs
        # reach other products' marts, whose tests on models not built here must not run.
        _ok(
            run_kpi(
                "build",
                "--select",
                "+tag:alerts +fct_partner_metrics_weekly",
                "--exclude",
                "tag:alerts",
                env={"DBT_INDIRECT_SELECTION": "buildable"},
            )
        )
        with psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=name, autocommit=True) as conn:
            yield conn
    finally:
        if old is None:
            os.environ.pop("KPI_PGDATABASE", None)
        else:
            os.environ["KPI_PGDATABASE"] = old
        with admin_conn(pg_server) as c:
            c.execute(f'drop database if exists "{name}" with (force)')


DAILY_COLS = [
    "metric_date",
    "signups_started",
    "signups_completed",
    "signups_failed",
    "signup_conversion_rate",
    "applications_pending",
    "applications_approved",
    "applications_rejected",
    "avg_approval_time_hours",
    "median_approval_time_hours",
    "invites_sent",
    "invites_accepted",
    "invites_expired",
    "invite_acceptance_rate",
    "mails_sent",
    "mails_failed",
    "approval_mails_failed",
    "rejection_mails_sent",
    "invite_mails_sent",
    "partners_active",
    "partners_pending",
    "partners_with_mechanics",
    "mechanics_active",
    "avg_mechanics_per_partner",
    "dashboard_logins",
    "profile_updates",
    "api_errors",
    "api_success_rate",
]
DAILY_EXPECTED = [
    # day: 2 started + 2 completed; par_a and par_c applied, pending at the end of the day
    ["2025-07-01", 2, 2, 0, 1, 2, 0, 0, None, None, 0, 0, 0, None, 0, 0, 0, 0, 0, 0, 2, 0, 0, None, 0, 0, 0, None],
    # par_b: 2 attempts, 1 failed, 1 completed; par_c rejected after 24 h; rejection email
    ["2025-07-02", 2, 1, 1, 0.5, 2, 0, 1, 24, 24, 0, 0, 0, None, 1, 0, 0, 1, 0, 0, 2, 0, 0, None, 0, 0, 0, None],
    # par_a approved after 51 h; approval email failed once then sent; invite + its email; 1 login; api 1/2
    ["2025-07-03", 0, 0, 0, None, 1, 1, 0, 51, 51, 1, 0, 0, None, 2, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1, 0.5],
    # mech_1 joins par_a (inv_1 accepted); inv_2 sent; a profile update
    ["2025-07-04", 0, 0, 0, None, 1, 0, 0, None, None, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, None],
    # inv_2 expired
    ["2025-07-11", 0, 0, 0, None, 1, 0, 0, None, None, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, None],
]


def _daily_expected_csv(tmp_path):
    return write_csv(tmp_path / "daily.csv", DAILY_COLS, DAILY_EXPECTED)


def test_daily_metrics_match_hand_computed_values(built, tmp_path):
    rel = (
        "(select * from marts.fct_partner_metrics_daily where metric_date in "
        "('2025-07-01', '2025-07-02', '2025-07-03', '2025-07-04', '2025-07-11')) as d"
    )
    assert_relation_equals_csv(built, rel, _daily_expected_csv(tmp_path))
    rate = built.execute(
        "select round(mail_success_rate, 4) from marts.fct_partner_metrics_daily where metric_date = '2025-07-03'"
    ).fetchone()[0]
    assert float(rate) == pytest.approx(0.6667)
    days = built.execute(
        "select min(metric_date)::text, max(metric_date)::text, count(*) from marts.fct_partner_metrics_daily"
    ).fetchone()
    assert days == ("2025-07-01", "2025-07-20", 20)  # one row per day, days without events included
    week = built.execute(
        "select signups_started, applications_decided, avg_approval_time_hours, "
        "median_approval_time_hours, applications_pending from marts.fct_partner_metrics_weekly "
        "where week_start = '2025-06-30'"
    ).fetchone()
    assert [float(x) for x in week] == [4, 2, 37.5, 37.5, 1]  # rollup: sums, avg from sums, end-of-week state


def test_backfill_over_a_range_equals_the_full_build(built):
    built.execute("drop table if exists public.full_build_daily")
    built.execute("create table public.full_build_daily as select * from marts.fct_partner_metrics_daily")
    built.execute("delete from marts.fct_partner_metrics_daily where metric_date between '2025-07-02' and '2025-07-12'")
    _ok(run_kpi("backfill", "--start", "2025-07-02", "--end", "2025-07-13", "--select", "fct_partner_metrics_daily"))
    for a, b in (
        ("marts.fct_partner_metrics_daily", "public.full_build_daily"),
        ("public.full_build_daily", "marts.fct_partner_metrics_daily"),
    ):
        diff = built.execute(f"select metric_date from {a} except select metric_date from {b}").fetchall()
        assert diff == []
        diff = built.execute(f"select * from {a} except all select * from {b}").fetchall()
        assert diff == [], diff


def _evaluate(at, *extra):
    return run_kpi("alerts", "--evaluate", "--evaluated-at", at, "--format", "json", *extra)


def _expect(tmp_path, name, rows):
    return write_csv(tmp_path / f"{name}.csv", ALERT_COLS, rows)


@pytest.fixture(scope="module")
def lifecycle(built, tmp_path_factory):
    """Evaluate the alerts at T1..T4 (and T4 again), snapshotting fct_alerts after each.

    T1 and "T4 again" go through the CLI (`kpi alerts --evaluate`); T2..T4 call the same
    function in-process with one parsed manifest (dbt parses once: faster).
    """
    states = {}
    manifest = None
    for label, at in (("T1", T1), ("T2", T2), ("T3", T3), ("T4", T4), ("T4 again", T4)):
        if label in ("T1", "T4 again"):
            r = _ok(_evaluate(at))
            states[label] = json.loads(r.stdout)
        else:
            manifest = manifest or runner.parse()
            summary = alerts_mod.evaluate(at, manifest=manifest)
            assert summary.success and summary.nodes
            states[label] = [alerts_mod.to_jsonable(a) for a in alerts_mod.list_alerts(built)]
        built.execute(f'drop table if exists public."alerts_{label}"')
        built.execute(f'create table public."alerts_{label}" as select * from marts.fct_alerts')
    return states


def test_lifecycle_open_still_open_resolved_reopened(built, lifecycle, tmp_path):
    # par_a: last login 07-03 13:00 → 14 days at T1 (opened), 15 at T2 (still open); logs in 07-20 →
    # resolved at T3; 15 days without login at T4 → episode 2 (reopened).
    # par_b: pending since 07-02 10:00 → stuck at every evaluation (one row, occurrences grow).
    # inv_2 expired 07-11 10:00: in the 7-day window at T1 only → opened then resolved at T2.
    # par_a acceptance over the 30 days to T4: inv_2 expired, inv_1 accepted before the window → 0 < 0.5.
    stuck = ["application_stuck", "par_b", 1, "warning", "open", T1]
    inactive = ["partner_inactive", "par_a", 1, "warning"]
    expired = ["invitations_expired", "par_a", 1, "warning"]
    t1 = [stuck + [T1, 1, None], inactive + ["open", T1, T1, 1, None], expired + ["open", T1, T1, 1, None]]
    t2 = [stuck + [T2, 2, None], inactive + ["open", T1, T2, 2, None], expired + ["resolved", T1, T1, 1, T2]]
    t3 = [stuck + [T3, 3, None], inactive + ["resolved", T1, T2, 2, T3], expired + ["resolved", T1, T1, 1, T2]]
    t4 = [
        stuck + [T4, 4, None],
        inactive + ["resolved", T1, T2, 2, T3],
        expired + ["resolved", T1, T1, 1, T2],
        ["partner_inactive", "par_a", 2, "warning", "open", T4, T4, 1, None],
        ["invite_acceptance_low", "par_a", 1, "warning", "open", T4, T4, 1, None],
    ]
    for label, rows in (("T1", t1), ("T2", t2), ("T3", t3), ("T4", t4), ("T4 again", t4)):
        assert_relation_equals_csv(built, f'public."alerts_{label}"', _expect(tmp_path, label.replace(" ", "_"), rows))
    # a re-run at the same evaluation time changes nothing, not even the bookkeeping columns
    assert (
        built.execute('select * from public."alerts_T4" except all select * from public."alerts_T4 again"').fetchall()
        == []
    )
    assert (
        built.execute('select * from public."alerts_T4 again" except all select * from public."alerts_T4"').fetchall()
        == []
    )
    # --format json lists what the table holds
    assert len(lifecycle["T4"]) == 5 and {a["status"] for a in lifecycle["T4"]} == {"open", "resolved"}


def test_alert_events_log_every_transition(built, lifecycle):
    rows = built.execute(
        "select rule_id, subject, episode, event_type, to_char(evaluated_at at time zone 'UTC', 'MM-DD HH24') "
        "from marts.fct_alert_events order by evaluated_at, rule_id, episode"
    ).fetchall()
    assert rows == [
        ("application_stuck", "par_b", 1, "opened", "07-17 14"),
        ("invitations_expired", "par_a", 1, "opened", "07-17 14"),
        ("partner_inactive", "par_a", 1, "opened", "07-17 14"),
        ("application_stuck", "par_b", 1, "still_firing", "07-18 14"),
        ("invitations_expired", "par_a", 1, "resolved", "07-18 14"),
        ("partner_inactive", "par_a", 1, "still_firing", "07-18 14"),
        ("application_stuck", "par_b", 1, "still_firing", "07-21 09"),
        ("partner_inactive", "par_a", 1, "resolved", "07-21 09"),
        ("application_stuck", "par_b", 1, "still_firing", "08-04 10"),
        ("invite_acceptance_low", "par_a", 1, "opened", "08-04 10"),
        ("partner_inactive", "par_a", 2, "reopened", "08-04 10"),
    ]


def test_exit_codes(built, lifecycle):
    # open alerts are all warnings
    assert _ok(run_kpi("alerts", "--open", "--format", "json")).returncode == 0
    assert len(json.loads(run_kpi("alerts", "--open", "--format", "json").stdout)) == 3
    assert json.loads(run_kpi("alerts", "--severity", "critical", "--format", "json").stdout) == []
    assert run_kpi("alerts", "--fail-on", "critical").returncode == 0
    r = run_kpi("alerts", "--fail-on", "warning")
    assert r.returncode == 3, r.stderr
    r = run_kpi("alerts", "--fail-on", "info")
    assert r.returncode == 2 and "--fail-on" in r.stderr and "Traceback" not in r.stderr
    r = run_kpi("alerts", "--severity", "bad")
    assert r.returncode == 2 and "Traceback" not in r.stderr


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_webhook_refused_then_500_then_delivered_once(built, lifecycle):
    # nothing listens: one-line error, exit 1, nothing marked
    port = _free_port()
    r = run_kpi("alerts", "--webhook", f"http://127.0.0.1:{port}/hook")
    assert r.returncode == 1 and "webhook" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert built.execute("select count(*) from marts.fct_alerts where notified_at is not null").fetchone()[0] == 0

    server = http.server.HTTPServer(("127.0.0.1", port), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _Hook.status = 500
        r = run_kpi("alerts", "--webhook", f"http://127.0.0.1:{port}/hook")
        assert r.returncode == 1 and "HTTP 500" in r.stderr
        assert built.execute("select count(*) from marts.fct_alerts where notified_at is not null").fetchone()[0] == 0
        _Hook.status = 200
        _Hook.received.clear()
        _ok(run_kpi("alerts", "--webhook", f"http://127.0.0.1:{port}/hook"))
        assert len(_Hook.received) == 1
        posted = _Hook.received[0]["alerts"]
        assert len(posted) == 5  # every episode: 3 open + 2 resolved never posted
        assert {(a["rule_id"], a["episode"], a["status"]) for a in posted} == {
            ("application_stuck", 1, "open"),
            ("partner_inactive", 1, "resolved"),
            ("invitations_expired", 1, "resolved"),
            ("partner_inactive", 2, "open"),
            ("invite_acceptance_low", 1, "open"),
        }
        assert built.execute("select count(*) from marts.fct_alerts where notified_at is null").fetchone()[0] == 0
        # already notified: a second run posts nothing
        _Hook.received.clear()
        _ok(run_kpi("alerts", "--webhook", f"http://127.0.0.1:{port}/hook"))
        assert _Hook.received == []
        # notification marks survive a later evaluation (dbt carries them over)
        _ok(_evaluate("2025-08-05T10:00:00+00:00"))
        assert (
            built.execute(
                "select count(*) from marts.fct_alerts where episode = 1 and rule_id = "
                "'application_stuck' and notified_at is not null"
            ).fetchone()[0]
            == 1
        )
    finally:
        server.shutdown()
        server.server_close()
