"""``kpi load``: files into the raw contract, validated, all or nothing per file.

Accepted files are named after a raw table: ``<table>.csv``, ``<table>.jsonl``
(or ``.ndjson``) and ``<table>.parquet``. Their columns (CSV header, JSON keys,
Parquet fields) must be contract column names; order is free, optional columns
may be left out.

For each file, in one transaction:

1. COPY it into a temporary all-text table with a record ordinal (CSV is
   streamed to the server unparsed; JSON Lines and Parquet rows go through
   psycopg's COPY ``write_row``);
2. validate: required columns non-null and non-empty, no duplicate primary key inside the
   file (except ``events_raw``, see below), every value castable to its column type (PostgreSQL's own
   ``pg_input_is_valid`` on 16+, a PL/pgSQL fallback on 15);
3. create the ``events_raw`` monthly partitions the rows written need;
4. upsert into ``raw.<table>`` on the primary key, touching only rows whose
   values changed (``is distinct from``; inserted = rows whose key was absent,
   updated = rows written minus inserted), so loading a file twice changes
   nothing and a corrected file updates exactly the corrected rows.

``events_raw`` keeps one row per ``event_id`` although its primary key is
``(event_id, occurred_at)`` (see :func:`_upsert_events`): among the copies of
one event (in the file and in the table) the latest received wins
(``received_at``, NULL oldest; on a tie the later load, and inside a file the
later line). A winning copy whose ``occurred_at`` differs from the held row's
*moves* the event (old row deleted, new one inserted, same transaction); a
copy that loses is *stale* and ignored. Several copies of one event in a file
are therefore not a duplicate-key error for ``events_raw``.

Any failure rolls the file back and raises :class:`~kpiwh.errors.UsageError`
with one line naming the file, line and column.

NULL versus empty string (CSV): an unquoted empty field is NULL; a quoted empty
field ``""`` is an empty string in nullable text columns and NULL in typed
columns; in a key or NOT NULL column either is rejected ("value is required").
Whitespace is never trimmed. A carriage return inside a value must be quoted
(RFC 4180; PostgreSQL refuses a bare one: "unquoted carriage return found in data").
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from . import contract, quality
from .errors import DatabaseError, UsageError

SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
# tables loaded first so a folder loads in a stable, readable order
_ORDER = [
    "tenants",
    "locations",
    "partners",
    "customers",
    "referral_profiles",
    "bookings",
    "payments",
    "deals",
    "deal_state_changes",
    "disputes",
    "dispute_evidence",
    "ledger_entries",
    "events_raw",
]
_TEXT_TYPES = {"text", "character varying", "uuid", "jsonb", "json"}
_CHUNK = 1 << 20


@dataclass
class FileResult:
    """Outcome of loading one file.

    Attributes:
        path: the file. table: raw table written. rows: records in the file.
        inserted: new rows. updated: existing rows whose values changed
            (for ``events_raw``: events whose held row was replaced, moved ones included).
        moved: ``events_raw`` only: updated events whose ``occurred_at`` changed
            (old row deleted, new one inserted, possibly in another partition).
        stale: ``events_raw`` only: copies ignored because another copy of the
            same event (held in the table, or elsewhere in the file) wins.
        partitions: events_raw partitions created for it.
        quality: the file's load-time quality findings (:mod:`kpiwh.quality`).
    """

    path: Path
    table: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    moved: int = 0
    stale: int = 0
    partitions: list[str] = field(default_factory=list)
    quality: quality.Quality | None = None

    @property
    def unchanged(self) -> int:
        """Rows present with identical values (neither inserted, updated nor stale)."""
        return self.rows - self.inserted - self.updated - self.stale


def discover(path: Path) -> list[tuple[Path, str, str]]:
    """List loadable files under ``path``.

    Args:
        path: a file or a folder (not searched recursively).
    Returns:
        ``[(file, table, format)]`` in load order.
    Raises:
        UsageError: the path does not exist, holds no loadable file, or a file's
            suffix is not supported.
    """
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    if path.is_file():
        files = [path]
    else:
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        files = [p for p in files if p.suffix.lower() in SUFFIXES or p.suffix.lower() in {".json", ".tsv", ".txt"}]
    out = []
    for f in files:
        fmt = SUFFIXES.get(f.suffix.lower())
        if fmt is None:
            raise UsageError(f"{f.name}: unsupported file type '{f.suffix}' (use .csv, .jsonl or .parquet)")
        out.append((f, f.stem, fmt))
    if not out:
        raise UsageError(f"{path}: no .csv, .jsonl or .parquet files to load")
    rank = {t: i for i, t in enumerate(_ORDER)}
    return sorted(out, key=lambda x: (rank.get(x[1], len(rank)), x[0].name))


# --------------------------------------------------------------------------- readers
def _csv_header(path: Path) -> list[str]:
    """The header fields of a CSV file (a UTF-8 byte-order mark, as Excel writes, is dropped)."""
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path.name} line 1: not UTF-8 text") from None
    if not text.strip():
        raise UsageError(f"{path.name}: empty file (a header line is required)")
    return [h.strip() for h in next(csv.reader([text]))]


def _csv_line_of_record(path: Path, ordinal: int) -> int:
    """Physical line where data record ``ordinal`` (1-based; the header is record 0) starts."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        prev_end = 0
        for i, _ in enumerate(reader):
            if i == ordinal:
                return prev_end + 1
            prev_end = reader.line_num
    return prev_end + 1


