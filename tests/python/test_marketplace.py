"""Marketplace marts (seed 003) on the hand-made fixture, ledger invariants, `kpi export deals`.

One database is built once for the module (load the fixture, build the marketplace
models and their parents) and shared by the read-only assertions; the broken-ledger
cases each load a modified copy of the fixture into their own fresh database.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import uuid
from decimal import Decimal

import psycopg
import pytest

from conftest import FIXTURES, admin_conn, assert_relation_equals_csv, run_kpi

FIX = FIXTURES / "marketplace_small"
AS_OF = "2025-03-31T00:00:00+00:00"
VARS = f'{{as_of: "{AS_OF}"}}'
SELECT = ["--select", "+models/marts/marketplace", "--select", "+int_deal_ledgers_checked"]


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"


@pytest.fixture(scope="module")
def built(pg_server):
    """A database with the fixture loaded and the marketplace models built (module-scoped)."""
    name = "t_mkt_" + uuid.uuid4().hex[:10]
    with admin_conn(pg_server) as c:
        c.execute(f'create database "{name}"')
    old = os.environ.get("KPI_PGDATABASE")
    os.environ["KPI_PGDATABASE"] = name
    try:
        _ok(run_kpi("load", str(FIX)))
        _ok(run_kpi("build", *SELECT, "--vars", VARS))
        with psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=name, autocommit=True) as conn:
            yield conn
    finally:
        if old is None:
            os.environ.pop("KPI_PGDATABASE", None)
        else:
            os.environ["KPI_PGDATABASE"] = old
        with admin_conn(pg_server) as c:
            c.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def use_built_db(built, monkeypatch):
    """Point the CLI at the module's built database for one test."""
    monkeypatch.setenv("KPI_PGDATABASE", built.info.dbname)
    return built


def test_fct_deals_matches_hand_computed(built):
    assert_relation_equals_csv(built, "marts.fct_deals", FIX / "expected" / "fct_deals.csv")
    # each deal carries the parameters of its own (pinned) version
    params = dict(
        (r[0], r[1:])
        for r in built.execute(
            "select deal_id, inspection_ttl_days, dispute_ttl_hours, immediate_ratio, holdback_ratio "
            "from marts.fct_deals where deal_id in ('D1', 'D4')"
        ).fetchall()
    )
    assert params["D1"] == (3, 48, Decimal("0.85"), Decimal("0.15"))
    assert params["D4"] == (2, 36, Decimal("0.90"), Decimal("0.10"))


def test_pilot_kpis_cumulative_rows_match_hand_computed(built):
    assert_relation_equals_csv(
        built,
        "(select * from marts.rpt_pilot_kpis where period_type = 'cumulative') as r",
        FIX / "expected" / "rpt_pilot_kpis_cumulative.csv",
    )


def test_pilot_kpis_weekly_rows_add_up_to_cumulative(built):
    rows = built.execute("""
        select w.template_version, w.kpi
        from (select template_version, kpi, sum(numerator) as n, sum(denominator) as d
              from marts.rpt_pilot_kpis where period_type = 'iso_week' group by 1, 2) w
        join marts.rpt_pilot_kpis c
          on c.period_type = 'cumulative' and c.template_version = w.template_version and c.kpi = w.kpi
        where w.d <> c.denominator or coalesce(w.n, -1) <> coalesce(c.numerator, -1)""").fetchall()
    assert rows == []
    weeks = built.execute(
        "select distinct period from marts.rpt_pilot_kpis where period_type = 'iso_week' order by 1"
    ).fetchall()
    assert [w[0] for w in weeks] == ["2025-W10", "2025-W11", "2025-W13"]


def test_deals_needing_attention_sorted_by_ttl(built):
    assert_relation_equals_csv(
        built, "marts.rpt_deals_needing_attention", FIX / "expected" / "rpt_deals_needing_attention.csv"
    )


