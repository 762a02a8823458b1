"""``kpi export deals``: the seed-003 rollback audit export of deal timelines and the ledger.

Reads the raw contract (``raw.deals``, ``raw.deal_state_changes``,
``raw.ledger_entries``) — the audit record as loaded, independent of any dbt
build — and writes two files into an output folder:

* ``deals_timeline.<ext>``: one row per state change, with the deal's attributes
  (country, category, pinned template code and version, amount, currency,
  created_at), ordered by deal_id, changed_at;
* ``ledger_entries.<ext>``: one row per ledger entry (signed cents as seen from
  escrow), ordered by deal_id, booked_at, entry_id.

Rows are streamed with a server-side (named) cursor and ``fetchmany``, so memory
stays bounded whatever the table size. Timestamps are written as ISO-8601 in UTC.
Each file is written to a temporary name first and renamed when complete.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg

from .errors import UsageError

__all__ = ["FORMATS", "ExportResult", "export_deals"]

FORMATS = ("csv", "jsonl")
BATCH_ROWS = 5000

TIMELINE_COLUMNS = (
    "deal_id",
    "from_state",
    "to_state",
    "changed_at",
    "actor_role",
    "country_code",
    "category",
    "template_code",
    "template_version",
    "amount_cents",
    "currency",
    "deal_created_at",
)
LEDGER_COLUMNS = ("entry_id", "deal_id", "entry_type", "amount_cents", "booked_at")

_TIMELINE_SQL = """
select sc.deal_id, sc.from_state, sc.to_state, sc.changed_at, sc.actor_role, d.country_code, d.category,
       d.template_code, d.template_version, d.amount_cents, d.currency, d.created_at as deal_created_at
from raw.deal_state_changes sc
join raw.deals d on d.deal_id = sc.deal_id
where (%(since)s::timestamptz is null or sc.changed_at >= %(since)s::timestamptz)
  and (%(deal_id)s::text is null or sc.deal_id = %(deal_id)s::text)
order by sc.deal_id, sc.changed_at, sc.to_state
"""

_LEDGER_SQL = """
select entry_id, deal_id, entry_type, amount_cents, booked_at
from raw.ledger_entries
where (%(since)s::timestamptz is null or booked_at >= %(since)s::timestamptz)
  and (%(deal_id)s::text is null or deal_id = %(deal_id)s::text)
order by deal_id, booked_at, entry_id
"""


@dataclass(frozen=True)
class ExportResult:
    """One file written: its path and the number of data rows."""

    path: Path
    rows: int


def _plain(value):
    """A JSON/CSV-friendly value: datetimes as ISO-8601 UTC, decimals as int/str."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


def _stream(conn: psycopg.Connection, name: str, query: str, params: dict) -> Iterable[tuple]:
    """Yield the rows of ``query`` through a server-side cursor, BATCH_ROWS at a time."""
    with conn.cursor(name=name) as cur:
        cur.execute(query, params)
        while True:
            rows = cur.fetchmany(BATCH_ROWS)
            if not rows:
                break
            yield from rows


def _write(rows: Iterable[tuple], columns: tuple[str, ...], path: Path, fmt: str) -> int:
    """Write ``rows`` to ``path`` (via a temporary file renamed at the end); return the count."""
    tmp = path.with_name(path.name + ".part")
    n = 0
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        if fmt == "csv":
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(columns)
            for r in rows:
                w.writerow(["" if v is None else _plain(v) for v in r])
                n += 1
        else:
            for r in rows:
                fh.write(json.dumps({c: _plain(v) for c, v in zip(columns, r)}, ensure_ascii=False))
                fh.write("\n")
                n += 1
    os.replace(tmp, path)
    return n


def export_deals(
    conn: psycopg.Connection,
    out_dir: Path,
    *,
    fmt: str = "csv",
    since: date | None = None,
    deal_id: str | None = None,
) -> list[ExportResult]:
    """Export deal timelines and ledger entries (seed 003 rollback step 3) into ``out_dir``.

    Args:
        conn (psycopg.Connection): connection to the warehouse; must NOT be in autocommit
            mode (named cursors need a transaction). The transaction is rolled back at the end.
        out_dir (Path): folder to write into; created with its parents if missing.
        fmt (str): ``csv`` (header row, empty field = null) or ``jsonl`` (one object per line).
        since (date | None): keep only state changes / ledger entries at or after this UTC
            day's midnight; None = all history.
        deal_id (str | None): export only this deal; None = every deal.
    Returns:
        list[ExportResult]: ``deals_timeline.<fmt>`` then ``ledger_entries.<fmt>``.
    Raises:
        UsageError: unknown format, ``out_dir`` is a file, or ``deal_id`` is not in raw.deals.
    """
    if fmt not in FORMATS:
        raise UsageError(f"--format: '{fmt}' is not one of {', '.join(FORMATS)}")
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out: {out_dir} exists and is not a folder")
    if deal_id is not None:
        found = conn.execute("select 1 from raw.deals where deal_id = %s", (deal_id,)).fetchone()
        if not found:
            conn.rollback()
            raise UsageError(f"--deal-id: unknown deal '{deal_id}' (not in raw.deals)")
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {
        "since": None if since is None else datetime(since.year, since.month, since.day, tzinfo=UTC),
        "deal_id": deal_id,
    }
    results = []
    try:
        for name, query, columns in (
            ("deals_timeline", _TIMELINE_SQL, TIMELINE_COLUMNS),
            ("ledger_entries", _LEDGER_SQL, LEDGER_COLUMNS),
        ):
            path = out_dir / f"{name}.{fmt}"
            n = _write(_stream(conn, f"kpi_export_{name}", query, params), columns, path, fmt)
            results.append(ExportResult(path, n))
    finally:
        conn.rollback()
    return results
