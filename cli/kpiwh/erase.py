"""Right to erasure (seed 004 privacy): remove one user's events and rebuild what they fed.

``user_id`` in ``raw.events_raw`` is a pseudonymous id, but it is still
personal data: a user may ask for it to be erased. :func:`erase`

1. finds every base table that holds the user: ``raw.events_raw`` and each
   table built downstream of the ``platform.events_raw`` source (dbt's
   manifest's child map, i.e. ``source:platform.events_raw+``) that exists in the database,
   matched on ANY text column equal to the id — the models rename it
   (``customer_id`` in the loyalty marts, ``mechanic_id`` for partners), so
   matching by value finds them without a hand-kept list. Views need nothing:
   they read the tables;
2. finds the UTC days the user has events on (raw and staging);
3. deletes every such row in ONE transaction and records the request in
   ``ops.erasure_log`` (a SHA-256 of the id, never the id itself);
4. rebuilds the affected days of the daily models with a backfill over
   ``[first day, last day + ROLLING_DAYS)`` (capped at the data's last day):
   DAU changes on the user's own days, WAU/MAU on the 30 days after them. Only
   the tables downstream of the events source are rebuilt (alert models
   excepted, as in ``kpi backfill``); whole-history tables (cohort retention,
   weekly rollups) are rebuilt whole. Days before the pruned-partition horizon
   are not rebuilt (raw no longer holds them; their staging rows are deleted,
   the marts keep the anonymous aggregates) and are reported;
5. reports Parquet archives written by ``kpi partitions prune --export``
   (``ops.pruned_partitions.exported_to``) that still hold the user: they are
   outside the warehouse and are NOT modified (see docs/DECISIONLOG.md).

Idempotent: a second erase finds nothing, deletes nothing, rebuilds nothing.
An id with no row anywhere (unknown, or already erased) is not an error.
"""

from __future__ import annotations

import json

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from . import contract, partitions
from .errors import KpiError, UsageError

EVENTS_SOURCE = ".platform.events_raw"  # suffix of the source's unique_id
# longest look-back of a daily model over the event log: MAU (metrics_daily_engagement) counts
# users active in the 30 days ending on the metric day, so a user's day D weighs on D .. D+29
ROLLING_DAYS = 30
TEXT_TYPES = ("text", "character varying", "character")
ERASURE_LOG_DDL = """
create schema if not exists ops;
create table if not exists ops.erasure_log (
    user_id_sha256  text not null,
    erased_at       timestamptz not null default now(),
    rows_deleted    bigint not null,
    days_rebuilt    text,
    primary key (user_id_sha256, erased_at)
);
"""


@dataclass
class ErasureResult:
    """What :func:`erase` found and did.

    Attributes:
        user_id: the id erased. dry_run: nothing was changed.
        deleted: ``{schema.table: rows}`` deleted (or that would be), tables with 0 left out.
        days: UTC days the user had events on.
        rebuilt: ``(start, end)`` rebuilt (end exclusive), None when nothing was rebuilt.
        not_rebuilt: user days before the pruned horizon (marts keep their anonymous aggregates).
        exports: ``[(parquet file, rows of the user)]`` archives that still hold the user (not modified).
        previously_erased_at: last earlier erasure of this id (``ops.erasure_log``), if any.
    """

    user_id: str
    dry_run: bool
    deleted: dict[str, int] = field(default_factory=dict)
    days: list[date] = field(default_factory=list)
    rebuilt: tuple[date, date] | None = None
    not_rebuilt: list[date] = field(default_factory=list)
    exports: list[tuple[Path, int]] = field(default_factory=list)
    previously_erased_at: datetime | None = None

    @property
    def total(self) -> int:
        """Rows deleted (or that would be) over all tables."""
        return sum(self.deleted.values())


def user_hash(user_id: str) -> str:
    """SHA-256 hex of the id: what the erasure log keeps instead of the id."""
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()


def _base_tables(conn: psycopg.Connection, relations: list[tuple[str, str]]) -> list[tuple[str, str, list[str]]]:
    """``(schema, table, text columns)`` of the relations that are tables in the database (columns may be [])."""
    out = []
    for schema, table in relations:
        kind = conn.execute(
            "select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relname = %s", (schema, table)).fetchone()
        if not kind or kind[0] not in ("r", "p"):
            continue
        cols = [r[0] for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
            "and data_type = any(%s) order by ordinal_position", (schema, table, list(TEXT_TYPES)))]
        out.append((schema, table, cols))
    return out


