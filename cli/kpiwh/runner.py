"""Invoking dbt in-process: dbt's programmatic runner, with Rich progress and a result summary.

Owns one dbt call and what it returned: :func:`parse` and :func:`invoke` (the
target's environment, the build lock for commands that write the warehouse,
progress), :class:`RunSummary` / :class:`NodeResult`, the translation of dbt's
failures into the CLI's one-line errors (:func:`raise_failed`, a lost
database, a contract violation) and the summary's table and JSON. How
``kpi build`` orchestrates its dbt calls (write-audit-publish into shadow
schemas) is :mod:`kpiwh.publish`'s.

dbt is imported lazily (``import dbt.cli.main`` costs ~2 s) so ``kpi --help``
stays instant. One invocation at a time per process (dbt's own limit).
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import config, db, lock, output
from .errors import BuildFailed, DatabaseError, UsageError

FAIL_STATUSES = {"error", "fail", "runtime error", "partial success"}
#: partial-parse files kept per target folder for --vars other than the current ones
#: (:func:`use_partial_parse_for`); ~4 MB each
PARTIAL_PARSE_KEPT = 6
# dbt commands that write the warehouse: they run under the build lock (kpiwh.lock)
LOCKED_COMMANDS = {"build", "run", "seed", "snapshot", "retry"}


def invoked_as() -> str:
    """This CLI call as the job-run log and the lock show it, e.g. ``kpi build`` (env ``KPI_INVOKED_VIA``).

    Returns:
        str: ``kpi`` and the first words of the command line up to the first option, at most 60 characters.
    """

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
        "--project-dir",
        str(proj),
        "--profiles-dir",
        str(config.profiles_dir()),
        "--target",
        config.target(),
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


def parse(vars_json: str | None = None, target_path: str | None = None):
    """Parse the project once and return dbt's Manifest (reusable by :func:`invoke`).

    Args:
        vars_json: the same ``--vars`` the following invocation will get (vars shape configs).
        target_path: dbt's target folder (its own partial-parse file), default ``target/``.
    Raises:
        UsageError: the project does not parse (one line).
    """
    _dbt_environment()
    from dbt.cli.main import dbtRunner  # noqa: PLC0415  (dbt: ~2 s import, deferred until a dbt call)

    # --no-write-json: the dbt command that follows writes manifest.json (with its run);
    # serialising the ~4 MB manifest here too cost ~2 s per kpi build
    args = ["--quiet", "--no-use-colors", "--no-write-json", "parse", *base_args(), *_parse_args(target_path)]
    if vars_json:
        args += ["--vars", vars_json]
    use_partial_parse_for(Path(target_path) if target_path else config.project_dir() / "target", vars_json)
    res = dbtRunner().invoke(args)
    if not res.success or res.result is None:
        raise UsageError(f"dbt parse failed: {_one_line(res.exception)}")
    return res.result


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
            run (always, one line; a restarted database and a new run recover, see :func:`kpiwh.publish.build`).
        LockBusy: another run holds the build lock (commands in ``LOCKED_COMMANDS``, no --wait).
    """

    if command and command[0] in LOCKED_COMMANDS:
        with lock.build_lock(invoked_as()):
            return _invoke(
                command, console=console, progress=progress, raise_on_failure=raise_on_failure, manifest=manifest
            )
    return _invoke(command, console=console, progress=progress, raise_on_failure=raise_on_failure, manifest=manifest)


