"""Retention through every layer (seed 004): event-level rows 90 days, daily metrics 2 years, job runs 1 year.

One run (:func:`apply`; ``kpi retention apply``, also what ``kpi partitions
prune`` calls), under the build lock, measured back from ``as_of`` (default
today, UTC — retention is about how long data is kept, not about how old the
newest loaded event is):

* **event-level data**, older than ``event_days`` (default 90): the UTC day
  ``as_of - event_days`` is the first one kept. Whole monthly partitions of
  ``raw.events_raw`` entirely before it are dropped (optionally exported to
  Parquet first, :func:`kpiwh.partitions.prune`); the rows before it left in a
  partition that straddles it are deleted; so are the rows of the event-level
  models: staging (``stg_platform__events``) and every intermediate that keeps
  one row per event, per user-day or per entity lifecycle
  (:data:`EVENT_LEVEL_MODELS`) — a row goes when its NEWEST event time is before
  the cutoff (an order created 100 days ago and completed yesterday stays);
* **daily metrics** (``metrics_daily_*`` marts), rows whose ``metric_date`` is
  before the Monday on or before ``as_of - metrics_years`` (whole ISO weeks go,
  so a weekly rollup never keeps half a week);
* **job-run log** (``ops.etl_job_runs`` and ``ops.etl_job_run_nodes``), runs started
  more than ``job_run_days`` (365) before ``as_of``.

The aggregates (daily, weekly and cohort marts, the per-user activity summary
behind cohort retention) are kept: daily models never recompute a day before the
horizon (macro ``kpi_days_to_process``), ``kpi backfill`` refuses such days, and
the per-user summary keeps its first day and day-N flags that lie before it.
Everything but the partition drops happens in one transaction, recorded in
``ops.retention_runs`` (cut-offs and rows removed per table). Idempotent: a
second run with the same ``as_of`` removes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from . import contract, db, lock, partitions
from .errors import UsageError
from .publish import SHADOW_SUFFIX

# models that keep a row per event, per user-day or per entity lifecycle (incremental, read by the daily
# marts only over the days they recompute). int_user_activity_summary (one row per user: first day and
# day-N flags) is the state of cohort retention, an aggregate input: kept.
EVENT_LEVEL_MODELS = (
    "stg_platform__events",
    "int_events_uncatalogued",
    "int_user_activity_daily",
    "int_calls_lifecycle",
    "int_horoscopes_lifecycle",
    "int_order_decisions_paired",
    "int_orders_lifecycle",
    "int_payment_attempts_paired",
)
METRICS_PREFIX = "metrics_daily_"
# load/processing stamps and the day a corrected event moved FROM: not event times
NOT_EVENT_TIMES = {"staged_at", "_loaded_at", "dbt_loaded_at", "received_at", "previous_event_date"}
TIME_TYPES = {"date": "date", "timestamp with time zone": "timestamptz"}
RUNS_DDL = """
create schema if not exists ops;
create table if not exists ops.retention_runs (
    run_id               bigint generated always as identity primary key,
    applied_at           timestamptz not null default now(),
    as_of                date not null,
    event_retention_days integer not null,
    event_cutoff         timestamptz not null,
    metrics_cutoff       date not null,
    job_runs_cutoff      timestamptz not null,
    rows_removed         bigint not null,
    removed              jsonb not null
);
comment on table ops.retention_runs is
    'One row per retention run (kpi retention apply / kpi partitions prune): the cut-offs applied '
    '(event-level rows before event_cutoff, metrics_daily_* rows before metrics_cutoff, job runs before '
    'job_runs_cutoff) and the rows removed per table (dropped partitions: ops.pruned_partitions).';
