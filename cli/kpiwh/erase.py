"""Right to erasure: remove one data subject from every layer and rebuild what they fed.

Three kinds of subject, one per identifier namespace of the raw contract:

* ``user`` (``kpi erase --user-id U``): the pseudonymous ``raw.events_raw.user_id``
  — a platform user (seed 004) and a loyalty customer (seed 000, whose marts
  rename it ``customer_id``) alike; partner mechanics are users too;
* ``customer`` (``kpi erase --organization-id O --customer-id C``): a bookings
  customer (seed 002), whose id is unique only within its organization: the
  ``raw.customers`` row with its name, e-mail and phone, the referral profile,
  the customer's bookings (notes included) and the payments of the customer or
  of their bookings;
* ``party`` (``kpi erase --party-id P``): a marketplace buyer or seller
  (seed 003). A deal is a two-party escrow contract with ledger entries, so it
  is kept: its ``buyer_id`` / ``seller_id`` equal to the id are set to NULL
  (in raw and in any table downstream holding them); only the models that name
  those columns are rebuilt.

:func:`erase`, under the build lock (:mod:`kpiwh.lock`; refused with exit 1
while a build holds it, unless ``wait``), and first completing any erasure left
pending by an earlier run:

1. finds the rows: raw tables by the kind's keys; then every table built
   downstream of the kind's sources (dbt manifest's child map; views read the
   tables) — user rows matched on any text column equal to the id (models rename
   it), customer rows by organization and customer/booking/payment id columns;
2. in ONE transaction deletes them (nulls the party columns) and writes the
   receipt ``ops.erasure_receipts`` with status ``pending``: kind, SHA-256 of
   the subject, rows removed per table, the rebuild to do — never the id;
3. rebuilds the models downstream of those sources (a backfill window over the
   subject's days for the daily models) and marks the receipt ``done``. If the
   rebuild fails or the process dies, the receipt stays ``pending`` and the next
   ``kpi build`` (or ``kpi erase``) runs its rebuild before anything else.

Idempotent: a second erase finds nothing, deletes nothing, rebuilds nothing
(exit 0, "nothing held"). Parquet archives of pruned partitions that still hold
a user are reported, not rewritten (docs/DECISIONLOG.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from . import contract, db, lock, partitions, runner
from .errors import KpiError, UsageError

EVENTS_SOURCE = ".platform.events_raw"  # suffix of the source's unique_id
BOOKINGS_SOURCES = (".bookings.customers", ".bookings.bookings", ".bookings.payments", ".bookings.referral_profiles")
DEALS_SOURCE = ".marketplace.deals"
# longest look-back of a daily model over the event log: MAU (metrics_daily_engagement) counts
# users active in the 30 days ending on the metric day, so a user's day D weighs on D .. D+29
ROLLING_DAYS = 30
TEXT_TYPES = ("text", "character varying", "character")
KINDS = ("user", "customer", "party")
RECEIPTS_DDL = """
create schema if not exists ops;
create table if not exists ops.erasure_receipts (
    receipt_id       bigint generated always as identity primary key,
    subject_kind     text not null check (subject_kind in ('user', 'customer', 'party')),
    subject_sha256   text not null,
    requested_at     timestamptz not null default now(),
    completed_at     timestamptz,
    status           text not null check (status in ('pending', 'done')),
    rows_removed     bigint not null,
    removed          jsonb not null,
    rebuild          jsonb,
    days_not_rebuilt text
);
create index if not exists erasure_receipts_subject_idx on ops.erasure_receipts (subject_sha256);
comment on table ops.erasure_receipts is
    'One row per erasure that removed something (kpi erase): subject kind, SHA-256 of the subject '
    '(never the id), rows removed per table, the rebuild it needs; pending until that rebuild ran.';