def test_daily_metrics_end_of_day_states(built):
    q = built.execute
    assert q(
        "select sum(deals_created), sum(deals_settled), sum(disputes_opened) from marts.metrics_daily_deals"
    ).fetchone() == (8, 3, 5)
    assert (
        q("select sum(deals_in_inspection) from marts.metrics_daily_deals where metric_date = '2025-03-28'").fetchone()[
            0
        ]
        == 2
    )
    assert (
        q("select sum(deals_stuck) from marts.metrics_daily_deals where metric_date = '2025-03-29'").fetchone()[0] == 3
    )
    # v1 and v2 deals stay on their own rows (pinned version)
    assert q("select sum(deals_created) from marts.metrics_daily_deals where template_version = 2").fetchone()[0] == 4


def test_daily_metrics_backfill_is_idempotent(use_built_db):
    conn = use_built_db
    before = conn.execute("select * from marts.metrics_daily_deals order by metric_day_key").fetchall()
    _ok(run_kpi("backfill", "--start", "2025-03-10", "--end", "2025-03-16", "--select", "metrics_daily_deals"))
    after = conn.execute("select * from marts.metrics_daily_deals order by metric_day_key").fetchall()
    assert after == before


def test_rollback_triggers_and_disputes(built):
    rows = dict(built.execute("select trigger_name, is_triggered from marts.rpt_rollback_triggers").fetchall())
    # 3 settled of 8 = 0.375 < 0.50: the pilot would be rolled back; the ledger is sound
    assert rows == {"settlement_completion_rate": True, "ledger_invariant_broken": False}
    assert built.execute("select count(*) from marts.fct_disputes where is_outcome_allowed is false").fetchone()[0] == 0
    assert built.execute("select hours_open from marts.fct_disputes where dispute_id = 'X3'").fetchone()[0] == 36


def _broken_copy(tmp_path, edit):
    dst = tmp_path / "broken"
    shutil.copytree(FIX, dst, ignore=shutil.ignore_patterns("expected", "README.md"))
    path = dst / "ledger_entries.csv"
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    edit(rows)
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return dst


def _bankers_rounding(rows):
    # D1 immediate release booked with round-half-even: 850,008 instead of 850,009
    for r in rows:
        if r[0] == "L02":
            r[3] = "-850008"


def _refund_beyond_hold(rows):
    # D2 (FUNDED, 500,000 held) refunds 600,000
    rows.append(["L99", "D2", "REFUND", "-600000", "2025-03-06T10:00:00+00:00"])


@pytest.mark.parametrize(
    "edit, failing",
    [
        (
            _bankers_rounding,
            ["assert_marketplace_immediate_release_matches_template", "assert_marketplace_closed_deals_net_to_zero"],
        ),
        (_refund_beyond_hold, ["assert_marketplace_releases_within_holds"]),
    ],
)
def test_broken_ledger_fails_the_build_naming_the_test(conn, tmp_path, edit, failing):
    _ok(run_kpi("load", str(_broken_copy(tmp_path, edit))))
    r = run_kpi("build", "--select", "+int_deal_ledgers_checked", "--select", "+rpt_rollback_triggers", "--vars", VARS)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    for name in failing:
        assert name in r.stderr, r.stderr[-3000:]
    # in the same build the rollback trigger model (not downstream of those tests) still
    # builds and reports the broken deal
    assert conn.execute(
        "select is_triggered, broken_count from marts.rpt_rollback_triggers "
        "where trigger_name = 'ledger_invariant_broken'"
    ).fetchone() == (True, 1)