def _invoke(command: list[str], *, console, progress, raise_on_failure, manifest) -> RunSummary:

    _dbt_environment()
    # who ran it, for the job-run log (macros/ops/ops_record_job_run.sql)
    os.environ["KPI_INVOKED_VIA"] = invoked_as()
    if "KPI_RUN_BY" not in os.environ:
        with contextlib.suppress(KeyError, OSError):
            os.environ["KPI_RUN_BY"] = getpass.getuser()
    console = console or Console(stderr=True)
    from dbt.cli.main import dbtRunner  # noqa: PLC0415  (dbt: ~2 s import, deferred until a dbt call)

    # a terminal: Rich's bar; a pipe, file or CI log (a bar would print nothing until the end):
    # a plain line on the console every few seconds (kpiwh.output.PlainProgress)
    plain = (
        output.PlainProgress(console, f"dbt {command[0]}: starting") if progress and not console.is_terminal else None
    )
    bar = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not progress or plain is not None,
    )
    task = bar.add_task(f"dbt {command[0]}", total=None)
    batches = bar.add_task("batches", total=None, visible=False)
    errors: list[str] = []
    done = {"nodes": 0, "total": 0}

    def on_event(event) -> None:
        name = event.info.name
        if name == "LogStartLine" and getattr(event.data, "total", 0):
            bar.update(task, total=event.data.total)
            done["total"] = event.data.total
        elif name == "NodeFinished":
            ni = event.data.node_info
            bar.update(task, advance=1, description=f"dbt {command[0]}: {ni.node_name} {ni.node_status}")
            done["nodes"] += 1
            if plain is not None:
                plain.update(
                    f"dbt {command[0]}: {done['nodes']}/{done['total'] or '?'} nodes done, "
                    f"last {ni.node_name} {ni.node_status}"
                )
        elif name == "LogBatchResult":  # a dbt microbatch model (none in this project; a user's own may)
            d = event.data
            bar.update(
                batches,
                visible=True,
                total=d.total_batches,
                completed=d.batch_index,
                description=f"  {d.description.split(' ')[-1] if d.description else 'batch'}",
            )
        elif name in ("MainEncounteredError", "RunResultError") and event.info.level == "error":
            errors.append(event.info.msg)

    args = ["--quiet", "--no-use-colors", *command, *base_args()]
    target_path = _target_path(command)
    if manifest is None:  # dbt parses: with this command's --vars
        use_partial_parse_for(target_path, _vars_of(command))
    reuse_manifest_json = manifest is not None and _manifest_json_current(target_path)
    if reuse_manifest_json:
        # the parse changed nothing since manifest.json was written: skip dbt's ~1 s re-serialisation
        # of the same ~4 MB manifest; run_results.json is written below as dbt would
        args.insert(2, "--no-write-json")
    started = time.monotonic()
    with bar, plain or contextlib.nullcontext():
        res = dbtRunner(manifest=manifest, callbacks=[on_event]).invoke(args)
    seconds = time.monotonic() - started
    if reuse_manifest_json and hasattr(res.result, "write"):
        res.result.write(str(target_path / "run_results.json"))

    exc = res.exception
    if exc is not None and type(exc).__name__ in (
        "DbtUsageException",
        "BadOptionUsage",
        "NoSuchOption",
        "UsageError",
        "BadParameter",
    ):
        raise UsageError(f"dbt {command[0]}: {_one_line(exc)}")
    summary = RunSummary(command[0], bool(res.success), seconds=seconds)
    results = getattr(res.result, "results", None) or []
    failed_text = [
        str(getattr(r, "message", "") or "")
        for r in results
        if str(getattr(r.status, "value", r.status)).lower() in FAIL_STATUSES
    ]
    if exc is not None or failed_text:
        _raise_if_database_lost(command[0], [str(exc or "")] + errors + failed_text)
    if exc is not None and not results:
        # dbt stopped before any node result: nothing to summarise, whatever raise_on_failure says
        raise BuildFailed(f"dbt {command[0]} failed: {_one_line(exc)}")
    for r in results:
        node = r.node
        summary.nodes.append(
            NodeResult(
                unique_id=node.unique_id,
                resource_type=node.resource_type,
                status=str(getattr(r.status, "value", r.status)).lower(),
                seconds=float(r.execution_time or 0.0),
                message=node_message(r.message),
                failures=r.failures,
            )
        )
    if summary.failed:
        summary.success = False
    summary.exception = _one_line(exc) if exc is not None else None
    summary.errors = errors
    if raise_on_failure and not summary.success:
        raise_failed(summary)
    return summary


def _target_path(command: list[str]) -> Path:
    """dbt's target folder for ``command``: its ``--target-path``, else ``<project>/target``."""
    for i, a in enumerate(command):
        if a == "--target-path" and i + 1 < len(command):
            return Path(command[i + 1])
        if a.startswith("--target-path="):
            return Path(a.split("=", 1)[1])
    return config.project_dir() / "target"


def _vars_of(command: list[str]) -> str | None:
    """The ``--vars`` value in a dbt command line, else None."""
    for i, a in enumerate(command):
        if a == "--vars" and i + 1 < len(command):
            return command[i + 1]
        if a.startswith("--vars="):
            return a.split("=", 1)[1]
    return None


