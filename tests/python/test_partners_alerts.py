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
Issue 15: KPI targets (rpt_partner_kpis), the per-partner health scorecard by
day and week, the funnel and its summary, the beta tracker — hand-computed rows;
the approval backlog judged at the evaluation hour; `--rule`; and backfills of
alert history over past windows (`--from/--to/--every`), re-run without change.
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
                "+tag:alerts +fct_partner_metrics_weekly +fct_partner_health_weekly "
                "+rpt_partner_funnel_summary +rpt_partner_beta_program",
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


# --------------------------------------------------------------------------- issue 15: targets, scorecard, funnel
KPI_COLS = ["period_type", "period", "kpi", "numerator", "denominator", "value", "target", "is_met"]
KPI_EXPECTED = [
    # 07-01: 2 of 2 signups completed (> 0.60 met); no decision, invite or email: null value, null met
    ["day", "2025-07-01", "signup_conversion_rate", 2, 2, 1, 0.6, True],
    ["day", "2025-07-01", "avg_approval_time_hours", None, 0, None, 24, None],
    ["day", "2025-07-01", "invite_acceptance_rate", 0, 0, None, 0.7, None],
    ["day", "2025-07-01", "mail_success_rate", 0, 0, None, 0.98, None],
    # 07-02: 1 of 2; par_c decided after exactly 24 h (not < 24); the rejection email sent
    ["day", "2025-07-02", "signup_conversion_rate", 1, 2, 0.5, 0.6, False],
    ["day", "2025-07-02", "avg_approval_time_hours", None, 1, 24, 24, False],
    ["day", "2025-07-02", "mail_success_rate", 1, 1, 1, 0.98, True],
    # 07-03: par_a after 51 h; 2 of 3 emails sent
    ["day", "2025-07-03", "avg_approval_time_hours", None, 1, 51, 24, False],
    ["day", "2025-07-03", "mail_success_rate", 2, 3, 0.6667, 0.98, False],
    ["day", "2025-07-04", "invite_acceptance_rate", 1, 1, 1, 0.7, True],
    ["day", "2025-07-11", "invite_acceptance_rate", 0, 1, 0, 0.7, False],
    # ISO week 27 (06-30..07-06): 3 of 4 signups, (24 + 51) / 2 h, 1 of 1 invite, 3 of 4 emails
    ["iso_week", "2025-W27", "signup_conversion_rate", 3, 4, 0.75, 0.6, True],
    ["iso_week", "2025-W27", "avg_approval_time_hours", None, 2, 37.5, 24, False],
    ["iso_week", "2025-W27", "invite_acceptance_rate", 1, 1, 1, 0.7, True],
    ["iso_week", "2025-W27", "mail_success_rate", 3, 4, 0.75, 0.98, False],
    ["iso_week", "2025-W28", "invite_acceptance_rate", 0, 1, 0, 0.7, False],
]


def test_partner_kpis_against_the_seed_targets(built, tmp_path):
    keys = ", ".join(f"('{r[0]}', '{r[1]}', '{r[2]}')" for r in KPI_EXPECTED)
    rel = f"(select * from marts.rpt_partner_kpis where (period_type, period, kpi) in ({keys})) as k"
    assert_relation_equals_csv(built, rel, write_csv(tmp_path / "kpis.csv", KPI_COLS, KPI_EXPECTED))
    # every day of the daily mart and every week of the weekly one, four KPIs each
    assert built.execute(
        "select period_type, count(*) from marts.rpt_partner_kpis group by 1 order by 1"
    ).fetchall() == [("day", 80), ("iso_week", 12)]