"""
RECEIPTS_DDL += contract.admin_only_grant("ops.erasure_receipts")


@dataclass(frozen=True)
class Subject:
    """A data subject to erase.

    Attributes:
        kind: ``user`` | ``customer`` | ``party`` (see the module docstring).
        key: the id parts: ``(user_id,)``, ``(organization_id, customer_id)`` or ``(party_id,)``.
    """

    kind: str
    key: tuple[str, ...]

    @property
    def label(self) -> str:
        """How messages name the subject (shown to the operator, never stored)."""
        if self.kind == "customer":
            return f"customer {self.key[1]} of organization {self.key[0]}"
        return f"{self.kind} {self.key[0]}"

    @property
    def sha256(self) -> str:
        """SHA-256 hex of ``json.dumps([kind, *key])``: what the receipt keeps instead of the id."""
        return hashlib.sha256(json.dumps([self.kind, *self.key]).encode("utf-8")).hexdigest()


def subject(kind: str, *key: str | None) -> Subject:
    """Build a :class:`Subject`, ids stripped of surrounding spaces.

    Raises:
        UsageError: unknown kind, wrong number of id parts, or an empty id.
    """
    if kind not in KINDS:
        raise UsageError(f"unknown subject kind '{kind}' (one of {', '.join(KINDS)})")
    names = {"user": ("--user-id",), "customer": ("--organization-id", "--customer-id"), "party": ("--party-id",)}[kind]
    if len(key) != len(names):
        raise UsageError(f"a {kind} is given by {' and '.join(names)}")
    parts = tuple((k or "").strip() for k in key)
    for name, part in zip(names, parts):
        if not part:
            raise UsageError(f"{name}: empty id")
    return Subject(kind, parts)


@dataclass
class ErasureResult:
    """What :func:`erase` found and did.

    Attributes:
        subject: the subject erased. dry_run: nothing was changed.
        deleted: ``{schema.table: rows}`` removed (or that would be; nulled party columns count their rows).
        days: UTC days the subject had rows on (events, bookings, payments, deals).
        rebuilt: ``(start, end)`` window rebuilt for the daily models (end exclusive), or None.
        rebuilt_models: the models rebuilt (empty when nothing was).
        not_rebuilt: user days before the retention/pruned horizon (marts keep anonymous aggregates).
        exports: ``[(parquet file, rows of the user)]`` archives that still hold the user (not modified).
        previously_erased_at: last earlier erasure of this subject (``ops.erasure_receipts``), if any.
        completed_pending: receipts of earlier erasures whose pending rebuild this run completed.
    """

    subject: Subject
    dry_run: bool
    deleted: dict[str, int] = field(default_factory=dict)
    days: list[date] = field(default_factory=list)
    rebuilt: tuple[date, date] | None = None
    rebuilt_models: list[str] = field(default_factory=list)
    not_rebuilt: list[date] = field(default_factory=list)
    exports: list[tuple[Path, int]] = field(default_factory=list)
    previously_erased_at: datetime | None = None
    completed_pending: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Rows removed (or that would be) over all tables."""
        return sum(self.deleted.values())


def user_hash(user_id: str) -> str:
    """SHA-256 hex a user's receipt keeps (``Subject('user', (user_id,)).sha256``)."""
    return Subject("user", (user_id,)).sha256


# --------------------------------------------------------------------------- catalog helpers
def _table_columns(conn: psycopg.Connection, schema: str, table: str) -> tuple[list[str], list[str]] | None:
    """``(text columns, all columns)`` of a base/partitioned table, or None when it is not one."""
    kind = conn.execute(
        "select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s",
        (schema, table),
    ).fetchone()
    if not kind or kind[0] not in ("r", "p"):
        return None
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns where table_schema = %s and table_name = %s "
        "order by ordinal_position",
        (schema, table),
    ).fetchall()
    return [c for c, t in rows if t in TEXT_TYPES], [c for c, _ in rows]


