"""Retention through every layer (`kpi retention apply`, also `kpi partitions prune`) on `platform_small`.

The fixture's days: 2025-02-25 (user u7 only), 2025-03-03 (A), 03-04 (B), 03-05 (C).
As of 2025-06-02 with 90 days, the first day kept is 2025-03-04: February's
partition goes whole, A's rows go from March's, from staging and from every
event-level intermediate; the marts keep every aggregate, through later builds.
"""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest

from conftest import FIXTURES, run_kpi
from kpiwh import retention

FIX = FIXTURES / "platform_small"
DAILY = [
    "metrics_daily_payments",
    "metrics_daily_calls",
    "metrics_daily_engagement",
    "metrics_daily_fulfillment",
    "metrics_daily_content",
]
AGGREGATES = DAILY + [
    "metrics_weekly_payments",
    "metrics_weekly_calls",
    "metrics_weekly_fulfillment",
    "metrics_weekly_content",
    "metrics_cohort_retention",
]
SELECT = [
    "--select",
    # the aggregates and everything upstream (not `+<daily>+`: that also takes the exposures and
    # the dim_date key tests, whose other parents this partial build does not write)
    " ".join(f"+{m}" for m in AGGREGATES) + " +int_events_uncatalogued",
    "--exclude",
    "tag:alerts+",
]
CUTOFF = "2025-03-04"
# event-level relations and the column(s) holding their rows' event times
EVENT_LEVEL = {
    "raw.events_raw": "occurred_at",
    "staging.stg_platform__events": "occurred_at",
    "intermediate.int_user_activity_daily": "activity_date",
    "intermediate.int_events_uncatalogued": "occurred_at",
    "intermediate.int_calls_lifecycle": "greatest(started_at, answered_at, ended_at, dropped_at)",
    "intermediate.int_orders_lifecycle": "greatest(created_at, assigned_at, first_submitted_at, approved_at, completed_at, cancelled_at)",
    "intermediate.int_order_decisions_paired": "greatest(decided_at, submitted_at)",
    "intermediate.int_payment_attempts_paired": "attempted_at",
    "intermediate.int_horoscopes_lifecycle": "greatest(first_uploaded_at, first_approved_at, first_published_at)",
}


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"


def _aggregates(conn) -> dict[str, list[str]]:
    return {m: [r[0] for r in conn.execute(f"select t::text from marts.{m} as t order by 1")] for m in AGGREGATES}


def _older(conn) -> dict[str, int]:
    """Rows per event-level relation whose newest event time is before the cutoff."""
    return {
        rel: conn.execute(f"select count(*) from {rel} where {col} < '{CUTOFF}'::timestamptz").fetchone()[0]
        for rel, col in EVENT_LEVEL.items()
    }


def _fixture_events_before(day: str) -> int:
    with (FIX / "events_raw.csv").open(newline="", encoding="utf-8") as fh:
        return len({r["event_id"] for r in csv.DictReader(fh) if r["occurred_at"][:10] < day}) + 2  # + o900, o901


