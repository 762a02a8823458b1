"""Deterministic, realistic synthetic data for every table of the raw contract.

`generate()` writes one CSV per raw table (``<table>.csv``, header = the
contract columns in DDL order without ``_loaded_at``) into an output directory.
The same arguments always give byte-identical files: every random draw comes
from a ``random.Random`` seeded with a string built from ``(seed, purpose,
tenant_id)`` (string seeds are hashed with SHA-512, independent of
``PYTHONHASHSEED``); nothing reads the clock, the global RNG or set/dict order
that depends on hash randomisation.

CSV conventions
---------------
UTF-8, ``\\n`` line endings, ``csv`` minimal quoting. NULL is an empty unquoted
field; a non-null text value is never the empty string. Timestamps are
ISO-8601 UTC with second precision (``2025-06-02T09:15:03+00:00``). ``metadata``
is compact JSON with sorted keys. Money is integer cents (minor units).
Every timestamp lies in ``[start 00:00 UTC, start + days)``: lifecycles that
would run past the end are cut there (the entity stays open), so the data ends
like a real extract taken at the window's end.

Tenants
-------
``tenants`` is split over the kinds with shares merchant 25 %, partner 25 %,
organization 20 %, marketplace 10 %, platform 20 % (largest remainder, at
least one of each when ``tenants >= 5``; below 5 the kinds are taken in the
order merchant, organization, platform, partner, marketplace). Ids are
``mer_001``, ``par_001``, ``org_001``, ``mkt_001``, ``plt_001``. Merchants and
organizations have 1-4 locations (``loc_<tenant_id>_<n>``). Each partner
tenant is one partner (workshop): ``partners.partner_id = tenant_id``.

Volumes (``s`` = scale, ``D`` = days, ``L`` = live locations of a tenant,
``season`` = the kind's day-of-week factor (mean ~0.9-1.0), ``trend(d) = 1 +
0.0015 d`` i.e. +18 % after 120 days, +55 % after 365; daily counts are Poisson)
--------------------------------------------------------------------------
* merchant (loyalty events): per live location and day ``30 s season trend
  ramp factor`` transactions (ramp 0.3 -> 1 over the 14 days after the
  location's device is registered; factor 0.6-1.4 per location). One event
  each: ~71 % points_issued, ~22 % points_redeemed (redeemed/issued ~0.31),
  1.8 % points_adjusted, 1.7 % transaction_reversed, 2-5 % scan_error. Plus
  5-12 onboarding events per merchant. Customer pool ``s L (60 + 2.5 D)``.
* partner (partners events): signup attempts (30 % fail and retry), one
  decision (80 % approved) and its e-mail, then per active day ``20 s`` API
  requests, ``3 s`` dashboard logins, ``0.5 s`` invites (~3 events each) and
  ``0.15 s`` profile updates: ~22 s events per active partner-day.
* platform: per day ``25 s`` orders (~5.3 order + ~2.3 payment events each),
  ``4 s`` wallet top-ups, ``15 s`` calls (~2.7 events), ``80 s``
  notifications (~2.2 events), ``60 s`` horoscope plays, ``2 s`` moderation
  flags, plus up to 12 horoscope uploads (not scaled, ~36 events): ~470 s + 36
  events per platform-day (x trend). User pool ``s (300 + 40 D)``.
* organization (bookings): per location and day ``20 s season trend factor``
  bookings; customers ``0.25 x expected bookings + 20`` per organization (15 %
  never book); ~0.84 payments per booking; referral_profiles ~5 % of customers.
* marketplace: per day ``3 s season trend`` deals per marketplace tenant;
  per deal ~3.8 state changes, ~2.7 ledger entries, ~0.07 disputes.

Rule of thumb: ``events_raw ~= D x mean(trend) x s x (470 P + 70 M + 22 Pa) +
36 P D`` and ``bookings ~= 20 x D x mean(trend) x s x (organization
locations)``, with P, M, Pa the platform, (live) merchant and partner tenants.

Measured (2-core sandbox, CPython 3.11, one core used, ``/usr/bin/time -v``)
----------------------------------------------------------------------------
* default ``tenants=12, days=120, scale=1``: 157,970 events, 21,826 bookings,
  5,626 customers, 206,696 rows in all (43 MB); 1.6 s wall, 56 MB peak RSS.
* ``tenants=50, days=365, scale=4``: 10,180,226 events (12.2 M rows, 2.6 GB);
  94 s wall, 93 MB peak RSS.
* ``tenants=50, days=365, scale=6`` (``LARGE_SETTINGS``): 15,149,418 events,
  1,301,303 bookings, 325,692 customers (18.2 M rows, 3.9 GB); 139 s wall,
  98 MB peak RSS. Throughput is ~130 k rows/s; memory stays bounded because
  rows are streamed in chunks of ``CHUNK_ROWS`` and only one tenant's
  population (<= ~100 k ids) is held at a time.

Modules
-------
``core`` plans the tenants and their locations and writes those tables;
``loyalty`` (merchants), ``partners``, ``platform`` write their events,
``bookings`` (organizations) and ``marketplace`` their own tables, each module
with its product's volumes and vocabularies (``marketplace``'s docstring has
the deal states, escrow templates and ledger sign convention). ``_common``
holds the contract's columns and what the products share (time units,
seasonality, random helpers, populations, the tenant plan and the run
context); ``_sinks`` the CSV writers.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from . import bookings, core, loyalty, marketplace, partners, platform
from ._common import TABLE_COLUMNS, _Ctx, _Tenant
from ._common import _uuid4_str as _uuid4_str  # the tests compare it with uuid.UUID
from ._sinks import _EventSink, _Sink
from .bookings import BOOKING_STATUSES, PAYMENT_STATUSES
from .core import split_tenant_kinds
from .loyalty import SCAN_ERRORS
from .marketplace import DEAL_STATES, DISPUTE_OUTCOMES, LEDGER_TYPES, TEMPLATES
from .partners import PARTNER_STATUSES

__all__ = [
    "BOOKING_STATUSES",
    "DEAL_STATES",
    "DISPUTE_OUTCOMES",
    "LARGE_SETTINGS",
    "LEDGER_TYPES",
    "PARTNER_STATUSES",
    "PAYMENT_STATUSES",
    "SCAN_ERRORS",
    "TABLE_COLUMNS",
    "TEMPLATES",
    "generate",
    "split_tenant_kinds",
]

#: A documented setting that yields >= 10 M events_raw rows, >= 1 M bookings
#: and >= 200 k customers (pass as ``generate(out, **LARGE_SETTINGS)``).
LARGE_SETTINGS: dict[str, float | int] = {"tenants": 50, "days": 365, "scale": 6.0}


def generate(
    out_dir: Path,
    *,
    tenants: int = 12,
    days: int = 120,
    start: date = date(2025, 6, 2),
    seed: int = 42,
    scale: float = 1.0,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Write deterministic, realistic CSVs for every raw table into ``out_dir``.

    One file per table, ``<table>.csv``, with the contract columns (DDL order,
    without ``_loaded_at``) as header. The same arguments always produce
    byte-identical files. Volumes are described in the module docstring;
    ``LARGE_SETTINGS`` gives >= 10 M events and >= 1 M bookings.

    Args:
        out_dir (Path): directory to write into; created (with parents) if
            missing. Existing ``<table>.csv`` files are replaced, only once
            every table is written (each is first written to a hidden
            ``.<table>.csv.partial`` and renamed at the end); on any failure
            the partial files are removed and existing files are untouched.
        tenants (int): number of tenants over all kinds, 1..1000.
        days (int): length of the window in days, 1..3660; every timestamp
            lies in ``[start 00:00 UTC, start + days)``.
        start (date): first day of the window (UTC). A ``datetime`` is
            truncated to its date.
        seed (int): random seed; a different seed gives different data.
        scale (float): multiplier of every per-tenant daily volume, > 0 and
            <= 1000 (1.0 = the small demo data set).
        progress (Callable[[str, int], None] | None): called as
            ``progress(table, rows_written_so_far)`` about every 100,000 rows
            of a table and once when each table is complete.

    Returns:
        dict[str, int]: rows written per table (header excluded), keyed by
        table name in contract order.

    Raises:
        ValueError: if an argument is out of range or of the wrong type.
        OSError: if ``out_dir`` cannot be created or written (e.g. ENOSPC); no
            ``<table>.csv`` was written or changed.
    """
    start = _checked(tenants, days, start, seed, scale)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = _Ctx(start, days, int(seed), float(scale))
    plans = core.plan_tenants(ctx, tenants)

    counts: dict[str, int] = {}
    sinks: dict[str, _Sink] = {}
    # every table is written to a hidden partial file (`kpi load` skips dot files) and renamed to
    # <table>.csv only when ALL tables are complete: a failure (disk full, interrupt) leaves no
    # half-written <table>.csv, and an earlier data set in out_dir stays whole
    partial = {table: out_dir / f".{table}.csv.partial" for table in TABLE_COLUMNS}
    done = False
    try:
        for table in TABLE_COLUMNS:
            path = partial[table]
            if table == "events_raw":
                sinks[table] = _EventSink(path, progress, ctx.end, ctx.day_str, ctx.tod_str)
            else:
                sinks[table] = _Sink(path, table, progress)
        ctx.sinks = sinks
        core.write_tenant_tables(ctx, plans)
        for name in ("tenants", "locations", "partners"):
            counts[name] = sinks[name].close()
        _write_products(ctx, plans)
        for name, sink in sinks.items():
            if name not in counts:
                counts[name] = sink.close()
        for table, path in partial.items():
            path.replace(out_dir / f"{table}.csv")
        done = True
    finally:
        for sink in sinks.values():
            if not sink.f.closed:
                # the buffered tail may not be writable either (disk full)
                with contextlib.suppress(OSError):
                    sink.f.close()
        if not done:
            for path in partial.values():
                path.unlink(missing_ok=True)
    return {name: counts[name] for name in TABLE_COLUMNS}