def _downstream(manifest, source_suffixes: tuple[str, ...]) -> list[tuple[str, str, str | None]]:
    """Tables built from the given sources: ``[(schema, alias, model name to rebuild or None)]``.

    Relations of models and snapshots downstream of any source whose unique_id
    ends with one of ``source_suffixes`` (dbt's ``source:x+``), materialised as
    anything but a view or ephemeral. The model name is None for snapshots and
    the alert models (``tag:alerts``, evaluated at an instant by ``kpi alerts
    --evaluate``): their rows are erased, not rebuilt.
    """
    if not manifest.child_map:
        manifest.build_parent_and_child_maps()
    ids: set[str] = set()
    todo = [k for k in manifest.sources if k.endswith(source_suffixes)]
    while todo:
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


def downstream_relations(manifest) -> list[tuple[str, str, str | None]]:
    """Tables built from the events source (see :func:`_downstream`)."""
    return _downstream(manifest, (EVENTS_SOURCE,))


def _exports_holding(conn: psycopg.Connection, user_id: str) -> list[tuple[Path, int]]:
    if not conn.execute("select to_regclass('ops.pruned_partitions') is not null").fetchone()[0]:
        return []
    out = []
    for (path,) in conn.execute(
        "select exported_to from ops.pruned_partitions where exported_to is not null order by range_start"
    ):
        p = Path(path)
        if not p.is_file():
            continue
        import pyarrow.compute as pc  # noqa: PLC0415  (pyarrow: ~0.2 s import, only when a Parquet archive exists)
        import pyarrow.parquet as pq  # noqa: PLC0415  (pyarrow, as above)

        try:
            col = pq.read_table(p, columns=["user_id"]).column("user_id")
        except (OSError, KeyError, ValueError) as exc:
            raise KpiError(f"reading archive {p}: {' '.join(str(exc).split())[:200]}") from None
        n = pc.sum(pc.equal(col, user_id)).as_py() or 0
        if n:
            out.append((p, n))
    return out


def _previously_erased_at(conn: psycopg.Connection, subj: Subject) -> datetime | None:
    if not conn.execute("select to_regclass('ops.erasure_receipts') is not null").fetchone()[0]:
        return None
    return conn.execute(
        "select max(requested_at) from ops.erasure_receipts where subject_sha256 = %s", (subj.sha256,)
    ).fetchone()[0]


def _user_nothing_held(conn: psycopg.Connection, subj: Subject) -> bool:
    """True when no model can hold the user, decided without dbt's manifest.

    Every model row about a user derives from ``raw.events_raw``; while raw
    and every ``user_id`` column of a base table hold no row of the user, a
    renamed column (``customer_id``, ``mechanic_id``) can only still hold one
    when raw was pruned after the user's rows reached the models — so the
    shortcut is taken only when nothing was ever pruned, or when this id was
    already erased.
    """
    user_id = subj.key[0]
    if conn.execute(
        sql.SQL("select exists (select 1 from {} where user_id = %s)").format(
            sql.Identifier(contract.RAW_SCHEMA, contract.PARTITIONED_TABLE)
        ),
        (user_id,),
    ).fetchone()[0]:
        return False
    for schema, table in conn.execute(
        "select c.table_schema, c.table_name from information_schema.columns c "
        "join information_schema.tables t using (table_schema, table_name) "
        "where c.column_name = 'user_id' and t.table_type = 'BASE TABLE' "
        "and c.table_schema not in ('pg_catalog', 'information_schema', %s) "
        "and not exists (select 1 from pg_inherits i join pg_class k on k.oid = i.inhrelid "
        "  join pg_namespace n on n.oid = k.relnamespace "
        "  where n.nspname = c.table_schema and k.relname = c.table_name)",
        (contract.RAW_SCHEMA,),
    ).fetchall():
        if conn.execute(
            sql.SQL("select exists (select 1 from {} where user_id::text = %s)").format(sql.Identifier(schema, table)),
            (user_id,),
        ).fetchone()[0]:
            return False
    return partitions.pruned_until(conn) is None or _previously_erased_at(conn, subj) is not None