def test_export_deals_csv_and_jsonl(use_built_db, tmp_path):
    r = run_kpi("export", "deals", "--out", str(tmp_path / "csv"), "--format", "csv")
    _ok(r)
    with (tmp_path / "csv" / "deals_timeline.csv").open(newline="") as fh:
        timeline = list(csv.DictReader(fh))
    assert len(timeline) == 31
    assert timeline[0]["deal_id"] == "D1" and timeline[0]["to_state"] == "CREATED"
    assert timeline[0]["template_version"] == "1" and timeline[0]["from_state"] == ""
    with (tmp_path / "csv" / "ledger_entries.csv").open(newline="") as fh:
        ledger = list(csv.DictReader(fh))
    assert len(ledger) == 15 and sum(int(x["amount_cents"]) for x in ledger) == 500000 + 600000 + 700000

    r = run_kpi(
        "export", "deals", "--out", str(tmp_path / "j"), "--format", "jsonl", "--deal-id", "D3", "--since", "2025-03-07"
    )
    _ok(r)
    lines = [json.loads(x) for x in (tmp_path / "j" / "deals_timeline.jsonl").read_text().splitlines()]
    assert [x["to_state"] for x in lines] == ["INSPECTION", "DISPUTED", "SETTLED"]
    assert lines[0]["changed_at"] == "2025-03-07T20:00:00+00:00" and lines[0]["amount_cents"] == 2000000
    led = [json.loads(x) for x in (tmp_path / "j" / "ledger_entries.jsonl").read_text().splitlines()]
    assert [x["entry_id"] for x in led] == ["L06", "L07", "L08"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "2025-02-30"], "--since"),
        (["--deal-id", "NOPE"], "unknown deal 'NOPE'"),
        (["--format", "xml"], "--format"),
    ],
)
def test_export_deals_bad_input_exits_2(use_built_db, tmp_path, args, message):
    r = run_kpi("export", "deals", "--out", str(tmp_path / "x"), *args)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- pilot scopes (issue 15)
SCOPE_ALL = "MN:USED_CAR_PRIVATE"


def test_pilot_scope_kpis_all_versions_weekly_against_week_1_and_cumulative(built):
    # the scope over both versions: W10 (D1 D2 D3 D8) is week 1, W11 (D4 D5) week 2, W13 (D6 D7)
    # week 4 (calendar weeks: W12 has no deal); README.md's hand computation, baseline = W10
    assert_relation_equals_csv(
        built,
        f"(select * from marts.rpt_pilot_scope_kpis where scope = '{SCOPE_ALL}') as r",
        FIX / "expected" / "rpt_pilot_scope_kpis_all_versions.csv",
    )


def test_pilot_scope_kpis_of_one_version_equal_the_pilot_kpis(built):
    # the fixture is one country x category, so a version's scope is rpt_pilot_kpis' version
    diff = built.execute("""
        select s.scope, s.period, s.kpi from marts.rpt_pilot_scope_kpis s
        full join marts.rpt_pilot_kpis k
          on k.period_type = s.period_type and k.period = s.period and k.kpi = s.kpi
         and k.template_version = s.template_version
        where (s.version_scope is null or s.version_scope <> 'all')
          and (s.scope is null or k.kpi is null
               or row(s.numerator, s.denominator, s.value, s.target, s.is_met)
                  is distinct from row(k.numerator, k.denominator, k.value, k.target, k.is_met))""").fetchall()
    assert diff == []
    assert built.execute("select distinct scope from marts.rpt_pilot_scope_kpis order by 1").fetchall() == [
        (SCOPE_ALL,),
        (SCOPE_ALL + ":1",),
        (SCOPE_ALL + ":2",),
    ]


def test_pilot_daily_summary_per_scope(built):
    # end of 03-06: X1 open without evidence (E1 came 03-07); 03-13: D2 D8 stuck (v1), X3 without
    # evidence and D5 in inspection (v2); 03-29: D2 D8 D6 stuck, X5 without evidence (E4 came 03-30)
    assert_relation_equals_csv(
        built,
        "(select * from marts.rpt_pilot_daily_summary "
        "where metric_date in ('2025-03-06', '2025-03-13', '2025-03-29')) as r",
        FIX / "expected" / "rpt_pilot_daily_summary_selected_days.csv",
    )
    # the 'all' scope is the sum of its versions, day by day, and reconciles with metrics_daily_deals
    assert (
        built.execute("""
        select count(*) from marts.rpt_pilot_daily_summary a
        left join (select metric_date, sum(deals_created) c, sum(issues_identified) i
                   from marts.rpt_pilot_daily_summary where version_scope <> 'all' group by 1) v
          on v.metric_date = a.metric_date
        where a.version_scope = 'all' and (v.c is distinct from a.deals_created or v.i is distinct from a.issues_identified)
        """).fetchone()[0]
        == 0
    )
    assert built.execute(
        "select sum(deals_created), sum(deals_settled), sum(disputes_opened) from marts.rpt_pilot_daily_summary "
        "where version_scope = 'all'"
    ).fetchone() == (8, 3, 5)


