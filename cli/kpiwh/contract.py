"""The raw contract: DDL kept in ``sql/raw_contract.sql`` (read by :mod:`kpiwh.raw_ddl`), and monthly partitions.

``events_raw`` is range-partitioned by month on ``occurred_at``; a partition is
named ``raw.events_raw_YYYY_MM`` and covers ``[first of month, first of next month)``
in UTC. There is no default partition: the loader creates the partitions a
file needs before it writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg import sql

from .raw_ddl import RAW_SCHEMA, ddl

PARTITIONED_TABLE = "events_raw"


def apply(conn: psycopg.Connection) -> None:
    """Create schema ``raw`` and every contract table if missing, in one transaction.

    Args:
        conn: an open connection (committed here).
    """
    with conn.transaction():
        conn.execute("set local client_min_messages = warning")
        conn.execute(ddl())


@dataclass(frozen=True)
class Column:
    """One contract column.

    Attributes:
        name: column name. type: PostgreSQL type as ``format_type`` prints it.
        required: NOT NULL without a default (a file must provide it).
        default: SQL default of a NOT NULL column, used when a file leaves it empty.
    """

    name: str
    type: str
    required: bool
    default: str | None = None


@dataclass(frozen=True)
class Table:
    """One contract table: its columns in DDL order (``_loaded_at`` excluded) and primary key."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

    def column(self, name: str) -> Column | None:
        """Return the column called ``name`` or None."""
        return next((c for c in self.columns if c.name == name), None)


def tables(conn: psycopg.Connection) -> dict[str, Table]:
    """Read the contract tables from the catalog (partitions excluded).

    Returns:
        ``{table_name: Table}`` for every table of schema ``raw``.
    """
    rows = conn.execute(
        """
        select c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
               a.attnotnull and not a.atthasdef and a.attidentity = '',
               coalesce(a.attnum = any (pk.conkey), false),
               case when a.attnotnull then pg_get_expr(d.adbin, d.adrelid) end
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        left join pg_constraint pk on pk.conrelid = c.oid and pk.contype = 'p'
        left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
        where n.nspname = %s and c.relkind in ('r', 'p') and not c.relispartition
        order by c.relname, a.attnum
        """,
        (RAW_SCHEMA,),
    ).fetchall()
    cols: dict[str, list[Column]] = {}
    pks: dict[str, list[str]] = {}
    for rel, name, typ, required, in_pk, default in rows:
        if name.startswith("_"):
            continue
        cols.setdefault(rel, []).append(Column(name, typ, bool(required), default))
        if in_pk:
            pks.setdefault(rel, []).append(name)
    return {rel: Table(rel, tuple(c), tuple(pks.get(rel, ()))) for rel, c in cols.items()}


def partition_name(month: date) -> str:
    """Return ``events_raw_YYYY_MM`` for the month containing ``month``."""
    return f"{PARTITIONED_TABLE}_{month.year:04d}_{month.month:02d}"


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def ensure_partitions(conn: psycopg.Connection, months: set[date] | list[date]) -> list[str]:
    """Create the monthly partitions of ``raw.events_raw`` that are missing.

    Args:
        conn: open connection; runs in the caller's transaction if one is open.
        months: any dates; each stands for its calendar month (UTC).
    Returns:
        names of the partitions created (empty when all existed).
    """
    existing = {
        r[0]
        for r in conn.execute(
            """select c.relname from pg_inherits i
               join pg_class c on c.oid = i.inhrelid
               join pg_class p on p.oid = i.inhparent
               join pg_namespace n on n.oid = p.relnamespace
               where n.nspname = %s and p.relname = %s""",
            (RAW_SCHEMA, PARTITIONED_TABLE),
        )
    }
    created = []
    for m in sorted({date(d.year, d.month, 1) for d in months}):
        name = partition_name(m)
        if name in existing:
            continue
        conn.execute(
            sql.SQL("create table if not exists {part} partition of {parent} for values from ({lo}) to ({hi})").format(
                part=sql.Identifier(RAW_SCHEMA, name),
                parent=sql.Identifier(RAW_SCHEMA, PARTITIONED_TABLE),
                lo=sql.Literal(f"{m.isoformat()} 00:00:00+00"),
                hi=sql.Literal(f"{_next_month(m).isoformat()} 00:00:00+00"),
            )
        )
        created.append(name)
    return created


def months_ahead(today: date, n: int) -> list[date]:
    """Return the first day of the current month and the ``n`` following months."""
    out, m = [], date(today.year, today.month, 1)
    for _ in range(n + 1):
        out.append(m)
        m = _next_month(m)
    return out


def admin_only_grant(relation: str) -> str:
    """SQL granting SELECT on an operational table to ``kpi_admin`` only, when that role exists.

    Seed 004's access matrix: operational logs (receipts, run logs) are admin only
    (docs/security.md); a server without the kpi_* roles (``kpi_security: false``) gets nothing.

    Args:
        relation (str): ``schema.table``, a trusted constant of the CLI (not user input).
    Returns:
        str: a ``do`` block, to append to a DDL script.
    """
    return f"""
-- seed 004's matrix: operational logs are admin only (docs/security.md)
do $$
begin
    if exists (select 1 from pg_roles where rolname = 'kpi_admin') then
        grant select on {relation} to kpi_admin;
    end if;
end
$$;
"""
