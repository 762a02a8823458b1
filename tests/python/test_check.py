"""`kpi check` (Great Expectations suites in tests/gx/) and `kpi build --check`.

One generated data set (5 tenants, 14 days) is loaded twice, into a "good"
database and into a "bad" one where one row per kind of expectation is broken
with SQL. Raw checks never build dbt; the marts layer reads the session's
built warehouse (read-only) and an empty look-alike of the marts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import psycopg
import pytest

from conftest import ROOT, admin_conn, run_kpi
from kpiwh import check

RAW_TABLES = sorted(p.stem for p in (ROOT / "tests" / "gx" / "raw").glob("*.json"))
MART_SUITES = [json.loads(p.read_text()) for p in sorted((ROOT / "tests" / "gx" / "marts").glob("*.json"))]


def _db(pg_server, tmp_path_factory, data_dir: Path) -> str:
    """A new database holding the raw contract loaded from ``data_dir``."""
    name = "t_gx_" + uuid.uuid4().hex[:10]
    with admin_conn(pg_server) as c:
        c.execute(f'create database "{name}"')
    for args in (("init",), ("load", str(data_dir))):
        r = run_kpi(*args, env={"KPI_PGDATABASE": name})
        assert r.returncode == 0, r.stderr
    return name


def _connect(pg_server, dbname: str) -> psycopg.Connection:
    return psycopg.connect(host=str(pg_server.socket_dir), user="postgres", dbname=dbname, autocommit=True)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("gx_data")
    r = run_kpi("generate", "--out", str(d), "--tenants", "5", "--days", "14")
    assert r.returncode == 0, r.stderr
    return d


@pytest.fixture(scope="module")
def good_db(pg_server, tmp_path_factory, data_dir):
    name = _db(pg_server, tmp_path_factory, data_dir)
    yield name
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="module")
def bad_db(pg_server, tmp_path_factory, data_dir):
    """The same data with one defect per kind of expectation (each on a different table or column)."""
    name = _db(pg_server, tmp_path_factory, data_dir)
    with _connect(pg_server, name) as c:
        # future timestamp beyond the 60-minute tolerance (2 h ahead of the check's clock)
        c.execute("""insert into raw.events_raw (event_id, occurred_at, event_domain, event_type)
                     values (gen_random_uuid(), now() + interval '2 hours', 'orders', 'order_created')""")
        # unknown event domain (and so an unknown (domain, type) pair)
        c.execute("""insert into raw.events_raw (event_id, occurred_at, event_domain, event_type)
                     values (gen_random_uuid(), '2025-06-05 10:00+00', 'astrology', 'order_created')""")
        # a negative duration
        c.execute(
            "update raw.events_raw set duration_seconds = -1 where event_id = "
            "(select event_id from raw.events_raw where duration_seconds > 0 order by event_id limit 1)"
        )
        # a re-sent event with another occurred_at: event_id duplicated -> severity warning only
        c.execute("""insert into raw.events_raw (event_id, occurred_at, event_domain, event_type)
                     select event_id, occurred_at + interval '1 second', event_domain, event_type
                     from raw.events_raw where event_domain = 'orders' order by event_id limit 1""")
        # negative amount, unknown status, malformed currency
        pay = c.execute("select payment_id from raw.payments order by payment_id limit 3").fetchall()
        c.execute("update raw.payments set amount_cents = -500 where payment_id = %s", pay[0])
        c.execute("update raw.payments set status = 'PAID' where payment_id = %s", pay[1])
        c.execute("update raw.payments set currency = 'eur' where payment_id = %s", pay[2])
        # booking status: case and spaces are tolerated, an unknown value is not
        bk = c.execute("select booking_id from raw.bookings order by booking_id limit 2").fetchall()
        c.execute("update raw.bookings set status = ' accepted ' where booking_id = %s", bk[0])
        c.execute("update raw.bookings set status = 'MAYBE' where booking_id = %s", bk[1])
        # ledger sign: a HOLD taking money out of escrow
        c.execute(
            "update raw.ledger_entries set amount_cents = -amount_cents where entry_id = "
            "(select entry_id from raw.ledger_entries where entry_type = 'HOLD' order by entry_id limit 1)"
        )
        # an empty table the demo always loads
        c.execute("delete from raw.dispute_evidence")
        # a day without events (lost load) in the middle of the data
        c.execute("delete from raw.events_raw where occurred_at >= '2025-06-09' and occurred_at < '2025-06-10'")
        # an implausible day: 20x a normal day's events (a double load)
        c.execute("""insert into raw.events_raw (event_id, occurred_at, event_domain, event_type)
                     select gen_random_uuid(), '2025-06-12 12:00+00'::timestamptz + g * interval '1 second',
                            'content', 'horoscope_played'
                     from generate_series(1, 12000) as g""")
    yield name
    with admin_conn(pg_server) as c:
        c.execute(f'drop database if exists "{name}" with (force)')


def _json(r) -> dict:
    assert r.stdout.strip(), r.stderr
    return json.loads(r.stdout)


def _by(doc: dict, suite: str, expectation: str, column: str = "") -> dict:
    hits = [
        x for x in doc["results"] if x["suite"] == suite and x["expectation"] == expectation and x["column"] == column
    ]
    assert len(hits) == 1, f"{suite} {expectation} {column}: {len(hits)} results"
    return hits[0]


# --------------------------------------------------------------------------- good data
def test_raw_suite_passes_on_good_data_json_and_docs(good_db, data_dir, tmp_path):
    docs = tmp_path / "docs"
    r = run_kpi("check", "--format", "json", "--docs", str(docs), env={"KPI_PGDATABASE": good_db})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    doc = _json(r)
    assert doc["success"] is True and doc["failed"] == 0 and doc["layers"] == ["raw"]
    # one suite per raw contract table, all 13 of them
    assert len(RAW_TABLES) == 13
    assert {x["suite"] for x in doc["results"]} == {f"raw.{t}" for t in RAW_TABLES}
    assert all(x["success"] for x in doc["results"])
    # GX read the partitioned parent: its row count is every event of the file
    n_events = sum(1 for _ in (data_dir / "events_raw.csv").open(encoding="utf-8")) - 1
    assert _by(doc, "raw.events_raw", "expect_table_row_count_to_be_between")["observed"] == n_events
    assert doc["parameters"]["future_tolerance_minutes"] == 60
    assert "astrology" not in doc["parameters"]["event_domains"] and "orders" in doc["parameters"]["event_domains"]
    # data docs site
    index = docs / "index.html"
    assert index.is_file() and "raw.events_raw" in index.read_text(encoding="utf-8")
    assert doc["docs_index"] == str(index.resolve())


# --------------------------------------------------------------------------- failures
EXPECTED_FAILURES = [
    ("raw.events_raw", "expect_column_values_to_be_between", "occurred_at", 1),
    ("raw.events_raw", "expect_column_values_to_be_in_set", "event_domain", 1),
    ("raw.events_raw", "expect_column_pair_values_to_be_in_set", "event_domain, event_type", 1),
    ("raw.events_raw", "expect_column_values_to_be_between", "duration_seconds", 1),
    ("raw.events_raw", "days_without_events", "", None),  # counted below
    ("raw.events_raw", "events_per_day_spike", "", 1),
    ("raw.payments", "expect_column_values_to_be_between", "amount_cents", 1),
    ("raw.payments", "expect_column_values_to_be_in_set", "status", 1),
    ("raw.payments", "expect_column_values_to_match_regex", "currency", 1),
    ("raw.bookings", "expect_column_values_to_match_regex", "status", 1),
    ("raw.ledger_entries", "ledger_sign_by_entry_type", "", 1),
    ("raw.dispute_evidence", "expect_table_row_count_to_be_between", "", None),
]


def _check_in_process(monkeypatch, dbname: str, layers: list[str]) -> dict:
    """``kpi check --format json`` without a subprocess (GX is imported once per session)."""
    monkeypatch.setenv("KPI_PGDATABASE", dbname)
    return json.loads(json.dumps(check.run(layers).to_jsonable(), default=str))


def test_each_kind_of_defect_fails_and_is_named(bad_db, pg_server, monkeypatch):
    doc = _check_in_process(monkeypatch, bad_db, ["raw"])
    assert doc["success"] is False
    for suite, exp, col, n in EXPECTED_FAILURES:
        hit = _by(doc, suite, exp, col)
        assert hit["success"] is False and hit["severity"] == "critical", hit
        if n is not None:
            assert hit["unexpected_count"] == n, hit
    assert doc["failed"] == len(EXPECTED_FAILURES)
    assert _by(doc, "raw.dispute_evidence", "expect_table_row_count_to_be_between")["observed"] == 0
    # missing days: 2025-06-09, and every day after the data's last day (06-15) before the future event's
    with _connect(pg_server, bad_db) as c:
        future_day = c.execute("select max(occurred_at at time zone 'UTC')::date from raw.events_raw").fetchone()[0]
    assert (
        _by(doc, "raw.events_raw", "days_without_events")["unexpected_count"]
        == 1 + (future_day - date(2025, 6, 15)).days - 1
    )
    assert "PAID" in _by(doc, "raw.payments", "expect_column_values_to_be_in_set", "status")["sample"]
    # the duplicated event_id is reported as a warning and does not count as a failure
    dup = _by(doc, "raw.events_raw", "expect_column_values_to_be_unique", "event_id")
    assert dup["success"] is False and dup["severity"] == "warning" and dup["unexpected_count"] == 2
    # ' accepted ' (case, spaces) is tolerated: only 'MAYBE' is unexpected (count 1 above)
    assert _by(doc, "raw.bookings", "expect_column_values_to_match_regex", "status")["sample"] == ["MAYBE"]


def test_failures_in_the_table_and_tolerance_override(bad_db):
    # a 3-hour tolerance accepts the event 2 hours ahead: every other defect still fails
    r = run_kpi("check", "--future-tolerance", "180", env={"KPI_PGDATABASE": bad_db})
    assert r.returncode == 1
    fails = [ln for ln in r.stdout.splitlines() if " FAIL " in ln]
    assert len(fails) == len(EXPECTED_FAILURES) - 1, r.stdout
    assert not any("occurred_at" in ln for ln in fails)
    assert any("raw.payments" in ln and "amount_cents" in ln for ln in fails)
    assert any("raw.ledger_entries" in ln and "ledger_sign_by_entry_type" in ln for ln in fails)
    assert f"{len(EXPECTED_FAILURES) - 1} failed expectation(s)" in r.stderr


def test_help_does_not_import_great_expectations():
    code = (
        "import sys; from typer.testing import CliRunner; from kpiwh.main import app; "
        "r = CliRunner().invoke(app, ['check', '--help']); assert r.exit_code == 0, r.output; "
        "assert '--layer' in r.output and '--docs' in r.output; "
        "r = CliRunner().invoke(app, ['build', '--help']); assert '--no-fail-on-check' in r.output, r.output; "
        "assert not [m for m in sys.modules if m.startswith('great_expectations')], 'gx imported'"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"},
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (("--layer", "staging"), "--layer: 'staging' is not raw, marts or all"),
        (("--format", "xml"), "--format: 'xml' is not table or json"),
        (("--future-tolerance", "-5"), "--future-tolerance: -5 is negative"),
    ],
)
def test_bad_arguments_exit_2(args, message, pg_server):
    r = run_kpi("check", *args)
    assert r.returncode == 2
    assert r.stderr.strip() == f"error: {message}"


def test_missing_tables_exit_2_one_line(fresh_db):
    r = run_kpi("check")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert "relation(s) not found: raw." in r.stderr and "kpi init" in r.stderr


# --------------------------------------------------------------------------- build --check
def _exists(pg_server, dbname: str, relation: str) -> bool:
    with _connect(pg_server, dbname) as c:
        return c.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


# the cheapest node with tests of its own only: one small seed
SELECT = ("--select", "event_catalogue")


@pytest.mark.slow
def test_build_check_refuses_bad_data_then_builds_with_no_fail(bad_db, pg_server):
    env = {"KPI_PGDATABASE": bad_db}
    r = run_kpi("build", "--check", *SELECT, env=env)
    assert r.returncode == 1
    err_lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert (
        err_lines == [err_lines[0]]
        and f"raw data check failed: {len(EXPECTED_FAILURES)} failed expectation(s), nothing built" in err_lines[0]
    )
    assert not _exists(pg_server, bad_db, "config.event_catalogue")
    r = run_kpi("build", "--check", "--no-fail-on-check", *SELECT, env=env)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    assert "building anyway" in r.stderr
    assert _exists(pg_server, bad_db, "config.event_catalogue")


# --------------------------------------------------------------------------- marts layer
def test_marts_layer_passes_on_the_built_warehouse(built_warehouse, monkeypatch):
    doc = _check_in_process(monkeypatch, built_warehouse.dbname, ["marts"])
    assert doc["layers"] == ["marts"] and doc["failed"] == 0 and len(MART_SUITES) == 11
    assert all(x["success"] and x["error"] is None for x in doc["results"])
    assert {x["suite"] for x in doc["results"]} == {s["name"] for s in MART_SUITES}
    assert all(x["suite"].startswith("marts.") for x in doc["results"])


def test_marts_layer_fails_on_empty_marts(good_db, pg_server, monkeypatch):
    """Empty look-alikes of every daily mart (just the day column): each fails both expectations."""
    with _connect(pg_server, good_db) as c:
        c.execute("create schema if not exists marts")
        for s in MART_SUITES:
            c.execute(f"create table if not exists marts.{s['meta']['table']} ({s['meta']['day_column']} date)")
    try:
        doc = _check_in_process(monkeypatch, good_db, ["marts"])
        assert doc["success"] is False
        assert not [x for x in doc["results"] if x["error"]]  # real failures, not SQL errors
        failed = {(x["suite"], x["expectation"]) for x in doc["results"] if not x["success"]}
        assert failed == {
            (s["name"], e)
            for s in MART_SUITES
            for e in ("expect_table_row_count_to_be_between", "latest_data_day_present")
        }
    finally:
        with _connect(pg_server, good_db) as c:
            c.execute("drop schema marts cascade")
