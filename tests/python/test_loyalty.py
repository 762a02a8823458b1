"""Loyalty marts and the weekly merchant report (seed 000) on the hand-made loyalty_small fixture.

One database is built once for the module (load + `kpi build` of the loyalty marts and
their parents); every test reads it. Expected rows are hand-computed
(tests/data/loyalty_small/README.md explains what each event is for).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
import zlib
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from conftest import FIXTURES, admin_conn, assert_relation_equals_csv, run_kpi
from kpiwh import report

FIX = FIXTURES / "loyalty_small"
CHROMIUM = Path("/usr/bin/chromium")
SELECT = [
    "-s",
    "+rpt_weekly_merchant_report",
    "-s",
    "+rpt_onboarding_funnel_summary",
    "-s",
    "+rpt_weekly_success_criteria",
]


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def built(pg_server):
    """A database with the fixture loaded and the loyalty marts built; yields its env override."""
    name = "t_loyalty_" + uuid.uuid4().hex[:8]
    with admin_conn(pg_server) as c:
        c.execute(f'create database "{name}"')
    env = {"KPI_PGDATABASE": name}
    _ok(run_kpi("load", str(FIX), env=env))
    # cautious: skip tests that also read models outside this selection (bookings, locations)
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
def test_daily_metrics_match_hand_computed_rows(db):
    assert_relation_equals_csv(db, "marts.fct_pilot_daily_metrics", FIX / "expected" / "fct_pilot_daily_metrics.csv")


def test_onboarding_funnel_matches_hand_computed_rows(db):
    assert_relation_equals_csv(db, "marts.fct_onboarding_funnel", FIX / "expected" / "fct_onboarding_funnel.csv")


def test_reward_usage_and_customer_activity_match_hand_computed_rows(db):
    assert_relation_equals_csv(db, "marts.fct_reward_usage", FIX / "expected" / "fct_reward_usage.csv")
    assert_relation_equals_csv(db, "marts.fct_customer_activity", FIX / "expected" / "fct_customer_activity.csv")


def test_backfill_of_one_day_reads_the_lookback_and_changes_nothing(built, db):
    # a one-day batch: 2025-01-13's repeat customers need 01-08 (outside the batch)
    _ok(run_kpi("backfill", "--start", "2025-01-13", "--end", "2025-01-14", "-s", "fct_pilot_daily_metrics", env=built))
    assert_relation_equals_csv(db, "marts.fct_pilot_daily_metrics", FIX / "expected" / "fct_pilot_daily_metrics.csv")


def test_invariants(db):
    q = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    assert q("select count(*) from marts.fct_pilot_daily_metrics where repeat_customers > active_customers") == 0
    assert q("select count(*) from marts.fct_pilot_daily_metrics where redemption_rate > 1") == 0
    assert q("select count(*) from marts.rpt_weekly_merchant_report where redemption_rate > 1") == 0
    # documented rule (DECISIONLOG): error_rate = errors / transactions, not capped, so it may exceed 1;
    # scan_failure_share = errors / (transactions + errors) always lies in [0, 1]
    assert (
        q(
            "select count(*) from marts.fct_pilot_daily_metrics "
            "where error_rate <> round(scan_errors_total::numeric / transactions_total, 4)"
        )
        == 0
    )
    assert q("select count(*) from marts.fct_pilot_daily_metrics where scan_failure_share not between 0 and 1") == 0
    assert q("select count(*) from marts.fct_pilot_daily_metrics where scan_errors_total > transactions_total") == 1
    assert (
        q(
            "select count(*) from marts.fct_onboarding_funnel where not ("
            "coalesce(signed_up_at <= first_location_created_at, true) "
            "and coalesce(first_location_created_at <= first_staff_invited_at, true) "
            "and coalesce(first_staff_invited_at <= first_device_registered_at, true) "
            "and coalesce(first_device_registered_at <= first_scan_at, true))"
        )
        == 0
    )
    for rel in ("fct_pilot_daily_metrics", "fct_customer_activity", "fct_reward_usage", "rpt_weekly_merchant_report"):
        assert q(f"select count(*) from marts.{rel} where tenant_id is null") == 0
    # weekly = sum of its daily rows
    assert (
        q("""select count(*) from marts.rpt_weekly_merchant_report w
                join (select tenant_id, date_trunc('week', metric_date)::date as wk, sum(transactions_total) t,
                             sum(scan_errors_total) e from marts.fct_pilot_daily_metrics group by 1, 2) d
                  on d.tenant_id = w.tenant_id and d.wk = w.week_start
                where d.t <> w.transactions_total or d.e <> w.scan_errors_total""")
        == 0
    )


def test_weekly_report_rows(db):
    rows = {
        (r[0], r[1]): r[2:]
        for r in db.execute(
            "select tenant_id, iso_week, active_customers, repeat_customers, transactions_total, redemption_rate, "
            "error_rate, top_rewards, what_improved, what_needs_fixing from marts.rpt_weekly_merchant_report"
        )
    }
    assert set(rows) == {("mer_a", "2025-W02"), ("mer_a", "2025-W03"), ("mer_b", "2025-W02"), ("mer_b", "2025-W03")}
    # mer_a W02: c1..c4 active, c1 (3 tx) and c2 (2 tx) repeat; 5 issues, 1 redeem, 1 adjust; 4 errors / 7 tx
    a2 = rows[("mer_a", "2025-W02")]
    assert a2[:5] == (4, 2, 7, Decimal("0.2000"), Decimal("0.5714"))
    assert a2[6:] == ("No previous week to compare with.", "No previous week to compare with.")
    # mer_a W03: c1..c5 active, c1 and c4 repeat; 4 issues, 4 redeems, 1 reverse; no errors
    a3 = rows[("mer_a", "2025-W03")]
    assert a3[:5] == (5, 2, 9, 1, 0)
    assert a3[5] == [
        {"rank": 1, "reward_id": "rw_a1", "redemptions": 2, "points_redeemed": 100},
        {"rank": 2, "reward_id": "rw_a2", "redemptions": 2, "points_redeemed": 60},
    ]
    assert a3[6] == (
        "Redemption rate rose 80.0 points (20.0% to 100.0%). "
        "Scan error rate fell 57.1 points (57.1% to 0.0%). Scan errors fell 100% (4 to 0)."
    )
    assert a3[7] == "Nothing got worse beyond its threshold."
    b3 = rows[("mer_b", "2025-W03")]
    assert b3[:5] == (2, 0, 2, None, Decimal("0.5000"))
    assert b3[6] == "Nothing improved beyond its threshold."
    assert b3[7] == "Repeat customers fell 100% (2 to 0). Scan error rate rose 50.0 points (0.0% to 50.0%)."


def test_weekly_success_criteria_match_hand_computed_rows(db):
    # targets (seed loyalty_success_criteria): repeat rate >= 0.30, redemption >= 0.20, error rate <= 0.05,
    # first scan <= 10 min. mer_a W02: 2/4 repeat, 1/5 redeemed (= 0.20: met), 4/7 errors, first scan
    # after 180 min; mer_b W03: no issue (redemption n/a: is_met null); mer_b never scanned (null)
    assert_relation_equals_csv(
        db, "marts.rpt_weekly_success_criteria", FIX / "expected" / "rpt_weekly_success_criteria.csv"
    )


# --------------------------------------------------------------------------- kpi report weekly
def test_report_json(built):
    r = _ok(run_kpi("report", "weekly", "--tenant", "mer_a", "--week", "2025-W03", "--format", "json", env=built))
    rep = json.loads(r.stdout)
    assert rep["iso_week"] == "2025-W03" and rep["week_start"] == "2025-01-13" and rep["has_data"] is True
    assert rep["summary"]["transactions_total"] == 9 and rep["summary"]["redemption_rate"] == 1.0
    assert rep["previous_week"]["transactions_total"] == 7 and rep["change"]["transactions_total"] == 2
    assert rep["retention"] == {"active_customers": 5, "repeat_customers": 2, "repeat_customer_rate": 0.4}
    assert rep["friction"]["reversals"] == 1 and rep["friction"]["scan_errors_total"] == 0
    assert [t["reward_id"] for t in rep["top_rewards"]] == ["rw_a1", "rw_a2"]
    assert [(d["day"], d["transactions"], d["active_customers"]) for d in rep["daily"]] == [
        ("2025-01-13", 5, 3),
        ("2025-01-14", 4, 2),
    ]
    assert rep["what_improved"].startswith("Redemption rate rose 80.0 points")
    assert rep["onboarding"]["merchant"]["minutes_to_first_scan"] == 180.0
    assert [s["merchants_reached"] for s in rep["onboarding"]["pilot_funnel"]] == [2, 2, 1, 1, 1]
    assert [(c["kpi"], c["value"], c["is_met"]) for c in rep["success_criteria"]] == [
        ("repeat_customer_rate", 0.4, True),
        ("redemption_rate", 1.0, True),
        ("error_rate", 0.0, True),
        ("minutes_to_first_scan", 180.0, False),
    ]


def test_report_markdown(built, tmp_path):
    out = tmp_path / "r.md"
    _ok(run_kpi("report", "weekly", "--tenant", "mer_b", "--week", "2025-W03", "--out", str(out), env=built))
    md = out.read_text()
    assert md.startswith("# Weekly loyalty report: Beta Bakery (mer_b), 2025-W03 (2025-01-13 to 2025-01-19)")
    assert "## What needs fixing\n\nRepeat customers fell 100% (2 to 0)." in md
    assert "| Scan error rate | 50.0% | 0.0% | +50.0 pts |" in md
    assert "| 1 | rw_b1 | 1 | 100 |" in md
    assert "location created: 30 min; staff invited: not yet" in md
    assert "| Redemption rate | n/a | >= 20.0% | no data |" in md
    assert "| Scan error rate | 50.0% | <= 5.0% | not met |" in md


def test_report_week_without_activity(built):
    r = _ok(run_kpi("report", "weekly", "--tenant", "mer_a", "--week", "2025-W05", "--format", "json", env=built))
    rep = json.loads(r.stdout)
    assert rep["has_data"] is False and rep["summary"]["transactions_total"] == 0 and rep["daily"] == []
    assert rep["success_criteria"] == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tenant", "nobody", "--week", "2025-W03"], "unknown tenant 'nobody'"),
        (["--tenant", "org_x", "--week", "2025-W03"], "not a merchant"),
        (["--tenant", "mer_a", "--week", "2025-03"], "is not an ISO week"),
        (["--tenant", "mer_a", "--week", "2025-W53"], "does not exist"),
        (["--tenant", "mer_a", "--week", "2025-W03", "--format", "pdf"], "--format"),
    ],
)
def test_report_bad_input_exits_2_with_one_line(built, args, message):
    r = run_kpi("report", "weekly", *args, env=built)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_report_html_escapes_values_once(built):
    r = _ok(run_kpi("report", "weekly", "--tenant", "mer_a", "--week", "2025-W03", "--format", "json", env=built))
    rep = json.loads(r.stdout)
    hostile = "<script>alert(1)</script> & Co"
    rep["tenant_name"] = rep["what_improved"] = rep["what_needs_fixing"] = hostile
    rep["top_rewards"][0]["reward_id"] = hostile
    rep["onboarding"]["merchant"]["signed_up_at"] = hostile
    rep["onboarding"]["pilot_funnel"][0]["step_name"] = hostile  # into the funnel chart's JSON
    page = report.render_html(rep)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"
    assert page.count(escaped) == 6  # <title>, <h1>, both summaries, the reward, the signup time
    assert "<script>alert(1)" not in page
    assert "&amp;lt;" not in page and "&amp;amp;" not in page  # escaped once, not twice


# --------------------------------------------------------------------------- HTML in a real browser
def _png_distinct_colours(png: bytes, limit: int = 50) -> int:
    """Distinct RGB(A) pixels in a non-interlaced 8-bit PNG (enough to tell a blank page), capped at limit."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, colour_type = 8, b"", 0, 0, 0
    while pos < len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(data[:4], "big"), int.from_bytes(data[4:8], "big")
            assert data[8] == 8, "expects 8-bit channels"
            colour_type = data[9]
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    bpp = {2: 3, 6: 4}[colour_type]
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    seen: set[bytes] = set()
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):  # undo the PNG row filter
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        if y % 8 == 0:
            for x in range(0, stride, bpp * 4):
                seen.add(bytes(line[x : x + 3]))
            if len(seen) >= limit:
                return len(seen)
    return len(seen)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install -y chromium)")