def _csv_record_start(path: Path, line: int) -> int:
    """First physical line of the record that spans physical line ``line`` (``line`` itself if none does)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        prev_end = 0
        try:
            for _ in reader:
                if prev_end < line <= reader.line_num:
                    return prev_end + 1
                prev_end = reader.line_num
        except csv.Error:
            return prev_end + 1 if prev_end < line else line
    return line


def _csv_unterminated_quote_line(path: Path) -> int | None:
    """Physical line where the record holding a quoted field that never closes starts (None: none found)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh, strict=True)
        prev_end = 0
        try:
            for _ in reader:
                prev_end = reader.line_num
        except csv.Error:
            return prev_end + 1
    return None


def _first_non_utf8_line(path: Path) -> int | None:
    """Physical line (1-based, ``\\n``-separated) of the first bytes that are not UTF-8 (None: all are)."""
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return lineno
    return None


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """Yield ``(line number, record)`` for each non-blank line of a JSON Lines file."""
    try:
        with path.open(encoding="utf-8-sig") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UsageError(f"{path.name} line {lineno}: invalid JSON ({exc.msg})") from None
                if not isinstance(rec, dict):
                    raise UsageError(f"{path.name} line {lineno}: a JSON object is required")
                yield lineno, rec
    except UnicodeDecodeError:
        line = _first_non_utf8_line(path)
        raise UsageError(f"{path.name}{f' line {line}' if line else ''}: not UTF-8 text") from None


def _to_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------- validation SQL
_TRY_CAST_FN = """
create or replace function pg_temp.kpi_is_valid(v text, t text) returns boolean
language plpgsql immutable as $$
begin
  execute format('select %L::' || t, v);
  return true;
exception when others then
  return false;
end $$;
"""


def _first_bad_value(conn, stage: sql.Identifier, col: contract.Column, has_pg16: bool):
    validator = "pg_input_is_valid" if has_pg16 else "pg_temp.kpi_is_valid"
    return conn.execute(
        sql.SQL("select ord, {c} from {s} where {c} is not null and not {fn}({c}, %s) order by ord limit 1").format(
            c=sql.Identifier(col.name), s=stage, fn=sql.SQL(validator)
        ),
        (col.type,),
    ).fetchone()


_KIND = {
    "timestamp with time zone": "timestamp",
    "date": "date",
    "bigint": "integer",
    "integer": "integer",
    "uuid": "UUID",
    "jsonb": "JSON value",
}


def _kind(typ: str) -> str:
    if typ.startswith("numeric"):
        return "number"
    return _KIND.get(typ, typ)