HEALTH_COLS = [
    "partner_id",
    "metric_date",
    "partner_status",
    "mechanics_active",
    "dashboard_logins",
    "profile_updates",
    "api_successes",
    "api_errors",
    "last_login_date",
    "days_since_last_login",
    "health_score",
]
# health = 100 x (0.30 active + 0.30 max(0, 1 - days since login / 14) + 0.20 min(1, mechanics / 3)
#                 + 0.10 API success share over 7 days (1 without calls) + 0.10 profile update in 30 days)
HEALTH_EXPECTED = [
    # pending, never logged in, no API call (that component is 1): 10
    ["par_a", "2025-07-01", "pending", 0, 0, 0, 0, 0, None, None, 10],
    ["par_a", "2025-07-02", "pending", 0, 0, 0, 0, 0, None, None, 10],
    # approved 12:00, login 13:00, API 1 of 2: 30 + 30 + 0 + 5 + 0
    ["par_a", "2025-07-03", "active", 0, 1, 0, 1, 1, "2025-07-03", 0, 65],
    # mech_1 joins, profile updated: 30 + 30 x 13/14 + 20/3 + 5 + 10 = 79.5238
    ["par_a", "2025-07-04", "active", 1, 0, 1, 0, 0, "2025-07-03", 1, 79.52],
    # 7 days after the login; 07-03's API calls left the 7-day window: 30 + 15 + 6.67 + 10 + 10
    ["par_a", "2025-07-10", "active", 1, 0, 0, 0, 0, "2025-07-03", 7, 71.67],
    # 14 days: recency 0
    ["par_a", "2025-07-17", "active", 1, 0, 0, 0, 0, "2025-07-03", 14, 56.67],
    ["par_a", "2025-07-18", "active", 1, 0, 0, 0, 0, "2025-07-03", 15, 56.67],
    ["par_a", "2025-07-20", "active", 1, 1, 0, 0, 0, "2025-07-20", 0, 86.67],
    ["par_b", "2025-07-02", "pending", 0, 0, 0, 0, 0, None, None, 10],
    ["par_b", "2025-07-20", "pending", 0, 0, 0, 0, 0, None, None, 10],
    ["par_c", "2025-07-01", "pending", 0, 0, 0, 0, 0, None, None, 10],
    ["par_c", "2025-07-02", "rejected", 0, 0, 0, 0, 0, None, None, 10],
]


def test_partner_health_daily_hand_computed(built, tmp_path):
    keys = ", ".join(f"('{r[0]}', date '{r[1]}')" for r in HEALTH_EXPECTED)
    rel = f"(select * from marts.fct_partner_health_daily where (partner_id, metric_date) in ({keys})) as h"
    assert_relation_equals_csv(built, rel, write_csv(tmp_path / "health.csv", HEALTH_COLS, HEALTH_EXPECTED))
    # one row per partner per day from its first day (par_b applied on 07-02) to the log's last day
    assert built.execute(
        "select partner_id, min(metric_date)::text, max(metric_date)::text, count(*) "
        "from marts.fct_partner_health_daily group by 1 order by 1"
    ).fetchall() == [
        ("par_a", "2025-07-01", "2025-07-20", 20),
        ("par_b", "2025-07-02", "2025-07-20", 19),
        ("par_c", "2025-07-01", "2025-07-20", 20),
    ]


def test_partner_health_weekly_hand_computed(built, tmp_path):
    cols = [
        "partner_id",
        "week_start",
        "days_in_week",
        "partner_status",
        "mechanics_active",
        "dashboard_logins",
        "profile_updates",
        "api_errors",
        "days_since_last_login",
        "health_score",
        "avg_health_score",
    ]
    rows = [
        # week 27 ends on 07-06 (3 days after the login: 30 + 30 x 11/14 + 6.67 + 5 + 10 = 75.24);
        # mean of 10, 10, 65, 79.52, 77.38, 75.24
        ["par_a", "2025-06-30", 6, "active", 1, 1, 1, 1, 3, 75.24, 52.86],
        # week 29: 11..16 days since the login, then 07-20's login: mean of 63.10, 60.95, 58.81,
        # 56.67, 56.67, 56.67, 86.67
        ["par_a", "2025-07-14", 7, "active", 1, 1, 0, 0, 0, 86.67, 62.79],
        ["par_b", "2025-06-30", 5, "pending", 0, 0, 0, 0, None, 10, 10],
        ["par_c", "2025-07-14", 7, "rejected", 0, 0, 0, 0, None, 10, 10],
    ]
    keys = ", ".join(f"('{r[0]}', date '{r[1]}')" for r in rows)
    rel = f"(select * from marts.fct_partner_health_weekly where (partner_id, week_start) in ({keys})) as w"
    assert_relation_equals_csv(built, rel, write_csv(tmp_path / "health_weekly.csv", cols, rows))
    assert built.execute("select count(*) from marts.fct_partner_health_weekly").fetchone()[0] == 9


