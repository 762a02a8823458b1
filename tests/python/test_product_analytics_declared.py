"""Funnels and retentions declared as data (issue 14) on the hand-made product_analytics_small fixture.

One database is built once for the module (`kpi load` + `kpi build` of the declared-analysis
marts, metrics_cohort_retention and the onboarding summary); the tests read it, the late-event
test (last) adds one event and builds again. Expected rows are hand-computed
(tests/data/product_analytics_small/README.md says what each event is for). Bad definitions
are checked end to end: `kpi build --vars` with one bad entry exits 2 with one line naming it.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import uuid

import psycopg
import pytest

from conftest import FIXTURES, admin_conn, assert_relation_equals_csv, run_kpi

FIX = FIXTURES / "product_analytics_small"
EXP = FIX / "expected"
SELECT = [
    "-s",
    "+fct_funnel_steps",
    "-s",
    "+metrics_retention",
    "-s",
    "+metrics_cohort_retention",
    "-s",
    "+rpt_onboarding_funnel_summary",
]
STREAMS = ["orders", "payments", "calls", "content", "notifications", "moderation", "loyalty", "partners"]
ORDER_STEPS = [
    {"name": "created", "event": "orders.order_created"},
    {"name": "assigned", "event": "orders.order_assigned"},
]


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    return r


def _make_events():
    """The fixture's generator module (its LATE event and row())."""
    spec = importlib.util.spec_from_file_location("pa_small_make_events", FIX / "make_events.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def built(pg_server):
    """A database with the fixture loaded and the declared-analysis marts built; yields its env override."""
    name = "t_pa_declared_" + uuid.uuid4().hex[:8]
    with admin_conn(pg_server) as c:
        c.execute(f'create database "{name}"')
    env = {"KPI_PGDATABASE": name}
    _ok(run_kpi("load", str(FIX), env=env))
    _ok(run_kpi("build", *SELECT, env={**env, "DBT_INDIRECT_SELECTION": "cautious"}))
    yield env
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def db(built, pg_server):
    with psycopg.connect(
        host=str(pg_server.socket_dir), user="postgres", dbname=built["KPI_PGDATABASE"], autocommit=True
    ) as c:
        yield c


# --------------------------------------------------------------------------- marts
def test_funnel_steps_match_hand_computed_rows(db):
    # window edge inclusive, same-instant vs strict, out-of-order and repeated steps,
    # an exclusion, a null breakdown value, an unordered funnel
    assert_relation_equals_csv(db, "marts.fct_funnel_steps", EXP / "fct_funnel_steps.csv")


def test_retention_matches_hand_computed_rows(db):
    # cohorts too young for a period are NULL, never 0; monthly calendar periods
    assert_relation_equals_csv(db, "marts.metrics_retention", EXP / "metrics_retention.csv")


def test_platform_first_activity_equals_metrics_cohort_retention(db):
    """The declared retention holds metrics_cohort_retention's numbers, period by period."""
    wide = " union all ".join(
        f"select cohort_grain, cohort_start, observation_end, cohort_size, {n} as period_number, "
        f"retained_d{n} as exact, retention_rate_d{n} as exact_rate, "
        f"retained_d{n}_plus as unbounded, retention_rate_d{n}_plus as unbounded_rate "
        "from marts.metrics_cohort_retention"
        for n in (1, 7, 30, 90)
    )
    long = (
        "select cohort_grain, cohort_start, observation_end, cohort_size, period_number, "
        "retained_exact_count, retention_rate_exact, retained_unbounded_count, retention_rate_unbounded "
        "from marts.metrics_retention where analysis_name = 'platform_first_activity'"
    )
    assert db.execute(f"select count(*) from ({wide}) w").fetchone()[0] == 36
    assert db.execute(f"({wide}) except all ({long})").fetchall() == []
    assert db.execute(f"({long}) except all ({wide})").fetchall() == []


def test_pilot_onboarding_entry_equals_the_onboarding_summary(db):
    """fct_onboarding_funnel is the entry pilot_onboarding: its summary and fct_funnel_steps agree."""
    got = db.execute(
        "select s.step_order, s.merchants_reached, s.median_minutes_from_signup, f.converted_count, "
        "f.median_minutes_to_convert from marts.rpt_onboarding_funnel_summary s "
        "join marts.fct_funnel_steps f on f.analysis_name = 'pilot_onboarding' and f.step_number = s.step_order "
        "order by s.step_order"
    ).fetchall()
    assert [r[0] for r in got] == [1, 2, 3, 4, 5]
    assert [(r[1], r[2]) for r in got] == [(r[3], r[4]) for r in got]
    assert [r[1] for r in got] == [2, 1, 1, 1, 1]


def test_invariants_hold_and_intermediate_is_one_row_per_entity_step(db):
    bad = db.execute(
        "select count(*) from ("
        " select entered_count, converted_count,"
        "  lag(entered_count) over (partition by analysis_name, breakdown_value order by step_number) as prev"
        " from marts.fct_funnel_steps) s where converted_count > entered_count or entered_count > prev"
    ).fetchone()[0]
    assert bad == 0
    # u2 is excluded from user_purchase: only its flagged step-1 row is kept
    rows = db.execute(
        "select step_number, is_excluded from intermediate.int_funnel_entity_steps "
        "where analysis_name = 'user_purchase' and entity_key = 'u2'"
    ).fetchall()
    assert rows == [(1, True)]


# --------------------------------------------------------------------------- CLI
def test_analyses_list_table_and_json(built):
    r = _ok(run_kpi("analyses", "list", env=built))
    for name in ("pilot_onboarding", "order_funnel", "platform_first_activity", "monthly_payers"):
        assert name in r.stdout
    r = _ok(run_kpi("analyses", "list", "--format", "json", env=built))
    found = {a["name"]: a for a in json.loads(r.stdout)}
    assert found["order_funnel"]["kind"] == "funnel" and found["order_funnel"]["entity"] == "entity_id"
    assert [s["name"] for s in found["order_funnel"]["steps"]] == ["created", "assigned", "completed"]
    assert found["order_funnel"]["window_days"] == 7
    assert found["monthly_payers"]["kind"] == "retention"
    assert found["monthly_payers"]["periods"] == list(range(1, 13))
    assert found["platform_first_activity"]["cohort_grains"] == ["day", "week"]
    assert "condition" not in json.dumps(found)  # no compiled SQL in what users read


def test_analyses_show_prints_the_rows_of_its_mart(built, db):
    r = _ok(run_kpi("analyses", "show", "order_funnel", "--format", "json", env=built))
    payload = json.loads(r.stdout)
    assert payload["kind"] == "funnel"
    assert [(x["step_name"], x["entered_count"], x["converted_count"]) for x in payload["rows"]] == [
        ("created", 3, 3),
        ("assigned", 3, 2),
        ("completed", 2, 2),
    ]
    assert payload["rows"][2]["p90_minutes_to_convert"] == 9198.0
    r = _ok(run_kpi("analyses", "show", "monthly_payers", env=built))
    assert "monthly_payers" in r.stdout and "2025-03-01" in r.stdout and "AE" in r.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["analyses", "show", "no_such_analysis"],
        ["analyses", "list", "--format", "xml"],
    ],
)
def test_analyses_bad_input_is_one_line_exit_2(built, args):
    r = run_kpi(*args, env=built)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stdout == ""
    if "show" in args:
        assert "unknown analysis 'no_such_analysis'" in r.stderr and "order_funnel" in r.stderr