# --------------------------------------------------------------------------- main entry
def load_file(
    conn: psycopg.Connection,
    path: Path,
    table_name: str,
    fmt: str,
    tables: dict[str, contract.Table],
    strict: bool = False,
    rules: quality.Rules | None = None,
) -> FileResult:
    """Load one file into ``raw.<table_name>`` in a single transaction.

    Its quality findings (:mod:`kpiwh.quality`) are measured on the cast rows before they
    are written and recorded in ``ops.load_quality`` (in the same transaction).

    Args:
        conn: open connection (not in a transaction).
        path: the file; fmt: ``csv`` | ``jsonl`` | ``parquet``.
        tables: the contract (:func:`kpiwh.contract.tables`).
        strict: reject a file with any quality finding instead of loading it with a warning.
        rules: the quality rules (default: read from the project, :func:`kpiwh.quality.rules`).
    Returns:
        counts of rows inserted/updated (for ``events_raw`` also moved/stale, see
        :func:`_upsert_events`), partitions created and the quality findings.
    Raises:
        UsageError: bad input (for a table other than ``events_raw``, also a primary key
            twice in the file), or with ``strict`` a quality finding (recorded in
            ``ops.load_quality`` as rejected); nothing of the file is written.
        DatabaseError: the database failed for another reason (connection lost, ...).
    """
    name = path.name
    table = tables.get(table_name)
    if table is None:
        known = ", ".join(sorted(tables))
        raise UsageError(f"{name}: unknown table '{table_name}' (raw tables: {known})")
    result = FileResult(path, table_name)
    rules = rules or quality.rules()

    # -- columns -----------------------------------------------------------------
    records: Iterator | None = None
    if fmt == "csv":
        header = _csv_header(path)
    elif fmt == "jsonl":
        # every contract column; a key left out of a record is NULL
        records = _jsonl_rows(path)
        header = [c.name for c in table.columns]
    else:
        header, records = _parquet_rows(path)
    seen = set()
    for col in header:
        if col in seen:
            raise UsageError(f"{name} line 1: column '{col}' appears twice")
        seen.add(col)
        if table.column(col) is None:
            raise UsageError(f"{name} line 1: column '{col}' is not in raw.{table_name}")
    for c in table.columns:
        if fmt != "jsonl" and (c.required or c.name in table.primary_key) and c.name not in seen:
            raise UsageError(f"{name} line 1: required column '{c.name}' is missing")
    cols = [table.column(h) for h in header]

    stage = sql.Identifier("kpi_stage")
    typed = sql.Identifier("kpi_typed")
    col_ids = sql.SQL(", ").join(sql.Identifier(c.name) for c in cols)
    try:
        with conn.transaction():
            conn.execute("set local client_min_messages = warning")
            conn.execute(
                sql.SQL(
                    "create temp table {s} (ord bigint generated always as identity, {defs}) on commit drop"
                ).format(
                    s=stage, defs=sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c.name)) for c in cols)
                )
            )
            # -- COPY -------------------------------------------------------------
            line_of: Callable[[int], int]
            if fmt == "csv":
                force_null = [c for c in cols if c.type not in _TEXT_TYPES]
                opts = sql.SQL("format csv, header true")
                if force_null:
                    opts += sql.SQL(", force_null ({})").format(
                        sql.SQL(", ").join(sql.Identifier(c.name) for c in force_null)
                    )
                stmt = sql.SQL("copy {s} ({c}) from stdin with ({o})").format(s=stage, c=col_ids, o=opts)
                try:
                    with conn.cursor().copy(stmt) as cp, path.open("rb") as fh:
                        while chunk := fh.read(_CHUNK):
                            cp.write(chunk)
                except psycopg.errors.DataError as exc:
                    raise UsageError(_copy_error(path, exc)) from None
                except (
                    psycopg.errors.BadCopyFileFormat,
                    psycopg.errors.CharacterNotInRepertoire,
                    psycopg.errors.UntranslatableCharacter,
                ) as exc:
                    raise UsageError(_copy_error(path, exc)) from None
                line_of = lambda ord_: _csv_line_of_record(path, ord_)  # noqa: E731
            else:
                lines: list[int] = []
                stmt = sql.SQL("copy {s} ({c}) from stdin").format(s=stage, c=col_ids)
                with conn.cursor().copy(stmt) as cp:
                    for lineno, rec in records:
                        extra = [k for k in rec if k not in seen]
                        if extra:
                            raise UsageError(f"{name} line {lineno}: column '{extra[0]}' is not in raw.{table_name}")
                        cp.write_row([_to_text(rec.get(h)) for h in header])
                        lines.append(lineno)
                line_of = lambda ord_: lines[ord_ - 1]  # noqa: E731

            result.rows = conn.execute(sql.SQL("select count(*) from {}").format(stage)).fetchone()[0]

            # -- NULL / empty keys and required values ---------------------------------
            # (a quoted "" is the empty string: no more a value than NULL for a key or a NOT NULL column)
            for c in cols:
                if c.required or c.name in table.primary_key:
                    bad = conn.execute(
                        sql.SQL("select min(ord) from {s} where {c} is null or {c} = ''").format(
                            s=stage, c=sql.Identifier(c.name)
                        )
                    ).fetchone()[0]
                    if bad is not None:
                        raise UsageError(f"{name} line {line_of(bad)}, column {c.name}: value is required (NULL/empty)")
            # -- duplicate keys inside the file (events_raw: copies of an event, ranked later) ----
            if table.primary_key and table_name != contract.PARTITIONED_TABLE:
                pk = sql.SQL(", ").join(sql.Identifier(k) for k in table.primary_key)
                dup = conn.execute(
                    sql.SQL(
                        "select min(ord), max(ord) from (select ord, count(*) over (partition by {pk}) n, "
                        "row_number() over (partition by {pk} order by ord) r from {s}) d where n > 1 and r <= 2 "
                        "group by n order by 1 limit 1"
                    ).format(pk=pk, s=stage)
                ).fetchone()
                if dup and dup[0] is not None:
                    first_line, second_line = line_of(dup[0]), line_of(dup[1])
                    raise UsageError(
                        f"{name} line {second_line}, column {','.join(table.primary_key)}: "
                        f"duplicate key (first seen on line {first_line})"
                    )
            # -- types ------------------------------------------------------------------
            casts = sql.SQL(", ").join(
                (
                    sql.SQL("coalesce({c}::{t}, {d}) as {c}").format(
                        c=sql.Identifier(c.name), t=sql.SQL(c.type), d=sql.SQL(c.default)
                    )
                    if c.default
                    else sql.SQL("{c}::{t} as {c}").format(c=sql.Identifier(c.name), t=sql.SQL(c.type))
                )
                for c in cols
            )
            conn.execute("savepoint kpi_cast")
            try:
                conn.execute(
                    sql.SQL("create temp table {t} on commit drop as select ord, {x} from {s}").format(
                        t=typed, x=casts, s=stage
                    )
                )
                conn.execute("release savepoint kpi_cast")
            except psycopg.errors.DataError as exc:
                conn.execute("rollback to savepoint kpi_cast")
                has_pg16 = conn.info.server_version >= 160000
                if not has_pg16:
                    conn.execute(_TRY_CAST_FN)
                for c in cols:
                    if c.type == "text":
                        continue
                    bad = _first_bad_value(conn, stage, c, has_pg16)
                    if bad:
                        shown = bad[1] if len(bad[1]) <= 40 else bad[1][:37] + "..."
                        raise UsageError(
                            f"{name} line {line_of(bad[0])}, column {c.name}: '{shown}' is not a valid {_kind(c.type)}"
                        ) from None
                raise UsageError(f"{name}: {_first_line(exc)}") from None

            # -- quality gates (measured on every row; --strict: reject instead of warn) ------
            result.quality = quality.measure(conn, typed, table_name, cols, result.rows, rules, line_of)
            if strict and not result.quality.ok:
                raise _Rejected()
            # -- events: one row per event_id (partitions created there) ------------------
            if table_name == contract.PARTITIONED_TABLE:
                _upsert_events(conn, typed, table, cols, result)
            else:
                _upsert(conn, typed, table, cols, result)
            quality.record(conn, path, table_name, result.quality, "loaded")
        # fresh planner statistics: the models that read this table next are planned on them
        if result.inserted or result.updated:
            conn.execute(sql.SQL("analyze {}").format(sql.Identifier(contract.RAW_SCHEMA, table_name)))
    except _Rejected:
        with conn.transaction():
            quality.record(conn, path, table_name, result.quality, "rejected")
        raise UsageError(
            f"{name}: rejected by --strict (nothing written): {result.quality.summary().removeprefix('quality: ')}"
        ) from None
    except psycopg.errors.IntegrityError as exc:
        raise UsageError(f"{name}: {_first_line(exc)}") from None
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"{name}: database error: {_first_line(exc)}") from None
    except psycopg.errors.DataError as exc:
        raise UsageError(f"{name}: {_first_line(exc)}") from None
    return result


