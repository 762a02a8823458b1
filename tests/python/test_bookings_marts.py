"""Bookings marts (seed 002) on the fixed fixture, compared row by row with hand-computed CSVs.

Paths that must give the same rows (snowplow/fivetran-style integration check):
1. a full build on the whole fixture;
2. a build on an older extract, then the rest of the data loaded late and a
   plain (incremental) ``kpi build``; then a backfill and a refresh of customers;
3. corrections loaded afterwards (a booking moved to another customer, a payment
   refunded): a plain build equals a full refresh of the same data.
"""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from conftest import FIXTURES, assert_relation_equals_csv, customer_analytics_rows, run_kpi
from kpiwh.customer_check import STEP_NAMES

FIX = FIXTURES / "bookings_small"
AS_OF = "2025-03-31T00:00:00+00:00"
# only the bookings product and its parents: other products' daily models would
# add empty batches over the fixture's eight months
SELECT = [
    "--select",
    "+customer_analytics",
    "--select",
    "+fct_appointments_by_location_daily",
    "--select",
    "stg_core__locations stg_core__tenants analytics_appointments_by_location_daily",
]
CUTOFF = "2025-03-20"  # the "older extract" ends before this day


def _check_marts(conn):
    assert_relation_equals_csv(conn, "marts.customer_analytics", FIX / "expected" / "customer_analytics.csv")
    # the profile columns (visits, windows, statuses, payments, preferences): hand-computed too
    assert_relation_equals_csv(conn, "marts.customer_analytics", FIX / "expected" / "customer_analytics_profile.csv")
    assert_relation_equals_csv(
        conn, "marts.fct_appointments_by_location_daily", FIX / "expected" / "fct_appointments_by_location_daily.csv"
    )
    # the seed's own name for the daily fact: a view with the same rows
    assert_relation_equals_csv(
        conn,
        "marts.analytics_appointments_by_location_daily",
        FIX / "expected" / "fct_appointments_by_location_daily.csv",
    )


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    return r


@pytest.mark.slow
def test_full_build_matches_hand_computed_marts(conn):
    _ok(run_kpi("load", str(FIX)))
    _ok(run_kpi("build", *SELECT, "--vars", f'{{as_of: "{AS_OF}"}}'))
    _check_marts(conn)

    # analytics_appointments_by_location_daily: a view run with the caller's rights, so a
    # client login mapped to org_a reads org_a's rows only (the fact's row-level security)
    kind, options = conn.execute(
        "select c.relkind, c.reloptions from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'marts' and c.relname = 'analytics_appointments_by_location_daily'"
    ).fetchone()
    assert kind == "v" and "security_invoker=true" in options
    conn.execute("drop role if exists h15_view_client")
    conn.execute("create role h15_view_client login in role kpi_client")
    conn.execute("insert into ops.tenant_access (role_name, tenant_id) values ('h15_view_client', 'org_a')")
    try:
        conn.execute("set role h15_view_client")
        seen = conn.execute(
            "select distinct organization_id from marts.analytics_appointments_by_location_daily"
        ).fetchall()
        conn.execute("reset role")
        assert seen == [("org_a",)]
    finally:
        conn.execute("reset role")
        conn.execute("delete from ops.tenant_access where role_name = 'h15_view_client'")
        conn.execute("drop role h15_view_client")


def _customer(conn, customer_id: str) -> tuple[int, int]:
    return conn.execute(
        "select total_bookings, total_revenue_cents from marts.customer_analytics "
        "where organization_id = 'org_a' and customer_id = %s",
        (customer_id,),
    ).fetchone()


def _corrected(src, dst):
    """bookings.csv / payments.csv of the fixture with b04 moved from c05 to c06 and p03 refunded."""
    dst.mkdir()
    for name, key, column, old, new in (
        ("bookings.csv", "b04", "customer_id", "c05", "c06"),
        ("payments.csv", "p03", "status", "COMPLETED", "REFUNDED"),
    ):
        with (src / name).open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
            header = list(rows[0].keys())
        hit = [r for r in rows if r[header[0]] == key]
        assert len(hit) == 1 and hit[0][column] == old
        hit[0][column] = new
        with (dst / name).open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, header, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)