def test_partner_funnel_and_summary_hand_computed(built, tmp_path):
    cols = [
        "partner_id",
        "signed_up_at",
        "approved_at",
        "rejected_at",
        "activated_at",
        "is_signed_up",
        "is_approved",
        "is_active",
        "hours_to_approval",
        "hours_to_active",
    ]
    rows = [
        # applied 07-01 09:00, approved 07-03 12:00 (51 h), first login after it 13:00 (52 h)
        ["par_a", "2025-07-01T09:00Z", "2025-07-03T12:00Z", None, "2025-07-03T13:00Z", True, True, True, 51, 52],
        ["par_b", "2025-07-02T10:00Z", None, None, None, True, False, False, None, None],
        ["par_c", "2025-07-01T10:00Z", None, "2025-07-02T10:00Z", None, True, False, False, None, None],
    ]
    assert_relation_equals_csv(built, "marts.fct_partner_funnel", write_csv(tmp_path / "funnel.csv", cols, rows))
    cols = [
        "step_order",
        "step_name",
        "partners_total",
        "partners_reached",
        "conversion_from_previous",
        "conversion_from_signup",
        "median_hours_from_signup",
    ]
    rows = [
        [1, "signup", 3, 3, 1, 1, 0],
        [2, "approval", 3, 1, 0.3333, 0.3333, 51],
        [3, "active", 3, 1, 1, 0.3333, 52],
    ]
    assert_relation_equals_csv(
        built, "marts.rpt_partner_funnel_summary", write_csv(tmp_path / "funnel_summary.csv", cols, rows)
    )


def test_beta_program_tracker_hand_computed(built, tmp_path):
    cols = [
        "metric_date",
        "partners_active",
        "beta_goal_min_partners",
        "beta_goal_max_partners",
        "goal_progress_rate",
        "beta_status",
        "goal_first_reached_date",
        "partners_with_mechanics",
        "mechanics_active",
        "kpis_met",
        "kpis_measured",
    ]
    rows = [
        # KPIs met / measured from rpt_partner_kpis: 07-01 signup met; 07-02 only the email rate met of 3
        ["2025-07-01", 0, 3, 5, 0, "below_goal", None, 0, 0, 1, 1],
        ["2025-07-02", 0, 3, 5, 0, "below_goal", None, 0, 0, 1, 3],
        ["2025-07-03", 1, 3, 5, 0.3333, "below_goal", None, 0, 0, 0, 2],
        ["2025-07-04", 1, 3, 5, 0.3333, "below_goal", None, 1, 1, 1, 1],
        ["2025-07-05", 1, 3, 5, 0.3333, "below_goal", None, 1, 1, 0, 0],
    ]
    rel = "(select * from marts.rpt_partner_beta_program where metric_date <= '2025-07-05') as b"
    assert_relation_equals_csv(built, rel, write_csv(tmp_path / "beta.csv", cols, rows))
    assert built.execute("select count(*) from marts.rpt_partner_beta_program").fetchone()[0] == 20


# --------------------------------------------------------------------------- issue 15: alerts
def _alert_rows(conn, rule):
    return conn.execute(
        "select episode, severity, status, last_seen_at is not null, occurrences, "
        "to_char(first_seen_at at time zone 'UTC', 'MM-DD HH24'), to_char(last_seen_at at time zone 'UTC', 'MM-DD HH24'), "
        "to_char(resolved_at at time zone 'UTC', 'MM-DD HH24') from marts.fct_alerts where rule_id = %s order by episode",
        (rule,),
    ).fetchall()


def test_alert_bad_input_is_one_line_exit_2(built):
    cases = [
        (("--evaluate", "--rule", "no_such_rule"), "--rule"),
        (("--evaluate", "--from", "2025-07-05", "--to", "2025-07-04", "--every", "1d"), "after --to"),
        (("--evaluate", "--from", "2025-07-04", "--to", "2025-07-05", "--every", "2h"), "--every"),
        (("--evaluate", "--from", "2025-07-04", "--to", "2025-07-05"), "go together"),
        (("--evaluate", "--from", "yesterday", "--to", "2025-07-05", "--every", "1h"), "--from"),
        (("--rule", "email_success_low"), "need --evaluate"),
    ]
    for args, text in cases:
        r = run_kpi("alerts", *args)
        assert r.returncode == 2, (args, r.stderr)
        assert text in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)


