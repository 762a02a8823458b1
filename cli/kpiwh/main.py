"""The ``kpi`` command line (Typer). Commands only parse, call a module, render.

Exit status: 0 success; 1 a failed build, test or database; 2 bad usage or input.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
import yaml  # PyYAML, installed with dbt-core
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import config, output
from .errors import KpiError, UsageError

try:  # typer >= 0.24 ships its own copy of Click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older typer: Click itself
    from click import exceptions as click_exc

app = typer.Typer(
    help="kpi-warehouse: dbt on PostgreSQL — load raw data, build KPI marts, report.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="The embedded PostgreSQL (default target).", no_args_is_help=True)
refresh_app = typer.Typer(help="Recompute a mart on demand.", no_args_is_help=True)
partitions_app = typer.Typer(help="Monthly partitions of raw.events_raw.", no_args_is_help=True)
retention_app = typer.Typer(
    help="Retention through every layer (seed 004: events 90 days, daily metrics 2 years, job runs 1 year).",
    no_args_is_help=True,
)
export_app = typer.Typer(help="Export raw records for audit.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(refresh_app, name="refresh")
app.add_typer(partitions_app, name="partitions")
app.add_typer(retention_app, name="retention")
app.add_typer(export_app, name="export")
report_app = typer.Typer(help="Reports read from the marts.", no_args_is_help=True)
app.add_typer(report_app, name="report")
metrics_app = typer.Typer(
    help="The semantic layer (MetricFlow): every seed KPI as a metric, by any time grain and dimension.",
    no_args_is_help=True,
)
app.add_typer(metrics_app, name="metrics")
bi_app = typer.Typer(
    help="Apache Superset dashboards over the marts (dashboards/; installed on the first `kpi bi up`).",
    no_args_is_help=True,
)
app.add_typer(bi_app, name="bi")
analyses_app = typer.Typer(
    help="Funnels and retentions declared in dbt_project.yml (vars: product_analytics) and their rows.",
    no_args_is_help=True,
)
app.add_typer(analyses_app, name="analyses")

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int) -> None:
    """Print ``error: message`` on one line to stderr and exit with ``code``."""
    # the message is text, not Rich markup: "paths[after_checkout]" must print as written
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handled(fn):
    """Turn :class:`KpiError` and database errors into one line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import psycopg  # noqa: PLC0415  (psycopg: ~0.15 s import, deferred so kpi --help stays fast)

        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):  # an exit status or Click's own usage error
            raise
        except KpiError as exc:
            fail(str(exc), exc.exit_code)
        except psycopg.OperationalError as exc:
            fail(f"database error: {' '.join(str(exc).split())[:300]}", 1)
        except psycopg.Error as exc:
            fail(f"database error: {' '.join(str(exc).split())[:300]}", 1)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except OSError as exc:  # a file or folder the command could not use (exit 1: the work failed)
            where = f" {exc.filename}" if exc.filename else ""
            fail(f"{exc.strerror or exc}{':' if where else ''}{where}", 1)
        except Exception as exc:  # a bug: still one line; KPI_DEBUG=1 shows the traceback
            if os.environ.get("KPI_DEBUG"):
                raise
            fail(
                f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
                "(KPI_DEBUG=1 shows the traceback)",
                1,
            )

    return wrapper


def _check_format(fmt: str) -> None:
    """``--format`` of a command that prints a table: table | json, else :class:`UsageError`."""
    if fmt not in ("table", "json"):
        raise UsageError(f"--format: '{fmt}' is not table or json")


def _print_run(summary, fmt: str, **extra) -> None:
    """Print a dbt run's summary: tables (each warned or failed node named), or JSON on stdout."""
    from . import runner  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    if fmt == "json":
        print(json.dumps({**runner.summary_jsonable(summary), **extra}, indent=2, default=str))
    else:
        output.print_table(out, runner.summary_table(summary))


FORMAT_HELP = "table | json (for scripts: stdout holds only the JSON)"


def parse_date(value: str | None, option: str) -> date | None:
    """Parse ``YYYY-MM-DD`` or raise :class:`UsageError` naming ``option``."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: '{value}' is not a date (YYYY-MM-DD)") from None


def parse_instant(value: str, option: str) -> datetime:
    """Parse an ISO timestamp (naive = UTC; a bare date = its UTC midnight) or raise :class:`UsageError`.

    Args:
        value: the option's text. option: the option, for the message.
    Returns:
        an aware datetime in UTC.
    """
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option}: '{value}' is not an ISO timestamp (YYYY-MM-DD[THH:MM[:SS]][+HH:MM])") from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


def parse_vars(text: str) -> dict:
    """Parse ``--vars`` (a YAML or JSON mapping, as dbt reads it) or raise :class:`UsageError`."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        raise UsageError(f"--vars: '{text}' is not valid YAML or JSON") from None
    if not isinstance(value, dict):
        raise UsageError(f"--vars: '{text}' is not a mapping (e.g. '{{key: value}}')")
    return value


def writable_dir(path: Path, option: str) -> Path:
    """Create folder ``path`` if missing and check that files can be written in it.

    Args:
        path: the folder an option names.
        option: the option, for the message (``--out``).
    Returns:
        ``path``.
    Raises:
        UsageError: it exists and is not a folder, cannot be created, or is not writable.
    """
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{option} {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: not writable")
    return path


def check_choice(value: str, choices: tuple[str, ...] | list[str], option: str) -> str:
    """Return ``value`` if it is one of ``choices``, else raise :class:`UsageError` naming ``option``."""
    if value not in choices:
        raise UsageError(f"--{option.lstrip('-')}: '{value}' is not one of {', '.join(choices)}")
    return value


@app.callback()
def main_options(
    target: Annotated[
        str | None,
        typer.Option(
            "--target", "-t", help="dbt target: embedded (default) or postgres (PG* env vars). Env: KPI_TARGET."
        ),
    ] = None,
) -> None:
    """kpi-warehouse: dbt on PostgreSQL — load raw data, build KPI marts, report."""
    if target:
        os.environ["KPI_TARGET"] = target


# --------------------------------------------------------------------------- db
@db_app.command("start")
@handled
def db_start() -> None:
    """Start the embedded PostgreSQL (idempotent; restarts a crashed one)."""
    from . import db  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    _require_embedded()
    st = db.start()
    out.print(f"running  pid {st.pid}  data {st.pgdata}")


@db_app.command("stop")
@handled
def db_stop() -> None:
    """Stop the embedded PostgreSQL (always safe)."""
    from . import db  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    stopped = db.stop(config.pgdata())
    out.print("stopped" if stopped else "not running")


@db_app.command("status")
@handled
def db_status(fmt: Annotated[str, typer.Option("--format", help="table | json")] = "table") -> None:
    """Report whether the embedded PostgreSQL is running (exit 1 if not)."""
    from . import db  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    check_choice(fmt, ("table", "json"), "--format")
    st = db.state()
    info = {
        "running": st.running,
        "pid": st.pid if st.running else None,
        "pgdata": str(st.pgdata),
        "initialised": st.initialised,
        "socket_dir": str(st.socket_dir) if st.running else None,
    }
    if fmt == "json":
        out.print_json(json.dumps(info))
    else:
        out.print(
            ("running" if st.running else "stopped") + f"  data {st.pgdata}" + (f"  pid {st.pid}" if st.running else "")
        )
    if not st.running:
        raise typer.Exit(1)


@db_app.command("url")
@handled
def db_url() -> None:
    """Print a libpq URI for psql and BI tools (starts the embedded server if needed)."""
    from . import db  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    print(db.url())


@db_app.command("env")
@handled
def db_env() -> None:
    """Print shell exports so plain `dbt` uses the embedded server: eval "$(kpi db env)"."""
    from . import db  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    env = db.dbt_env()
    env["DBT_PROFILES_DIR"] = str(config.profiles_dir())
    for k, v in env.items():
        print(f"export {k}='{v}'")


def _require_embedded() -> None:
    if not config.is_embedded():
        raise UsageError(f"target '{config.target()}' is a real server: the CLI does not start or stop it")


# --------------------------------------------------------------------------- init / partitions
@app.command("init")
@handled
def init(
    months_ahead: Annotated[
        int, typer.Option(min=0, help="Also create events_raw partitions this many months ahead.")
    ] = 2,
    roles: Annotated[
        bool,
        typer.Option(
            "--roles",
            help="Also create the kpi_* group roles, ops.tenant_access and the raw grants "
            "(needs CREATEROLE; docs/security.md).",
        ),
    ] = False,
) -> None:
    """Create schema raw and every raw-contract table (idempotent), plus partitions."""
    from . import contract, db  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    with db.connect() as conn:
        contract.apply(conn)
        with conn.transaction():
            created = contract.ensure_partitions(conn, contract.months_ahead(date.today(), months_ahead))
        n = len(contract.tables(conn))
    out.print(f"raw contract ready: {n} tables; partitions created: {', '.join(created) or 'none'}")
    if roles:
        from . import roles as roles_mod  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

        with err.status("creating roles and grants..."):
            roles_mod.setup()
        out.print(f"access control ready: roles {', '.join(roles_mod.GROUP_ROLES)}, ops.tenant_access, raw grants")


@partitions_app.command("ensure")
@handled
def partitions_ensure(
    months_ahead: Annotated[int, typer.Option(min=0, help="Months after the current one to create.")] = 2,
) -> None:
    """Create missing monthly partitions of raw.events_raw up to N months ahead."""
    from . import contract, db  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    with db.connect() as conn:
        contract.apply(conn)
        with conn.transaction():
            created = contract.ensure_partitions(conn, contract.months_ahead(date.today(), months_ahead))
    out.print(f"partitions created: {', '.join(created) or 'none (all present)'}")


@partitions_app.command("prune")
@handled
def partitions_prune(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Retention window, e.g. 90d (seed 004) or 12w.")
    ] = "90d",
    export: Annotated[
        Path | None, typer.Option("--export", help="Write each partition to DIR/<name>.parquet first.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be dropped.")] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="If a build holds the warehouse lock, wait for it instead of exiting 1.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
) -> None:
    """The retention run (same as `kpi retention apply`): drop whole events_raw partitions past the window, then the
    older event-level rows of every layer, old daily metrics and job runs."""
    from . import db, partitions, retention  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    _check_format(fmt)
    age = partitions.parse_age(older_than)
    if export is not None and not dry_run:
        writable_dir(export, "--export")
    with db.connect() as conn:
        if not conn.execute("select to_regclass('raw.events_raw') is not null").fetchone()[0]:
            raise UsageError("raw.events_raw does not exist: run `kpi init` first")
    r = retention.apply(retention.Policy(event_days=age.days), export_dir=export, dry_run=dry_run, wait=wait or None)
    _print_retention(r, older_than, fmt)