def _older_extract(dst):
    """Copy of the fixture without bookings starting / payments created on or after CUTOFF."""
    dst.mkdir()
    for f in FIX.glob("*.csv"):
        shutil.copy(f, dst / f.name)
    for name, col in (("bookings.csv", "start_at"), ("payments.csv", "created_at")):
        with (FIX / name).open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
            header = list(rows[0].keys())
        kept = [r for r in rows if r[col][:10] < CUTOFF]
        assert 0 < len(kept) < len(rows)
        with (dst / name).open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, header, lineterminator="\n")
            w.writeheader()
            w.writerows(kept)


@pytest.mark.slow
def test_late_and_corrected_data_reach_the_marts_through_a_plain_build(conn, tmp_path):
    older = tmp_path / "older"
    _older_extract(older)
    _ok(run_kpi("load", str(older)))
    _ok(run_kpi("build", *SELECT, "--vars", f'{{as_of: "{AS_OF}"}}'))
    n_before = conn.execute("select count(*) from marts.fct_appointments_by_location_daily").fetchone()[0]

    _ok(run_kpi("load", str(FIX)))  # the rest arrives late: a plain build picks it up
    _ok(run_kpi("build", *SELECT, "--vars", f'{{as_of: "{AS_OF}"}}'))
    assert conn.execute("select count(*) from marts.fct_appointments_by_location_daily").fetchone()[0] > n_before
    _check_marts(conn)

    # a backfill and a refresh of the customers change nothing; the backfill rebuilds the
    # fact without the view analytics_appointments_by_location_daily, which must survive it
    _ok(
        run_kpi(
            "backfill",
            "--start",
            "2025-03-15",
            "--end",
            "2025-04-03",
            "--select",
            "+fct_appointments_by_location_daily",
        )
    )
    _ok(run_kpi("refresh", "customers", "--mode", "recent", "--as-of", AS_OF))
    _check_marts(conn)
    _ok(run_kpi("refresh", "customers", "--mode", "full", "--as-of", AS_OF))
    _check_marts(conn)
    # the refresh's --as-of reaches the models (it is parsed without its vars, read at run time)
    since = "select max(days_since_first_booking) from marts.customer_analytics"
    days = conn.execute(since).fetchone()[0]
    _ok(run_kpi("refresh", "customers", "--mode", "recent", "--as-of", "2025-04-10T00:00:00+00:00"))
    assert conn.execute(since).fetchone()[0] == days + 10
    _ok(run_kpi("refresh", "customers", "--mode", "recent", "--as-of", AS_OF))
    _check_marts(conn)

    # corrections: the old and the new customer of a moved booking, and a refund
    c05, c06, c02 = _customer(conn, "c05"), _customer(conn, "c06"), _customer(conn, "c02")
    corrected = tmp_path / "corrected"
    _corrected(FIX, corrected)
    _ok(run_kpi("load", str(corrected)))
    _ok(run_kpi("build", *SELECT, "--vars", f'{{as_of: "{AS_OF}"}}'))
    assert _customer(conn, "c05")[0] == c05[0] - 1
    assert _customer(conn, "c06")[0] == c06[0] + 1
    assert _customer(conn, "c02")[1] == c02[1] - 3000
    incremental = customer_analytics_rows(conn)
    _ok(run_kpi("build", *SELECT, "--full-refresh", "--vars", f'{{as_of: "{AS_OF}"}}'))
    assert customer_analytics_rows(conn) == incremental


