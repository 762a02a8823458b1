"""The build lock: one warehouse-writing dbt run at a time.

``kpi build``, ``kpi backfill``, ``kpi refresh``, ``kpi alerts --evaluate`` and
``kpi demo`` take a PostgreSQL *session-level advisory lock* on a connection of
their own, held for the whole run (parse, window decision, dbt build, on-run-end
hook) and released when the run ends — or when the process dies, since the
server drops a dead session's locks. A second run either refuses at once with
a one-line message naming the holder (exit 1) or, with ``--wait`` (env
``KPI_LOCK_WAIT=1``), queues behind it.

The lock is per database (advisory locks are), so warehouses in different
databases of one server never block each other. A plain ``dbt build`` run by
hand does not take it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

from . import db
from .errors import KpiError

# pg_advisory_lock(int4, int4) key: 'kpi' in ASCII, then 1 = "the build"
LOCK_KEY = (0x6B7069, 1)
APP_PREFIX = "kpi-lock"

_held: object | None = None  # the connection holding the lock in this process (re-entrant use)


class LockBusy(KpiError):
    """Another run holds the build lock (exit 1)."""

    exit_code = 1


def wait_default() -> bool:
    """Whether runs wait for the lock by default (env ``KPI_LOCK_WAIT`` = 1/true/yes)."""
    return os.environ.get("KPI_LOCK_WAIT", "").strip().lower() in ("1", "true", "yes")


def holder(conn) -> str | None:
    """Describe the session holding the build lock in ``conn``'s database, or None when free.

    Returns:
        e.g. ``"kpi build pid 4242 since 2026-11-21T08:40:02Z"``.
    """
    row = conn.execute(
        "select a.application_name, a.pid, a.backend_start from pg_locks l "
        "join pg_stat_activity a on a.pid = l.pid "
        "where l.locktype = 'advisory' and l.granted and l.classid = %s and l.objid = %s and l.objsubid = 2 "
        "and l.database = (select oid from pg_database where datname = current_database())",
        LOCK_KEY,
    ).fetchone()
    if row is None:
        return None
    app, backend_pid, started = row
    if app and app.startswith(APP_PREFIX + " "):
        return app[len(APP_PREFIX) + 1 :]
    return f"database session {backend_pid} since {started:%Y-%m-%dT%H:%M:%S%z}"


@contextlib.contextmanager
def build_lock(what: str, wait: bool | None = None) -> Iterator[None]:
    """Hold the warehouse build lock for the ``with`` block (re-entrant within a process).

    Args:
        what: what this run is, shown to a run that finds the lock taken (e.g. ``"kpi build"``).
        wait: block until the lock is free; None = :func:`wait_default`.
    Raises:
        LockBusy: the lock is taken and ``wait`` is false (message names the holder).
        DatabaseError: the database is unreachable.
    """
    global _held
    if _held is not None:  # nested call in the same run (build -> invoke)
        yield
        return
    if wait is None:
        wait = wait_default()
    conn = db.connect()
    try:
        started = datetime.now(UTC)
        label = f"{what} pid {os.getpid()} since {started:%Y-%m-%dT%H:%M:%S}Z"
        # application_name is what the refused run reads back (max 63 bytes on the server)
        conn.execute("select set_config('application_name', %s, false)", (f"{APP_PREFIX} {label}"[:63],))
        got = conn.execute("select pg_try_advisory_lock(%s, %s)", LOCK_KEY).fetchone()[0]
        if not got:
            if not wait:
                who = holder(conn) or "another run (it just finished: retry)"
                raise LockBusy(f"the warehouse is locked by {who}; retry later or pass --wait to queue behind it")
            who = holder(conn)
            if who:
                print(f"waiting for the build lock held by {who} ...", file=sys.stderr)
            conn.execute("select pg_advisory_lock(%s, %s)", LOCK_KEY)
        _held = conn
        try:
            yield
        finally:
            _held = None
            with contextlib.suppress(Exception):
                conn.execute("select pg_advisory_unlock(%s, %s)", LOCK_KEY)
    finally:
        conn.close()