@pytest.mark.parametrize(
    ("block", "message"),
    [
        # unknown key
        (
            {"funnels": [{"name": "order_funnel", "steps": ORDER_STEPS, "windw_days": 7}]},
            "product_analytics.funnels[order_funnel].windw_days: unknown key",
        ),
        # missing name, duplicate name (across kinds)
        ({"funnels": [{"steps": ORDER_STEPS}]}, "product_analytics.funnels[0].name: missing"),
        (
            {
                "funnels": [{"name": "dup", "steps": ORDER_STEPS}],
                "retentions": [{"name": "dup", "start": "any", "return": "any", "cohort_grain": "day", "periods": [1]}],
            },
            "product_analytics.retentions[dup].name: duplicate name",
        ),
        # window > 0
        (
            {"funnels": [{"name": "order_funnel", "steps": ORDER_STEPS, "window_days": 0}]},
            "product_analytics.funnels[order_funnel].window_days: must be a positive number",
        ),
        # step shape: event not domain.type of a stream
        (
            {"funnels": [{"name": "f", "steps": [{"name": "a", "event": "billing.invoice_sent"}, ORDER_STEPS[1]]}]},
            "product_analytics.funnels[f].steps[a].event: domain 'billing' is not one of product_analytics.streams",
        ),
        # breakdown names
        (
            {"funnels": [{"name": "f", "steps": ORDER_STEPS, "breakdown": "colour"}]},
            "product_analytics.funnels[f].breakdown: 'colour' is not a column of stg_platform__events",
        ),
        # grain, periods > 0
        (
            {"retentions": [{"name": "r", "start": "any", "return": "any", "cohort_grain": "year", "periods": [1]}]},
            "product_analytics.retentions[r].cohort_grain: must be day, week or month",
        ),
        (
            {"retentions": [{"name": "r", "start": "any", "return": "any", "cohort_grain": "day", "periods": [0]}]},
            "product_analytics.retentions[r].periods: must be a non-empty list of positive whole numbers",
        ),
        # an entry a mart is an instance of keeps what the mart's columns need
        (
            {
                "retentions": [
                    {
                        "name": "platform_first_activity",
                        "start": "any",
                        "return": "any",
                        "cohort_grain": ["day", "week"],
                        "periods": [1, 7, 30],
                    }
                ]
            },
            "product_analytics.retentions[platform_first_activity].periods: "
            "metrics_cohort_retention needs the periods 1, 7, 30, 90",
        ),
    ],
)
def test_a_bad_definition_fails_kpi_build_with_one_line_naming_it(built, block, message):
    vars_ = json.dumps({"product_analytics": {"streams": STREAMS, **block}})
    r = run_kpi("build", "--select", "fct_funnel_steps", "--vars", vars_, env=built)
    assert r.returncode == 2, f"exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"error: {message}"), lines[0]  # the entry and what is wrong, no dbt trace
    assert "Compilation Error" not in r.stderr