@retention_app.command("apply")
@handled
def retention_apply(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Event-level retention: 90d (seed 004) or e.g. 12w.")
    ] = "90d",
    metrics_years: Annotated[
        int, typer.Option("--metrics-years", help="Keep metrics_daily_* rows this many years (whole ISO weeks).")
    ] = 2,
    job_run_days: Annotated[
        int, typer.Option("--job-run-days", help="Keep ops.etl_job_runs (and their nodes) this many days.")
    ] = 365,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Reference UTC day (YYYY-MM-DD) the periods are measured back from; default today."
        ),
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option("--export", help="Write each dropped events_raw partition to DIR/<name>.parquet first."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be removed.")] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="If a build holds the warehouse lock, wait for it instead of exiting 1.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
) -> None:
    """Remove data past its retention from every layer (one transaction, logged in ops.retention_runs): idempotent."""
    from . import partitions, retention  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    _check_format(fmt)
    age = partitions.parse_age(older_than)
    day = parse_date(as_of, "--as-of") if as_of else None
    policy = retention.Policy(event_days=age.days, metrics_years=metrics_years, job_run_days=job_run_days)
    if export is not None and not dry_run:
        writable_dir(export, "--export")
    r = retention.apply(policy, as_of=day, export_dir=export, dry_run=dry_run, wait=wait or None)
    _print_retention(r, older_than, fmt)


def _print_retention(r, older_than: str, fmt: str = "table") -> None:
    if fmt == "json":
        doc = {
            "as_of": r.as_of.isoformat(),
            "dry_run": r.dry_run,
            "event_cutoff": r.event_cutoff.isoformat(),
            "metrics_cutoff": r.metrics_cutoff.isoformat(),
            "job_runs_cutoff": r.job_runs_cutoff.isoformat(),
            "partitions_dropped": [
                {
                    "partition": part.name,
                    "from": part.start.isoformat(),
                    "to": part.end.isoformat(),
                    "rows": part.rows,
                    "exported_to": str(path) if path else None,
                }
                for part, path in r.partitions
            ],
            "removed": r.removed,
            "rows_removed": r.total,
        }
        print(json.dumps(doc, indent=2, default=str))
        return
    dry = " (dry run)" if r.dry_run else ""
    if r.partitions:
        t = Table(title=f"partitions older than {older_than}{dry}")
        for col in ("partition", "from", "to", "rows", "exported to", "dropped"):
            t.add_column(col, overflow="fold")
        for part, path in r.partitions:
            t.add_row(
                part.name,
                f"{part.start:%Y-%m-%d}",
                f"{part.end:%Y-%m-%d}",
                f"{part.rows:,}",
                str(path or "-"),
                "no" if r.dry_run else "yes",
            )
        out.print(t)
    else:
        out.print(f"no partition is entirely older than {older_than}", highlight=False)
    if r.removed:
        t = Table(title=f"rows past retention{dry}")
        t.add_column("table", overflow="fold")
        t.add_column("rows", justify="right")
        for rel, n in r.removed.items():
            t.add_row(rel, f"{n:,}")
        out.print(t)
    out.print(
        f"{'would remove' if r.dry_run else 'removed'} {r.total:,} row(s): events before "
        f"{r.event_cutoff:%Y-%m-%d}, daily metrics before {r.metrics_cutoff}, job runs before "
        f"{r.job_runs_cutoff:%Y-%m-%d} (as of {r.as_of})",
        highlight=False,
    )


# --------------------------------------------------------------------------- load / generate
@app.command("load")
@handled
def load(
    path: Annotated[Path, typer.Argument(help="Folder or file: <raw_table>.csv | .jsonl | .parquet")],
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Reject a file with a quality finding (future timestamp, invalid country code, "
            "uncatalogued event type, NULL in a grouped dimension) instead of loading it with "
            "a warning: exit 2, nothing of it written.",
        ),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
) -> None:
    """Load files into the raw contract: validated, upserted on the primary key, one transaction per file.

    Each file's quality summary is printed (a warning on stderr when something was found) and
    recorded in ops.load_quality.
    """
    from . import contract, db  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)
    from . import load as loader  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    done = []

    def render() -> Table:
        # moved: events whose later-received copy has another occurred_at; stale: copies outranked by
        # another copy of the event (columns shown when an events_raw file was loaded)
        events = any(r.table == contract.PARTITIONED_TABLE for r in done)
        cols = ["file", "table", "rows", "inserted", "updated", "unchanged"] + (["moved", "stale"] if events else [])
        rows = [[r.path.name, r.table] + [f"{getattr(r, c):,}" for c in cols[2:]] for r in done]
        table = Table(title=f"kpi load {path}")
        for i, col in enumerate(cols):
            if i < 2:
                table.add_column(col, justify="left")
            else:  # counts are never cut short: the names give way on a narrow terminal
                table.add_column(col, justify="right", no_wrap=True, min_width=max(len(row[i]) for row in rows))
        for row in rows:
            table.add_row(*row)
        return table

    _check_format(fmt)
    loader.discover(path)  # a missing path or nothing to load: exit 2 before connecting
    with db.connect() as conn, err.status("loading...") as status:

        def on_file(r):
            status.update(f"loaded {r.path.name}")
            done.append(r)

        try:
            results = loader.load_path(conn, path, on_file, strict=strict)
        finally:
            if done and fmt == "table":
                out.print(render())
            for r in done:
                if r.quality.ok:
                    if fmt == "table":
                        out.print(f"{r.path.name}: {r.quality.summary()}", highlight=False, soft_wrap=True)
                else:
                    err.print(
                        f"[yellow]warning:[/yellow] {r.path.name}: {r.quality.summary()}",
                        highlight=False,
                        soft_wrap=True,
                    )
    tot_i = sum(r.inserted for r in results)
    tot_u = sum(r.updated for r in results)
    tot_m = sum(r.moved for r in results)
    tot_s = sum(r.stale for r in results)
    if fmt == "json":
        files = [
            {
                "file": str(r.path),
                "table": r.table,
                "rows": r.rows,
                "inserted": r.inserted,
                "updated": r.updated,
                "unchanged": r.unchanged,
                "moved": r.moved,
                "stale": r.stale,
                "partitions_created": list(r.partitions),
                "quality_ok": r.quality.ok,
                "quality": r.quality.summary(),
            }
            for r in results
        ]
        totals = {"files": len(results), "inserted": tot_i, "updated": tot_u, "moved": tot_m, "stale": tot_s}
        print(json.dumps({"files": files, "totals": totals}, indent=2))
        return
    out.print(f"{len(results)} files: {tot_i:,} inserted, {tot_u:,} updated, {tot_m:,} moved, {tot_s:,} stale")


