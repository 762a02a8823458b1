"""dbt's programmatic runner, with Rich progress and a result summary.

dbt is imported lazily (``import dbt.cli.main`` costs ~2 s) so ``kpi --help``
stays instant. One invocation at a time per process (dbt's own limit).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import config, db
from .errors import BuildFailed, DatabaseError, UsageError

FAIL_STATUSES = {"error", "fail", "runtime error", "partial success"}
# dbt commands that write the warehouse: they run under the build lock (kpiwh.lock)
LOCKED_COMMANDS = {"build", "run", "seed", "snapshot", "retry"}


def _what() -> str:
    """This CLI call as the job-run log and the lock show it, e.g. ``kpi build`` (env ``KPI_INVOKED_VIA``)."""
    import sys  # noqa: PLC0415

    words: list[str] = []
    for a in sys.argv[1:3]:
        if a.startswith("-"):
            break
        words.append(a)
    return " ".join(["kpi", *words])[:60]


@dataclass
class NodeResult:
    """One executed dbt node: unique_id, resource type, status, seconds, message."""

    unique_id: str
    resource_type: str
    status: str
    seconds: float
    message: str | None = None
    failures: int | None = None


@dataclass
class RunSummary:
    """What a dbt invocation did.

    Attributes:
        command: the dbt sub-command. success: dbt's own verdict AND no failed node.
        nodes: per-node results. seconds: wall time of the invocation.
        exception: dbt's exception (one line) if it raised. errors: error messages dbt logged.
    """

    command: str
    success: bool
    nodes: list[NodeResult] = field(default_factory=list)
    seconds: float = 0.0
    exception: str | None = None  # dbt's own exception, one line
    errors: list[str] = field(default_factory=list)  # error-level messages dbt logged

    @property
    def failed(self) -> list[NodeResult]:
        """Nodes whose status is a failure (error, fail, partial success)."""
        return [n for n in self.nodes if n.status in FAIL_STATUSES]

    def counts(self) -> Counter:
        """``Counter`` of (resource_type, status) pairs."""
        return Counter((n.resource_type, n.status) for n in self.nodes)


def base_args() -> list[str]:
    """Project/profiles/target arguments every dbt call gets."""
    proj = config.project_dir()
    return [
        "--project-dir", str(proj),
        "--profiles-dir", str(config.profiles_dir()),
        "--target", config.target(),
    ]


def _dbt_environment() -> None:
    """Environment of every dbt call: the target's connection, and ``buildable`` indirect selection.

    dbt's default ("eager") also runs a test when only ONE of its parents is
    selected: ``kpi build --select +metrics_daily_calls`` would run the weekly
    rollup's "weekly = sum of daily" test against a weekly table this build did
    not touch (missing or stale). ``buildable`` runs a test only when all its
    parents are in the selection. A ``DBT_INDIRECT_SELECTION`` set by the caller,
    or ``--indirect-selection`` passed through, wins.
    """
    os.environ.update(db.dbt_env())
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")


def parse(vars_json: str | None = None):
    """Parse the project once and return dbt's Manifest (reusable by :func:`invoke`).

    Args:
        vars_json: the same ``--vars`` the following invocation will get (vars shape configs).
    Raises:
        UsageError: the project does not parse (one line).
    """
    _dbt_environment()
    from dbt.cli.main import dbtRunner  # noqa: PLC0415

    args = ["--quiet", "--no-use-colors", "parse", *base_args()]
    if vars_json:
        args += ["--vars", vars_json]
    res = dbtRunner().invoke(args)
    if not res.success or res.result is None:
        raise UsageError(f"dbt parse failed: {_one_line(res.exception)}")
    return res.result


def selected_ids(manifest, command: list[str]) -> set[str] | None:
    """unique_ids the ``--select/--exclude`` flags of ``command`` pick (``dbt ls`` on ``manifest``).

    Returns None when ``command`` has no selection flag (everything is selected).
    """
    sel: list[str] = []
    it = iter(range(len(command)))
    for i in it:
        if command[i] in ("--select", "-s", "--exclude", "--selector") and i + 1 < len(command):
            sel += [command[i], command[i + 1]]
            next(it, None)
    if not any(f in sel for f in ("--select", "-s", "--selector")):
        return None
    from dbt.cli.main import dbtRunner  # noqa: PLC0415

    import contextlib  # noqa: PLC0415
    import io  # noqa: PLC0415

    # `dbt ls` prints its results even with --quiet: keep them off our stdout
    with contextlib.redirect_stdout(io.StringIO()):
        res = dbtRunner(manifest=manifest).invoke(
            ["--quiet", "--log-level", "none", "ls", *sel, "--resource-type", "all", "--output", "json",
             "--output-keys", "unique_id",
             *base_args()])
    if not res.success:
        raise UsageError(f"dbt ls: {_one_line(res.exception)}")
    return {json.loads(line)["unique_id"] for line in res.result or []}


def microbatch_window(manifest, conn, full_refresh: bool, selected: set[str] | None = None) -> tuple[str, str] | None:
    """Event-time window a first (or full-refresh) build of the microbatch models needs.

    dbt's first build of a microbatch model runs one batch per day from its
    ``begin`` to now: with history older than ``begin`` it silently skips data,
    and with a distant ``begin`` it runs hundreds of empty batches. When any
    microbatch model's table is missing (or ``full_refresh``), the window is
    instead the days the data covers: ``[min day, max day + 1)`` over every
    source or model that declares an ``event_time`` (UTC days).

    Args:
        manifest: dbt Manifest from :func:`parse`.
        conn: psycopg connection to the warehouse.
        full_refresh: the build rebuilds incremental models from scratch.
    Returns:
        ``(start, end)`` ISO dates (end exclusive) or None when incremental runs suffice
        (every microbatch table exists) or there is no microbatch model.
    """
    from psycopg import sql  # noqa: PLC0415

    batch_nodes = [n for n in manifest.nodes.values()
                   if n.resource_type == "model" and n.config.get("incremental_strategy") == "microbatch"
                   and (selected is None or n.unique_id in selected)]
    if not batch_nodes:
        return None
    if not full_refresh:
        missing = [n for n in batch_nodes if conn.execute(
            "select to_regclass(%s) is null", (f'"{n.schema}"."{n.alias}"',)).fetchone()[0]]
        if not missing:
            return None
    lo = hi = None
    for src in manifest.sources.values():
        col = src.config.get("event_time") if hasattr(src.config, "get") else getattr(src.config, "event_time", None)
        if not col:
            continue
        rel = sql.Identifier(src.schema, src.identifier)
        if conn.execute("select to_regclass(%s) is null", (f'"{src.schema}"."{src.identifier}"',)).fetchone()[0]:
            continue
        a, b = conn.execute(sql.SQL(
            "select min({c} at time zone 'UTC')::date, max({c} at time zone 'UTC')::date from {r}").format(
                c=sql.Identifier(col), r=rel)).fetchone()
        if a is not None:
            lo = a if lo is None else min(lo, a)
            hi = b if hi is None else max(hi, b)
    if lo is None:  # no data: create the tables empty with a single batch
        from datetime import date  # noqa: PLC0415

        lo = hi = date.today()
    from datetime import timedelta  # noqa: PLC0415

    return lo.isoformat(), (hi + timedelta(days=1)).isoformat()


def invoke(
    command: list[str],
    *,
    console: Console | None = None,
    progress: bool = True,
    raise_on_failure: bool = True,
    manifest=None,
) -> RunSummary:
    """Run one dbt command (e.g. ``["build", "--select", "x"]``) in-process.

    Args:
        command: dbt sub-command and its flags (project, profiles and target are added).
        console: where progress goes (stderr console by default).
        progress: show a Rich progress bar fed by dbt's per-node events.
        raise_on_failure: raise :class:`BuildFailed` when anything failed.
        manifest: a Manifest from :func:`parse` (skips dbt's own parse).
    Returns:
        a :class:`RunSummary`.
    Raises:
        UsageError: dbt rejected the arguments (bad flag, unknown selector syntax).
        BuildFailed: a node failed (when ``raise_on_failure``), or dbt raised before any node result
            (always: there is nothing to summarise).
        DatabaseError: the embedded database cannot be started, or the database went away during the
            run (always, one line; a restarted database and a new run recover, see :func:`build_with_window`).
        LockBusy: another run holds the build lock (commands in ``LOCKED_COMMANDS``, no --wait).
    """
    from . import lock  # noqa: PLC0415

    if command and command[0] in LOCKED_COMMANDS:
        with lock.build_lock(_what()):
            return _invoke(command, console=console, progress=progress, raise_on_failure=raise_on_failure,
                           manifest=manifest)
    return _invoke(command, console=console, progress=progress, raise_on_failure=raise_on_failure,
                   manifest=manifest)


def _invoke(command: list[str], *, console, progress, raise_on_failure, manifest) -> RunSummary:
    import time  # noqa: PLC0415

    _dbt_environment()
    # who ran it, for the job-run log (macros/ops/ops_record_job_run.sql)
    os.environ["KPI_INVOKED_VIA"] = _what()
    if "KPI_RUN_BY" not in os.environ:
        import getpass  # noqa: PLC0415

        try:
            os.environ["KPI_RUN_BY"] = getpass.getuser()
        except (KeyError, OSError):
            pass
    console = console or Console(stderr=True)
    from dbt.cli.main import dbtRunner  # noqa: PLC0415  (lazy: ~2 s)

    bar = Progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=True, disable=not progress,
    )
    task = bar.add_task(f"dbt {command[0]}", total=None)
    batches = bar.add_task("batches", total=None, visible=False)
    errors: list[str] = []

    def on_event(event) -> None:
        name = event.info.name
        if name == "LogStartLine" and getattr(event.data, "total", 0):
            bar.update(task, total=event.data.total)
        elif name == "NodeFinished":
            ni = event.data.node_info
            bar.update(task, advance=1, description=f"dbt {command[0]}: {ni.node_name} {ni.node_status}")
        elif name == "LogBatchResult":  # one microbatch = one day of one model
            d = event.data
            bar.update(batches, visible=True, total=d.total_batches, completed=d.batch_index,
                       description=f"  {d.description.split(' ')[-1] if d.description else 'batch'}")
        elif name in ("MainEncounteredError", "RunResultError") and event.info.level == "error":
            errors.append(event.info.msg)

    args = ["--quiet", "--no-use-colors", *command, *base_args()]
    started = time.monotonic()
    with bar:
        res = dbtRunner(manifest=manifest, callbacks=[on_event]).invoke(args)
    seconds = time.monotonic() - started

    exc = res.exception
    if exc is not None and type(exc).__name__ in ("DbtUsageException", "BadOptionUsage", "NoSuchOption",
                                                  "UsageError", "BadParameter"):
        raise UsageError(f"dbt {command[0]}: {_one_line(exc)}")
    summary = RunSummary(command[0], bool(res.success), seconds=seconds)
    results = getattr(res.result, "results", None) or []
    failed_text = [str(getattr(r, "message", "") or "") for r in results
                   if str(getattr(r.status, "value", r.status)).lower() in FAIL_STATUSES]
    if exc is not None or failed_text:
        _raise_if_database_lost(command[0], [str(exc or "")] + errors + failed_text)
    if exc is not None and not results:
        # dbt stopped before any node result: nothing to summarise, whatever raise_on_failure says
        raise BuildFailed(f"dbt {command[0]} failed: {_one_line(exc)}")
    for r in results:
        node = r.node
        summary.nodes.append(NodeResult(
            unique_id=node.unique_id,
            resource_type=node.resource_type,
            status=str(getattr(r.status, "value", r.status)).lower(),
            seconds=float(r.execution_time or 0.0),
            message=r.message,
            failures=r.failures,
        ))
    if summary.failed:
        summary.success = False
    summary.exception = _one_line(exc) if exc is not None else None
    summary.errors = errors
    if raise_on_failure and not summary.success:
        _raise_failed(summary)
    return summary


def _raise_failed(summary: RunSummary) -> None:
    """Raise the one-line :class:`BuildFailed` of a failed run."""
    if summary.exception is not None:
        raise BuildFailed(f"dbt {summary.command} failed: {summary.exception}")
    first = summary.failed[0] if summary.failed else None
    if first is not None:
        more = f" (+{len(summary.failed) - 1} more)" if len(summary.failed) > 1 else ""
        raise BuildFailed(
            f"dbt {summary.command} failed: {first.unique_id} {first.status}: {_one_line(first.message)}{more}",
        )
    raise BuildFailed(f"dbt {summary.command} failed: {summary.errors[0] if summary.errors else 'see logs/dbt.log'}")


_CONNECTION_LOST = (
    "server closed the connection unexpectedly", "connection to server", "could not connect to server",
    "terminating connection", "the database system is shutting down", "the database system is in recovery mode",
    "the database system is starting up", "connection already closed", "ssl connection has been closed",
    "no connection to the server",
)


def _raise_if_database_lost(command: str, texts: list[str]) -> None:
    """Raise :class:`DatabaseError` (one line) when dbt failed because the database went away.

    Embedded target: the server is asked directly (not running = lost). Other
    targets: libpq's connection-loss messages in dbt's errors.
    """
    text = " ".join(" ".join(texts).split())
    lost = any(m in text.lower() for m in _CONNECTION_LOST)
    if config.is_embedded():
        st = db.state()
        if not st.running:
            raise DatabaseError(
                f"dbt {command} stopped: the embedded PostgreSQL ({st.pgdata}) is not running any more "
                "(start it with `kpi db start`, then run the command again)")
    if lost:
        detail = next((m for m in _CONNECTION_LOST if m in text.lower()), "")
        raise DatabaseError(f"dbt {command} stopped: lost the database connection ({detail}); "
                            "run the command again once the database is back")


def _one_line(obj) -> str:
    text = str(obj or "").strip()
    return " ".join(text.split())[:300] if text else "no details"


_PENDING_DDL = """
create schema if not exists kpi_state;
create table if not exists kpi_state.pending_microbatch_windows (
    unique_id text primary key,
    event_time_start date not null,
    event_time_end date not null,
    recorded_at timestamptz not null default now()
);
comment on table kpi_state.pending_microbatch_windows is
    'kpi build: microbatch models whose windowed (first or full) build started and has not completed; '
    'the next kpi build re-runs this window for them (written before dbt runs, deleted on success)';
"""


def _microbatch_ids(manifest, selected: set[str] | None) -> list[str]:
    return sorted(n.unique_id for n in manifest.nodes.values()
                  if n.resource_type == "model" and n.config.get("incremental_strategy") == "microbatch"
                  and (selected is None or n.unique_id in selected))


def _pending_windows(conn, ids: list[str]) -> tuple[str, str] | None:
    """Union of the windows recorded for ``ids`` by builds that did not complete (None if none)."""
    if not ids or conn.execute("select to_regclass('kpi_state.pending_microbatch_windows') is null").fetchone()[0]:
        return None
    lo, hi = conn.execute(
        "select min(event_time_start)::text, max(event_time_end)::text "
        "from kpi_state.pending_microbatch_windows where unique_id = any(%s)", (ids,)).fetchone()
    return (lo, hi) if lo else None


def _record_pending(conn, ids: list[str], window: tuple[str, str]) -> bool:
    """Record that ``ids`` are about to be built over ``window``; False if the target refuses (no rights)."""
    import psycopg  # noqa: PLC0415

    try:
        with conn.transaction():
            conn.execute(_PENDING_DDL)
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into kpi_state.pending_microbatch_windows (unique_id, event_time_start, event_time_end) "
                    "values (%s, %s, %s) on conflict (unique_id) do update set "
                    "event_time_start = least(pending_microbatch_windows.event_time_start, excluded.event_time_start), "
                    "event_time_end = greatest(pending_microbatch_windows.event_time_end, excluded.event_time_end), "
                    "recorded_at = now()",
                    [(i, window[0], window[1]) for i in ids])
        return True
    except psycopg.errors.InsufficientPrivilege:
        return False


def _clear_pending(summary: RunSummary, ids: list[str]) -> None:
    """Forget the pending window of every microbatch model the run built completely (status success)."""
    done = [n.unique_id for n in summary.nodes if n.unique_id in ids and n.status == "success"]
    if done:
        with db.connect() as conn:
            conn.execute("delete from kpi_state.pending_microbatch_windows where unique_id = any(%s)", (done,))


def build_with_window(command: list[str], *, full_refresh: bool, vars_json: str | None,
                      console: Console | None = None, raise_on_failure: bool = True) -> RunSummary:
    """``dbt build`` that bounds a first/full build of microbatch models to the data's days.

    Parses once, decides the window with :func:`microbatch_window` and adds
    ``--event-time-start/--event-time-end`` unless ``command`` already has them.

    A windowed build that does not complete (database stopped, process
    killed, a batch failed) leaves its microbatch tables existing but missing
    days, which the next run's table-exists check cannot see. So before dbt
    runs, the window is recorded per microbatch model in
    ``kpi_state.pending_microbatch_windows`` (committed), and deleted for each
    model the run builds completely; the next build of a model still listed
    re-runs the recorded window (widened by its own, if any).

    Args:
        command: e.g. ``["build", "--select", "x"]`` (``--full-refresh``/``--vars`` included).
        full_refresh: whether ``command`` holds ``--full-refresh``.
        vars_json: the ``--vars`` value in ``command`` (parse must see the same vars).
    Returns / Raises: as :func:`invoke`; the build lock is held from the parse to the end.
    """
    from . import lock  # noqa: PLC0415

    with lock.build_lock(_what()):
        return _build_with_window(command, full_refresh=full_refresh, vars_json=vars_json, console=console,
                                  raise_on_failure=raise_on_failure)


def _build_with_window(command: list[str], *, full_refresh: bool, vars_json: str | None,
                       console: Console | None, raise_on_failure: bool) -> RunSummary:
    manifest = parse(vars_json)
    # only used to bound the first build's window; whether the selection matched
    # anything is judged by dbt's own run (the caller checks the nodes it ran)
    selected = selected_ids(manifest, command)
    pending_ids: list[str] = []
    if "--event-time-start" not in command:
        ids = _microbatch_ids(manifest, selected)
        with db.connect() as conn:
            window = microbatch_window(manifest, conn, full_refresh, selected)
            pending = _pending_windows(conn, ids)
            if pending:
                window = pending if window is None else (min(window[0], pending[0]), max(window[1], pending[1]))
            if window and _record_pending(conn, ids, window):
                pending_ids = ids
        if window:
            command = [*command, "--event-time-start", window[0], "--event-time-end", window[1]]
            size = "day"
            month_vars = month_batch_vars(window, vars_json)
            if month_vars is not None:
                command = with_vars(command, month_vars)
                manifest = parse(month_vars)  # batch_size is a parse-time config
                size = "month"
            what = ("the daily models' build that did not complete" if pending
                    else "first build of the daily models")
            (console or Console(stderr=True)).print(
                f"{what}: event-time window {window[0]} .. {window[1]} (end exclusive), {size} batches")
    summary = invoke(command, console=console, raise_on_failure=False, manifest=manifest)
    if pending_ids:
        _clear_pending(summary, pending_ids)
    if raise_on_failure and not summary.success:
        _raise_failed(summary)
    return summary


MONTH_BATCH_MIN_DAYS = 62


def month_batch_vars(window: tuple[str, str], vars_json: str | None) -> str | None:
    """``--vars`` for a first/full build run in month batches, or None to keep day batches.

    Every daily model's ``batch_size`` is ``var('microbatch_batch_size')``
    (``day`` in dbt_project.yml). dbt-postgres pays a fixed ~0.1-0.2 s per
    batch and per model, so a first build of a year of history in day batches
    is dominated by 365 x models batches of overhead. The rows are the same
    either way: every daily model groups by day inside its batch window and the
    project's microbatch strategy replaces the whole window (bench/README.md).

    Args:
        window: ``(start, end)`` ISO dates, end exclusive (from :func:`microbatch_window`).
        vars_json: the user's ``--vars`` (YAML or JSON) or None.
    Returns:
        the merged ``--vars`` JSON with ``microbatch_batch_size: month`` when the
        window spans more than :data:`MONTH_BATCH_MIN_DAYS` days and the user did
        not choose a batch size; otherwise None.
    """
    from datetime import date  # noqa: PLC0415

    import yaml  # noqa: PLC0415  (dbt's own dependency)

    days = (date.fromisoformat(window[1]) - date.fromisoformat(window[0])).days
    user = yaml.safe_load(vars_json) if vars_json else {}
    if days <= MONTH_BATCH_MIN_DAYS or not isinstance(user, dict) or "microbatch_batch_size" in user:
        return None
    return json.dumps({**user, "microbatch_batch_size": "month"})


def with_vars(command: list[str], vars_json: str) -> list[str]:
    """``command`` with its ``--vars`` value replaced by ``vars_json`` (added when absent)."""
    if "--vars" in command:
        i = command.index("--vars")
        return [*command[:i + 1], vars_json, *command[i + 2:]]
    return [*command, "--vars", vars_json]


def summary_table(summary: RunSummary) -> Table:
    """Rich table: one row per resource type with pass/fail/skip counts and time."""
    t = Table(title=f"dbt {summary.command}: {'OK' if summary.success else 'FAILED'} in {summary.seconds:.1f}s")
    for col in ("resource", "total", "ok", "failed", "warn", "skipped", "node seconds"):
        t.add_column(col, justify="right" if col != "resource" else "left")
    by_type: dict[str, list[NodeResult]] = {}
    for n in summary.nodes:
        by_type.setdefault(n.resource_type, []).append(n)
    for rtype, nodes in sorted(by_type.items()):
        ok = sum(n.status in ("success", "pass") for n in nodes)
        bad = sum(n.status in FAIL_STATUSES for n in nodes)
        warn = sum(n.status == "warn" for n in nodes)
        skip = sum(n.status == "skipped" for n in nodes)
        t.add_row(rtype, str(len(nodes)), str(ok), str(bad), str(warn), str(skip),
                  f"{sum(n.seconds for n in nodes):.1f}")
    return t