"""
RUNS_DDL += contract.admin_only_grant("ops.retention_runs")


@dataclass(frozen=True)
class Policy:
    """How long each kind of data is kept.

    Attributes:
        event_days: event-level rows (raw, staging, event-level intermediates), in days (seed 004: 90).
        metrics_years: ``metrics_daily_*`` rows, in calendar years (seed 004: 2).
        job_run_days: job-run log rows, in days (seed 004: 1 year = 365).
    """

    event_days: int = 90
    metrics_years: int = 2
    job_run_days: int = 365


@dataclass
class Result:
    """What :func:`apply` removed (or would remove, ``dry_run``).

    Attributes:
        as_of: the reference day. event_cutoff: first instant of event-level data kept (UTC midnight).
        metrics_cutoff: first ``metric_date`` kept. job_runs_cutoff: first job-run start kept.
        removed: ``{schema.table: rows}`` deleted, tables with 0 left out.
        partitions: ``[(partition, exported file or None)]`` dropped whole.
    """

    as_of: date
    event_cutoff: datetime
    metrics_cutoff: date
    job_runs_cutoff: datetime
    dry_run: bool
    removed: dict[str, int] = field(default_factory=dict)
    partitions: list = field(default_factory=list)

    @property
    def total(self) -> int:
        """Rows removed over all tables (rows of dropped partitions included)."""
        return sum(self.removed.values()) + sum(p.rows or 0 for p, _ in self.partitions)


def cutoffs(as_of: date, policy: Policy) -> tuple[datetime, date, datetime]:
    """``(event_cutoff, metrics_cutoff, job_runs_cutoff)`` for a reference day.

    Args:
        as_of: the reference UTC day (normally today).
        policy: the retention periods.
    Returns:
        event cutoff = UTC midnight of ``as_of - event_days``; metrics cutoff = the Monday on or before
        ``as_of`` minus ``metrics_years`` calendar years (29 February → 28); job-run cutoff = UTC
        midnight of ``as_of - job_run_days``.
    """
    midnight = datetime.combine(as_of, time(), tzinfo=UTC)
    try:
        back = as_of.replace(year=as_of.year - policy.metrics_years)
    except ValueError:  # 29 February
        back = as_of.replace(year=as_of.year - policy.metrics_years, day=28)
    return (
        midnight - timedelta(days=policy.event_days),
        back - timedelta(days=back.weekday()),
        midnight - timedelta(days=policy.job_run_days),
    )


def horizon(conn: psycopg.Connection) -> datetime | None:
    """First instant of event-level data still kept after the retention runs so far (None: never applied)."""
    if not conn.execute("select to_regclass('ops.retention_runs') is not null").fetchone()[0]:
        return None
    return conn.execute("select max(event_cutoff) from ops.retention_runs").fetchone()[0]


def _columns(conn: psycopg.Connection, schema: str, table: str) -> dict[str, str] | None:
    kind = conn.execute(
        "select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s",
        (schema, table),
    ).fetchone()
    if not kind or kind[0] not in ("r", "p"):
        return None
    return dict(
        conn.execute(
            "select column_name, data_type from information_schema.columns where table_schema = %s and table_name = %s "
            "order by ordinal_position",
            (schema, table),
        ).fetchall()
    )


def _newest_event_time(cols: dict[str, str]) -> sql.Composable | None:
    """``greatest(...)`` of a table's event-time columns as timestamptz (dates at UTC midnight), or None."""
    parts = []
    for name, typ in cols.items():
        if name in NOT_EVENT_TIMES or typ not in TIME_TYPES:
            continue
        col = sql.Identifier(name)
        parts.append(
            col if typ == "timestamp with time zone" else sql.SQL("({}::timestamp at time zone 'UTC')").format(col)
        )
    if not parts:
        return None
    return sql.SQL("greatest({})").format(sql.SQL(", ").join(parts))