@app.command("generate")
@handled
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write <table>.csv files into.")],
    tenants: Annotated[int, typer.Option(min=1, help="Tenants across the five products.")] = 12,
    days: Annotated[int, typer.Option(min=1, help="Days of history.")] = 120,
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")] = "2025-06-02",
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 42,
    scale: Annotated[float, typer.Option(min=0.001, help="Multiplier of per-tenant daily volumes.")] = 1.0,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
) -> None:
    """Write a deterministic, realistic data set for every raw table (CSV, what `kpi load` reads)."""
    from . import generate as gen  # noqa: PLC0415  (a command's module: imported when it runs, so kpi --help stays fast)

    _check_format(fmt)
    start_d = parse_date(start, "--start")
    writable_dir(out_dir, "--out")
    with output.progress(err, "generating...") as status:

        def progress(table: str, rows: int) -> None:
            status.update(f"generating {table}: {rows:,} rows")

        try:
            counts = gen.generate(
                out_dir, tenants=tenants, days=days, start=start_d, seed=seed, scale=scale, progress=progress
            )
        except ValueError as exc:
            raise UsageError(str(exc).splitlines()[0]) from None
        except OSError as exc:
            raise KpiError(f"writing to {out_dir}: {exc.strerror or exc}") from None
    if fmt == "json":
        print(json.dumps({"out": str(out_dir), "rows": counts}, indent=2))
        return
    t = Table(title=f"kpi generate → {out_dir}")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for k, v in counts.items():
        t.add_row(k, f"{v:,}")
    output.print_table(out, t)


# --------------------------------------------------------------------------- build / refresh
def _lock_wait(wait: bool) -> None:
    """--wait: queue behind a build holding the warehouse lock (kpiwh.lock reads KPI_LOCK_WAIT)."""
    if wait:
        os.environ["KPI_LOCK_WAIT"] = "1"


def _vars_arg(vars_: dict) -> list[str]:
    return ["--vars", json.dumps(vars_)] if vars_ else []


@app.command("build")
@handled
def build(
    select: Annotated[list[str] | None, typer.Option("--select", "-s", help="dbt selector (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="dbt exclusion (repeatable).")] = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental models.")] = False,
    vars_: Annotated[str | None, typer.Option("--vars", help="dbt vars as YAML/JSON.")] = None,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="If another build holds the warehouse lock, wait for it instead of exiting 1."),
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="First validate the raw data (`kpi check --layer raw`); refuse to build on a failure."
        ),
    ] = False,
    fail_on_check: Annotated[
        bool,
        typer.Option(
            "--fail-on-check/--no-fail-on-check",
            help="With --check: a failed expectation stops the build (default) or only warns.",
        ),
    ] = True,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
    allow_history_loss: Annotated[
        bool,
        typer.Option(
            "--allow-history-loss",
            help="With --full-refresh after a retention run: rebuild anyway, losing the daily marts' days "
            "before the retention cut-off.",
        ),
    ] = False,
    partitions_ahead: Annotated[
        int,
        typer.Option(
            "--partitions-ahead",
            min=0,
            help="First create the missing raw.events_raw partitions of the current month and this many "
            "following ones (seed 004's scheduled partition maintenance; idempotent).",
        ),
    ] = 2,
) -> None:
    """Run `dbt build` (seeds, models, snapshots, tests) with progress and a summary table.

    The summary names each test that warned or failed with its failing-row count.
    One build at a time per warehouse: a second one exits 1 naming the holder, or waits with --wait.
    Before dbt runs, the events_raw partitions of the current month and the next
    --partitions-ahead months are created when missing (when the raw contract exists).
    """
    from . import publish  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    _check_format(fmt)
    _lock_wait(wait)
    if vars_ is not None:
        parse_vars(vars_)
    if full_refresh and not allow_history_loss:
        from . import db, retention  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

        with db.connect() as conn:
            cutoff = retention.pruned_before(conn)
        if cutoff is not None:
            raise UsageError(
                f"--full-refresh after a retention run would rebuild the daily marts from the events kept since "
                f"{cutoff:%Y-%m-%d} and lose their earlier days: use kpi backfill inside the horizon, or pass "
                "--allow-history-loss"
            )

    if check:
        from . import check as check_mod  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

        with err.status("checking raw data (great expectations)..."):
            result = check_mod.run(["raw"])
        if not result.success:
            output.print_table(out if fmt == "table" else err, check_mod.summary_table(result, only_failed=True))
            names = ", ".join(
                sorted({f"{o.suite} {o.expectation}" + (f"({o.column})" if o.column else "") for o in result.failed})
            )[:300]
            if fail_on_check:
                raise KpiError(
                    f"raw data check failed: {len(result.failed)} failed expectation(s), nothing built "
                    f"(--no-fail-on-check to build anyway): {names}"
                )
            err.print(
                f"[yellow]warning:[/yellow] raw data check failed: {len(result.failed)} failed "
                f"expectation(s); building anyway (--no-fail-on-check)",
                highlight=False,
                soft_wrap=True,
            )
        else:
            err.print(f"raw data check passed: {len(result.outcomes)} expectations", highlight=False)
    from . import db, partitions  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    with db.connect() as conn:
        created = partitions.ensure_ahead(conn, partitions_ahead)
    if created:
        err.print(f"partitions created: {', '.join(created)}", highlight=False, soft_wrap=True)
    cmd = ["build"]
    for s in select or []:
        cmd += ["--select", s]
    for x in exclude or []:
        cmd += ["--exclude", x]
    if full_refresh:
        cmd.append("--full-refresh")
    if vars_:
        cmd += ["--vars", vars_]
    try:
        summary = publish.build(cmd, full_refresh=full_refresh, vars_json=vars_, raise_on_failure=False)
    except UsageError as exc:  # a bad product_analytics entry: the entry and what is wrong, without dbt's trace
        from .analyses import definition_error  # noqa: PLC0415  (kept beside the analyses commands)

        raise UsageError(definition_error(str(exc)) or str(exc)) from None
    _print_run(summary, fmt)
    if select and not summary.nodes:
        raise UsageError(f"--select {' '.join(select)} matched no node")
    if not summary.success:
        for n in summary.failed[:10]:
            err.print(
                f"[red]FAILED[/red] {n.unique_id}: {' '.join(str(n.message or '').split())[:200]}", highlight=False
            )
        raise typer.Exit(1)


