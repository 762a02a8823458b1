"""dbt's programmatic runner, with Rich progress and a result summary.

dbt is imported lazily (``import dbt.cli.main`` costs ~2 s) so ``kpi --help``
stays instant. One invocation at a time per process (dbt's own limit).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import config, db
from .errors import BuildFailed, UsageError

FAIL_STATUSES = {"error", "fail", "runtime error", "partial success"}


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
    """

    command: str
    success: bool
    nodes: list[NodeResult] = field(default_factory=list)
    seconds: float = 0.0

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


def invoke(
    command: list[str],
    *,
    console: Console | None = None,
    progress: bool = True,
    raise_on_failure: bool = True,
) -> RunSummary:
    """Run one dbt command (e.g. ``["build", "--select", "x"]``) in-process.

    Args:
        command: dbt sub-command and its flags (project, profiles and target are added).
        console: where progress goes (stderr console by default).
        progress: show a Rich progress bar fed by dbt's per-node events.
        raise_on_failure: raise :class:`BuildFailed` when anything failed.
    Returns:
        a :class:`RunSummary`.
    Raises:
        UsageError: dbt rejected the arguments (bad flag, unknown selector syntax).
        BuildFailed: a node failed or dbt raised (when ``raise_on_failure``).
        DatabaseError: the embedded database cannot be started.
    """
    import time  # noqa: PLC0415

    os.environ.update(db.dbt_env())
    console = console or Console(stderr=True)
    from dbt.cli.main import dbtRunner  # noqa: PLC0415  (lazy: ~2 s)

    bar = Progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=True, disable=not progress,
    )
    task = bar.add_task(f"dbt {command[0]}", total=None)
    batches = bar.add_task("batches (days)", total=None, visible=False)
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
        res = dbtRunner(callbacks=[on_event]).invoke(args)
    seconds = time.monotonic() - started

    exc = res.exception
    if exc is not None and type(exc).__name__ in ("DbtUsageException", "BadOptionUsage", "NoSuchOption",
                                                  "UsageError", "BadParameter"):
        raise UsageError(f"dbt {command[0]}: {_one_line(exc)}")
    summary = RunSummary(command[0], bool(res.success), seconds=seconds)
    results = getattr(res.result, "results", None) or []
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
    if raise_on_failure and not summary.success:
        if exc is not None:
            raise BuildFailed(f"dbt {command[0]} failed: {_one_line(exc)}")
        first = summary.failed[0] if summary.failed else None
        if first is not None:
            more = f" (+{len(summary.failed) - 1} more)" if len(summary.failed) > 1 else ""
            raise BuildFailed(
                f"dbt {command[0]} failed: {first.unique_id} {first.status}: {_one_line(first.message)}{more}",
            )
        raise BuildFailed(f"dbt {command[0]} failed: {errors[0] if errors else 'see logs/dbt.log'}")
    return summary


def _one_line(obj) -> str:
    text = str(obj or "").strip()
    return " ".join(text.split()) [:300] if text else "no details"


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