def _raw_holds(conn: psycopg.Connection, subj: Subject) -> bool:
    """Whether a raw table still holds a bookings customer or a marketplace party.

    Models only ever hold what raw held; after an erasure, raw holding nothing
    means nothing was reloaded since, and the models were cleaned then.
    """
    if subj.kind == "party":
        return conn.execute(
            "select exists (select 1 from raw.deals where buyer_id = %s or seller_id = %s)", (subj.key[0], subj.key[0])
        ).fetchone()[0]
    org, cust = subj.key
    return any(
        conn.execute(
            sql.SQL(
                "select exists (select 1 from {} where trim(organization_id) = %s and nullif(trim(customer_id), '') = %s)"
            ).format(sql.Identifier("raw", t)),
            (org, cust),
        ).fetchone()[0]
        for t in ("customers", "bookings", "payments", "referral_profiles")
    )


# --------------------------------------------------------------------------- plans
@dataclass
class _Step:
    """One statement of an erasure: delete rows, or set ``null_columns`` to NULL, where ``cond``."""

    schema: str
    table: str
    cond: sql.Composable
    params: list
    null_columns: tuple[str, ...] = ()
    null_value: str | None = None  # the id a nulled column must equal

    def count(self, conn: psycopg.Connection) -> int:
        return conn.execute(
            sql.SQL("select count(*) from {} where {}").format(sql.Identifier(self.schema, self.table), self.cond),
            self.params,
        ).fetchone()[0]

    def apply(self, conn: psycopg.Connection) -> int:
        if self.null_columns:
            sets = sql.SQL(", ").join(
                sql.SQL("{c} = case when {c} = %s then null else {c} end").format(c=sql.Identifier(c))
                for c in self.null_columns
            )
            q = sql.SQL("update {} set {} where {}").format(sql.Identifier(self.schema, self.table), sets, self.cond)
            return conn.execute(q, [self.null_value] * len(self.null_columns) + self.params).rowcount
        return conn.execute(
            sql.SQL("delete from {} where {}").format(sql.Identifier(self.schema, self.table), self.cond), self.params
        ).rowcount


@dataclass
class _Plan:
    steps: list[_Step] = field(default_factory=list)
    days: list[date] = field(default_factory=list)
    rebuild_models: list[str] = field(default_factory=list)
    window: tuple[date, date] | None = None
    not_rebuilt: list[date] = field(default_factory=list)