@app.command("backfill")
@handled
def backfill(
    start: Annotated[str, typer.Option(help="First day to rebuild (YYYY-MM-DD, inclusive).")],
    end: Annotated[str, typer.Option(help="Day AFTER the last one to rebuild (YYYY-MM-DD, EXCLUSIVE).")],
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            "-s",
            help="dbt selector (default: the daily models (tag daily) with their parents and "
            "children, alerts excluded).",
        ),
    ] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="dbt exclusion (repeatable).")] = None,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="If another build holds the warehouse lock, wait for it instead of exiting 1."),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
) -> None:
    """Recompute the daily models' days in [start, end) (plus what was loaded since their last run): idempotent."""
    from . import runner  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    _check_format(fmt)
    _lock_wait(wait)

    from . import db, partitions  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    start_d, end_d = parse_date(start, "--start"), parse_date(end, "--end")
    if end_d <= start_d:
        raise UsageError(f"--end {end_d} must be after --start {start_d} (the end day is exclusive)")
    today = datetime.now(UTC).date()
    if end_d > today + timedelta(days=1):
        raise UsageError(
            f"--end {end_d}: the window reaches into the future (today is {today} UTC, so --end is "
            f"at most {today + timedelta(days=1)}: the end day is exclusive)"
        )
    from . import load as loader  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    with db.connect() as conn:
        horizon = partitions.pruned_until(conn)
        raw_tables = loader.raw_tables_with_rows_between(conn, start_d, end_d)
    if horizon is not None and start_d < horizon.date():
        raise UsageError(
            f"--start {start_d}: raw events before {horizon.date()} were pruned (retention); "
            "backfilling those days would erase history the marts still hold"
        )
    if raw_tables is None:
        raise UsageError("the raw contract does not exist: run `kpi init` and `kpi load` first")
    if not raw_tables:
        err.print(
            f"[yellow]warning:[/yellow] no raw data in [{start_d}, {end_d}): the window's days are "
            "recomputed empty (mart rows held for them are removed, none is written)",
            highlight=False,
            soft_wrap=True,
        )
    # `+`: the daily models' parents (views, whole-history tables such as first bookings) are
    # rebuilt too so a day never reads stale inputs; cautious: tests run only when every
    # model they read was rebuilt (a test spanning a mart outside the backfill is skipped)
    # default: the daily models, their parents and what is built from them (weekly rollups,
    # reports) — but not the alert lifecycle, which `kpi alerts --evaluate` runs at an instant
    # unit tests have fixed inputs: they change with the code, not with the days rebuilt (as in a
    # scheduled kpi build over published marts, kpiwh.publish.build)
    cmd = ["build", "--indirect-selection", "cautious", "--exclude-resource-type", "unit_test"]
    for s_ in select or ["+tag:daily+"]:
        cmd += ["--select", s_]
    for x in exclude if exclude is not None else (["tag:alerts+"] if not select else []):
        cmd += ["--exclude", x]
    cmd += ["--vars", json.dumps({"kpi_backfill_start": start_d.isoformat(), "kpi_backfill_end": end_d.isoformat()})]
    # parsed without the window: the backfill vars are read only when the models run, so
    # every backfill reuses dbt's partial parse instead of re-parsing the project
    summary = runner.invoke(cmd, manifest=runner.parse())
    _print_run(summary, fmt, window={"start": start_d.isoformat(), "end": end_d.isoformat()})
    if select and not summary.nodes:
        raise UsageError(f"--select {' '.join(select)} matched no node")
    (out if fmt == "table" else err).print(
        f"backfilled {(end_d - start_d).days} day(s): {start_d} .. {end_d} (exclusive)", highlight=False
    )


@refresh_app.command("customers")
@handled
def refresh_customers(
    mode: Annotated[
        str,
        typer.Option(
            help="recent: the customers whose bookings, payments or profiles were loaded since "
            "the last run, and those a moved --as-of carries across a window or segment boundary; "
            "full: every customer."
        ),
    ] = "recent",
    as_of: Annotated[str | None, typer.Option(help="Reference time of the age-based columns (default: now).")] = None,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="If another build holds the warehouse lock, wait for it instead of exiting 1."),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
) -> None:
    """Recompute customer_analytics (seed 002's full vs recent refresh)."""
    from . import runner  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    _check_format(fmt)
    _lock_wait(wait)

    if mode not in ("recent", "full"):
        raise UsageError(f"--mode: '{mode}' is not recent or full")
    vars_ = {"customer_refresh_mode": mode}
    if as_of:
        parse_instant(as_of, "--as-of")  # a malformed instant is bad input, not a failed dbt model
        vars_["as_of"] = as_of
    # full mode recomputes every customer of int_customer_facts and int_customer_analytics in
    # place (their pre-hooks); cautious: tests that also read the daily fact (not rebuilt
    # here) wait for the next build
    cmd = ["build", "--select", "+customer_analytics", "--indirect-selection", "cautious", *_vars_arg(vars_)]
    # parsed without these vars (as kpi backfill): the mode and as_of are read only when the
    # models run, so an hourly refresh at a new --as-of reuses dbt's partial parse instead of
    # re-parsing the whole project (~6 s at every new instant)
    summary = runner.invoke(cmd, manifest=runner.parse())
    _print_run(summary, fmt)


# --------------------------------------------------------------------------- check
@app.command("check")
@handled
def check(
    subject: Annotated[
        str | None,
        typer.Argument(
            help="customers: seed 002's 8-step sanity check of customer_analytics "
            "(instead of the Great Expectations suites).",
            show_default=False,
        ),
    ] = None,
    layer: Annotated[
        str,
        typer.Option(
            "--layer",
            help="raw (the raw contract, before dbt) | marts (daily marts "
            "have today's data; not what dbt tests) | all.",
        ),
    ] = "raw",
    fmt: Annotated[str, typer.Option("--format", help="table | json")] = "table",
    docs: Annotated[
        Path | None, typer.Option("--docs", help="Also write a GX data docs site (index.html) into this folder.")
    ] = None,
    future_tolerance: Annotated[
        int | None,
        typer.Option(
            "--future-tolerance",
            help="Minutes a timestamp may lie in the future (default: tests/gx/parameters.json, 60).",
        ),
    ] = None,
) -> None:
    """Validate the data with Great Expectations suites kept in tests/gx/<layer>/ (exit 1 on a failed expectation).

    `kpi check customers` runs seed 002's sanity check of customer_analytics instead: 8 steps,
    each printed with its result; exit 1 when one fails.
    """
    if subject is not None:
        _check_customers(subject, fmt, docs)
        return
    from . import check as check_mod  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    if layer not in (*check_mod.LAYERS, "all"):
        raise UsageError(f"--layer: '{layer}' is not raw, marts or all")
    if fmt not in ("table", "json"):
        raise UsageError(f"--format: '{fmt}' is not table or json")
    if future_tolerance is not None and future_tolerance < 0:
        raise UsageError(f"--future-tolerance: {future_tolerance} is negative")
    layers = list(check_mod.LAYERS) if layer == "all" else [layer]
    with err.status("validating (great expectations)..."):
        result = check_mod.run(layers, docs_dir=docs, future_tolerance_minutes=future_tolerance)
    if fmt == "json":
        print(json.dumps(result.to_jsonable(), indent=2, default=str))
    else:
        output.print_table(out, check_mod.summary_table(result))
    if result.docs_index:
        err.print(f"data docs: {result.docs_index}", highlight=False)
    if not result.success:
        err.print(f"[red]{len(result.failed)} failed expectation(s)[/red]", highlight=False)
        raise typer.Exit(1)