class _Rejected(Exception):
    """A file's quality findings reject it (``strict``): rolls its transaction back."""


def _upsert(
    conn: psycopg.Connection,
    typed: sql.Identifier,
    table: contract.Table,
    cols: list[contract.Column],
    result: FileResult,
) -> None:
    """Plain primary-key upsert of the typed rows into ``raw.<table>`` (every table but events_raw).

    Concurrent loads of these tables serialise on a transaction-level advisory lock
    (:data:`RAW_LOCK_KEY`), and the rows written get ``_loaded_at`` = the time this load
    obtained it, so load stamps rise in commit order (see :func:`_upsert_events`).
    """
    conn.execute("select pg_advisory_xact_lock(%s, %s)", RAW_LOCK_KEY)
    loaded_at = conn.execute("select clock_timestamp()").fetchone()[0]
    col_ids = sql.SQL(", ").join(sql.Identifier(c.name) for c in cols)
    table_name = table.name
    target = sql.Identifier(contract.RAW_SCHEMA, table_name)
    non_key = [c for c in cols if c.name not in table.primary_key]
    if non_key:
        sets = sql.SQL(", ").join(
            sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c.name)) for c in non_key
        ) + sql.SQL(", _loaded_at = excluded._loaded_at")
        changed = sql.SQL("({}) is distinct from ({})").format(
            sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c.name)) for c in non_key),
            sql.SQL(", ").join(sql.SQL("excluded.{}").format(sql.Identifier(c.name)) for c in non_key),
        )
        if len(non_key) == 1:  # a one-column row constructor needs ROW()
            changed = sql.SQL("t.{c} is distinct from excluded.{c}").format(c=sql.Identifier(non_key[0].name))
        action = sql.SQL("do update set {s} where {w}").format(s=sets, w=changed)
    else:
        action = sql.SQL("do nothing")
    conflict = sql.SQL("on conflict ({})").format(sql.SQL(", ").join(sql.Identifier(k) for k in table.primary_key))
    # rows already present (by key) = rows that can only be updated or left alone;
    # `returning (xmax = 0)` would tell them apart but is refused on partitioned tables
    key_join = sql.SQL(" and ").join(sql.SQL("t.{k} = s.{k}").format(k=sql.Identifier(k)) for k in table.primary_key)
    existing = conn.execute(
        sql.SQL("select count(*) from {typed} s where exists (select 1 from {tgt} t where {j})").format(
            typed=typed, tgt=target, j=key_join
        )
    ).fetchone()[0]
    cur = conn.execute(
        sql.SQL("insert into {tgt} as t ({c}, _loaded_at) select {c}, {stamp} from {typed} {conflict} {action}").format(
            tgt=target, c=col_ids, stamp=sql.Literal(loaded_at), typed=typed, conflict=conflict, action=action
        )
    )
    inserted = result.rows - existing
    row = (inserted, cur.rowcount - inserted)
    result.inserted, result.updated = row


