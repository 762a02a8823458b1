"""customer_analytics as as_of moves (seed 002): a plain run recomputes only who crossed a boundary.

int_customer_analytics keeps every customer's as_of-relative columns (visits, upcoming
bookings, 30/90/365-day windows, segment) and recomputes, as as_of moves forward, only the
customers with a booking or payment crossing one of those boundaries; the view
customer_analytics counts the days to the newest write's as_of. Checked against a full
recompute at the same as_of, on the bookings fixture.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from conftest import FIXTURES, customer_analytics_rows, run_kpi

FIX = FIXTURES / "bookings_small"
AS_OF = "2025-03-31T00:00:00+00:00"
MODELS = ["--select", "int_customer_analytics customer_analytics"]


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    return r


def _written_last(conn) -> int:
    """Rows the newest write (re)computed."""
    return conn.execute(
        "select count(*) from marts.customer_analytics "
        "where refreshed_at = (select max(refreshed_at) from marts.customer_analytics)"
    ).fetchone()[0]


@pytest.mark.slow
def test_plain_runs_follow_as_of_like_a_full_recompute(conn):
    """The same as_of again rewrites one row (the newest write's, so that it carries this
    as_of). as_of moved forward two days (visits, upcoming, 30/90/365-day windows), then
    half a year (90/91/181-day segment thresholds): after each plain run the rows equal
    those of a full recompute at that as_of, and the two-day move rewrote fewer rows than
    exist. Moved back, a plain run recomputes every customer."""
    _ok(run_kpi("load", str(FIX)))
    _ok(run_kpi("build", "--select", "+customer_analytics", "--vars", f'{{as_of: "{AS_OF}"}}'))
    total = conn.execute("select count(*) from marts.customer_analytics").fetchone()[0]
    assert total == 12
    # the unit tests ran in the first build; the full recomputes need no data tests either.
    # The full recompute is --full-refresh (the table rebuilt, not incremental) rather than
    # var customer_refresh_mode=full: the same vars as the run before it keep dbt's partial
    # parse (a changed var re-parses the whole project, ~15 s)
    step = [*MODELS, "--exclude", "resource_type:unit_test"]
    oracle = [*step, "--exclude", "resource_type:test", "--full-refresh"]

    _ok(run_kpi("build", *step, "--vars", f'{{as_of: "{AS_OF}"}}'))
    assert _written_last(conn) == 1

    for as_of in ("2025-04-02T09:30:00+00:00", "2025-10-02T00:00:00+00:00"):
        _ok(run_kpi("build", *step, "--vars", f'{{as_of: "{as_of}"}}'))
        incremental, written = customer_analytics_rows(conn), _written_last(conn)
        assert {r[-1] for r in incremental} == {datetime.fromisoformat(as_of)}
        assert written < total, "only the customers who crossed a boundary are recomputed"
        _ok(run_kpi("build", *oracle, "--vars", f'{{as_of: "{as_of}"}}'))
        assert _written_last(conn) == total
        assert customer_analytics_rows(conn) == incremental, as_of

    back = "2025-04-05T00:00:00+00:00"
    _ok(run_kpi("build", *step, "--vars", f'{{as_of: "{back}"}}'))
    assert _written_last(conn) == total
    assert {r[-1] for r in customer_analytics_rows(conn)} == {datetime.fromisoformat(back)}
