"""Bookings marts (seed 002) on the fixed fixture, compared row by row with hand-computed CSVs.

Two paths must give the same rows (snowplow/fivetran-style integration check):
1. a full build on the whole fixture;
2. a build on an older extract, then the rest of the data loaded late, a
   backfill of the affected days and a *recent* refresh of customers.
"""

from __future__ import annotations

import csv
import shutil

import pytest

from conftest import FIXTURES, assert_relation_equals_csv, run_kpi

FIX = FIXTURES / "bookings_small"
AS_OF = "2025-03-31T00:00:00+00:00"
# only the bookings product and its parents: other products' daily models would
# add empty batches over the fixture's eight months
SELECT = ["--select", "+customer_analytics", "--select", "+fct_appointments_by_location_daily",
          "--select", "stg_core__locations stg_core__tenants"]
CUTOFF = "2025-03-20"  # the "older extract" ends before this day


def _check_marts(conn):
    assert_relation_equals_csv(conn, "marts.customer_analytics", FIX / "expected" / "customer_analytics.csv")
    assert_relation_equals_csv(conn, "marts.fct_appointments_by_location_daily",
                               FIX / "expected" / "fct_appointments_by_location_daily.csv")


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"


@pytest.mark.slow
def test_full_build_matches_hand_computed_marts(conn):
    _ok(run_kpi("load", str(FIX)))
    _ok(run_kpi("build", *SELECT, "--vars", f'{{as_of: "{AS_OF}"}}'))
    _check_marts(conn)


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
def test_late_data_backfill_and_recent_refresh_match_the_full_build(conn, tmp_path):
    older = tmp_path / "older"
    _older_extract(older)
    _ok(run_kpi("load", str(older)))
    _ok(run_kpi("build", *SELECT, "--vars", f'{{as_of: "{AS_OF}"}}'))
    n_before = conn.execute("select count(*) from marts.fct_appointments_by_location_daily").fetchone()[0]

    _ok(run_kpi("load", str(FIX)))  # the rest arrives late
    _ok(run_kpi("backfill", "--start", "2025-03-15", "--end", "2025-04-03",
                "--select", "+fct_appointments_by_location_daily"))
    assert conn.execute("select count(*) from marts.fct_appointments_by_location_daily").fetchone()[0] > n_before
    r = run_kpi("refresh", "customers", "--mode", "recent", "--as-of", AS_OF)
    _ok(r)
    _check_marts(conn)

    # and a full refresh afterwards changes nothing
    _ok(run_kpi("refresh", "customers", "--mode", "full", "--as-of", AS_OF))
    _check_marts(conn)