def _check_customers(subject: str, fmt: str, docs: Path | None) -> None:
    """`kpi check customers`: run the 8 steps (cli/kpiwh/customer_check.py), print them, exit 1 on a failure."""
    from . import customer_check, db  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    if subject != "customers":
        raise UsageError(f"kpi check: '{subject}' is not a check (customers), or use --layer raw|marts|all")
    if fmt not in ("table", "json"):
        raise UsageError(f"--format: '{fmt}' is not table or json")
    if docs is not None:
        raise UsageError("--docs: only for the Great Expectations suites (kpi check --layer ...)")
    with db.connect() as conn, err.status("checking customer_analytics (8 steps)..."):
        results = customer_check.run(conn)
    if fmt == "json":
        print(json.dumps(customer_check.to_jsonable(results), indent=2))
    else:
        output.print_table(out, customer_check.summary_table(results))
    failed = [r for r in results if not r.passed]
    if failed:
        err.print(
            f"[red]{len(failed)} of {len(results)} step(s) failed: {', '.join(r.name for r in failed)}[/red]",
            highlight=False,
        )
        raise typer.Exit(1)
    err.print(f"all {len(results)} steps passed", highlight=False)


# --------------------------------------------------------------------------- report
def _check_report_out(out_file: Path | None) -> None:
    """Refuse a report's ``--out`` before any work: a folder, or a place that cannot be written.

    Raises:
        UsageError: ``out_file`` is a folder or its folder is not writable (exit 2).
    """
    if out_file is not None:
        if out_file.is_dir():
            raise UsageError(f"--out {out_file}: is a folder (give a file name)")
        writable_dir(out_file.parent, "--out")


def _write_report(text: str, out_file: Path | None) -> None:
    """Write a rendered report to ``out_file`` (UTF-8), or to stdout when it is None.

    Raises:
        UsageError: the file cannot be written (exit 2, the OS's reason).
    """
    if out_file is None:
        sys.stdout.write(text)
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out {out_file}: {exc.strerror or exc}") from None
    err.print(f"wrote {out_file} ({len(text.encode()):,} bytes)")


@report_app.command("weekly")
@handled
def report_weekly(
    tenant: Annotated[str, typer.Option("--tenant", help="Merchant tenant id (e.g. mer_001).")],
    week: Annotated[str, typer.Option("--week", help="ISO week YYYY-Www (e.g. 2025-W03), past or current.")],
    fmt: Annotated[str, typer.Option("--format", help="md | json | html")] = "md",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Seed 000's weekly merchant report: summary, week-over-week change, plain-English summary, top rewards."""
    from . import db, report  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    if fmt not in report.FORMATS:
        raise UsageError(f"--format: '{fmt}' is not one of {', '.join(report.FORMATS)}")
    report.parse_week(week)
    _check_report_out(out_file)
    with db.connect() as conn:
        data = report.build_report(conn, tenant, week)
    text = report.render(data, fmt)
    _write_report(text, out_file)


@report_app.command("pilot")
@handled
def report_pilot(
    scope: Annotated[
        str,
        typer.Option(
            "--scope",
            help="Pilot scope <country>:<category>[:<version>], e.g. MN:USED_CAR_PRIVATE (every template version) "
            "or MN:USED_CAR_PRIVATE:2.",
        ),
    ],
    fmt: Annotated[str, typer.Option("--format", help="md | json | html")] = "md",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Seed 003's final pilot report: metrics against targets, weekly trends, v1 vs v2, disputes, rollback, recommendations."""
    from . import db, pilot_report  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    if fmt not in pilot_report.FORMATS:
        raise UsageError(f"--format: '{fmt}' is not one of {', '.join(pilot_report.FORMATS)}")
    pilot_report.parse_scope(scope)
    _check_report_out(out_file)
    with db.connect() as conn:
        data = pilot_report.build_report(conn, scope)
    text = pilot_report.render(data, fmt)
    _write_report(text, out_file)


# --------------------------------------------------------------------------- metrics
def _names(values: list[str] | None, option: str) -> list[str]:
    """Names given as repeated options and/or comma-separated lists, in order, without blanks."""
    names = [n.strip() for v in values or [] for n in v.split(",")]
    if any(not n for n in names):
        raise UsageError(f"{option}: an empty name in {','.join(values or [])!r}")
    return names


@metrics_app.command("list")
@handled
def metrics_list(
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
    dimensions: Annotated[
        bool, typer.Option("--dimensions", help="Also list each metric's group-by names (slower).")
    ] = False,
) -> None:
    """Every metric of the semantic layer: name, type, label and description (seed and unit)."""
    from . import metrics as metrics_mod  # noqa: PLC0415  (MetricFlow: slow import, deferred)

    _check_format(fmt)
    with metrics_mod.Engine() as engine:
        infos = engine.list_metrics(with_dimensions=dimensions)
    if fmt == "json":
        rows = [
            {"name": i.name, "type": i.type, "label": i.label, "description": i.description}
            | ({"dimensions": list(i.dimensions)} if dimensions else {})
            for i in infos
        ]
        print(json.dumps(rows, indent=2))
        return
    t = Table(title=f"{len(infos)} metrics")
    output.id_column(t, "metric", [i.name for i in infos])
    t.add_column("type")
    t.add_column("label")
    output.text_column(t, "description")
    if dimensions:
        output.text_column(t, "group by (besides metric_time)")
    for i in infos:
        t.add_row(i.name, i.type, i.label, i.description, *([", ".join(i.dimensions)] if dimensions else []))
    output.print_table(out, t)


@metrics_app.command("query")
@handled
def metrics_query(
    metric_names: Annotated[
        list[str], typer.Option("--metrics", help="Metric names, comma-separated or repeated (kpi metrics list).")
    ],
    group_by: Annotated[
        list[str] | None,
        typer.Option(
            "--group-by",
            help="Group-by names, comma-separated or repeated: metric_time__day | __week (ISO, Monday) | __month, "
            "tenant, tenant__tenant_name, location, ...",
        ),
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            help="A MetricFlow filter, e.g. \"{{ Entity('tenant') }} = 'mer_001'\" or "
            "\"{{ TimeDimension('metric_time', 'day') }} >= '2025-06-01'\"; repeated: all hold.",
        ),
    ] = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option("--order-by", help="Output names to sort by (-name: descending); default the group-by names."),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many rows.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="First day of metric_time (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day of metric_time, inclusive (YYYY-MM-DD).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json | csv (json/csv: stdout holds only the rows)")] = (
        "table"
    ),
    explain: Annotated[bool, typer.Option("--explain", help="Print the SQL MetricFlow ran (on stderr).")] = False,
) -> None:
    """Query metrics through MetricFlow: a rate over a week is the ratio of the week's sums, never a mean of days.

    Runs on the CLI's database (the embedded one unless --target says otherwise); the
    semantic manifest is dbt's (`dbt parse` runs first when the project changed).
    Exit status: 0 rows printed (maybe none); 1 the database failed; 2 an unknown metric or
    group-by name, a bad filter or option (one line naming it).
    """
    from . import metrics as metrics_mod  # noqa: PLC0415  (MetricFlow: slow import, deferred)

    if fmt not in metrics_mod.FORMATS:
        raise UsageError(f"--format: '{fmt}' is not one of {', '.join(metrics_mod.FORMATS)}")
    names = _names(metric_names, "--metrics")
    groups = _names(group_by, "--group-by")
    orders = _names(order_by, "--order-by")
    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    if first and last and first > last:
        raise UsageError(f"--start {first} is after --end {last}")
    with metrics_mod.Engine() as engine:
        result = engine.query(names, groups, where=where, order_by=orders, limit=limit, start=first, end=last)
    if explain:
        err.print(result.sql, highlight=False, soft_wrap=True, markup=False)
    if fmt == "table":
        output.print_table(out, metrics_mod.to_table(result, title=", ".join(names)))
    else:
        sys.stdout.write(metrics_mod.render(result, fmt))


# --------------------------------------------------------------------------- analyses
@analyses_app.command("list")
@handled
def analyses_list(
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
) -> None:
    """Every declared funnel and retention: kind, entity, steps or periods, options.

    The entries are read as dbt checked them (`dbt parse`): a bad entry exits 2 with
    one line naming it. Exit status: 0 listed (maybe none); 2 a bad entry or option.
    """
    from . import analyses as analyses_mod  # noqa: PLC0415  (dbt: slow import, deferred)

    _check_format(fmt)
    found = analyses_mod.declared()
    if fmt == "json":
        print(json.dumps([a.as_json() for a in found], indent=2))
        return
    t = Table(title=f"{len(found)} declared analyses (kpi analyses show NAME prints one's rows)")
    output.id_column(t, "name", [a.name for a in found])
    t.add_column("kind")
    t.add_column("entity")
    output.text_column(t, "steps / periods")
    output.text_column(t, "options")
    for a in found:
        t.add_row(a.name, a.kind, a.entity, a.shape, a.detail)
    output.print_table(out, t)