def partial_parse_key(vars_json: str | None) -> str:
    """A short key for a ``--vars`` value: ``default`` for none (or an empty mapping), else a hash.

    Args:
        vars_json (str | None): the ``--vars`` text (YAML or JSON, as dbt reads it).
    Returns:
        str: ``default``, or 16 hex digits of the SHA-256 of the mapping as canonical JSON
        (so ``{a: 1, b: 2}`` and ``{"b": 2, "a": 1}`` share a key); text that is not YAML
        is hashed as it is.
    """
    import yaml  # noqa: PLC0415  (PyYAML, with dbt-core; only needed here)

    if not vars_json:
        return "default"
    try:
        value = yaml.safe_load(vars_json)
    except yaml.YAMLError:
        value = vars_json
    if not value:
        return "default"
    canonical = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def use_partial_parse_for(target_path: Path, vars_json: str | None) -> None:
    """Put the partial-parse file last written with these ``--vars`` where dbt reads it.

    dbt keeps one ``partial_parse.msgpack`` per target folder and re-parses the whole
    project (~15 s) whenever ``--vars`` differ from the ones it was written with, so
    alternating vars (a build pinned to ``as_of``, then a plain one, then the pinned one
    again) re-parsed every time. This keeps the file of each of the last
    :data:`PARTIAL_PARSE_KEPT` other vars in ``<target>/partial_parse_by_vars/<key>.msgpack``
    (:func:`partial_parse_key`; ``<target>/partial_parse.key`` names the current file's):
    on a change of vars the current file is moved there and the new vars' file, if kept,
    moved back. dbt still checks a restored file (vars, profile, dbt's version, every
    file's hash) and re-parses what changed, as for its own file. Its modification time
    is set to now, so ``manifest.json`` written with other vars is not taken as current
    (:func:`_manifest_json_current`). Nothing is done when ``DBT_PARTIAL_PARSE_FILE_PATH``
    is set (the caller chose the file dbt reads).

    Args:
        target_path (Path): dbt's target folder of the coming parse.
        vars_json (str | None): the ``--vars`` of the coming parse.
    """
    if os.environ.get("DBT_PARTIAL_PARSE_FILE_PATH"):
        return
    key = partial_parse_key(vars_json)
    key_file = target_path / "partial_parse.key"
    current = target_path / "partial_parse.msgpack"
    try:
        previous = key_file.read_text().strip() or "default"
    except OSError:
        previous = "default"  # dbt's own file, or none yet: written by a run without --vars
    if previous == key:
        return
    kept = target_path / "partial_parse_by_vars"
    kept.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        os.replace(current, kept / f"{previous}.msgpack")
    with contextlib.suppress(FileNotFoundError):
        os.replace(kept / f"{key}.msgpack", current)
        os.utime(current)
    key_file.write_text(key + "\n")
    others = sorted(kept.glob("*.msgpack"), key=lambda f: f.stat().st_mtime, reverse=True)
    for old in others[PARTIAL_PARSE_KEPT:]:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()


def _manifest_json_current(target_path: Path) -> bool:
    """Whether ``manifest.json`` in ``target_path`` already describes the project as last parsed.

    dbt rewrites ``partial_parse.msgpack`` only when a parse found a change (a file,
    ``--vars``, an environment variable the project reads, dbt's version); a
    ``manifest.json`` written after it holds the same project. Its run metadata
    (``invocation_id``, ``generated_at``) stays the earlier run's.

    Args:
        target_path (Path): dbt's target folder.
    Returns:
        True when both files exist and manifest.json is not older than the partial-parse file.
    """
    try:
        return (target_path / "manifest.json").stat().st_mtime >= (
            target_path / "partial_parse.msgpack"
        ).stat().st_mtime
    except OSError:
        return False


def raise_failed(summary: RunSummary) -> None:
    """Raise the one-line :class:`BuildFailed` of a failed run.

    Args:
        summary (RunSummary): a run whose ``success`` is false.
    Raises:
        BuildFailed: always: dbt's exception, else the first failed node (and how many more), else
            dbt's first logged error.
    """
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
    "server closed the connection unexpectedly",
    "connection to server",
    "could not connect to server",
    "terminating connection",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "the database system is starting up",
    "connection already closed",
    "ssl connection has been closed",
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
                "(start it with `kpi db start`, then run the command again)"
            )
    if lost:
        detail = next((m for m in _CONNECTION_LOST if m in text.lower()), "")
        raise DatabaseError(
            f"dbt {command} stopped: lost the database connection ({detail}); "
            "run the command again once the database is back"
        )