# pg_advisory_xact_lock key of the events_raw one-row-per-event write ('kpi', 2; 1 is the build lock)
EVENTS_LOCK_KEY = (0x6B7069, 2)
# pg_advisory_xact_lock key of the writes to every other raw table ('kpi', 3): their _loaded_at
# stamps are taken under it, as events_raw's are under EVENTS_LOCK_KEY
RAW_LOCK_KEY = (0x6B7069, 3)


def _upsert_events(
    conn: psycopg.Connection,
    typed: sql.Identifier,
    table: contract.Table,
    cols: list[contract.Column],
    result: FileResult,
) -> None:
    """Write the typed rows into ``raw.events_raw`` keeping one row per ``event_id``.

    Rule (docs/DECISIONLOG.md, "One row per event: the latest received copy wins"):
    copies are ranked by ``received_at`` (NULL, or no ``received_at`` column in the
    file, is older than any value); on equal ``received_at`` the later copy wins:
    the later line inside the file, the file over the held row. The held row is
    replaced only when the file's winning copy outranks it, or ties with it and
    differs in a column of the file; a copy outranked by the held row or by another
    copy of the file is stale (ignored). A winner with another ``occurred_at`` than
    the held row moves the event: every other held row of the ``event_id`` is
    deleted and the winner inserted into its month's partition (created if
    missing), in the caller's transaction. Columns absent from the file keep the
    held row's values (a move carries them over). Concurrent ``kpi load`` runs
    serialise on a transaction-level advisory lock, and the rows written get
    ``_loaded_at`` = the time this load obtained it (not its transaction's start,
    which may precede a load that commits first): load stamps rise in commit order,
    so a build's load watermark never passes rows committed after it.

    Args:
        conn: open connection, inside the file's transaction.
        typed: temporary table of the file's rows, cast, with their record ordinal ``ord``.
        table: the contract of ``raw.events_raw``.
        cols: the file's columns (``event_id`` and ``occurred_at`` among them).
        result: filled in: ``inserted``, ``updated``, ``moved``, ``stale``, ``partitions``.
    Raises:
        psycopg.Error: from the database (the caller maps it and rolls the file back).
    """
    target = sql.Identifier(contract.RAW_SCHEMA, table.name)
    names = [c.name for c in cols]
    win, held, plan = sql.Identifier("kpi_win"), sql.Identifier("kpi_held"), sql.Identifier("kpi_plan")
    conn.execute("select pg_advisory_xact_lock(%s, %s)", EVENTS_LOCK_KEY)
    # the rows' _loaded_at: the time this load got the lock, not its transaction's start. Loads
    # commit in lock order, so their stamps rise in commit order and a build that staged a later
    # load's rows (its watermark) can never leave an earlier-committing load's rows below it
    loaded_at = conn.execute("select clock_timestamp()").fetchone()[0]

    # 1. the winning copy of each event_id inside the file
    order = sql.SQL("received_at desc nulls last, ord desc" if "received_at" in names else "ord desc")
    conn.execute(
        sql.SQL(
            "create temp table {w} on commit drop as select distinct on (event_id) * from {t} order by event_id, {o}"
        ).format(w=win, t=typed, o=order)
    )
    conn.execute(sql.SQL("analyze {}").format(win))
    # 2. the row the table holds for each of them (index probes on event_id across partitions);
    #    a table written by another tool may hold several copies: the best ranked stands for them
    conn.execute(
        sql.SQL(
            "create temp table {h} on commit drop as "
            "select distinct on (t.event_id) t.* from {tgt} t where t.event_id in (select event_id from {w}) "
            "order by t.event_id, t.received_at desc nulls last, t._loaded_at desc, t.occurred_at desc"
        ).format(h=held, tgt=target, w=win)
    )

    # 3. what happens to each winner
    def rank(alias: str) -> sql.Composable:
        if alias == "w" and "received_at" not in names:
            return sql.SQL("'-infinity'::timestamptz")
        return sql.SQL("coalesce({}.received_at, '-infinity'::timestamptz)").format(sql.Identifier(alias))

    differs = sql.SQL("({}) is distinct from ({})").format(
        sql.SQL(", ").join(sql.SQL("w.{}").format(sql.Identifier(n)) for n in names),
        sql.SQL(", ").join(sql.SQL("h.{}").format(sql.Identifier(n)) for n in names),
    )
    conn.execute(
        sql.SQL(
            "create temp table {p} on commit drop as "
            "select w.ord, w.event_id, w.occurred_at, h.occurred_at as held_occurred_at, "
            "case when h.event_id is null then 'insert' "
            "     when {rw} < {rh} then 'stale' "
            "     when {rw} > {rh} or {differs} then 'write' "
            "     else 'same' end as action "
            "from {w} w left join {h} h on h.event_id = w.event_id"
        ).format(p=plan, w=win, h=held, rw=rank("w"), rh=rank("h"), differs=differs)
    )
    counts = dict.fromkeys(("insert", "write", "same", "stale", "moved"), 0)
    for action, n, moved in conn.execute(
        sql.SQL(
            "select action, count(*), count(*) filter (where action = 'write' and held_occurred_at <> occurred_at) "
            "from {} group by action"
        ).format(plan)
    ):
        counts[action] = n
        counts["moved"] += moved
    winners = conn.execute(sql.SQL("select count(*) from {}").format(win)).fetchone()[0]
    result.inserted, result.updated, result.moved = counts["insert"], counts["write"], counts["moved"]
    result.stale = counts["stale"] + (result.rows - winners)
    if not (result.inserted or result.updated):
        return

    # 4. partitions of the rows written, then delete the replaced copies held elsewhere, then upsert
    months = [
        r[0]
        for r in conn.execute(
            sql.SQL(
                "select distinct date_trunc('month', occurred_at at time zone 'UTC')::date from {} "
                "where action in ('insert', 'write')"
            ).format(plan)
        )
    ]
    result.partitions = contract.ensure_partitions(conn, months)
    conn.execute(
        sql.SQL(
            "delete from {tgt} t using {p} p "
            "where p.action = 'write' and t.event_id = p.event_id and t.occurred_at <> p.occurred_at"
        ).format(tgt=target, p=plan)
    )

    def value(c: contract.Column) -> sql.Composable:
        if c.name in names:
            return sql.SQL("w.{}").format(sql.Identifier(c.name))
        if c.default:  # NOT NULL with a default: the held value, else the default
            return sql.SQL("coalesce(h.{}, {})").format(sql.Identifier(c.name), sql.SQL(c.default))
        return sql.SQL("h.{}").format(sql.Identifier(c.name))

    all_ids = sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns)
    non_key = [c for c in table.columns if c.name not in table.primary_key]
    conn.execute(
        sql.SQL(
            "insert into {tgt} as t ({c}, _loaded_at) "
            "select {v}, {stamp} from {p} p join {w} w on w.ord = p.ord left join {h} h on h.event_id = p.event_id "
            "where p.action in ('insert', 'write') "
            "on conflict (event_id, occurred_at) do update set {s}, _loaded_at = excluded._loaded_at "
            "where ({tc}) is distinct from ({ec})"
        ).format(
            tgt=target,
            c=all_ids,
            stamp=sql.Literal(loaded_at),
            v=sql.SQL(", ").join(value(c) for c in table.columns),
            p=plan,
            w=win,
            h=held,
            s=sql.SQL(", ").join(sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c.name)) for c in non_key),
            tc=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c.name)) for c in non_key),
            ec=sql.SQL(", ").join(sql.SQL("excluded.{}").format(sql.Identifier(c.name)) for c in non_key),
        )
    )