def test_pilot_version_comparison_v2_against_v1(built):
    assert_relation_equals_csv(
        built, "marts.rpt_pilot_version_comparison", FIX / "expected" / "rpt_pilot_version_comparison.csv"
    )


def test_pilot_rollback_history_fires_first_in_w13(built):
    # running rate at each Sunday: all 2/4, 3/6, 3/6, 3/8 = 0.375 < 0.50 (rpt_rollback_triggers' 0.375 too)
    assert_relation_equals_csv(
        built, "marts.rpt_pilot_rollback_history", FIX / "expected" / "rpt_pilot_rollback_history.csv"
    )


def test_pilot_recommendations_from_the_rules_seed(built):
    assert_relation_equals_csv(
        built, "marts.rpt_pilot_recommendations", FIX / "expected" / "rpt_pilot_recommendations.csv"
    )


def _with_motorcycle_deal(tmp_path):
    """The fixture plus D9: a MN MOTORCYCLE_PRIVATE v1 deal settled 240 h after creation."""
    dst = tmp_path / "moto"
    shutil.copytree(FIX, dst, ignore=shutil.ignore_patterns("expected", "README.md"))
    with (dst / "deals.csv").open("a") as fh:
        fh.write(
            "D9,MN,MOTORCYCLE_PRIVATE,MN_MOTORCYCLE_PRIVATE,1,usr_b8,usr_s5,100000,MNT,2025-03-03T10:00:00+00:00\n"
        )
    with (dst / "deal_state_changes.csv").open("a") as fh:
        fh.write(
            "D9,,CREATED,2025-03-03T10:00:00+00:00,buyer\n"
            "D9,CREATED,FUNDED,2025-03-03T11:00:00+00:00,buyer\n"
            "D9,FUNDED,INSPECTION,2025-03-04T10:00:00+00:00,seller\n"
            "D9,INSPECTION,SETTLED,2025-03-13T10:00:00+00:00,buyer\n"
        )
    return dst


def test_time_to_settle_target_holds_for_used_cars_only(conn, tmp_path):
    _ok(run_kpi("load", str(_with_motorcycle_deal(tmp_path))))
    _ok(
        run_kpi(
            "build",
            "--select",
            "+rpt_pilot_scope_kpis",
            "--select",
            "+rpt_pilot_kpis",
            "--vars",
            VARS,
            env={"DBT_INDIRECT_SELECTION": "cautious"},
        )
    )
    rows = {
        (r[0], r[1]): r[2:]
        for r in conn.execute(
            "select scope, kpi, value, target, is_met from marts.rpt_pilot_scope_kpis "
            "where period_type = 'cumulative' and kpi in ('time_to_settle_avg_hours', 'settlement_completion_rate')"
        ).fetchall()
    }
    # motorcycles: no time-to-settle target (seed: "< 7 days for used car"), the '*' rate target still holds
    assert rows[("MN:MOTORCYCLE_PRIVATE", "time_to_settle_avg_hours")] == (Decimal("240.0000"), None, None)
    assert rows[("MN:MOTORCYCLE_PRIVATE", "settlement_completion_rate")] == (1, Decimal("0.90"), True)
    # used cars unchanged: 72 h < 168 h
    assert rows[(SCOPE_ALL + ":1", "time_to_settle_avg_hours")] == (72, 168, True)
    # rpt_pilot_kpis' v1 now mixes two categories: no time target; v2 (used cars only) keeps it
    kpis = dict(
        ((r[0], r[1]), r[2:])
        for r in conn.execute(
            "select template_version, kpi, value, target, is_met from marts.rpt_pilot_kpis "
            "where period_type = 'cumulative' and kpi = 'time_to_settle_avg_hours'"
        ).fetchall()
    )
    assert kpis[(1, "time_to_settle_avg_hours")] == (128, None, None)  # (48 + 96 + 240) / 3
    assert kpis[(2, "time_to_settle_avg_hours")] == (84, 168, True)