def _where(cols: list[str], user_id: str) -> tuple[sql.Composable, list[str]]:
    cond = sql.SQL(" or ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in cols)
    return cond, [user_id] * len(cols)


def downstream_relations(manifest) -> list[tuple[str, str, str | None]]:
    """Tables built from the events source: ``[(schema, alias, model name to rebuild or None)]``.

    Relations of models and snapshots downstream of ``platform.events_raw``
    materialised as anything but a view or ephemeral. The model name is None
    for snapshots and the alert models (``tag:alerts``, evaluated at an
    instant by ``kpi alerts --evaluate``): their rows are erased, not rebuilt.
    """
    if not manifest.child_map:
        manifest.build_parent_and_child_maps()
    ids: set[str] = set()
    todo = [k for k in manifest.sources if k.endswith(EVENTS_SOURCE)]
    while todo:  # everything downstream of the source (dbt's `source:platform.events_raw+`)
        for child in manifest.child_map.get(todo.pop(), []):
            if child not in ids:
                ids.add(child)
                todo.append(child)
    out = []
    for uid in sorted(ids):
        node = manifest.nodes.get(uid)
        if node is None or node.resource_type not in ("model", "snapshot"):
            continue
        mat = node.config.get("materialized") if hasattr(node.config, "get") else node.config.materialized
        if mat in ("view", "ephemeral"):
            continue
        rebuild = node.resource_type == "model" and "alerts" not in (node.tags or [])
        out.append((node.schema, node.alias, node.name if rebuild else None))
    return out


def _user_days(conn: psycopg.Connection, user_id: str, staging: tuple[str, str] | None) -> list[date]:
    days = {r[0] for r in conn.execute(sql.SQL(
        "select distinct (occurred_at at time zone 'UTC')::date from {} where user_id = %s").format(
            sql.Identifier(contract.RAW_SCHEMA, contract.PARTITIONED_TABLE)), (user_id,))}
    if staging is not None:
        days |= {r[0] for r in conn.execute(sql.SQL(
            "select distinct event_date from {} where user_id = %s").format(sql.Identifier(*staging)), (user_id,))}
    return sorted(days)


def _exports_holding(conn: psycopg.Connection, user_id: str) -> list[tuple[Path, int]]:
    if not conn.execute("select to_regclass('ops.pruned_partitions') is not null").fetchone()[0]:
        return []
    out = []
    for (path,) in conn.execute(
            "select exported_to from ops.pruned_partitions where exported_to is not null order by range_start"):
        p = Path(path)
        if not p.is_file():
            continue
        import pyarrow.compute as pc  # noqa: PLC0415
        import pyarrow.parquet as pq  # noqa: PLC0415

        try:
            col = pq.read_table(p, columns=["user_id"]).column("user_id")
        except (OSError, KeyError, ValueError) as exc:
            raise KpiError(f"reading archive {p}: {' '.join(str(exc).split())[:200]}") from None
        n = pc.sum(pc.equal(col, user_id)).as_py() or 0
        if n:
            out.append((p, n))
    return out


def _previously_erased_at(conn: psycopg.Connection, user_id: str) -> datetime | None:
    if not conn.execute("select to_regclass('ops.erasure_log') is not null").fetchone()[0]:
        return None
    return conn.execute("select max(erased_at) from ops.erasure_log where user_id_sha256 = %s",
                        (user_hash(user_id),)).fetchone()[0]


def _nothing_held(conn: psycopg.Connection, user_id: str) -> bool:
    """True when no model can hold the user, decided without dbt's manifest.

    Every model row about a user derives from ``raw.events_raw``; while raw
    and every ``user_id`` column of a base table hold no row of the user, a
    renamed column (``customer_id``, ``mechanic_id``) can only still hold one
    when raw was pruned after the user's rows reached the models — so the
    shortcut is taken only when nothing was ever pruned, or when this id was
    already erased (``ops.erasure_log``).
    """
    if conn.execute(sql.SQL("select exists (select 1 from {} where user_id = %s)").format(
            sql.Identifier(contract.RAW_SCHEMA, contract.PARTITIONED_TABLE)), (user_id,)).fetchone()[0]:
        return False
    for schema, table in conn.execute(
            "select c.table_schema, c.table_name from information_schema.columns c "
            "join information_schema.tables t using (table_schema, table_name) "
            "where c.column_name = 'user_id' and t.table_type = 'BASE TABLE' "
            "and c.table_schema not in ('pg_catalog', 'information_schema', %s) "
            "and not exists (select 1 from pg_inherits i join pg_class k on k.oid = i.inhrelid "
            "  join pg_namespace n on n.oid = k.relnamespace "
            "  where n.nspname = c.table_schema and k.relname = c.table_name)",
            (contract.RAW_SCHEMA,)).fetchall():
        if conn.execute(sql.SQL("select exists (select 1 from {} where user_id::text = %s)").format(
                sql.Identifier(schema, table)), (user_id,)).fetchone()[0]:
            return False
    return partitions.pruned_until(conn) is None or _previously_erased_at(conn, user_id) is not None


def erase(user_id: str, *, dry_run: bool = False, console=None) -> ErasureResult:
    """Erase one user's rows from the warehouse and rebuild the days they affected.

    Args:
        user_id: the pseudonymous ``events_raw.user_id`` (exact match, surrounding spaces ignored).
        dry_run: only report what would be deleted and rebuilt.
        console: Rich console for the rebuild's progress (stderr by default).
    Returns:
        an :class:`ErasureResult` (``total == 0``: nothing held for this id).
    Raises:
        UsageError: empty id, or no raw contract (``kpi init`` not run).
        KpiError: the rebuild failed after the rows were deleted (message says how to finish).
    """
    from . import db, runner  # noqa: PLC0415

    user_id = (user_id or "").strip()
    if not user_id:
        raise UsageError("--user-id: empty id")
    res = ErasureResult(user_id=user_id, dry_run=dry_run)
    with db.connect() as conn:
        if not conn.execute("select to_regclass('raw.events_raw') is not null").fetchone()[0]:
            raise UsageError("raw.events_raw does not exist: run `kpi init` first")
        if _nothing_held(conn, user_id):  # fast path (no dbt parse): unknown or already erased
            res.exports = _exports_holding(conn, user_id)
            res.previously_erased_at = _previously_erased_at(conn, user_id)
            return res
    manifest = runner.parse()
    downstream = downstream_relations(manifest)
    with db.connect() as conn:
        tables = _base_tables(conn, [(s, t) for s, t, _ in downstream])
        targets = [(contract.RAW_SCHEMA, contract.PARTITIONED_TABLE, ["user_id"]), *[t for t in tables if t[2]]]
        existing = {(s, t) for s, t, _ in tables}
        # only tables this database has: a warehouse built from a selection rebuilds no more
        rebuild_names = [name for s, t, name in downstream if name and (s, t) in existing]
        staging = next(((s, t) for s, t, cols in targets if t == "stg_platform__events" and "user_id" in cols), None)
        res.days = _user_days(conn, user_id, staging)
        res.exports = _exports_holding(conn, user_id)
        res.previously_erased_at = _previously_erased_at(conn, user_id)
        horizon = partitions.pruned_until(conn)
        data_end = None
        if staging is not None:
            data_end = conn.execute(sql.SQL("select max(event_date) from {}").format(
                sql.Identifier(*staging))).fetchone()[0]

        def count_or_delete(verb: str) -> None:
            for schema, table, cols in targets:
                cond, params = _where(cols, user_id)
                q = sql.SQL("select count(*) from {} where {}" if verb == "count" else
                            "delete from {} where {}").format(sql.Identifier(schema, table), cond)
                cur = conn.execute(q, params)
                n = cur.fetchone()[0] if verb == "count" else cur.rowcount
                if n:
                    res.deleted[f"{schema}.{table}"] = n

        if dry_run:
            count_or_delete("count")
        else:
            with conn.transaction():
                count_or_delete("delete")
                if res.deleted:
                    conn.execute(ERASURE_LOG_DDL)
                    conn.execute("insert into ops.erasure_log (user_id_sha256, rows_deleted, days_rebuilt) "
                                 "values (%s, %s, %s)", (user_hash(user_id), res.total,
                                                         ",".join(d.isoformat() for d in res.days) or None))

    days = [d for d in res.days if horizon is None or d >= horizon.date()]
    res.not_rebuilt = [d for d in res.days if d not in days]
    if not days or not rebuild_names or (not res.deleted and not dry_run):
        return res
    start = days[0]
    end = days[-1] + timedelta(days=ROLLING_DAYS)
    if data_end is not None:
        end = max(min(end, data_end + timedelta(days=1)), days[-1] + timedelta(days=1))
    res.rebuilt = (start, end)
    if dry_run:
        return res
    cmd = ["build", "--indirect-selection", "cautious", "--select", " ".join(rebuild_names),
           "--vars", json.dumps({"kpi_backfill_start": start.isoformat(), "kpi_backfill_end": end.isoformat()})]
    try:
        runner.invoke(cmd, console=console, manifest=manifest)
    except KpiError as exc:
        raise KpiError(f"deleted {res.total:,} row(s) of user {user_id}, but rebuilding {start} .. {end} failed "
                       f"({exc}); finish with `kpi backfill --start {start} --end {end}`") from None
    return res