#: PostgreSQL's wording of a constraint violation (contracts, DECISIONLOG "Contracts")
_VIOLATION = re.compile(
    r'null value in column "(?P<column>[^"]+)" of relation "(?P<rel1>[^"]+)" violates not-null constraint'
    r'|new row for relation "(?P<rel2>[^"]+)" violates check constraint "(?P<check>[^"]+)"'
    r'|column "(?P<column2>[^"]+)" of relation "(?P<rel3>[^"]+)" contains null values'
    r'|check constraint "(?P<check2>[^"]+)" of relation "(?P<rel4>[^"]+)" is violated by some row'
)


def node_message(message: str | None) -> str | None:
    """A node's message as the CLI shows it: a contract violation as one short line.

    A row that breaks a model's contract makes PostgreSQL fail the model's write with
    ``new row for relation "r" violates check constraint "c"`` (or a not-null
    violation) followed by ``DETAIL: Failing row contains (...)``: the row's values,
    which stay in dbt's own log and are not repeated in the summary. Such a message
    becomes ``constraint c violated: a row written to r breaks it`` (``not null <column>``
    for a not-null constraint); any other message is returned unchanged.

    Args:
        message (str | None): dbt's message for the node (may be multi-line).
    Returns:
        str | None: the message to show.
    """
    if not message:
        return message
    m = _VIOLATION.search(" ".join(message.split()))
    if not m:
        return message
    g = m.groupdict()
    rel = g["rel1"] or g["rel2"] or g["rel3"] or g["rel4"]
    column = g["column"] or g["column2"]
    what = f"not null {column}" if column else (g["check"] or g["check2"])
    return f"constraint {what} violated: a row written to {rel} breaks it (the model wrote nothing)"


def _one_line(obj) -> str:
    text = str(obj or "").strip()
    return " ".join(text.split())[:300] if text else "no details"


def _parse_args(target_path: str | None) -> list[str]:
    return ["--target-path", target_path] if target_path else []


#: node statuses the build summary names one by one
NAMED_STATUSES = FAIL_STATUSES | {"warn"}


def node_name(node: NodeResult) -> str:
    """A node's name as dbt prints it: the model / seed / test name (a test's hash suffix dropped)."""
    parts = node.unique_id.split(".")
    if node.resource_type == "test" and len(parts) == 4:
        return parts[2]
    return ".".join(parts[2:]) or node.unique_id


def summary_table(summary: RunSummary):
    """What a dbt run did, for people: counts per resource type, then each warned or failed node.

    Returns:
        a Rich renderable: a table with one row per resource type (pass/fail/warn/skip counts
        and node seconds), followed, when any node warned or failed, by a table naming each of
        them with its status, failing-row count (tests) and message. Print it with
        :func:`kpiwh.output.print_table` so that no name is cut.
    """

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
        t.add_row(
            rtype, str(len(nodes)), str(ok), str(bad), str(warn), str(skip), f"{sum(n.seconds for n in nodes):.1f}"
        )
    named = sorted(
        (n for n in summary.nodes if n.status in NAMED_STATUSES),
        key=lambda n: (n.status == "warn", n.resource_type, n.unique_id),
    )
    if not named:
        return t
    d = Table(title=f"{len(named)} node(s) warned or failed")
    rows = [
        [
            n.status,
            n.resource_type,
            node_name(n),
            "" if n.failures is None else f"{n.failures:,}",
            " ".join(str(n.message or "").split())[:300],
        ]
        for n in named
    ]
    for i, col in enumerate(("status", "type", "node", "failing rows")):
        output.id_column(d, col, [r[i] for r in rows], justify="right" if i == 3 else "left")
    output.text_column(d, "message")
    for r in rows:
        d.add_row(*r)
    return Group(t, d)


def summary_jsonable(summary: RunSummary) -> dict:
    """The run as JSON-ready data (``--format json``): verdict, counts per resource type, warned/failed nodes."""
    counts: dict[str, dict[str, int]] = {}
    for (rtype, status), n in sorted(summary.counts().items()):
        counts.setdefault(rtype, {})[status] = n
    return {
        "command": summary.command,
        "success": summary.success,
        "seconds": round(summary.seconds, 3),
        "counts": counts,
        "problems": [
            {
                "unique_id": n.unique_id,
                "resource_type": n.resource_type,
                "name": node_name(n),
                "status": n.status,
                "failures": n.failures,
                "message": n.message,
            }
            for n in summary.nodes
            if n.status in NAMED_STATUSES
        ],
        "exception": summary.exception,
    }
