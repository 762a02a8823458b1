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