def _parquet_rows(path: Path):
    try:
        import pyarrow.parquet as pq  # noqa: PLC0415  (pyarrow: ~0.2 s import, only for a Parquet file)
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        raise UsageError("reading Parquet needs pyarrow (pip install pyarrow)") from None
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and friends
        raise UsageError(f"{path.name}: not a readable Parquet file ({_first_line(exc)})") from None
    header = list(pf.schema_arrow.names)

    def records():
        n = 0
        for batch in pf.iter_batches(batch_size=65536):
            for rec in batch.to_pylist():
                n += 1
                yield n + 1, rec  # "line" = data row number + 1 (as if a header were line 1)

    return header, records()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_COPY_LINE = re.compile(r"line (\d+)(?:, column (\w+))?")


def _copy_error(path: Path, exc: psycopg.Error) -> str:
    """One line for a CSV that PostgreSQL's COPY refused, naming the physical line of the file.

    COPY names the last physical line of the record it refused (a record with a quoted line
    break spans several), the end of the file for a quote that never closes, and the line its
    input buffer reached for bytes that are not UTF-8: the line is recomputed from the file.
    """
    ctx = getattr(exc.diag, "context", None) or ""
    message = exc.diag.message_primary or _first_line(exc)
    m = _COPY_LINE.search(ctx)
    line: int | None = None
    if isinstance(exc, (psycopg.errors.CharacterNotInRepertoire, psycopg.errors.UntranslatableCharacter)):
        line = _first_non_utf8_line(path)
        message = f"not UTF-8 text ({message})"
    elif message.startswith("unterminated CSV quoted field"):
        line = _csv_unterminated_quote_line(path)
        message = "a quoted field is never closed (unbalanced double quote)"
    elif m:  # COPY names the LAST physical line of the record (a quoted line break counts)
        line = _csv_record_start(path, int(m.group(1)))
    if line is None and m:
        line = int(m.group(1))
    where = (f" line {line}" if line else "") + (f", column {m.group(2)}" if m and m.group(2) and line else "")
    return f"{path.name}{where}: {message}"


