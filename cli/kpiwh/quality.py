"""Load-time quality gates of ``kpi load``: one summary per file, recorded in ``ops.load_quality``.

Measured on every row of a file after its values are cast (before it is written):

* **future timestamps** — rows with a ``timestamptz`` value later than now + the tolerance
  ``kpi check`` uses (``tests/gx/parameters.json`` ``future_tolerance_minutes``, 60);
  ``bookings.start_at`` is exempt (:data:`FUTURE_EXEMPT`: appointments are booked ahead);
* **invalid country codes** — a non-empty ``country_code`` that is not an ISO-3166 alpha-2
  code of ``seeds/iso_country_codes.csv`` once trimmed and upper-cased (what staging keeps;
  staging turns the others into NULL);
* **uncatalogued event types** — ``events_raw`` rows whose ``(event_domain, event_type)`` is
  not in ``seeds/event_catalogue.csv`` (they reach ``int_events_uncatalogued``, no KPI);
* **nulls in grouped dimensions** — NULL in a column a mart groups by (:data:`GROUPED_DIMENSIONS`):
  those rows land in the mart's "unknown" member.

By default a file with findings loads and the summary is a warning; with ``strict`` it is
rejected (exit 2, nothing of it written). Either way one row per file goes to
``ops.load_quality`` (a rejected file's row is written after its rollback).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from . import check, config, contract
from .errors import UsageError

# (column, event domains it is grouped by in; None: every row) per raw table — the GROUP BY
# columns of the marts (metrics_daily_payments: country_code, provider; metrics_daily_calls and
# metrics_daily_fulfillment: service_code; loyalty and partner marts: tenant_id;
# metrics_daily_deals: country_code, category, template_version; fct_appointments_by_location_daily:
# location_id)
GROUPED_DIMENSIONS: dict[str, list[tuple[str, tuple[str, ...] | None]]] = {
    "events_raw": [
        ("tenant_id", ("loyalty", "partners")),
        ("provider", ("payments",)),
        ("country_code", ("payments",)),
        ("service_code", ("calls", "orders")),
    ],
    "deals": [("country_code", None), ("category", None), ("template_version", None)],
    "bookings": [("location_id", None)],
}

OPS_DDL = """
create schema if not exists ops;
create table if not exists ops.load_quality (
    load_quality_id           bigint generated always as identity primary key,
    checked_at                timestamptz not null default now(),
    file_name                 text not null,
    file_path                 text not null,
    raw_table                 text not null,
    file_rows                 bigint not null,
    outcome                   text not null check (outcome in ('loaded', 'rejected')),
    future_tolerance_minutes  integer not null,
    future_timestamps         bigint not null,
    invalid_country_codes     bigint not null,
    uncatalogued_event_types  bigint not null,
    null_dimensions           jsonb not null,
    summary                   text not null
);
"""

# timestamps that are in the future by nature (an appointment is booked ahead), as in `kpi check`
FUTURE_EXEMPT = {("bookings", "start_at")}

_SAMPLES = 3


@dataclass
class Quality:
    """Quality findings of one file (counts are rows of the file).

    Attributes:
        rows: records in the file.
        future_tolerance_minutes: tolerance used (minutes after now).
        future_timestamps: rows with a timestamp later than now + tolerance.
        future_first: where the first one is ("line 4, occurred_at 2030-06-01 10:00:00+00:00"), or None.
        invalid_country_codes: rows whose country_code is not ISO-3166 alpha-2.
        invalid_country_samples: up to three distinct such values.
        uncatalogued_event_types: events_raw rows whose (event_domain, event_type) is not catalogued.
        uncatalogued_samples: up to three such ``domain/type`` pairs.
        null_dimensions: ``{column: rows}`` with NULL in a grouped dimension (only columns with rows).
    """

    rows: int
    future_tolerance_minutes: int
    future_timestamps: int = 0
    future_first: str | None = None
    invalid_country_codes: int = 0
    invalid_country_samples: list[str] = field(default_factory=list)
    uncatalogued_event_types: int = 0
    uncatalogued_samples: list[str] = field(default_factory=list)
    null_dimensions: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not (
            self.future_timestamps
            or self.invalid_country_codes
            or self.uncatalogued_event_types
            or self.null_dimensions
        )

    def summary(self) -> str:
        """One line: ``quality ok`` or the findings, each with a count and examples."""
        if self.ok:
            return "quality ok"
        parts = []
        if self.future_timestamps:
            parts.append(
                f"{_n(self.future_timestamps, 'future timestamp')} (beyond now + "
                f"{self.future_tolerance_minutes} min; first: {self.future_first})"
            )
        if self.invalid_country_codes:
            parts.append(
                f"{_n(self.invalid_country_codes, 'invalid country code')} "
                f"({', '.join(repr(v) for v in self.invalid_country_samples)})"
            )
        if self.uncatalogued_event_types:
            parts.append(
                f"{_n(self.uncatalogued_event_types, 'uncatalogued event type')} "
                f"({', '.join(self.uncatalogued_samples)})"
            )
        if self.null_dimensions:
            parts.append(
                "nulls in grouped dimensions (" + ", ".join(f"{c} {n:,}" for c, n in self.null_dimensions.items()) + ")"
            )
        return "quality: " + "; ".join(parts)


def _n(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Rules:
    """What a file is measured against (read once per ``kpi load``).

    Attributes:
        max_timestamp: latest acceptable timestamp (now + tolerance, UTC).
        future_tolerance_minutes: the tolerance.
        country_codes: ISO-3166 alpha-2 codes.
        catalogue: ``domain|type`` pairs of the event catalogue.
    """

    max_timestamp: datetime
    future_tolerance_minutes: int
    country_codes: tuple[str, ...]
    catalogue: tuple[str, ...]


def rules(now: datetime | None = None) -> Rules:
    """Read the tolerance, the ISO country codes and the event catalogue of the project.

    Args:
        now: the clock (UTC; default the current time).
    Raises:
        UsageError: a project file (``tests/gx/parameters.json``, a seed) is unreadable.
    """
    params = check.parameters(now=now or datetime.now(UTC))
    path = config.project_dir() / "seeds" / "iso_country_codes.csv"
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            codes = tuple(sorted({r["alpha_2"].strip().upper() for r in csv.DictReader(fh)}))
    except (OSError, KeyError) as exc:
        raise UsageError(f"{path}: cannot read the ISO country codes ({exc})") from None
    return Rules(
        params["max_timestamp"],
        params["future_tolerance_minutes"],
        codes,
        tuple(f"{d}|{t}" for d, t in params["event_catalogue_pairs"]),
    )


def measure(
    conn: psycopg.Connection,
    typed: sql.Identifier,
    table: str,
    columns: list[contract.Column],
    rows: int,
    rule: Rules,
    line_of: Callable[[int], int],
) -> Quality:
    """Measure the cast rows of one file (a table with the file's columns and a record ordinal ``ord``).

    Args:
        conn: open connection (inside the file's transaction).
        typed: the table of cast rows.
        table: the raw table the file loads into.
        columns: the file's columns.
        rows: records in the file.
        rule: what to measure against (:func:`rules`).
        line_of: maps a record ordinal to its line in the file.
    Returns:
        the findings.
    """
    names = {c.name for c in columns}
    ident = sql.Identifier
    q = Quality(rows=rows, future_tolerance_minutes=rule.future_tolerance_minutes)
    stamps = [c.name for c in columns if c.type == "timestamp with time zone" and (table, c.name) not in FUTURE_EXEMPT]
    checks: dict[str, sql.Composable] = {}
    if stamps:
        checks["future"] = sql.SQL(" or ").join(
            sql.SQL("{} > {}").format(ident(c), sql.Literal(rule.max_timestamp)) for c in stamps
        )
    if "country_code" in names:
        checks["country"] = sql.SQL("nullif(upper(trim(country_code)), '') <> all({})").format(
            sql.Literal(list(rule.country_codes))
        )
    if table == contract.PARTITIONED_TABLE and {"event_domain", "event_type"} <= names:
        checks["uncatalogued"] = sql.SQL("event_domain || '|' || event_type <> all({})").format(
            sql.Literal(list(rule.catalogue))
        )
    for col, domains in GROUPED_DIMENSIONS.get(table, []):
        if col not in names or (domains and "event_domain" not in names):
            continue
        cond = sql.SQL("{} is null").format(ident(col))
        if domains:
            cond += sql.SQL(" and event_domain = any({})").format(sql.Literal(list(domains)))
        checks[f"null:{col}"] = cond
    if not checks:
        return q
    counts = conn.execute(
        sql.SQL("select {} from {}").format(
            sql.SQL(", ").join(sql.SQL("count(*) filter (where {})").format(c) for c in checks.values()), typed
        )
    ).fetchone()
    found = dict(zip(checks, counts))
    if found.get("future"):
        q.future_timestamps = found["future"]
        ord_, col, value = conn.execute(
            sql.SQL("select ord, col, val from ({}) f order by ord, col limit 1").format(
                sql.SQL(" union all ").join(
                    sql.SQL("select ord, {n} as col, {c}::text as val from {t} where {c} > {m}").format(
                        n=sql.Literal(c), c=ident(c), t=typed, m=sql.Literal(rule.max_timestamp)
                    )
                    for c in stamps
                )
            )
        ).fetchone()
        q.future_first = f"line {line_of(ord_)}, {col} {value}"
    if found.get("country"):
        q.invalid_country_codes = found["country"]
        q.invalid_country_samples = [
            r[0]
            for r in conn.execute(
                sql.SQL(
                    "select country_code from {t} where {w} group by country_code order by min(ord) limit {k}"
                ).format(t=typed, w=checks["country"], k=sql.Literal(_SAMPLES))
            )
        ]
    if found.get("uncatalogued"):
        q.uncatalogued_event_types = found["uncatalogued"]
        q.uncatalogued_samples = [
            f"{d}/{t}"
            for d, t in conn.execute(
                sql.SQL(
                    "select event_domain, event_type from {t} where {w} group by 1, 2 order by min(ord) limit {k}"
                ).format(t=typed, w=checks["uncatalogued"], k=sql.Literal(_SAMPLES))
            )
        ]
    q.null_dimensions = {k.split(":", 1)[1]: n for k, n in found.items() if k.startswith("null:") and n}
    return q


def record(conn: psycopg.Connection, path: Path, table: str, quality: Quality, outcome: str) -> None:
    """Insert one row into ``ops.load_quality`` (the table is created when missing).

    Args:
        conn: open connection; the caller's transaction if one is open.
        path: the file. table: its raw table. quality: its findings.
        outcome: ``loaded`` | ``rejected``.
    """
    conn.execute(OPS_DDL)
    conn.execute(
        "insert into ops.load_quality (file_name, file_path, raw_table, file_rows, outcome, "
        "future_tolerance_minutes, future_timestamps, invalid_country_codes, uncatalogued_event_types, "
        "null_dimensions, summary) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            path.name,
            str(path.resolve()),
            table,
            quality.rows,
            outcome,
            quality.future_tolerance_minutes,
            quality.future_timestamps,
            quality.invalid_country_codes,
            quality.uncatalogued_event_types,
            json.dumps(quality.null_dimensions),
            quality.summary(),
        ),
    )