def _checked(tenants: int, days: int, start: date, seed: int, scale: float) -> date:
    """Check ``generate``'s arguments; returns ``start`` as a date (a datetime is truncated).

    Raises:
        ValueError: if an argument is out of range or of the wrong type.
    """
    if isinstance(tenants, bool) or not isinstance(tenants, int) or not 1 <= tenants <= 1000:
        raise ValueError(f"tenants must be an integer in 1..1000, got {tenants!r}")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3660:
        raise ValueError(f"days must be an integer in 1..3660, got {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (0 < scale <= 1000) or math.isnan(scale):
        raise ValueError(f"scale must be a number in (0, 1000], got {scale!r}")
    if isinstance(start, datetime):
        start = start.date()
    if not isinstance(start, date):
        raise ValueError(f"start must be a date, got {start!r}")
    try:
        (start + timedelta(days=days + 30)).isoformat()
    except OverflowError as exc:  # pragma: no cover - only near date.max
        raise ValueError(f"start + days is out of range: {start} + {days}") from exc
    return start


def _write_products(ctx: _Ctx, plans: list[_Tenant]) -> None:
    """Write every tenant's product data, tenant by tenant, into ``ctx.sinks``."""
    ev = ctx.sinks["events_raw"]
    assert isinstance(ev, _EventSink)
    for tp in plans:
        if tp.kind == "merchant":
            loyalty.write_events(ctx, tp, ev)
        elif tp.kind == "partner":
            partners.write_events(ctx, tp, ev)
        elif tp.kind == "platform":
            platform.write_events(ctx, tp, ev)
        elif tp.kind == "organization":
            bookings.write_tables(ctx, tp)
        else:
            marketplace.write_tables(ctx, tp)