def _model_relations(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    """``[(kind, schema, table)]``: the event-level models and the ``metrics_daily_*`` marts in the database.

    Found in the catalog by name (no dbt parse: a retention run stays cheap), in every schema but
    ``raw``, the system ones and a build's shadow schemas (``*__wap``, write-audit-publish).
    """
    rows = conn.execute(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind in ('r', 'p') and not c.relispartition "
        "and n.nspname not in ('pg_catalog', 'information_schema', %s) and right(n.nspname, %s) <> %s "
        "and (c.relname = any(%s) or left(c.relname, %s) = %s)",
        (
            contract.RAW_SCHEMA,
            len(SHADOW_SUFFIX),
            SHADOW_SUFFIX,
            list(EVENT_LEVEL_MODELS),
            len(METRICS_PREFIX),
            METRICS_PREFIX,
        ),
    ).fetchall()
    return sorted(("event" if table in EVENT_LEVEL_MODELS else "metrics", schema, table) for schema, table in rows)


def apply(
    policy: Policy = Policy(),
    *,
    as_of: date | None = None,
    export_dir: Path | None = None,
    dry_run: bool = False,
    wait: bool | None = None,
) -> Result:
    """Apply the retention policy to every layer, under the build lock.

    Args:
        policy: retention periods (:class:`Policy`).
        as_of: reference UTC day; default today.
        export_dir: write each dropped ``events_raw`` partition to ``DIR/<name>.parquet`` first.
        dry_run: count what would go, change nothing.
        wait: queue behind a build holding the lock; None = env ``KPI_LOCK_WAIT``.
    Returns:
        a :class:`Result`.
    Raises:
        UsageError: a period below 1, or no raw contract (``kpi init`` not run).
        LockBusy: a build holds the lock and ``wait`` is false (nothing touched, exit 1).
        KpiError: a partition export failed (that partition and later ones are kept).
    """
    for name, value in (
        ("--older-than", policy.event_days),
        ("--metrics-years", policy.metrics_years),
        ("--job-run-days", policy.job_run_days),
    ):
        if value < 1:
            raise UsageError(f"{name}: {value} is not a positive retention period")
    as_of = as_of or datetime.now(UTC).date()
    event_cutoff, metrics_cutoff, jobs_cutoff = cutoffs(as_of, policy)
    res = Result(as_of, event_cutoff, metrics_cutoff, jobs_cutoff, dry_run)
    with lock.build_lock("kpi retention apply", wait):
        with db.connect() as conn:
            if not conn.execute("select to_regclass('raw.events_raw') is not null").fetchone()[0]:
                raise UsageError("raw.events_raw does not exist: run `kpi init` first")
            # whole partitions first (each exported, checked and dropped in its own transaction)
            res.partitions = partitions.prune(
                conn,
                timedelta(days=policy.event_days),
                export_dir,
                dry_run,
                now=event_cutoff + timedelta(days=policy.event_days),
            )
        with db.connect() as conn:
            relations = _model_relations(conn)
            steps: list[tuple[str, sql.Composable, list]] = []
            raw = sql.Identifier(contract.RAW_SCHEMA, contract.PARTITIONED_TABLE)
            steps.append(
                (
                    f"{contract.RAW_SCHEMA}.{contract.PARTITIONED_TABLE}",
                    sql.SQL("{} where occurred_at < %s").format(raw),
                    [event_cutoff],
                )
            )
            for kind, schema, table in relations:
                cols = _columns(conn, schema, table)
                if cols is None:
                    continue
                ident = sql.Identifier(schema, table)
                if kind == "event":
                    newest = _newest_event_time(cols)
                    if newest is not None:
                        steps.append(
                            (f"{schema}.{table}", sql.SQL("{} where {} < %s").format(ident, newest), [event_cutoff])
                        )
                elif "metric_date" in cols:
                    steps.append(
                        (f"{schema}.{table}", sql.SQL("{} where metric_date < %s").format(ident), [metrics_cutoff])
                    )
            if conn.execute("select to_regclass('ops.etl_job_runs') is not null").fetchone()[0]:
                old_runs = sql.SQL("select invocation_id from ops.etl_job_runs where started_at < %s")
                steps.append(
                    (
                        "ops.etl_job_run_nodes",
                        sql.SQL("ops.etl_job_run_nodes where invocation_id in ({})").format(old_runs),
                        [jobs_cutoff],
                    )
                )
                steps.append(("ops.etl_job_runs", sql.SQL("ops.etl_job_runs where started_at < %s"), [jobs_cutoff]))
            with conn.transaction():
                for rel, target, params in steps:
                    if dry_run:
                        n = conn.execute(sql.SQL("select count(*) from {}").format(target), params).fetchone()[0]
                    else:
                        n = conn.execute(sql.SQL("delete from {}").format(target), params).rowcount
                    if n:
                        res.removed[rel] = n
                if not dry_run:
                    conn.execute(RUNS_DDL)
                    removed = dict(res.removed)
                    for p, _ in res.partitions:
                        removed[f"{contract.RAW_SCHEMA}.{p.name} (dropped)"] = p.rows or 0
                    conn.execute(
                        "insert into ops.retention_runs (as_of, event_retention_days, event_cutoff, metrics_cutoff, "
                        "job_runs_cutoff, rows_removed, removed) values (%s, %s, %s, %s, %s, %s, %s)",
                        (
                            as_of,
                            policy.event_days,
                            event_cutoff,
                            metrics_cutoff,
                            jobs_cutoff,
                            res.total,
                            json.dumps(removed),
                        ),
                    )
    return res


def pruned_before(conn: psycopg.Connection) -> datetime | None:
    """The latest event cut-off of a retention run that removed rows, or None (never pruned).

    A ``--full-refresh`` after such a run would recompute the daily marts from the events kept
    since that cut-off and lose their earlier days (``kpi build`` refuses it unless
    ``--allow-history-loss``).

    Args:
        conn (psycopg.Connection): a connection to the warehouse.
    Returns:
        datetime | None: the cut-off (timestamptz), None when ops.retention_runs does not exist
        or no run removed a row.
    """
    if conn.execute("select to_regclass('ops.retention_runs')").fetchone()[0] is None:
        return None
    return conn.execute("select max(event_cutoff) from ops.retention_runs where rows_removed > 0").fetchone()[0]
