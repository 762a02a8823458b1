"""Retention of ``raw.events_raw``: drop whole monthly partitions past the window.

Seed 004 keeps raw events 90 days. A partition ``[lo, hi)`` is dropped only
when ``hi <= now - retention``: no row it can hold lies inside the window, so a
partition that still has rows inside the window is never touched. With an
export folder each partition is first written to Parquet
(``events_raw_YYYY_MM.parquet``) and the file's row count is checked against
the partition's before the drop; any failure drops nothing.

Each prune is recorded in ``ops.pruned_partitions``; ``kpi backfill`` refuses
days before the newest pruned bound (or the retention horizon, :mod:`kpiwh.retention`),
since re-running them on an empty raw table would erase history the marts still hold.
``kpi partitions prune`` runs the whole retention (:func:`kpiwh.retention.apply`):
dropping partitions is its first step.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from . import contract
from .errors import KpiError, UsageError

OPS_DDL = """
create schema if not exists ops;
create table if not exists ops.pruned_partitions (
    partition_name  text primary key,
    range_start     timestamptz not null,
    range_end       timestamptz not null,
    row_count       bigint not null,
    exported_to     text,
    pruned_at       timestamptz not null default now()
);
"""


@dataclass
class Partition:
    """One monthly partition: name, bounds [start, end) in UTC, row count."""

    name: str
    start: datetime
    end: datetime
    rows: int | None = None


def parse_age(text: str) -> timedelta:
    """Parse ``90d``, ``12w`` or a bare number of days.

    Raises:
        UsageError: anything else.
    """
    m = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text or "")
    if not m or int(m.group(1)) == 0:
        raise UsageError(f"--older-than: '{text}' is not an age like 90d or 12w")
    n = int(m.group(1))
    return timedelta(weeks=n) if m.group(2) == "w" else timedelta(days=n)


def list_partitions(conn: psycopg.Connection) -> list[Partition]:
    """The partitions of raw.events_raw with their bounds, oldest first."""
    rows = conn.execute(
        """
        select c.relname, pg_get_expr(c.relpartbound, c.oid)
        from pg_inherits i
        join pg_class c on c.oid = i.inhrelid
        join pg_class p on p.oid = i.inhparent
        join pg_namespace n on n.oid = p.relnamespace
        where n.nspname = %s and p.relname = %s
        """,
        (contract.RAW_SCHEMA, contract.PARTITIONED_TABLE),
    ).fetchall()
    out = []
    for name, bound in rows:
        m = re.search(r"FROM \('([^']+)'\) TO \('([^']+)'\)", bound or "")
        if not m:  # a DEFAULT partition has no range: never pruned
            continue
        lo, hi = (conn.execute("select %s::timestamptz", (v,)).fetchone()[0] for v in m.groups())
        out.append(Partition(name, lo, hi))
    return sorted(out, key=lambda p: p.start)


def prunable(conn: psycopg.Connection, older_than: timedelta, now: datetime | None = None) -> list[Partition]:
    """Partitions entirely older than ``now - older_than`` (with their row counts)."""
    now = now or datetime.now(UTC)
    cutoff = now - older_than
    parts = [p for p in list_partitions(conn) if p.end <= cutoff]
    for p in parts:
        p.rows = conn.execute(
            sql.SQL("select count(*) from {}").format(sql.Identifier(contract.RAW_SCHEMA, p.name))
        ).fetchone()[0]
    return parts


def _export(conn: psycopg.Connection, part: Partition, folder: Path) -> Path:
    import pyarrow as pa  # noqa: PLC0415  (pyarrow: ~0.2 s import, only when a partition is exported)
    import pyarrow.parquet as pq  # noqa: PLC0415  (pyarrow, as above)

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{part.name}.parquet"
    tmp = target.with_suffix(".parquet.partial")
    cols = [
        r[0]
        for r in conn.execute(
            "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped "
            "order by attnum",
            (f"{contract.RAW_SCHEMA}.{part.name}",),
        )
    ]
    written = 0
    writer = None
    try:
        with conn.transaction(), conn.cursor(name="kpi_export") as cur:
            cur.itersize = 50_000
            cur.execute(
                sql.SQL("select {} from {} order by occurred_at, event_id").format(
                    sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.Identifier(contract.RAW_SCHEMA, part.name)
                )
            )
            while rows := cur.fetchmany(50_000):
                data = {c: [_plain(r[i]) for r in rows] for i, c in enumerate(cols)}
                table = pa.table(data)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table.cast(writer.schema))
                written += len(rows)
        if writer is None:  # empty partition: still leave a file with the schema
            pq.write_table(pa.table({c: pa.array([], pa.string()) for c in cols}), tmp)
        else:
            writer.close()
            writer = None
    except OSError as exc:
        raise KpiError(f"exporting {part.name} to {folder}: {exc.strerror or exc}") from None
    finally:
        if writer is not None:
            writer.close()
    if written != part.rows or pq.ParquetFile(tmp).metadata.num_rows != part.rows:
        tmp.unlink(missing_ok=True)
        raise KpiError(f"exporting {part.name}: wrote {written} rows, partition holds {part.rows}; nothing dropped")
    tmp.replace(target)
    return target


def _plain(v):
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    if hasattr(v, "hex") and type(v).__name__ == "UUID":
        return str(v)
    if type(v).__name__ == "Decimal":
        return float(v)
    return v


def prune(
    conn: psycopg.Connection,
    older_than: timedelta,
    export_dir: Path | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> list[tuple[Partition, Path | None]]:
    """Drop (optionally after exporting) every partition entirely past the retention window.

    Args:
        conn: autocommit connection.
        older_than: retention window (seed 004: 90 days).
        export_dir: write each partition to Parquet here first.
        dry_run: report what would be dropped, change nothing.
        now: reference time (tests); default the current time.
    Returns:
        ``[(partition, exported file or None)]`` in age order.
    Raises:
        KpiError: an export failed (that partition and later ones are kept).
    """
    conn.execute(OPS_DDL)
    done = []
    for part in prunable(conn, older_than, now):
        if dry_run:
            done.append((part, None))
            continue
        path = _export(conn, part, export_dir) if export_dir else None
        with conn.transaction():
            # re-check under lock: nothing inside the window, count unchanged since export
            conn.execute(
                sql.SQL("lock table {} in access exclusive mode").format(sql.Identifier(contract.RAW_SCHEMA, part.name))
            )
            now_rows = conn.execute(
                sql.SQL("select count(*) from {}").format(sql.Identifier(contract.RAW_SCHEMA, part.name))
            ).fetchone()[0]
            if path is not None and now_rows != part.rows:
                raise KpiError(f"{part.name} changed during export ({part.rows} → {now_rows} rows); nothing dropped")
            conn.execute(
                sql.SQL("alter table {} detach partition {}").format(
                    sql.Identifier(contract.RAW_SCHEMA, contract.PARTITIONED_TABLE),
                    sql.Identifier(contract.RAW_SCHEMA, part.name),
                )
            )
            conn.execute(sql.SQL("drop table {}").format(sql.Identifier(contract.RAW_SCHEMA, part.name)))
            conn.execute(
                "insert into ops.pruned_partitions (partition_name, range_start, range_end, row_count, exported_to) "
                "values (%s, %s, %s, %s, %s) on conflict (partition_name) do update set row_count = excluded.row_count,"
                " exported_to = excluded.exported_to, pruned_at = now()",
                (part.name, part.start, part.end, now_rows, str(path) if path else None),
            )
        done.append((part, path))
    return done


def pruned_until(conn: psycopg.Connection) -> datetime | None:
    """Raw events before this instant are gone: the later of the newest pruned partition's end and the
    event cutoff of the retention runs (``ops.retention_runs``); None when nothing was ever pruned."""
    from . import retention  # noqa: PLC0415  (import cycle: retention imports partitions)

    bounds = [retention.horizon(conn)]
    if conn.execute("select to_regclass('ops.pruned_partitions') is not null").fetchone()[0]:
        bounds.append(conn.execute("select max(range_end) from ops.pruned_partitions").fetchone()[0])
    bounds = [b for b in bounds if b is not None]
    return max(bounds) if bounds else None


#: months after the current one ``kpi build`` keeps partitioned (seed 004's weekly maintenance:
#: ``create_events_partition(CURRENT_DATE + INTERVAL '2 months')``)
BUILD_MONTHS_AHEAD = 2


def ensure_ahead(conn: psycopg.Connection, months_ahead: int = BUILD_MONTHS_AHEAD, today=None) -> list[str]:
    """Create the missing partitions of ``raw.events_raw`` for the current month and ``months_ahead`` more.

    What the scheduled run does before it builds (``kpi build``): idempotent (an existing
    partition is left alone), nothing at all while the raw contract does not exist (``kpi init``
    creates it with its partitions).

    Args:
        conn: autocommit connection; the partitions are created in one transaction.
        months_ahead (int): months after the current one (>= 0).
        today (date | None): the current UTC day (tests); default today.
    Returns:
        list[str]: names of the partitions created (empty when all existed).
    Raises:
        UsageError: ``months_ahead`` < 0.
    """
    if months_ahead < 0:
        raise UsageError(f"--partitions-ahead: {months_ahead} is not a number of months >= 0")
    exists = conn.execute(
        "select to_regclass(%s) is not null", (f"{contract.RAW_SCHEMA}.{contract.PARTITIONED_TABLE}",)
    ).fetchone()[0]
    if not exists:
        return []
    today = today or datetime.now(UTC).date()
    with conn.transaction():
        return contract.ensure_partitions(conn, contract.months_ahead(today, months_ahead))