def _any_equal(cols: list[str]) -> sql.Composable:
    return sql.SQL("({})").format(sql.SQL(" or ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in cols))


def _window(
    conn: psycopg.Connection, days: list[date], data_end: date | None, days_after: int
) -> tuple[list[date], tuple[date, date] | None, list[date]]:
    """Split ``days`` at the retention/pruned horizon; the rebuild window over the rest (capped at the data's end)."""
    horizon = partitions.pruned_until(conn)
    kept = [d for d in days if horizon is None or d >= horizon.date()]
    gone = [d for d in days if d not in kept]
    if not kept:
        return kept, None, gone
    start, end = kept[0], kept[-1] + timedelta(days=days_after + 1)
    if data_end is not None:
        end = max(min(end, data_end + timedelta(days=1)), kept[-1] + timedelta(days=1))
    return kept, (start, end), gone


def _plan_user(conn: psycopg.Connection, subj: Subject, downstream) -> _Plan:
    user_id = subj.key[0]
    plan = _Plan()
    raw = sql.Identifier(contract.RAW_SCHEMA, contract.PARTITIONED_TABLE)
    plan.steps.append(_Step(contract.RAW_SCHEMA, contract.PARTITIONED_TABLE, sql.SQL("user_id = %s"), [user_id]))
    days = {
        r[0]
        for r in conn.execute(
            sql.SQL("select distinct (occurred_at at time zone 'UTC')::date from {} where user_id = %s").format(raw),
            (user_id,),
        )
    }
    data_end = None
    existing = set()
    for schema, table, _name in downstream:
        cols = _table_columns(conn, schema, table)
        if cols is None:
            continue
        existing.add((schema, table))
        text_cols, all_cols = cols
        if text_cols:
            plan.steps.append(_Step(schema, table, _any_equal(text_cols), [user_id] * len(text_cols)))
        if table == "stg_platform__events" and "user_id" in text_cols:
            days |= {
                r[0]
                for r in conn.execute(
                    sql.SQL("select distinct event_date from {} where user_id = %s").format(
                        sql.Identifier(schema, table)
                    ),
                    (user_id,),
                )
            }
            data_end = conn.execute(
                sql.SQL("select max(event_date) from {}").format(sql.Identifier(schema, table))
            ).fetchone()[0]
    plan.days = sorted(days)
    plan.rebuild_models = [name for s, t, name in downstream if name and (s, t) in existing]
    _kept, plan.window, plan.not_rebuilt = _window(conn, plan.days, data_end, ROLLING_DAYS - 1)
    return plan


def _plan_customer(conn: psycopg.Connection, subj: Subject, downstream) -> _Plan:
    org, cust = subj.key
    plan = _Plan()
    booking_ids = [
        r[0]
        for r in conn.execute(
            "select booking_id from raw.bookings where trim(organization_id) = %s and nullif(trim(customer_id), '') = %s",
            (org, cust),
        )
    ]
    payment_ids = [
        r[0]
        for r in conn.execute(
            "select payment_id from raw.payments where trim(organization_id) = %s "
            "and (nullif(trim(customer_id), '') = %s or nullif(trim(booking_id), '') = any(%s))",
            (org, cust, [b.strip() for b in booking_ids]),
        )
    ]
    by_cust = sql.SQL("trim(organization_id) = %s and nullif(trim(customer_id), '') = %s")
    plan.steps += [
        _Step("raw", "customers", by_cust, [org, cust]),
        _Step("raw", "referral_profiles", by_cust, [org, cust]),
        _Step("raw", "bookings", sql.SQL("booking_id = any(%s)"), [booking_ids]),
        _Step("raw", "payments", sql.SQL("payment_id = any(%s)"), [payment_ids]),
    ]
    days = {
        r[0]
        for r in conn.execute(
            "select (start_at at time zone 'UTC')::date from raw.bookings where booking_id = any(%s) "
            "union select (created_at at time zone 'UTC')::date from raw.payments where payment_id = any(%s)",
            (booking_ids, payment_ids),
        )
    }
    b_ids = sorted({b.strip() for b in booking_ids})
    p_ids = sorted({p.strip() for p in payment_ids})
    existing = set()
    for schema, table, _name in downstream:
        cols = _table_columns(conn, schema, table)
        if cols is None:
            continue
        existing.add((schema, table))
        _text, all_cols = cols
        if "organization_id" not in all_cols:
            continue  # an aggregate without the customer's keys: rebuilt, not edited
        # the subject's own rows: the customer, their bookings, their payments
        owned = []
        params: list = [org]
        if "customer_id" in all_cols:
            owned.append(sql.SQL("customer_id = %s"))
            params.append(cust)
        for col in all_cols:
            if col.endswith("booking_id"):
                owned.append(sql.SQL("{} = any(%s)").format(sql.Identifier(col)))
                params.append(b_ids)
            elif col.endswith("payment_id"):
                owned.append(sql.SQL("{} = any(%s)").format(sql.Identifier(col)))
                params.append(p_ids)
        if owned:
            cond = sql.SQL("organization_id = %s and ({})").format(sql.SQL(" or ").join(owned))
            plan.steps.append(_Step(schema, table, cond, params))
        # another row that still names the customer (a booking moved from them: previous_customer_id)
        others = tuple(c for c in all_cols if c.endswith("customer_id") and c != "customer_id")
        if others:
            cond = sql.SQL("organization_id = %s and {}").format(_any_equal(list(others)))
            plan.steps.append(
                _Step(schema, table, cond, [org] + [cust] * len(others), null_columns=others, null_value=cust)
            )
    plan.days = sorted(days)
    plan.rebuild_models = [name for s, t, name in downstream if name and (s, t) in existing]
    if plan.days:
        plan.window = (plan.days[0], plan.days[-1] + timedelta(days=1))
    return plan


def _plan_party(conn: psycopg.Connection, subj: Subject, downstream) -> _Plan:
    party = subj.key[0]
    plan = _Plan()
    cols = ("buyer_id", "seller_id")
    cond = sql.SQL("(buyer_id = %s or seller_id = %s)")
    days = {
        r[0]
        for r in conn.execute(
            "select distinct (created_at at time zone 'UTC')::date from raw.deals where buyer_id = %s or seller_id = %s",
            (party, party),
        )
    }
    plan.steps.append(_Step("raw", "deals", cond, [party, party], null_columns=cols, null_value=party))
    existing = set()
    for schema, table, _name in downstream:
        tcols = _table_columns(conn, schema, table)
        if tcols is None:
            continue
        existing.add((schema, table))
        text_cols, _all = tcols
        held = tuple(c for c in text_cols if c.endswith(cols))
        if held:
            plan.steps.append(
                _Step(schema, table, _any_equal(list(held)), [party] * len(held), null_columns=held, null_value=party)
            )
    plan.days = sorted(days)
    plan.rebuild_models = [name for s, t, name in downstream if name and (s, t) in existing]
    if plan.days:
        plan.window = (plan.days[0], plan.days[-1] + timedelta(days=1))
    return plan


# --------------------------------------------------------------------------- run
def _rebuild(spec: dict, console, manifest=None) -> None:
    cmd = ["build", "--indirect-selection", "cautious", "--select", " ".join(spec["select"])]
    if spec.get("start") and spec.get("end"):
        cmd += ["--vars", json.dumps({"kpi_backfill_start": spec["start"], "kpi_backfill_end": spec["end"]})]
    runner.invoke(cmd, console=console, manifest=manifest or runner.parse())


def complete_pending(console=None) -> list[int]:
    """Run the rebuild of every erasure receipt still ``pending`` (oldest first) and mark it ``done``.

    Called by :func:`erase` and at the start of every ``kpi build`` (under the build lock).
    Cheap when there is nothing pending (one catalog look-up).

    Returns:
        the receipt ids completed.
    Raises:
        KpiError: a rebuild failed (the receipt stays pending).
    """
    with db.connect() as conn:
        if not conn.execute("select to_regclass('ops.erasure_receipts') is not null").fetchone()[0]:
            return []
        pending = conn.execute(
            "select receipt_id, rebuild from ops.erasure_receipts where status = 'pending' order by receipt_id"
        ).fetchall()
    done = []
    for receipt_id, spec in pending:
        if spec and spec.get("select"):
            try:
                _rebuild(spec, console)
            except KpiError as exc:
                raise KpiError(
                    f"completing erasure receipt {receipt_id}: the rebuild failed ({exc}); "
                    "it stays pending and the next `kpi build` retries it"
                ) from None
        with db.connect() as conn:
            conn.execute(
                "update ops.erasure_receipts set status = 'done', completed_at = now() where receipt_id = %s",
                (receipt_id,),
            )
        done.append(receipt_id)
    return done


def erase(subj: Subject | str, *, dry_run: bool = False, wait: bool | None = None, console=None) -> ErasureResult:
    """Erase one data subject from every layer and rebuild what they fed, under the build lock.

    Args:
        subj: a :class:`Subject` (see :func:`subject`); a plain string is a platform/loyalty ``user_id``.
        dry_run: only report what would be removed and rebuilt (still waits for / refuses the lock).
        wait: queue behind a build holding the lock; None = env ``KPI_LOCK_WAIT``.
        console: Rich console for the rebuild's progress (stderr by default).
    Returns:
        an :class:`ErasureResult` (``total == 0``: nothing held for the subject).
    Raises:
        UsageError: empty id, or no raw contract (``kpi init`` not run).
        LockBusy: a build holds the lock and ``wait`` is false — nothing was touched (exit 1).
        KpiError: the rebuild failed after the rows were removed (the receipt stays pending and the next
            ``kpi build`` completes it).
    """
    if isinstance(subj, str):
        subj = subject("user", subj)
    res = ErasureResult(subject=subj, dry_run=dry_run)
    with lock.build_lock("kpi erase", wait):
        with db.connect() as conn:
            if not conn.execute("select to_regclass('raw.events_raw') is not null").fetchone()[0]:
                raise UsageError("raw.events_raw does not exist: run `kpi init` first")
        if not dry_run:
            res.completed_pending = complete_pending(console)
        with db.connect() as conn:
            res.previously_erased_at = _previously_erased_at(conn, subj)
            if subj.kind == "user":
                res.exports = _exports_holding(conn, subj.key[0])
                if _user_nothing_held(conn, subj):  # fast path (no dbt parse): unknown or already erased
                    return res
            elif res.previously_erased_at is not None and not _raw_holds(conn, subj):
                return res  # fast path: erased before and nothing reloaded since
        manifest = runner.parse()
        sources = {"user": (EVENTS_SOURCE,), "customer": BOOKINGS_SOURCES, "party": (DEALS_SOURCE,)}[subj.kind]
        downstream = _downstream(manifest, sources)
        planner = {"user": _plan_user, "customer": _plan_customer, "party": _plan_party}[subj.kind]
        if subj.kind == "party":
            # only a model that names the party columns can derive a value from them (the others read
            # the deals without them): nothing else needs a rebuild once the ids are nulled
            naming = {
                n.name
                for n in manifest.nodes.values()
                if n.resource_type == "model" and any(c in (n.raw_code or "") for c in ("buyer_id", "seller_id"))
            }
            downstream = [(s_, t, name if name in naming else None) for s_, t, name in downstream]
        with db.connect() as conn:
            plan = planner(conn, subj, downstream)
            res.days, res.not_rebuilt = plan.days, plan.not_rebuilt
            if dry_run:
                for step in plan.steps:
                    if n := step.count(conn):
                        key = f"{step.schema}.{step.table}"
                        res.deleted[key] = res.deleted.get(key, 0) + n
            else:
                with conn.transaction():
                    for step in plan.steps:
                        if n := step.apply(conn):
                            key = f"{step.schema}.{step.table}"
                            res.deleted[key] = res.deleted.get(key, 0) + n
                    spec = None
                    if res.deleted and plan.rebuild_models:
                        spec = {
                            "select": plan.rebuild_models,
                            "start": plan.window[0].isoformat() if plan.window else None,
                            "end": plan.window[1].isoformat() if plan.window else None,
                        }
                    if res.deleted:
                        conn.execute(RECEIPTS_DDL)
                        receipt_id = conn.execute(
                            "insert into ops.erasure_receipts (subject_kind, subject_sha256, status, rows_removed, "
                            "removed, rebuild, days_not_rebuilt) values (%s, %s, 'pending', %s, %s, %s, %s) "
                            "returning receipt_id",
                            (
                                subj.kind,
                                subj.sha256,
                                res.total,
                                json.dumps(res.deleted),
                                json.dumps(spec) if spec else None,
                                ",".join(d.isoformat() for d in plan.not_rebuilt) or None,
                            ),
                        ).fetchone()[0]
        if not res.deleted:
            return res
        res.rebuilt = plan.window
        res.rebuilt_models = plan.rebuild_models
        if dry_run:
            return res
        try:
            if spec:
                _rebuild(spec, console, manifest)
        except KpiError as exc:
            raise KpiError(
                f"removed {res.total:,} row(s) of {subj.label}, but the rebuild failed ({exc}); "
                f"erasure receipt {receipt_id} stays pending: the next `kpi build` completes it"
            ) from None
        with db.connect() as conn:
            conn.execute(
                "update ops.erasure_receipts set status = 'done', completed_at = now() where receipt_id = %s",
                (receipt_id,),
            )
    return res