# --------------------------------------------------------------------------- late data (last: it changes the data)
def test_a_late_event_updates_its_funnel_and_cohort_rows_on_the_next_plain_build(built, db, tmp_path):
    mod = _make_events()
    late = tmp_path / "late"
    late.mkdir()
    with (late / "events_raw.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(mod.HEADER)
        w.writerow(mod.row(mod.LATE, received="2025-05-20T12:00:00+00:00"))
    _ok(run_kpi("load", str(late), env=built))
    _ok(run_kpi("build", *SELECT, env={**built, "DBT_INDIRECT_SELECTION": "cautious"}))
    steps = db.execute(
        "select step_number, entered_count, converted_count from marts.fct_funnel_steps "
        "where analysis_name = 'order_funnel' order by step_number"
    ).fetchall()
    assert steps == [(1, 3, 3), (2, 3, 3), (3, 3, 2)]
    day1 = db.execute(
        "select cohort_grain, retained_exact_count from marts.metrics_retention "
        "where analysis_name = 'platform_first_activity' and period_number = 1 "
        "and cohort_start in ('2025-03-02', '2025-02-24') order by cohort_grain"
    ).fetchall()
    assert day1 == [("day", 1), ("week", 2)]
    # only o3's funnel rows were recomputed (the late event is no step of user_purchase):
    # the other entities keep the first build's staged_at
    recomputed = db.execute(
        "select distinct analysis_name, entity_key from intermediate.int_funnel_entity_steps "
        "where staged_at = (select max(staged_at) from intermediate.int_funnel_entity_steps)"
    ).fetchall()
    assert recomputed == [("order_funnel", "o3")]