# the timestamps that place a raw row on a day of the daily marts
DAY_COLUMNS: dict[str, tuple[str, ...]] = {
    "events_raw": ("occurred_at",),
    "bookings": ("start_at",),
    "payments": ("created_at",),
    "deals": ("created_at",),
    "deal_state_changes": ("changed_at",),
    "disputes": ("opened_at", "resolved_at"),
    "ledger_entries": ("booked_at",),
    "partners": ("applied_at", "decided_at"),
}


def raw_tables_with_rows_between(conn: psycopg.Connection, start: date, end: date) -> list[str] | None:
    """The raw tables holding a row on a UTC day of ``[start, end)`` (by :data:`DAY_COLUMNS`).

    One index- or partition-pruned probe per table (``exists``), not a count.

    Args:
        conn: open connection.
        start: first day (inclusive). end: the day after the last one (exclusive).
    Returns:
        table names (empty: the window holds no raw data), or None when ``raw.events_raw``
        does not exist (the raw contract was never created).
    """
    if conn.execute("select to_regclass('raw.events_raw')").fetchone()[0] is None:
        return None
    lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
    hi = datetime(end.year, end.month, end.day, tzinfo=UTC)
    found = []
    for table, columns in DAY_COLUMNS.items():
        if conn.execute("select to_regclass(%s)", (f"{contract.RAW_SCHEMA}.{table}",)).fetchone()[0] is None:
            continue
        probe = sql.SQL(" or ").join(
            sql.SQL("exists (select 1 from {t} where {c} >= %(lo)s and {c} < %(hi)s)").format(
                t=sql.Identifier(contract.RAW_SCHEMA, table), c=sql.Identifier(c)
            )
            for c in columns
        )
        if conn.execute(sql.SQL("select {}").format(probe), {"lo": lo, "hi": hi}).fetchone()[0]:
            found.append(table)
    return found


def load_path(
    conn: psycopg.Connection,
    path: Path,
    on_file: Callable[[FileResult], None] | None = None,
    strict: bool = False,
) -> list[FileResult]:
    """Load every file under ``path`` (see :func:`discover`), one transaction each.

    Creates the raw contract first if missing. Stops at the first bad file:
    files loaded before it stay loaded, nothing of the bad file is written.

    Args:
        conn: open connection.
        path: file or folder.
        on_file: called with each file's result as it completes.
        strict: reject (exit 2) the first file with a quality finding instead of loading it.
    Returns:
        one :class:`FileResult` per file.
    Raises:
        UsageError: bad input (one line naming file, line and column).
        DatabaseError: the database failed.
    """
    files = discover(path)
    contract.apply(conn)
    tables = contract.tables(conn)
    for f, table, _ in files:
        if table not in tables:
            raise UsageError(f"{f.name}: unknown table '{table}' (raw tables: {', '.join(sorted(tables))})")
    rules = quality.rules()
    results = []
    for f, table, fmt in files:
        r = load_file(conn, f, table, fmt, tables, strict=strict, rules=rules)
        results.append(r)
        if on_file:
            on_file(r)
    return results