@analyses_app.command("show")
@handled
def analyses_show(
    name: Annotated[str, typer.Argument(help="The analysis's name (kpi analyses list).")],
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
) -> None:
    """Print a declared analysis's rows from its mart (marts.fct_funnel_steps or marts.metrics_retention).

    Exit status: 0 rows printed (none before the analysis's events arrive); 1 the mart is
    not built yet or the database failed; 2 an unknown name or a bad option (one line).
    """
    from . import analyses as analyses_mod  # noqa: PLC0415  (dbt: slow import, deferred)
    from . import db  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    _check_format(fmt)
    analysis = analyses_mod.find(analyses_mod.declared(), name)
    with db.connect() as conn:
        found = analyses_mod.rows(conn, analysis)
    if fmt == "json":
        payload = {
            **analysis.as_json(),
            "rows": [{k: analyses_mod.jsonable(v) for k, v in r.items()} for r in found],
        }
        print(json.dumps(payload, indent=2))
        return
    cols = analyses_mod.COLUMNS[analysis.kind]
    t = Table(title=f"{analysis.kind} {analysis.name}: {len(found)} rows ({analysis.shape}; {analysis.detail})")
    for c in cols:
        t.add_column(c)
    for r in found:
        t.add_row(*["" if r[c] is None else str(r[c]) for c in cols])
    output.print_table(out, t)


# --------------------------------------------------------------------------- alerts
@app.command("alerts")
@handled
def alerts(
    open_only: Annotated[bool, typer.Option("--open", help="Only open alerts.")] = False,
    severity: Annotated[str | None, typer.Option(help="Only this severity: info | warning | critical.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json")] = "table",
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on", help="Exit 3 when an open alert of this severity or higher exists: warning | critical."
        ),
    ] = None,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="First run `dbt build` of the alert models (rules seed + tag:alerts).")
    ] = False,
    evaluated_at: Annotated[
        str | None,
        typer.Option("--evaluated-at", help="Evaluation instant for --evaluate (ISO timestamp, UTC; default now)."),
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option("--webhook", help="POST new and resolved alerts not yet notified to this URL (JSON)."),
    ] = None,
    rule: Annotated[
        str | None,
        typer.Option("--rule", help="With --evaluate: judge only this rule of seeds/alert_rules.csv."),
    ] = None,
    window_from: Annotated[
        str | None,
        typer.Option("--from", help="With --evaluate: backfill alert history from this instant (ISO, UTC)."),
    ] = None,
    window_to: Annotated[
        str | None,
        typer.Option("--to", help="With --evaluate --from: the window's last instant (inclusive; ISO, UTC)."),
    ] = None,
    every: Annotated[
        str | None,
        typer.Option("--every", help="With --from/--to: evaluate every 1h (the seed's hourly cron) or 1d."),
    ] = None,
) -> None:
    """List alerts from marts.fct_alerts (seed 001); optionally evaluate first and notify a webhook.

    `--evaluate --from T1 --to T2 --every 1h` evaluates each instant of a past window in order
    (backfilling alert history; re-running a window adds nothing); `--rule R` judges one rule.

    Exit status: 0 ok; 1 failed build, database or webhook; 2 bad usage; 3 --fail-on matched.
    """
    from . import alerts as alerts_mod  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)
    from . import db  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    if severity is not None and severity not in alerts_mod.SEVERITY_RANK:
        raise UsageError(f"--severity: '{severity}' is not info, warning or critical")
    if fail_on is not None and fail_on not in ("warning", "critical"):
        raise UsageError(f"--fail-on: '{fail_on}' is not warning or critical")
    if fmt not in ("table", "json"):
        raise UsageError(f"--format: '{fmt}' is not table or json")
    if evaluated_at is not None and not evaluate:
        raise UsageError("--evaluated-at needs --evaluate")
    window = (window_from, window_to, every)
    if not evaluate and (rule is not None or any(x is not None for x in window)):
        raise UsageError("--rule, --from, --to and --every need --evaluate")
    if any(x is not None for x in window) and any(x is None for x in window):
        raise UsageError("--from, --to and --every go together")
    if window_from is not None and evaluated_at is not None:
        raise UsageError("--evaluated-at and --from/--to are exclusive (one instant or a window)")
    if rule is not None:
        rule = alerts_mod.check_rule(rule)
    instants = alerts_mod.evaluation_instants(window_from, window_to, every) if window_from is not None else None
    if webhook is not None and not webhook.startswith(("http://", "https://")):
        raise UsageError(f"--webhook: '{webhook}' is not an http(s) URL")  # before any evaluation or query
    if instants is not None:
        n = len(instants)
        alerts_mod.backfill(
            instants,
            rule=rule,
            console=err,
            on_instant=lambda i, at: err.print(f"evaluating {i}/{n} at {at}", highlight=False),
        )
        err.print(
            f"alerts evaluated at {n} instant(s) from {instants[0]} to {instants[-1]}"
            + (f" (rule {rule})" if rule else ""),
            highlight=False,
        )
    elif evaluate:
        at = alerts_mod.parse_evaluated_at(evaluated_at)
        summary = alerts_mod.evaluate(at, console=err, rule=rule)
        err.print(
            f"alerts evaluated at {at}" + (f" (rule {rule})" if rule else "") + f": {len(summary.nodes)} dbt nodes OK",
            highlight=False,
        )
    with db.connect() as conn:
        rows = alerts_mod.list_alerts(conn, open_only=open_only, severity=severity)
        if fmt == "json":
            print(json.dumps([alerts_mod.to_jsonable(r) for r in rows], indent=2))
        else:
            cols = (
                "rule_id",
                "subject",
                "episode",
                "severity",
                "status",
                "first_seen_at",
                "last_seen_at",
                "occurrences",
                "resolved_at",
            )
            cells = [["" if r[c] is None else str(r[c]) for c in (*cols, "message")] for r in rows]
            t = Table(title=f"alerts ({len(rows)})")
            for i, col in enumerate(cols):  # ids and instants are never wrapped nor cut; the message wraps
                output.id_column(t, col, [c[i] for c in cells], justify="right" if col == "occurrences" else "left")
            output.text_column(t, "message")
            for c in cells:
                t.add_row(*c)
            output.print_table(out, t)
        if webhook:
            sent = alerts_mod.post_webhook(conn, webhook)
            err.print(f"webhook: {sent} alert(s) posted", highlight=False)
        if fail_on is not None:
            every_open = alerts_mod.list_alerts(conn, open_only=True)
            if alerts_mod.worst_open_rank(every_open) >= alerts_mod.SEVERITY_RANK[fail_on]:
                err.print(f"open alert(s) at {fail_on} or higher", highlight=False)
                raise typer.Exit(3)