def test_approval_backlog_is_judged_at_the_evaluation_hour(built, lifecycle):
    # at 07-03 13:00 only par_b is pending (par_a approved 12:00, par_c rejected 07-02) although the
    # previous day ended with 2 pending: the rule reads the instant, not yesterday's count
    before = built.execute("select count(*) from marts.fct_alert_events").fetchone()[0]
    r = _ok(run_kpi("alerts", "--evaluate", "--evaluated-at", "2025-07-03T13:00:00Z", "--rule", "approval_backlog"))
    assert "(rule approval_backlog)" in r.stderr
    assert built.execute(
        "select applications_pending from marts.fct_partner_metrics_daily where metric_date = '2025-07-02'"
    ).fetchone() == (2,)
    assert built.execute(
        "select source_model, subject, metric_value, observed_day::text from intermediate.int_alert_observations "
        "where metric = 'applications_pending' order by source_model"
    ).fetchall() == [
        ("fct_partner_metrics_daily", "all", 2, "2025-07-02"),  # yesterday's end-of-day count, no rule reads it
        ("int_alert_conditions_approval_backlog", "all", 1, None),  # what approval_backlog judges
    ]
    # one rule judged: no other rule's observation fired, nothing changed (1 is not above 5)
    assert built.execute("select distinct rule_id from intermediate.int_alert_firing").fetchall() == []
    assert built.execute("select count(*) from marts.fct_alert_events").fetchone()[0] == before


def test_backfill_raises_the_past_days_alerts_once(built, lifecycle):
    # 07-03's email success 2/3 is below 0.80: critical. The live evaluations (07-17 on) judged
    # later days only; a daily backfill over 07-03..07-05 opens it at 07-04 00:00 (judging 07-03)
    # and resolves it at 07-05 00:00 (07-04 has no email). --rule leaves every other alert alone.
    others = built.execute("select * from marts.fct_alerts where rule_id <> 'email_success_low' order by alert_key")
    others = others.fetchall()
    assert _alert_rows(built, "email_success_low") == []
    args = ("alerts", "--evaluate", "--rule", "email_success_low", "--from", "2025-07-03T00:00:00Z")
    r = _ok(run_kpi(*args, "--to", "2025-07-05T00:00:00Z", "--every", "1d"))
    assert "3 instant(s)" in r.stderr
    expected = [(1, "critical", "resolved", True, 1, "07-04 00", "07-04 00", "07-05 00")]
    assert _alert_rows(built, "email_success_low") == expected
    assert (
        built.execute(
            "select * from marts.fct_alerts where rule_id <> 'email_success_low' order by alert_key"
        ).fetchall()
        == others
    )
    events = (
        "select event_type, to_char(evaluated_at at time zone 'UTC', 'MM-DD HH24') from marts.fct_alert_events "
        "where rule_id = %s order by evaluated_at"
    )
    assert built.execute(events, ("email_success_low",)).fetchall() == [
        ("opened", "07-04 00"),
        ("resolved", "07-05 00"),
    ]
    # the same window again: no new episode, no duplicated event
    n_events = built.execute("select count(*) from marts.fct_alert_events").fetchone()[0]
    _ok(run_kpi(*args, "--to", "2025-07-05T00:00:00Z", "--every", "1d"))
    assert _alert_rows(built, "email_success_low") == expected
    assert built.execute("select count(*) from marts.fct_alert_events").fetchone()[0] == n_events

    # hourly, as the seed's cron: 07-03's average approval time (51 h > 36 h) is judged by every
    # evaluation on 07-04; at 07-05 00:00 the judged day is 07-04 (no decision) and it resolves
    r = _ok(
        run_kpi(
            "alerts",
            "--evaluate",
            "--rule",
            "approval_time_high",
            "--from",
            "2025-07-04T22:00:00Z",
            "--to",
            "2025-07-05T01:00:00Z",
            "--every",
            "1h",
        )
    )
    assert "4 instant(s)" in r.stderr
    assert _alert_rows(built, "approval_time_high") == [
        (1, "warning", "resolved", True, 2, "07-04 22", "07-04 23", "07-05 00")
    ]
    assert built.execute(events, ("approval_time_high",)).fetchall() == [
        ("opened", "07-04 22"),
        ("still_firing", "07-04 23"),
        ("resolved", "07-05 00"),
    ]
