"""Load stamps and staging's load watermark (DECISIONLOG "One row per event").

A load's rows carry ``_loaded_at`` = the time the load obtained its table's write lock,
not its transaction's start: loads commit in lock order, so a load that began first but
committed after a build staged a later writer's rows is still above staging's load watermark
and is staged by the next build. Driven deterministically for ``events_raw`` →
``stg_platform__events`` and ``bookings`` → ``stg_bookings__bookings``: the test holds the
lock, starts load A (it waits), commits another writer's row B and builds, releases the lock,
builds again — A must be staged.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time

import psycopg

from conftest import FIXTURES, run_kpi, write_csv

FIX = FIXTURES / "platform_small"
# staging and the seeds it reads, without the unit tests (their fixtures need every seed)
STAGING = ["--select", "+stg_platform__events", "--exclude", "resource_type:unit_test"]


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"


def _payment_attempt(n: int, occurred: str, user: str, payment: str) -> list:
    """One events_raw row (platform_small's header order) with id ``...-000000000nnn``."""
    return [f"00000000-0000-4000-8000-{n:012d}", occurred, occurred, "plt_001", None, "payments",
            "payment_attempted", user, None, "payment", payment, None, None, None, "SA", None, None, None,
            None, 1]  # fmt: skip


def _load_racing_a_staged_write(conn, pg_server, fresh_db, tmp_path, case: dict) -> None:
    """Load A waits for its table's lock (held here) while another writer's row B is committed and
    staged by a build (staging's watermark passes A's transaction start); then A commits and the
    next build must stage A's row too. ``case``: fixture, staging selection, lock key, A's file
    (name, header, row), B's insert, staging relation and key column, A's and B's keys."""
    _ok(run_kpi("load", str(case["fixture"])))
    _ok(run_kpi("build", *case["select"]))
    write_csv(tmp_path / "a" / case["file"], case["header"], [case["row"]])
    dsn = {"host": str(pg_server.socket_dir), "user": "postgres", "dbname": fresh_db}
    staged = f"select count(*) from {case['staging']} where {case['key']} = %s"
    with psycopg.connect(**dsn) as holder:
        holder.execute("select pg_advisory_xact_lock(%s, %s)", case["lock"])
        load_a = subprocess.Popen(
            [sys.executable, "-m", "kpiwh.main", "load", str(tmp_path / "a")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=os.environ["KPI_PROJECT_DIR"],
        )
        try:
            for _ in range(600):  # until load A waits for the lock
                if conn.execute("select count(*) from pg_locks where locktype = 'advisory' and not granted").fetchone()[
                    0
                ]:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError("load A never waited for its table's lock")
            conn.execute(case["insert_b"])
            _ok(run_kpi("build", *case["select"]))
            assert conn.execute(staged, (case["b"],)).fetchone() == (1,)
        finally:
            holder.rollback()  # releases the lock: load A goes on
            out, err = load_a.communicate(timeout=300)
    assert load_a.returncode == 0, out[-2000:] + err[-2000:]
    _ok(run_kpi("build", *case["select"]))
    assert conn.execute(staged, (case["a"],)).fetchone() == (1,)


def test_a_load_that_commits_after_a_later_staged_write_is_still_staged(conn, pg_server, fresh_db, tmp_path):
    """A load's rows carry the time it got its table's lock, not its transaction's start (events_raw)."""
    from kpiwh.load import EVENTS_LOCK_KEY  # noqa: PLC0415  (the lock the load waits on)

    with (FIX / "events_raw.csv").open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    a_id, b_id = "00000000-0000-4000-8000-000000000951", "00000000-0000-4000-8000-000000000952"
    _load_racing_a_staged_write(
        conn,
        pg_server,
        fresh_db,
        tmp_path,
        {
            "fixture": FIX,
            "select": STAGING,
            "lock": EVENTS_LOCK_KEY,
            "file": "events_raw.csv",
            "header": header,
            "row": _payment_attempt(951, "2025-03-04T09:00:00+00:00", "u1", "p951"),
            "insert_b": "insert into raw.events_raw (event_id, occurred_at, received_at, tenant_id, event_domain,"
            " event_type, user_id, entity_type, entity_id) values ('" + b_id + "', '2025-03-04 09:30+00',"
            " '2025-03-04 09:30+00', 'plt_001', 'payments', 'payment_attempted', 'u2', 'payment', 'p952')",
            "staging": "staging.stg_platform__events",
            "key": "event_id",
            "a": a_id,
            "b": b_id,
        },
    )


def test_a_bookings_load_that_commits_after_a_later_staged_write_is_still_staged(conn, pg_server, fresh_db, tmp_path):
    """The same for the other raw tables (their own lock), here raw.bookings → stg_bookings__bookings."""
    from kpiwh.load import RAW_LOCK_KEY  # noqa: PLC0415  (the lock the load waits on)

    header = ["booking_id", "organization_id", "location_id", "customer_id", "start_at", "status",
              "customer_note", "created_at", "updated_at"]  # fmt: skip
    _load_racing_a_staged_write(
        conn,
        pg_server,
        fresh_db,
        tmp_path,
        {
            "fixture": FIXTURES / "bookings_small",
            "select": ["--select", "+stg_bookings__bookings", "--exclude", "resource_type:unit_test"],
            "lock": RAW_LOCK_KEY,
            "file": "bookings.csv",
            "header": header,
            "row": [
                "b951",
                "org_a",
                None,
                "c07",
                "2024-09-01T15:00:00+00:00",
                "ACCEPTED",
                None,
                "2024-08-20T10:00:00+00:00",
                "2024-08-20T10:00:00+00:00",
            ],  # fmt: skip
            "insert_b": "insert into raw.bookings (booking_id, organization_id, customer_id, start_at, status,"
            " created_at, updated_at) values ('b952', 'org_a', 'c07', '2024-09-02 15:00+00', 'ACCEPTED',"
            " '2024-08-21 10:00+00', '2024-08-21 10:00+00')",
            "staging": "staging.stg_bookings__bookings",
            "key": "booking_id",
            "a": "b951",
            "b": "b952",
        },
    )