# --------------------------------------------------------------------------- status
@app.command("status")
@handled
def status(
    days: Annotated[
        int, typer.Option("--days", min=1, max=3660, help="Window in days for failures and daily-mart coverage.")
    ] = 7,
    fmt: Annotated[str, typer.Option("--format", help="table | json (for monitors)")] = "table",
    freshness: Annotated[
        bool,
        typer.Option(
            "--freshness",
            help="Run `dbt source freshness` first (recorded like any run); otherwise the last "
            "recorded check is shown.",
        ),
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many recent runs to list.")] = 10,
    max_wait_hours: Annotated[
        float,
        typer.Option(
            "--max-wait-hours",
            min=0,
            help="Hours loaded data may wait for a build: a daily mart missing a day whose "
            "raw data was loaded longer ago, or events loaded longer ago and not yet "
            "processed, exit 1.",
        ),
    ] = 24.0,
) -> None:
    """Seed 004's runbook: last dbt runs, recent failures, days missing from each daily mart, source freshness.

    Reads ops.etl_job_runs / ops.etl_job_run_nodes (written by dbt's on-run-end hook on every
    build/run/test/seed/snapshot/freshness). Coverage: the N days ending at the data's latest day
    (the newest day, not after today, with rows in a raw table the daily marts are built from).

    Exit status: 0 healthy; 1 the newest recorded run (freshness checks aside) is not `success`
    (partial or error), a source with rows is past its freshness error_after (an empty source
    is reported as "empty", not stale), a daily mart misses a day whose raw data was loaded more
    than --max-wait-hours ago, or loaded events have waited longer than that to be processed;
    2 bad usage. A missing day without raw data (a quiet day) is reported only.
    """
    from . import db  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)
    from . import status as status_mod  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    if fmt not in ("table", "json"):
        raise UsageError(f"--format: '{fmt}' is not table or json")
    if freshness:
        from . import runner  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

        # dbt logs stale sources on stdout even with --quiet: keep stdout for the report (JSON)
        with contextlib.redirect_stdout(sys.stderr):
            runner.invoke(["source", "freshness"], console=err, progress=fmt == "table", raise_on_failure=False)
    with db.connect() as conn:
        st = status_mod.collect(conn, days=days, limit=limit, max_wait_hours=max_wait_hours)
    if fmt == "json":
        print(json.dumps(status_mod.to_jsonable(st), indent=2, default=str))
    else:
        for part in status_mod.render_tables(st):
            if isinstance(part, Table):
                output.print_table(out, part)
            else:
                out.print(part, soft_wrap=True)  # lines stay whole (grep, logs)
    if not st.healthy:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- demo
@app.command("demo")
@handled
def demo(
    data: Annotated[Path | None, typer.Option(help="Load this folder instead of generating one.")] = None,
    tenants: Annotated[int, typer.Option(min=5, help="Tenants to generate.")] = 12,
    days: Annotated[int, typer.Option(min=14, help="Days to generate.")] = 120,
) -> None:
    """THE MAIN JOB: start the embedded db, generate + load a data set, build, test, print KPIs."""
    from . import demo as demo_mod  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    if data is not None:
        from . import load as loader  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

        loader.discover(data)  # a missing folder or one with nothing to load: exit 2 before any work
    demo_mod.run(out, err, data=data, tenants=tenants, days=days)


# --------------------------------------------------------------------------- bi
@bi_app.command("up")
@handled
def bi_up(
    port: Annotated[int, typer.Option("--port", help="TCP port on 127.0.0.1.")] = 8088,
) -> None:
    """Install Superset (once, own venv), register the warehouse (read-only login), import dashboards/, serve."""
    from . import bi  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    with output.progress(err, "starting Superset...") as status:

        def say(msg: str) -> None:
            err.print(msg, highlight=False, soft_wrap=True)
            status.update(msg)

        r = bi.up(port=port, log=say)
    s = r.status
    out.print(
        f"Superset {s.version} serving {r.dashboards} dashboards at {s.url}  "
        f"(user {s.admin_user}, password in {s.admin_password_file})",
        highlight=False,
        soft_wrap=True,
    )


@bi_app.command("down")
@handled
def bi_down() -> None:
    """Stop the Superset server (always safe; the installation and its metadata stay)."""
    from . import bi  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    out.print("stopped" if bi.stop_server() else "not running")


@bi_app.command("status")
@handled
def bi_status(fmt: Annotated[str, typer.Option("--format", help="table | json")] = "table") -> None:
    """Report Superset's URL, version, admin user and password file (exit 1 when not running)."""
    from . import bi  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    check_choice(fmt, ("table", "json"), "--format")
    s = bi.status()
    if fmt == "json":
        print(json.dumps(s.as_dict(), indent=2))
    elif s.running:
        out.print(
            f"running  {s.url}  Superset {s.version}  pid {s.pid}  user {s.admin_user}  "
            f"password file {s.admin_password_file}",
            highlight=False,
            soft_wrap=True,
        )
    else:
        installed = f"Superset {s.version} installed in {s.home}" if s.installed else "Superset not installed"
        out.print(f"stopped  {installed}  (start: kpi bi up)", highlight=False, soft_wrap=True)
    if not s.running:
        raise typer.Exit(1)


@bi_app.command("url")
@handled
def bi_url() -> None:
    """Print the URL Superset serves on (exit 1 when it is not running)."""
    from . import bi  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    s = bi.status()
    if not s.running:
        raise KpiError("Superset is not running: start it with `kpi bi up`")
    print(s.url)


@export_app.command("deals")
@handled
def export_deals(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write deals_timeline.<ext> and ledger_entries.<ext> into.")
    ],
    fmt: Annotated[str, typer.Option("--format", help="csv | jsonl")] = "csv",
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only state changes / ledger entries on or after this UTC day (YYYY-MM-DD)."),
    ] = None,
    deal_id: Annotated[str | None, typer.Option("--deal-id", help="Only this deal.")] = None,
) -> None:
    """Export deal timelines and ledger entries for audit (seed 003 rollback plan), streamed."""
    from . import db, export  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    since_d = parse_date(since, "--since")
    if fmt not in export.FORMATS:
        raise UsageError(f"--format: '{fmt}' is not one of {', '.join(export.FORMATS)}")
    writable_dir(out_dir, "--out")
    with db.connect(autocommit=False) as conn, err.status("exporting..."):
        results = export.export_deals(conn, out_dir, fmt=fmt, since=since_d, deal_id=deal_id)
    for r in results:
        out.print(f"{r.path}: {r.rows:,} rows", highlight=False)


# --------------------------------------------------------------------------- privacy
@app.command("erase")
@handled
def erase(
    user_id: Annotated[
        str | None,
        typer.Option("--user-id", help="A platform user or loyalty customer: the pseudonymous events_raw.user_id."),
    ] = None,
    organization_id: Annotated[
        str | None,
        typer.Option(
            "--organization-id", help="With --customer-id: the bookings organization the customer belongs to."
        ),
    ] = None,
    customer_id: Annotated[
        str | None,
        typer.Option(
            "--customer-id", help="A bookings customer (raw.customers.customer_id, unique within its organization)."
        ),
    ] = None,
    party_id: Annotated[
        str | None,
        typer.Option("--party-id", help="A marketplace buyer or seller (raw.deals.buyer_id / seller_id)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only report what would be removed and rebuilt.")] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="If a build holds the warehouse lock, wait for it instead of exiting 1.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "table",
) -> None:
    """Right to erasure: remove one subject from every layer (one transaction, receipt in ops.erasure_receipts), rebuild what they fed.

    Give exactly one subject: --user-id, --organization-id with --customer-id, or --party-id.
    Exit status: 0 also when nothing is held (unknown or already erased: idempotent); 1 when a build
    holds the lock (nothing touched).
    """
    from . import erase as erase_mod  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    _check_format(fmt)
    given = [
        name
        for name, v in (("--user-id", user_id), ("--customer-id", customer_id), ("--party-id", party_id))
        if v is not None
    ]
    if organization_id is not None and customer_id is None:
        raise UsageError("--organization-id needs --customer-id (a bookings customer is ORG + ID)")
    if len(given) != 1:
        raise UsageError(
            "give exactly one subject: --user-id, --organization-id with --customer-id, or --party-id"
            + (f" (got {', '.join(given)})" if given else "")
        )
    if customer_id is not None:
        if organization_id is None:
            raise UsageError("--customer-id needs --organization-id (a customer id is unique only within it)")
        subj = erase_mod.subject("customer", organization_id, customer_id)
    elif party_id is not None:
        subj = erase_mod.subject("party", party_id)
    else:
        subj = erase_mod.subject("user", user_id)
    r = erase_mod.erase(subj, dry_run=dry_run, wait=wait or None, console=err)
    if fmt == "json":  # the subject's id is not repeated: the caller has it
        doc = {
            "subject_kind": r.subject.kind,
            "dry_run": r.dry_run,
            "deleted": r.deleted,
            "rows_deleted": r.total,
            "days": [d.isoformat() for d in r.days],
            "rebuilt_window": [d.isoformat() for d in r.rebuilt] if r.rebuilt else None,
            "rebuilt_models": r.rebuilt_models,
            "not_rebuilt_days": [d.isoformat() for d in r.not_rebuilt],
            "exports_holding_subject": [{"file": str(f), "rows": n} for f, n in r.exports],
            "previously_erased_at": r.previously_erased_at.isoformat() if r.previously_erased_at else None,
            "completed_pending_receipts": r.completed_pending,
        }
        print(json.dumps(doc, indent=2))
        return
    for rid in r.completed_pending:
        out.print(f"completed the pending rebuild of erasure receipt {rid}", highlight=False)
    verb = "would remove" if dry_run else "removed"
    if r.deleted:
        t = Table(title=f"erase {r.subject.label}" + (" (dry run)" if dry_run else ""))
        t.add_column("table", overflow="fold")
        t.add_column("rows", justify="right")
        for rel, n in r.deleted.items():
            t.add_row(rel, f"{n:,}")
        out.print(t)
        out.print(
            f"{verb} {r.total:,} row(s) in {len(r.deleted)} table(s); {r.subject.label} has rows on "
            f"{len(r.days)} day(s)",
            highlight=False,
        )
    else:
        when = f" (already erased at {r.previously_erased_at:%Y-%m-%d %H:%M} UTC)" if r.previously_erased_at else ""
        out.print(f"nothing held for {r.subject.label}{when}: nothing to erase", highlight=False)
    if r.rebuilt_models:
        window = f" over days {r.rebuilt[0]} .. {r.rebuilt[1]} (exclusive)" if r.rebuilt else ""
        out.print(
            f"{'would rebuild' if dry_run else 'rebuilt'} {len(r.rebuilt_models)} model(s){window}", highlight=False
        )
    if r.not_rebuilt:
        out.print(
            f"not rebuilt (past the retention horizon; marts keep anonymous aggregates): "
            f"{', '.join(d.isoformat() for d in r.not_rebuilt)}",
            highlight=False,
        )
    for path, n in r.exports:
        err.print(
            f"[yellow]warning:[/yellow] archive {path} still holds {n:,} row(s) of this user "
            "(not modified: delete or rewrite it under your archive policy)",
            highlight=False,
        )