def _events(path, rows):
    path.mkdir(parents=True, exist_ok=True)
    (path / "events_raw.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_cutoffs_are_utc_midnights_whole_weeks_and_calendar_years():
    ev, metrics, jobs = retention.cutoffs(date(2025, 6, 2), retention.Policy())
    assert ev.isoformat() == "2025-03-04T00:00:00+00:00"
    assert metrics == date(2023, 5, 29)  # 2023-06-02 is a Friday: its week's Monday
    assert jobs.isoformat() == "2024-06-02T00:00:00+00:00"
    assert retention.cutoffs(date(2028, 2, 29), retention.Policy(metrics_years=1))[1] == date(2027, 2, 22)


@pytest.mark.slow
def test_retention_removes_old_event_rows_from_every_layer_and_keeps_the_aggregates(conn, tmp_path):
    _ok(run_kpi("load", str(FIX)))
    _ok(
        run_kpi(
            "load",
            str(
                _events(
                    tmp_path / "odd",
                    [  # an event type the catalogue does not know
                        {
                            "event_id": "00000000-0000-4000-8000-000000000900",
                            "occurred_at": "2025-02-25T08:00:00Z",
                            "event_domain": "orders",
                            "event_type": "order_teleported",
                            "entity_id": "o900",
                        },
                        {
                            "event_id": "00000000-0000-4000-8000-000000000901",
                            "occurred_at": "2025-02-25T09:00:00Z",  # an order
                            "event_domain": "orders",
                            "event_type": "order_created",
                            "entity_id": "o901",
                        },
                    ],
                )
            ),
        )
    )
    _ok(run_kpi("build", *SELECT))
    before = _aggregates(conn)
    older = _older(conn)
    assert all(older.values()), older  # every event-level relation holds rows older than the cut-off
    raw_total = conn.execute("select count(*) from raw.events_raw").fetchone()[0]
    # job-run log: one run 400 days old (goes), the builds' own runs (stay)
    conn.execute(
        "insert into ops.etl_job_runs (invocation_id, command, started_at, status, nodes_total, nodes_ok, "
        "nodes_error, nodes_skipped, nodes_warn) values ('old', 'build', '2024-04-28', 'success', 1, 1, 0, 0, 0)"
    )
    conn.execute(
        "insert into ops.etl_job_run_nodes (invocation_id, unique_id, resource_type, status) "
        "values ('old', 'model.x.y', 'model', 'success')"
    )
    runs = conn.execute("select count(*) from ops.etl_job_runs").fetchone()[0]

    r = run_kpi("retention", "apply", "--as-of", "2025-06-02", "--dry-run")
    _ok(r)
    assert "(dry run)" in r.stdout and _older(conn) == older
    r = run_kpi("retention", "apply", "--as-of", "2025-06-02", "--dry-run", "--format", "json")
    _ok(r)
    doc = json.loads(r.stdout)
    assert (doc["dry_run"], doc["event_cutoff"][:10], doc["metrics_cutoff"]) == (True, "2025-03-04", "2023-05-29")
    dropped = sum(part["rows"] for part in doc["partitions_dropped"])
    assert doc["rows_removed"] == sum(doc["removed"].values()) + dropped > 0 and _older(conn) == older

    r = run_kpi("retention", "apply", "--as-of", "2025-06-02")
    _ok(r)
    assert "events_raw_2025_02" in r.stdout
    assert "events before 2025-03-04, daily metrics before 2023-05-29, job runs before 2024-06-02" in r.stdout
    assert _older(conn) == {rel: 0 for rel in EVENT_LEVEL}
    # hand count: the fixture's events before 2025-03-04 (02-25 and day A) left raw, the others stayed
    assert conn.execute("select count(*) from raw.events_raw").fetchone()[0] == raw_total - _fixture_events_before(
        CUTOFF
    )
    assert conn.execute("select min(event_date)::text from staging.stg_platform__events").fetchone()[0] == CUTOFF
    assert conn.execute("select count(*) from ops.etl_job_runs").fetchone()[0] == runs - 1
    assert conn.execute("select count(*) from ops.etl_job_run_nodes where invocation_id = 'old'").fetchone()[0] == 0
    ((n_runs, removed),) = conn.execute("select count(*), max(rows_removed) from ops.retention_runs").fetchall()
    assert n_runs == 1 and removed >= _fixture_events_before(CUTOFF)
    assert _aggregates(conn) == before  # the marts are untouched
    # a full refresh would rebuild the daily marts from the kept days only: refused, nothing touched
    r = run_kpi("build", "--full-refresh", *SELECT)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == [
        "error: --full-refresh after a retention run would rebuild the daily marts from the events kept since "
        "2025-03-04 and lose their earlier days: use kpi backfill inside the horizon, or pass --allow-history-loss"
    ]
    assert _aggregates(conn) == before

    # a re-run removes nothing
    r = run_kpi("retention", "apply", "--as-of", "2025-06-02")
    _ok(r)
    assert "removed 0 row(s)" in r.stdout and "no partition is entirely older than 90d" in r.stdout
    # a backfill reaching into the removed days is refused
    r = run_kpi("backfill", "--start", "2025-03-01", "--end", "2025-03-06")
    assert r.returncode == 2 and "raw events before 2025-03-04 were pruned" in r.stderr

    # the next build neither resurrects nor recomputes the removed days, even with late data:
    # an event on removed day A, and returning user u7 (first day 2025-02-25) on day C
    late = [
        {
            "event_id": "00000000-0000-4000-8000-000000000911",
            "occurred_at": "2025-03-03T12:00:00Z",
            "event_domain": "payments",
            "event_type": "payment_attempted",
            "entity_id": "p911",
            "user_id": "u1",
            "country_code": "SA",
            "provider": "stripe",
            "amount_cents": 700,
        },
        {
            "event_id": "00000000-0000-4000-8000-000000000912",
            "occurred_at": "2025-03-05T12:00:00Z",
            "event_domain": "notifications",
            "event_type": "notification_opened",
            "user_id": "u7",
        },
    ]
    _ok(run_kpi("load", str(_events(tmp_path / "late", late))))
    _ok(run_kpi("build", *SELECT))
    after = _aggregates(conn)
    # neither day A (removed) nor day C (its MAU window reaches before the horizon) is recomputed from
    # partial data: every daily and weekly mart is unchanged; only u7's cohort sees its return
    for m in AGGREGATES[:-1]:
        assert after[m] == before[m], m
    assert after["metrics_cohort_retention"] != before["metrics_cohort_retention"]
    assert (
        conn.execute(
            "select first_date::text from intermediate.int_user_activity_summary where user_id = 'u7'"
        ).fetchone()[0]
        == "2025-02-25"
    )  # u7 keeps its cohort
    assert (
        conn.execute(
            "select cohort_size from marts.metrics_cohort_retention "
            "where cohort_grain = 'day' and cohort_start = '2025-02-25'"
        ).fetchone()[0]
        == 1
    )

    # two years later: daily metrics before the Monday of 2025-03-04's week go, whole weeks kept
    kept = {
        m: conn.execute(f"select count(*) from marts.{m} where metric_date >= '2025-03-03'").fetchone()[0]
        for m in DAILY
    }
    assert (
        conn.execute("select count(*) from marts.metrics_daily_engagement where metric_date < '2025-03-03'").fetchone()[
            0
        ]
        > 0
    )
    _ok(run_kpi("retention", "apply", "--as-of", "2027-03-04"))
    for m in DAILY:
        assert conn.execute(f"select count(*) from marts.{m} where metric_date < '2025-03-03'").fetchone()[0] == 0, m
        assert conn.execute(f"select count(*) from marts.{m}").fetchone()[0] == kept[m], m


@pytest.mark.parametrize(
    "args, message",
    [
        (["--as-of", "2025-13-01"], "--as-of: '2025-13-01' is not a date (YYYY-MM-DD)"),
        (["--older-than", "soon"], "--older-than: 'soon' is not an age like 90d or 12w"),
        (["--metrics-years", "0"], "--metrics-years: 0 is not a positive retention period"),
        (["--job-run-days", "-1"], "--job-run-days: -1 is not a positive retention period"),
    ],
)
def test_bad_retention_options_are_one_line_exit_2(args, message):
    r = run_kpi("retention", "apply", *args)
    assert r.returncode == 2 and r.stderr == f"error: {message}\n"