def test_scheduled_run_tests_the_rows_it_wrote(conn, tmp_path):
    """Tests of an incremental staging model read the rows this run (re)wrote (meta kpi_test_rows_written_at).

    A bad value in a row written by an earlier run is not re-read (that run tested it); the same
    bad value arriving in a row this run writes is reported, naming the test (the relationships
    test of location_id, severity warn). A value the model's contract forbids (an unknown status)
    fails the run naming the constraint, and the staged rows stay as they were.
    """
    sel = ["--select", "stg_bookings__bookings stg_core__locations"]  # the relationships test reads both
    _ok(run_kpi("load", str(FIX)))
    _ok(run_kpi("build", *sel))
    conn.execute(
        "update staging.stg_bookings__bookings set location_id = 'loc_nowhere', "
        "dbt_loaded_at = dbt_loaded_at - interval '2 hours' where booking_id = 'b01'"
    )
    r = _ok(run_kpi("build", *sel))  # nothing new written: the old row is not re-read
    assert "relationships_stg_bookings" not in r.stdout + r.stderr

    with (FIX / "bookings.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    row = next(r for r in rows if r["booking_id"] == "b02")

    def load_late(name: str, **changes: str) -> None:
        late = tmp_path / name
        late.mkdir()
        with (late / "bookings.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, list(row), lineterminator="\n")
            w.writeheader()
            w.writerow({**row, **changes})
        _ok(run_kpi("load", str(late)))

    load_late("late_location", location_id="loc_nowhere", updated_at="2030-01-01T00:00:00+00:00")
    r = run_kpi("build", *sel)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "relationships_stg_bookings__bookings_location_id" in r.stdout + r.stderr

    load_late("late_status", status="weird", updated_at="2030-01-02T00:00:00+00:00")
    r = run_kpi("build", *sel)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    assert "constraint stg_bookings__bookings__status_values violated" in r.stderr
    assert "Failing row" not in r.stderr  # the summary does not repeat the row's values
    staged = conn.execute(
        "select status, location_id from staging.stg_bookings__bookings where booking_id = 'b02'"
    ).fetchall()
    assert staged == [(row["status"], "loc_nowhere")]


@pytest.mark.slow
def test_check_customers_runs_the_seeds_eight_steps(conn, tmp_path):
    """`kpi check customers`: seed 002's sanity check, 8 steps printed, exit 1 when one fails.

    Nothing built: every step fails with the reason. On the built fixture: all 8 pass. Then a
    corrupted first_booking_at, a missing customer row and a booking loaded after the refresh
    fail exactly the steps that check them. Bad input: one line, exit 2.
    """

    def check(*extra: str):
        r = run_kpi("check", "customers", "--format", "json", *extra)
        return r, json.loads(r.stdout)

    r, doc = check()  # an empty database: nothing to check against
    assert r.returncode == 1 and doc["success"] is False
    assert [s["name"] for s in doc["steps"]] == list(STEP_NAMES) and len(STEP_NAMES) == 8
    assert all(s["error"].startswith("cannot run: relation") for s in doc["steps"])

    _ok(run_kpi("load", str(FIX)))
    _ok(run_kpi("build", *SELECT, "--vars", f'{{as_of: "{AS_OF}"}}'))
    r, doc = check()
    assert r.returncode == 0, r.stdout + r.stderr
    steps = {s["name"]: s for s in doc["steps"]}
    assert all(s["passed"] and s["bad_rows"] == 0 for s in doc["steps"])
    assert steps["coverage"]["checked_rows"] == 12  # 10 profiles + c08 (bookings only) + c99 (payment only)
    assert steps["new_customers"]["checked_rows"] == 2  # organizations
    r = _ok(run_kpi("check", "customers"))
    assert "8/8" in r.stdout and "all 8 steps passed" in r.stderr

    conn.execute(
        "update intermediate.int_customer_analytics set first_booking_at = first_booking_at - interval '1 day' "
        "where organization_id = 'org_a' and customer_id = 'c05'"
    )
    conn.execute(
        "delete from intermediate.int_customer_analytics where organization_id = 'org_b' and customer_id = 'c99'"
    )
    late = tmp_path / "late"
    late.mkdir()
    (late / "bookings.csv").write_text(
        "booking_id,organization_id,location_id,customer_id,start_at,status,customer_note,created_at,updated_at\n"
        "b90,org_a,loc_a1,c04,2025-03-30T10:00:00+00:00,ACCEPTED,,2025-03-29T10:00:00+00:00,2025-03-29T10:00:00+00:00\n",
        encoding="utf-8",
    )
    _ok(run_kpi("load", str(late)))
    r, doc = check()
    assert r.returncode == 1
    failed = {s["name"]: s for s in doc["steps"] if not s["passed"]}
    assert sorted(failed) == ["coverage", "first_booking_at", "refreshed"]
    assert failed["first_booking_at"]["bad_rows"] == 1 and failed["coverage"]["bad_rows"] == 1
    assert failed["refreshed"]["bad_rows"] == 1
    r = run_kpi("check", "customers")
    assert r.returncode == 1 and "FAIL" in r.stdout
    assert "3 of 8 step(s) failed: coverage, first_booking_at, refreshed" in r.stderr

    for args, message in (
        (("check", "bogus"), "kpi check: 'bogus' is not a check"),
        (("check", "customers", "--format", "xml"), "--format: 'xml' is not table or json"),
    ):
        r = run_kpi(*args)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and message in lines[0], r.stderr