def test_report_pilot_json(use_built_db):
    r = run_kpi("report", "pilot", "--scope", "mn:used_car_private", "--format", "json")
    _ok(r)
    rep = json.loads(r.stdout)
    assert rep["scope"] == SCOPE_ALL and rep["version_scope"] == "all" and rep["deals"] == 8
    m = {x["kpi"]: x for x in rep["metrics"]}
    assert [x["kpi"] for x in rep["metrics"]][0] == "settlement_completion_rate"
    assert (m["settlement_completion_rate"]["value"], m["settlement_completion_rate"]["is_met"]) == (0.375, False)
    assert (m["time_to_settle_avg_hours"]["value"], m["time_to_settle_avg_hours"]["target"]) == (76, 168)
    assert [(w["iso_week"], w["pilot_week"]) for w in rep["weekly"]] == [
        ("2025-W10", 1),
        ("2025-W11", 2),
        ("2025-W13", 4),
    ]
    assert rep["weekly"][1]["kpis"]["dispute_frequency"]["change_vs_baseline"] == 0.75
    assert rep["weekly"][0]["activity"]["deals_created"] == 4
    assert [(c["kpi"], c["previous_value"], c["value"]) for c in rep["version_comparison"]][0] == (
        "settlement_completion_rate",
        0.5,
        0.25,
    )
    reasons = {x["reason_code"]: x for x in rep["dispute_reasons"]}
    assert len(reasons) == 5 and reasons["DOCUMENTS_MISSING"]["with_evidence"] == 0
    assert reasons["ODOMETER_MISMATCH"]["still_open"] == 1
    assert rep["disputes"] == {
        "disputes": 5,
        "with_evidence": 4,
        "evidence_completeness": 0.8,
        "resolved": 4,
        "admin_resolved": 3,
        "admin_intervention_rate": 0.75,
    }
    assert rep["rollback_triggered"] is True
    assert [h["iso_week"] for h in rep["rollback_history"] if h["is_first_trigger"]] == ["2025-W13"]
    assert [x["rule_id"] for x in rep["recommendations"]] == [
        "rollback_triggered",
        "settlement_below_target",
        "disputes_above_target",
        "evidence_below_target",
        "admin_load_untargeted",
        "version_settlement_worse",
    ]


def test_report_pilot_markdown_and_html(use_built_db, tmp_path):
    r = run_kpi("report", "pilot", "--scope", "MN:USED_CAR_PRIVATE:2")
    _ok(r)
    md = r.stdout
    assert md.startswith("# Pilot report: MN USED_CAR_PRIVATE, template version 2\n")
    assert "| Settlement completion rate | 25.0% | > 90.0% | not met | 4 | 50.0% | -25.0 pts |" in md
    assert "| 2025-W13 | 3 | 2 | 0 | 1 |" in md  # v2's pilot week 3: D6 D7 created, X5 opened
    assert "The rollback trigger fired first in 2025-W13 (pilot week 3): settlement completion 25.0% < 50.0%." in md
    assert "- Make evidence upload easier in MN:USED_CAR_PRIVATE:2: 66.7% of issues" in md
    out = tmp_path / "pilot.html"
    _ok(run_kpi("report", "pilot", "--scope", SCOPE_ALL, "--format", "html", "--out", str(out)))
    page = out.read_text()
    assert (
        page.startswith("<!DOCTYPE html>")
        and "<title>Pilot report: MN USED_CAR_PRIVATE, every template version" in page
    )
    assert "<td>v1 → v2</td><td>4 → 4</td><td>3 → 2</td><td>48 → 36</td><td>15.0% → 10.0%</td>" in page
    assert "<li>Pause new deals in MN:USED_CAR_PRIVATE (pilot.enabled = false)" in page
    assert "http" not in page and "<script" not in page  # self-contained


@pytest.mark.parametrize(
    "args, message",
    [
        (["--scope", "MN"], "is not <country>:<category>[:<version>]"),
        (["--scope", "KZ:USED_CAR_PRIVATE"], "unknown scope 'KZ:USED_CAR_PRIVATE'"),
        (["--scope", "MN:USED_CAR_PRIVATE:7"], "unknown scope"),
        (["--scope", SCOPE_ALL, "--format", "pdf"], "--format"),
    ],
)
def test_report_pilot_bad_input_exits_2_with_one_line(use_built_db, args, message):
    r = run_kpi("report", "pilot", *args)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