def test_report_html_renders_in_headless_chromium(built, tmp_path):
    page = tmp_path / "report.html"
    _ok(
        run_kpi(
            "report",
            "weekly",
            "--tenant",
            "mer_a",
            "--week",
            "2025-W03",
            "--format",
            "html",
            "--out",
            str(page),
            env=built,
        )
    )
    text = page.read_text()
    assert "What improved" in text and "What needs fixing" in text and "rw_a1" in text
    assert "<script src=" not in text and "cdn.plot.ly" not in text.split("<body>")[0]  # self-contained
    common = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    shot = tmp_path / "shot.png"
    r = subprocess.run(
        common
        + [
            f"--user-data-dir={tmp_path / 'ud1'}",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={shot}",
            "--window-size=1200,2000",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    console_errors = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln and "ERROR" in ln.upper()]
    assert not console_errors, "\n".join(console_errors)
    assert shot.exists(), r.stderr[-2000:]
    assert _png_distinct_colours(shot.read_bytes()) >= 20  # charts and tables, not a blank page
    dom = subprocess.run(
        common + [f"--user-data-dir={tmp_path / 'ud2'}", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert dom.count('class="main-svg"') >= 4  # both plotly charts drew their SVG layers
    if os.environ.get("KPI_SAVE_REPORT_PNG"):
        shutil.copy(shot, os.environ["KPI_SAVE_REPORT_PNG"])