@app.command("pii-check")
@handled
def pii_check(
    allowlist: Annotated[
        Path | None,
        typer.Option("--allowlist", help="YAML allow-list (default tests/pii_allowlist.yml of the project)."),
    ] = None,
    schema: Annotated[
        list[str] | None,
        typer.Option("--schema", help="Schema to inspect (repeatable; default staging, intermediate, marts)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """PII guard: read every row of every text/JSON column; exit 1 on a PII-named column, an e-mail,
    a phone number, a customer's name, or a PII key (per table and column: rows, a redacted sample)."""
    from . import db, privacy  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    if fmt not in ("table", "json"):
        raise UsageError(f"--format: '{fmt}' is not table or json")
    allow = allowlist or config.project_dir() / "tests" / "pii_allowlist.yml"
    try:
        privacy.load_allowlist(allow)
    except (UnicodeDecodeError, ValueError, AttributeError, TypeError) as exc:
        raise UsageError(f"--allowlist {allow}: not a YAML allow-list ({' '.join(str(exc).split())[:120]})") from None
    with db.connect() as conn:
        if schema:
            held = {
                r[0] for r in conn.execute("select nspname from pg_namespace where nspname = any(%s)", (list(schema),))
            }
            missing = [s_ for s_ in schema if s_ not in held]
            if missing:
                raise UsageError(f"--schema: no schema named {', '.join(repr(m) for m in missing)} in the database")
        r = privacy.check(conn, config.project_dir(), allow, tuple(schema or privacy.DEFAULT_SCHEMAS))
    if fmt == "json":
        print(json.dumps(privacy.to_jsonable(r), indent=2))
    else:
        for f, a in r.allowed:
            out.print(f"allowed  {f.relation}.{f.column} ({f.rule}): {a.reason}", highlight=False)
        for a in r.stale:
            err.print(
                f"[yellow]stale allow-list entry[/yellow] {a.relation}.{a.column}: matches nothing", highlight=False
            )
        for f in r.findings:
            err.print(f"[red]PII[/red] {f.relation}.{f.column} ({f.rule}): {f.detail}", highlight=False, soft_wrap=True)
        out.print(
            f"{r.relations} relations, {r.columns} columns, {r.rows_scanned:,} rows scanned: "
            f"{len(r.findings)} finding(s), {len(r.allowed)} allowed",
            highlight=False,
        )
    if not r.ok:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- lint
@app.command("lint")
@handled
def lint(
    fix: Annotated[
        bool, typer.Option("--fix", help="Let sqlfluff and ruff fix what they can first (rewrites files).")
    ] = False,
    sql: Annotated[bool, typer.Option("--sql/--no-sql", help="Run sqlfluff.")] = True,
    python: Annotated[bool, typer.Option("--python/--no-python", help="Run ruff (lint and format check).")] = True,
    hygiene: Annotated[bool, typer.Option("--hygiene/--no-hygiene", help="Run the manifest hygiene checks.")] = True,
) -> None:
    """sqlfluff + ruff + project conventions (dbt-bouncer: docs, grain, PK tests, naming, layering); exit 1 on a
    violation."""
    from . import lint as lint_mod  # noqa: PLC0415  (a command's module: imported when it runs, so kpi --help stays fast)

    with err.status("linting..."):
        result = lint_mod.run(config.project_dir(), fix=fix, sql=sql, python=python, hygiene=hygiene)
    for v in (*result.sql, *result.python):
        out.print(str(v), highlight=False, soft_wrap=True)
    for f in result.hygiene:
        out.print(str(f), highlight=False, soft_wrap=True)
    if not result.ok:
        raise KpiError(result.summary())
    out.print(result.summary(), highlight=False)


@app.command("docs")
@handled
def docs() -> None:
    """dbt docs generate (needs the database for the catalog); print where the site is."""
    from . import db, runner  # noqa: PLC0415  (imports psycopg: deferred so kpi --help stays fast)

    os.environ.update(db.dbt_env())
    from dbt.cli.main import dbtRunner  # noqa: PLC0415  (dbt: ~2 s import, deferred so kpi --help stays fast)

    res = dbtRunner().invoke(["--quiet", "docs", "generate", *runner.base_args()])
    if not res.success:
        raise KpiError(f"dbt docs generate failed: {' '.join(str(res.exception).split())[:300]}")
    site = config.project_dir() / "target" / "index.html"
    out.print(f"docs: {site}  (serve: dbt docs serve --project-dir {config.project_dir()})", highlight=False)


def main() -> None:  # console-script entry point
    """Entry point of the ``kpi`` console script.

    Click's own usage errors (a missing option, a value of the wrong type, an unknown command
    or option) are printed like every other bad input: ONE line on stderr naming the command,
    exit 2 (Click would draw a multi-line box).

    Raises:
        SystemExit: always, with the command's exit status.
    """
    command = typer.main.get_command(app)
    try:
        code = command.main(prog_name="kpi", standalone_mode=False)
    except click_exc.NoArgsIsHelpError as exc:  # `kpi` or `kpi db` alone: the help (rich prints it itself)
        if exc.format_message().strip():
            sys.stderr.write(exc.format_message().rstrip() + "\n")
        code = 2
    except click_exc.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "kpi"
        message = " ".join(exc.format_message().split())
        err.print(f"[red]error:[/red] {where}: {message} (see `{where} --help`)", highlight=False, soft_wrap=True)
        code = exc.exit_code
    except click_exc.ClickException as exc:
        err.print(f"[red]error:[/red] {' '.join(exc.format_message().split())}", highlight=False, soft_wrap=True)
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt, EOFError):
        err.print("[red]error:[/red] interrupted", highlight=False)
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
